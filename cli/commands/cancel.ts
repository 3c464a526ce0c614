import type { Command } from 'commander';
import { cancelRefusalExitCode, EXIT } from '../errors';
import { idFields, renderCancel } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { cancelSaga } from '../saga-client';
import { describeRegisteredSaga, withQueryDeadline } from './shared';

async function cancel(ctx: CommandContext, _opts: object, sagaId: string): Promise<CommandResult> {
  const client = await ctx.client();
  const { saga } = await describeRegisteredSaga(client, sagaId);
  const outcome = await withQueryDeadline(client, sagaId, 'cancel', () => cancelSaga(client, sagaId));
  ctx.say(renderCancel(saga.name, sagaId, outcome));
  const exitCode = outcome.cancelled ? EXIT.OK : cancelRefusalExitCode(outcome.refusal);
  return { exitCode, json: { ...idFields(saga.name, sagaId), ...outcome } };
}

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel a saga before its pivot (its completed steps are compensated)')
    .argument('<id>', 'the saga id')
    .action(action(cancel));
}
