import { isGrpcDeadlineError, ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { SagaStatus } from '../workflows/saga/types';
import { batchDecision, type BatchOptions } from './batch-decisions';
import { checkReason, generateOrderId, type Destination, type Faults, type Item } from './args';
import { cancelRefusalExitCode } from './cancel-answer';
import { workflowUiLink } from './connect';
import { CliError, EXIT } from './errors';
import {
  renderCancel,
  renderDeadLetters,
  renderDecision,
  renderList,
  renderResult,
  renderStarted,
  renderStatus,
  toListEntry,
  toResultView,
  type DecisionView,
  type SagaOutcomeView,
} from './render';
import type { CommandContext, CommandResult } from './run';
import {
  awaitSagaEndOrOperator,
  cancelOrderSaga,
  describeSaga,
  getSagaState,
  listDeadLetters,
  listSagas,
  OperatorDecisionRefusedError,
  parseOrderSagaInput,
  resolveCompensation,
  retryCompensation,
  startOrderSaga,
  type SentDecision,
} from './saga-client';

/** The CLI's commands: each one talks to Temporal through cli/saga-client.ts and renders through cli/render.ts. */

export interface StartOptions {
  order?: string;
  customer: string;
  item: Item[];
  shipTo: Destination;
  fault?: Faults;
  parallelCompensation?: boolean;
  continueOnCompensationError?: boolean;
  wait?: boolean;
}

export async function start(ctx: CommandContext, opts: StartOptions): Promise<CommandResult> {
  const sagaOptions = {
    ...(opts.parallelCompensation && { parallelCompensation: true }),
    ...(opts.continueOnCompensationError && { continueOnCompensationError: true }),
  };
  // Checked before connecting: bad input is a usage error, whether or not the server is up.
  const input = parseOrderSagaInput({
    orderId: opts.order ?? generateOrderId(),
    customerId: opts.customer,
    items: opts.item,
    destination: opts.shipTo,
    ...(opts.fault && { faults: opts.fault }),
    ...(Object.keys(sagaOptions).length && { options: sagaOptions }),
  });
  const client = await ctx.client();
  const handle = await startOrderSaga(client, ctx.config.taskQueue, input);
  const started = {
    orderId: input.orderId,
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    namespace: ctx.config.namespace,
    taskQueue: ctx.config.taskQueue,
    uiUrl: workflowUiLink(ctx.config, handle.workflowId),
  };
  ctx.say(renderStarted(started));
  if (!opts.wait) return { exitCode: EXIT.OK, json: started };
  ctx.say('Waiting for the saga to end...');
  const result = await resultView(client, input.orderId);
  ctx.say(renderResult(result));
  return { exitCode: resultExitCode(result), json: { ...started, result } };
}

/**
 * Waits for the saga's end, or until it waits for an operator (a dead-lettered compensation: it would not end before
 * someone decides); the final state (best effort) says which compensations ran. `sent`: a decision just sent, whose
 * dead letter shows until the saga picks it up.
 */
async function resultView(client: Client, orderId: string, sent?: SentDecision): Promise<SagaOutcomeView> {
  await describeSaga(client, orderId); // an unknown order is "no saga for order X", not a failed saga
  const ended = await awaitSagaEndOrOperator(client, orderId, { sent });
  if (ended.outcome === 'needs-attention') return { orderId, outcome: 'NEEDS_ATTENTION', state: ended.state };
  // Cancelled and failed outcomes carry the final state; a completed saga's result does not, so fetch it.
  const state = ended.outcome === 'completed' ? await getSagaState(client, orderId).catch(() => undefined) : ended.state;
  return toResultView(orderId, ended, state);
}

function resultExitCode(view: SagaOutcomeView): number {
  return view.outcome === 'FAILED' ? EXIT.FAILED : view.outcome === 'NEEDS_ATTENTION' ? EXIT.NEEDS_ATTENTION : EXIT.OK;
}

export async function result(ctx: CommandContext, _opts: object, orderId: string): Promise<CommandResult> {
  const view = await resultView(await ctx.client(), orderId);
  ctx.say(renderResult(view));
  return { exitCode: resultExitCode(view), json: view };
}

/** A query needs a worker to answer it; without one it would wait indefinitely, so it gets a deadline. */
const QUERY_TIMEOUT_MS = 10_000;

/** Runs calls that query the saga with a deadline, and says what is probably wrong when it passes. */
async function withQueryDeadline<T>(client: Client, orderId: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, fn);
  } catch (err) {
    if (!isTimeout(err)) throw err;
    const description = await describeSaga(client, orderId);
    throw new CliError(
      `cannot ${what} the saga for order ${orderId} (workflow ${description.status.name}): no answer within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling task queue ${description.taskQueue}?`,
      EXIT.FAILED,
      'failed',
    );
  }
}

function isTimeout(err: unknown): boolean {
  return (
    isGrpcDeadlineError(err) ||
    (err instanceof ServiceError && isGrpcDeadlineError(err.cause)) ||
    // an update's RPC, cut by the deadline
    (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && isGrpcDeadlineError(err.cause))
  );
}

export async function status(ctx: CommandContext, _opts: object, orderId: string): Promise<CommandResult> {
  const client = await ctx.client();
  const description = await describeSaga(client, orderId);
  const state = await withQueryDeadline(client, orderId, 'query', () => getSagaState(client, orderId));
  const view = { orderId, workflowStatus: description.status.name, uiUrl: workflowUiLink(ctx.config, orderId), state };
  ctx.say(renderStatus(view));
  return { exitCode: EXIT.OK, json: view };
}

export async function cancel(ctx: CommandContext, _opts: object, orderId: string): Promise<CommandResult> {
  const client = await ctx.client();
  const outcome = await withQueryDeadline(client, orderId, 'cancel', () => cancelOrderSaga(client, orderId));
  ctx.say(renderCancel(orderId, outcome));
  const exitCode = outcome.cancelled ? EXIT.OK : cancelRefusalExitCode(outcome.refusal);
  return { exitCode, json: { orderId, ...outcome } };
}

export async function list(ctx: CommandContext, opts: { status?: SagaStatus; limit: number }): Promise<CommandResult> {
  const sagas = (await listSagas(await ctx.client(), { status: opts.status, limit: opts.limit })).map(toListEntry);
  ctx.say(renderList(sagas));
  return { exitCode: EXIT.OK, json: { sagas } };
}

export async function deadLettersList(ctx: CommandContext, opts: { limit: number }): Promise<CommandResult> {
  const client = await ctx.client();
  let deadLetters;
  try {
    deadLetters = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => listDeadLetters(client, { limit: opts.limit }));
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
  orderId: string,
  decision: { action: 'retry' } | { action: 'resolve'; reason: string },
  opts: DecisionOptions,
): Promise<CommandResult> {
  const client = await ctx.client();
  const description = await describeSaga(client, orderId);
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `refused: the saga for order ${orderId} already ended (workflow ${description.status.name}); no compensation waits for an operator`,
      EXIT.DECISION_REFUSED,
      'refused',
    );
  }
  const before = await withQueryDeadline(client, orderId, 'query', () => getSagaState(client, orderId));
  const ack = await withQueryDeadline(client, orderId, `send the ${decision.action} to`, () =>
    decision.action === 'retry' ? retryCompensation(client, orderId, opts.compensation) : resolveCompensation(client, orderId, decision.reason, opts.compensation),
  ).catch((err) => {
    if (err instanceof OperatorDecisionRefusedError) throw new CliError(`refused: order ${orderId}: ${err.message}`, EXIT.DECISION_REFUSED, 'refused');
    throw err;
  });
  const deadLetter = before.compensations.find((c) => c.name === ack.compensation && c.status === 'DEAD_LETTERED')?.deadLetter;
  const view: DecisionView = { orderId, action: ack.action, compensation: ack.compensation, deadLetter, ...(decision.action === 'resolve' && { reason: decision.reason }) };
  ctx.say(renderDecision(view));
  if (!opts.wait) return { exitCode: EXIT.OK, json: view };
  ctx.say('Waiting for the saga to end...');
  const result = await resultView(client, orderId, { compensation: ack.compensation, round: deadLetter?.round });
  ctx.say(renderResult(result));
  return { exitCode: resultExitCode(result), json: { ...view, result } };
}

/** One saga by its id, or --all of them (cli/batch-decisions.ts); not both, not neither. */
function checkBatch(opts: DecisionOptions & Partial<BatchOptions> & { all?: boolean }, orderId: string | undefined): void {
  if (opts.all && orderId) throw new CliError('give an order id or --all, not both', EXIT.USAGE, 'usage');
  if (!opts.all && !orderId) throw new CliError('give an order id, or --all for every waiting dead letter', EXIT.USAGE, 'usage');
  if (!opts.all && (opts.errorType || opts.dryRun || opts.yes)) throw new CliError('--error-type, --dry-run and --yes go with --all', EXIT.USAGE, 'usage');
  if (opts.all && opts.wait) throw new CliError('--wait is for one saga; with --all, follow them with dead-letters list or list', EXIT.USAGE, 'usage');
}

type DecisionCommandOptions = DecisionOptions & BatchOptions & { all?: boolean };

export function deadLettersRetry(ctx: CommandContext, opts: DecisionCommandOptions, orderId?: string): Promise<CommandResult> {
  checkBatch(opts, orderId);
  if (opts.all) return batchDecision(ctx, { action: 'retry' }, opts);
  return sendDecision(ctx, orderId!, { action: 'retry' }, opts);
}

export async function deadLettersResolve(ctx: CommandContext, opts: DecisionCommandOptions & { reason: string }, orderId?: string): Promise<CommandResult> {
  const reason = checkReason(opts.reason); // before connecting: a bad reason is a usage error, server up or not
  checkBatch(opts, orderId);
  if (opts.all) return batchDecision(ctx, { action: 'resolve', reason }, opts);
  return sendDecision(ctx, orderId!, { action: 'resolve', reason }, opts);
}
