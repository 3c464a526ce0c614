import { isGrpcDeadlineError, ServiceError, type Client } from '@temporalio/client';
import type { SagaStatus } from '../workflows/saga/types';
import { generateOrderId, type Destination, type Faults, type Item } from './args';
import { workflowUiLink } from './connect';
import { CliError, EXIT } from './errors';
import { renderCancel, renderList, renderResult, renderStarted, renderStatus, toListEntry, toResultView, type ResultView } from './render';
import type { CommandContext, CommandResult } from './run';
import {
  awaitSagaResult,
  cancelOrderSaga,
  describeSaga,
  getSagaState,
  listSagas,
  parseOrderSagaInput,
  startOrderSaga,
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

/** Waits for the saga's end; the final state (best effort) says which compensations ran. */
async function resultView(client: Client, orderId: string): Promise<ResultView> {
  await describeSaga(client, orderId); // an unknown order is "no saga for order X", not a failed saga
  const ended = await awaitSagaResult(client, orderId);
  // Cancelled and failed outcomes carry the final state; a completed saga's result does not, so fetch it.
  const state = ended.outcome === 'completed' ? await getSagaState(client, orderId).catch(() => undefined) : ended.state;
  return toResultView(orderId, ended, state);
}

function resultExitCode(view: ResultView): number {
  return view.outcome === 'FAILED' ? EXIT.FAILED : EXIT.OK;
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
    const timedOut = isGrpcDeadlineError(err) || (err instanceof ServiceError && isGrpcDeadlineError(err.cause));
    if (!timedOut) throw err;
    const description = await describeSaga(client, orderId);
    throw new CliError(
      `cannot ${what} the saga for order ${orderId} (workflow ${description.status.name}): no answer within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling task queue ${description.taskQueue}?`,
      EXIT.FAILED,
      'failed',
    );
  }
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
  const exitCode = outcome.cancelled ? EXIT.OK : outcome.refusal === 'past-pivot' ? EXIT.CANCEL_REFUSED : EXIT.NOTHING_TO_CANCEL;
  return { exitCode, json: { orderId, ...outcome } };
}

export async function list(ctx: CommandContext, opts: { status?: SagaStatus; limit: number }): Promise<CommandResult> {
  const sagas = (await listSagas(await ctx.client(), { status: opts.status, limit: opts.limit })).map(toListEntry);
  ctx.say(renderList(sagas));
  return { exitCode: EXIT.OK, json: { sagas } };
}
