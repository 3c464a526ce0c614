import type { Command } from 'commander';
import { renderResult } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { resultExitCode, resultView } from './shared';

async function result(ctx: CommandContext, _opts: object, sagaId: string): Promise<CommandResult> {
  const view = await resultView(await ctx.client(), sagaId);
  ctx.say(renderResult(view));
  return { exitCode: resultExitCode(view), json: view };
}

export function register(program: Command): void {
  program
    .command('result')
    .description('wait for a saga to end and print how it ended (or that it waits for an operator: exit 4)')
    .argument('<id>', 'the saga id')
    .action(action(result));
}
