import type { Command } from 'commander';
import { workflowUiLink } from '../connect';
import { EXIT } from '../errors';
import { idFields, renderStatus } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { getSagaState } from '../saga-client';
import { describeRegisteredSaga, withQueryDeadline } from './shared';

async function status(ctx: CommandContext, _opts: object, sagaId: string): Promise<CommandResult> {
  const client = await ctx.client();
  const { description, saga } = await describeRegisteredSaga(client, sagaId);
  const state = await withQueryDeadline(client, sagaId, 'query', () => getSagaState(client, sagaId));
  const view = {
    ...idFields(saga.name, sagaId),
    workflowStatus: description.status.name,
    runId: description.runId,
    uiUrl: workflowUiLink(ctx.config, sagaId),
    state,
  };
  ctx.say(renderStatus(view));
  return { exitCode: EXIT.OK, json: view };
}

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'show a saga as a timeline: steps, compensations, whether it can be cancelled, what a failure now would undo',
    )
    .argument('<id>', 'the saga id (for an order saga: the order id)')
    .action(action(status));
}
