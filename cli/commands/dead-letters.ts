import { Option, type Command } from 'commander';
import type { SagaDefinition } from '../../workflows/saga';
import { SAGA_LIST } from '../../workflows/sagas';
import { checkReason, MAX_REASON_LENGTH, parseCompensation, parseLimit, parseSagaName } from '../args';
import { CliError, EXIT } from '../errors';
import { idFields, renderDeadLetters, renderDecision, renderResult, type DecisionView } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { getSagaState, listDeadLetters, OperatorDecisionRefusedError, resolveCompensation, retryCompensation } from '../saga-client';
import { describeRegisteredSaga, isTimeout, QUERY_TIMEOUT_MS, resultExitCode, resultView, withQueryDeadline } from './shared';

/** `dead-letters list | retry | resolve`: what an operator does about compensations that ran out of retries. */

async function deadLettersList(ctx: CommandContext, opts: { saga?: SagaDefinition; limit: number }): Promise<CommandResult> {
  const client = await ctx.client();
  let deadLetters;
  try {
    deadLetters = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => listDeadLetters(client, { saga: opts.saga, limit: opts.limit }));
  } catch (err) {
    if (!isTimeout(err)) throw err;
    throw new CliError(`cannot query the waiting sagas: no answer within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling task queue ${ctx.config.taskQueue}?`, EXIT.FAILED, 'failed');
  }
  ctx.say(renderDeadLetters(deadLetters));
  return { exitCode: EXIT.OK, json: { deadLetters } };
}

export interface DecisionOptions {
  compensation?: string;
  wait?: boolean;
}

/**
 * Sends an operator's decision to a saga that waits for one. The saga itself decides whether it can take it (its
 * update validator): a refusal comes back as OperatorDecisionRefusedError, exit 2. A saga that already ended is
 * refused here: Temporal would call it "not found".
 */
async function sendDecision(
  ctx: CommandContext,
  sagaId: string,
  decision: { action: 'retry' } | { action: 'resolve'; reason: string },
  opts: DecisionOptions,
): Promise<CommandResult> {
  const client = await ctx.client();
  const { description, saga } = await describeRegisteredSaga(client, sagaId);
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `refused: the saga for ${saga.name} ${sagaId} already ended (workflow ${description.status.name}); no compensation waits for an operator`,
      EXIT.DECISION_REFUSED,
      'refused',
    );
  }
  const before = await withQueryDeadline(client, sagaId, 'query', () => getSagaState(client, sagaId));
  const ack = await withQueryDeadline(client, sagaId, `send the ${decision.action} to`, () =>
    decision.action === 'retry' ? retryCompensation(client, sagaId, opts.compensation) : resolveCompensation(client, sagaId, decision.reason, opts.compensation),
  ).catch((err) => {
    if (err instanceof OperatorDecisionRefusedError) throw new CliError(`refused: ${saga.name} ${sagaId}: ${err.message}`, EXIT.DECISION_REFUSED, 'refused');
    throw err;
  });
  const deadLetter = before.compensations.find((c) => c.name === ack.compensation && c.status === 'DEAD_LETTERED')?.deadLetter;
  const view: DecisionView = {
    ...idFields(saga.name, sagaId),
    action: ack.action,
    compensation: ack.compensation,
    deadLetter,
    ...(decision.action === 'resolve' && { reason: decision.reason }),
  };
  ctx.say(renderDecision(view));
  if (!opts.wait) return { exitCode: EXIT.OK, json: view };
  ctx.say('Waiting for the saga to end...');
  const result = await resultView(client, sagaId, { compensation: ack.compensation, round: deadLetter?.round });
  ctx.say(renderResult(result));
  return { exitCode: resultExitCode(result), json: { ...view, result } };
}

function deadLettersRetry(ctx: CommandContext, opts: DecisionOptions, sagaId: string): Promise<CommandResult> {
  return sendDecision(ctx, sagaId, { action: 'retry' }, opts);
}

async function deadLettersResolve(ctx: CommandContext, opts: DecisionOptions & { reason: string }, sagaId: string): Promise<CommandResult> {
  const reason = checkReason(opts.reason); // before connecting: a bad reason is a usage error, server up or not
  return sendDecision(ctx, sagaId, { action: 'resolve', reason }, opts);
}

export function register(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description('compensations that ran out of retries: the saga waits (NEEDS_ATTENTION) until an operator retries or resolves them')
    .addHelpText(
      'after',
      `
Examples:
  tsx client.ts dead-letters list
  tsx client.ts dead-letters retry ord-42 --wait
  tsx client.ts dead-letters resolve ord-42 --reason "stock released by hand in the warehouse system (ticket OPS-17)"`,
    );

  deadLetters
    .command('list')
    .description('list the dead-lettered compensations of the sagas that wait for an operator')
    .addOption(new Option('--saga <name>', `only this saga (${SAGA_LIST.map((s) => s.name).join(', ')}; default: all)`).argParser(parseSagaName))
    .option('--limit <n>', 'look at most at this many waiting sagas', parseLimit, 20)
    .action(action(deadLettersList));

  deadLetters
    .command('retry')
    .description('run a dead-lettered compensation again; the saga resumes unwinding from there')
    .argument('<id>', 'the saga id')
    .option('--compensation <name>', 'the compensation to retry (needed only when several wait)', parseCompensation)
    .option('--wait', 'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)')
    .action(action(deadLettersRetry));

  deadLetters
    .command('resolve')
    .description('record a dead-lettered compensation as done by hand, with the reason; the saga resumes unwinding after it')
    .argument('<id>', 'the saga id')
    .requiredOption('--reason <text>', `what was done by hand (at most ${MAX_REASON_LENGTH} characters, one line); recorded with the dead letter`)
    .option('--compensation <name>', 'the compensation to resolve (needed only when several wait)', parseCompensation)
    .option('--wait', 'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)')
    .action(action(deadLettersResolve));
}
