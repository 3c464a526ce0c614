import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { cancelAnswer, type CancelRefusal } from './cancel-answer';
import { orderSaga, sagaStateQuery, type OrderSagaResult, type OrderSagaState } from '../workflows/order-saga';
import { orderSagaInputSchema, type OrderSagaInput } from '../workflows/order-saga-input';
import { SAGA_STATUS } from '../workflows/search-attributes';
import { resolveCompensationUpdate, retryCompensationUpdate, type OperatorDecisionAck } from '../workflows/saga/operator';
import type { CompensationState } from '../workflows/saga/types';
import { z } from 'zod';

/**
 * What the CLI (and the tests, and the demo) do with order sagas, on top of a Temporal client. No printing here:
 * client.ts renders the results.
 */
export class SagaInputError extends Error {}
export class SagaAlreadyStartedError extends Error {}

/** Checks an order saga's input without starting anything (the CLI does this before it connects). */
export function parseOrderSagaInput(rawInput: unknown): OrderSagaInput {
  const parsed = orderSagaInputSchema.safeParse(rawInput);
  if (!parsed.success) throw new SagaInputError(`invalid order: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data;
}

export async function startOrderSaga(client: Client, taskQueue: string, rawInput: OrderSagaInput) {
  const input = parseOrderSagaInput(rawInput);
  const units = input.items.reduce((n, i) => n + i.quantity, 0);
  try {
    return await client.workflow.start(orderSaga, {
      taskQueue,
      // The business key is the workflow id: Temporal itself refuses a second saga for the same order, even after
      // the first one ended (its idempotency keys would collide with the first run's).
      workflowId: input.orderId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [input],
      typedSearchAttributes: [{ key: SAGA_STATUS, value: 'RUNNING' }],
      staticSummary: `Order ${input.orderId}: ${units} unit(s) of ${input.items.map((i) => i.sku).join(', ')} for ${input.customerId}, shipping to ${input.destination.country}`,
      staticDetails: 'Order saga: create order → reserve inventory → schedule shipment → **charge payment (pivot)** → confirm reservation → confirm shipment → approve order',
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new SagaAlreadyStartedError(`a saga for order ${input.orderId} already exists; order ids are unique`);
    }
    throw err;
  }
}

export async function getSagaState(client: Client, orderId: string): Promise<OrderSagaState> {
  return client.workflow.getHandle(orderId).query(sagaStateQuery);
}

/** The saga's workflow execution (status, start time, ...); throws WorkflowNotFoundError for an unknown order. */
export async function describeSaga(client: Client, orderId: string) {
  return client.workflow.getHandle(orderId).describe();
}

export type CancelOutcome = { cancelled: true } | { cancelled: false; refusal: CancelRefusal; reason: string };

/**
 * Requests cancellation if the saga's state says it will be honoured (cli/cancel-answer.ts); otherwise says why not,
 * without sending anything (the workflow would ignore it past the pivot anyway).
 */
export async function cancelOrderSaga(client: Client, orderId: string): Promise<CancelOutcome> {
  const handle = client.workflow.getHandle(orderId);
  const description = await handle.describe();
  const state = description.status.name === 'RUNNING' ? await handle.query(sagaStateQuery) : undefined;
  const answer = cancelAnswer(description.status.name, state);
  if (!answer.cancel) return { cancelled: false, refusal: answer.refusal, reason: answer.reason };
  await handle.cancel();
  return { cancelled: true };
}

export type SagaResult =
  | { outcome: 'completed'; result: OrderSagaResult }
  | { outcome: 'cancelled'; state: OrderSagaState }
  | { outcome: 'failed'; message: string; type?: string; state?: OrderSagaState };

/** Waits for the saga to end and says how it ended, including the state for cancelled and failed sagas. */
export async function awaitSagaResult(client: Client, orderId: string): Promise<SagaResult> {
  const handle = client.workflow.getHandle(orderId);
  try {
    return { outcome: 'completed', result: await handle.result() };
  } catch (err) {
    const state = await handle.query(sagaStateQuery).catch(() => undefined);
    const cause = (err as { cause?: { name?: string; message?: string; type?: string } }).cause;
    if (cause?.name === 'CancelledFailure') return { outcome: 'cancelled', state: state! };
    return { outcome: 'failed', message: cause?.message ?? (err as Error).message, type: cause?.type, state };
  }
}

/** Recent sagas, newest first, optionally filtered by saga status (the same query the web UI can use). */
export async function listSagas(client: Client, options: { status?: string; limit: number }): Promise<WorkflowExecutionInfo[]> {
  const clauses = ["WorkflowType = 'orderSaga'"];
  if (options.status) clauses.push(`SagaStatus = '${options.status.replace(/'/g, '')}'`);
  const found: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: clauses.join(' AND ') })) {
    found.push(info);
    if (found.length >= options.limit) break;
  }
  return found;
}

/** A compensation parked in a saga that waits for an operator (what `dead-letters list` shows). */
export interface DeadLetteredCompensation {
  orderId: string;
  compensation: string;
  forStep: string;
  deadLetter: NonNullable<CompensationState['deadLetter']>;
  /** Why the saga was compensating in the first place. */
  cause?: string;
}

/**
 * Every dead-lettered compensation of the sagas that wait for an operator: the sagas are found by their SagaStatus
 * search attribute (the same filter the web UI uses), and each one's state is asked for the details.
 */
export async function listDeadLetters(client: Client, options: { limit: number }): Promise<DeadLetteredCompensation[]> {
  const sagas = await listSagas(client, { status: 'NEEDS_ATTENTION', limit: options.limit });
  const found: DeadLetteredCompensation[] = [];
  for (const saga of sagas) {
    const state = await getSagaState(client, saga.workflowId);
    for (const c of state.compensations) {
      if (c.status !== 'DEAD_LETTERED' || !c.deadLetter) continue;
      found.push({ orderId: saga.workflowId, compensation: c.name, forStep: c.forStep, deadLetter: c.deadLetter, cause: state.compensationCause?.reason });
    }
  }
  return found;
}

/** The saga refused an operator's decision (nothing waits, unknown compensation, no reason); the message says why. */
export class OperatorDecisionRefusedError extends Error {}

async function decide(run: () => Promise<OperatorDecisionAck>): Promise<OperatorDecisionAck> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new OperatorDecisionRefusedError((err.cause as Error | undefined)?.message ?? err.message);
    throw err;
  }
}

/** Asks a waiting saga to run a dead-lettered compensation again; unwinding resumes from there. */
export function retryCompensation(client: Client, orderId: string, compensation?: string): Promise<OperatorDecisionAck> {
  return decide(() => client.workflow.getHandle(orderId).executeUpdate(retryCompensationUpdate, { args: [{ compensation }] }));
}

/** Tells a waiting saga that a dead-lettered compensation was done by hand; the reason is recorded. */
export function resolveCompensation(client: Client, orderId: string, reason: string, compensation?: string): Promise<OperatorDecisionAck> {
  return decide(() => client.workflow.getHandle(orderId).executeUpdate(resolveCompensationUpdate, { args: [{ compensation, reason }] }));
}

/** How waiting for a saga can end: it ended, or it waits for an operator on a dead-lettered compensation. */
export type SagaWaitResult = SagaResult | { outcome: 'needs-attention'; state: OrderSagaState };

/** A decision just sent: its compensation still shows DEAD_LETTERED (in that round) until the saga picks it up. */
export interface SentDecision {
  compensation: string;
  round?: number;
}

/**
 * Whether the saga waits for an operator on something other than a decision just sent. A dead letter counts once the
 * saga has recorded it (its id, or why it could not), so that what is shown is what the operator will find.
 */
export function waitsForOperator(state: OrderSagaState, sent?: SentDecision): boolean {
  if (state.status !== 'NEEDS_ATTENTION') return false;
  return state.compensations.some((c) => {
    const d = c.deadLetter;
    if (c.status !== 'DEAD_LETTERED' || !d || (d.id === undefined && d.recordError === undefined)) return false;
    return !(sent && c.name === sent.compensation && d.round === sent.round);
  });
}

/**
 * Waits for the saga to end, like awaitSagaResult, but returns early when it waits for an operator (it would not end
 * until someone decides). The SagaStatus search attribute (describe: no worker needed) is watched, and the state is
 * queried only when it says NEEDS_ATTENTION.
 */
export async function awaitSagaEndOrOperator(client: Client, orderId: string, options: { sent?: SentDecision; pollMs?: number } = {}): Promise<SagaWaitResult> {
  const stopResult = new AbortController();
  const stopWatch = new AbortController();
  const ended = client.withAbortSignal(stopResult.signal, () => awaitSagaResult(client, orderId));
  const watch = async (): Promise<SagaWaitResult> => {
    for (;;) {
      const description = await describeSaga(client, orderId).catch(() => undefined);
      if (description && description.status.name !== 'RUNNING') return ended; // the result is on its way
      if (description?.typedSearchAttributes.get(SAGA_STATUS) === 'NEEDS_ATTENTION') {
        const state = await client.withDeadline(Date.now() + 10_000, () => getSagaState(client, orderId)).catch(() => undefined);
        if (state && waitsForOperator(state, options.sent)) return { outcome: 'needs-attention', state };
      }
      await sleep(options.pollMs ?? 500, undefined, { signal: stopWatch.signal });
    }
  };
  try {
    const outcome = await Promise.race([ended, watch()]);
    if (outcome.outcome === 'needs-attention') stopResult.abort();
    return outcome;
  } finally {
    stopWatch.abort();
  }
}
