import { setTimeout as sleep } from 'node:timers/promises';
import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  type ClientOptions,
  type WorkflowExecutionInfo,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { cancelAnswer, type CancelRefusal } from './cancel-answer';
import { z } from 'zod';
import { parseFaultSpec } from '../services/shared/fault-spec';
import { clientTracingInterceptors } from '../runtime/telemetry/tracing';
import { sagaClientInterceptors, withFaultPlan } from '../workflows/saga/client-interceptor';
import { ACTION_HEADER } from '../workflows/saga/headers';
import { sagaOfWorkflowType, SAGA_LIST } from '../workflows/sagas';
import {
  SAGA_STATUS,
  sagaRunOptionsSchema,
  sagaStateQuery,
  resolveCompensationUpdate,
  retryCompensationUpdate,
  deadLetteredActions,
  type ActionName,
  type DeadLetteredAction,
  type CompensationState,
  type FaultPlan,
  type InputOf,
  type OperatorDecisionAck,
  type SagaDefinition,
  type SagaRunOptions,
  type SagaView,
} from '../workflows/saga';

/**
 * What the CLI (and the tests, the demo, the chaos run and the bench) do with sagas, on top of a Temporal client:
 * one library for every saga the worker registers (workflows/sagas.ts). No printing here: cli/render.ts renders.
 */
export class SagaInputError extends Error {}
export class SagaAlreadyStartedError extends Error {}

/** A Temporal client that can start sagas with a fault plan (the kit's client interceptor). */
export function createSagaClient(
  connection: ClientOptions['connection'],
  namespace: string,
  /** The payload codec's (runtime/payload-codec.ts), when payloads are encrypted. */
  dataConverter?: ClientOptions['dataConverter'],
): Client {
  // With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), a start opens the saga's trace and hands its context to the workflow.
  const tracing = clientTracingInterceptors();
  return new Client({
    connection,
    namespace,
    dataConverter,
    interceptors: { workflow: [...(tracing?.workflow ?? []), ...sagaClientInterceptors.workflow] },
  });
}

/**
 * A start as callers write it: the saga's business input, plus how to run it (the workflow's second argument) and,
 * for tests and demos, a fault plan keyed by step or compensation name (it travels in a header, not in the input).
 */
export type SagaRequest<S extends SagaDefinition> = InputOf<S> & {
  options?: SagaRunOptions;
  faults?: FaultPlan<ActionName<S>>;
};

export interface CheckedRequest<S extends SagaDefinition> {
  input: InputOf<S>;
  options?: SagaRunOptions;
  faults?: FaultPlan<ActionName<S>>;
}

const oneLine = (error: z.ZodError) => z.prettifyError(error).replace(/\n/g, '; ');

/** Checks a start without starting anything (the CLI does this before it connects): the input, options, faults. */
export function checkSagaRequest<S extends SagaDefinition>(saga: S, request: SagaRequest<S>): CheckedRequest<S> {
  const { options, faults, ...rawInput } = request as SagaRequest<S> & Record<string, unknown>;
  const input = saga.inputSchema.safeParse(rawInput);
  if (!input.success) throw new SagaInputError(`invalid ${saga.name}: ${oneLine(input.error)}`);
  const parsedOptions = sagaRunOptionsSchema.safeParse(options ?? {});
  if (!parsedOptions.success)
    throw new SagaInputError(`invalid ${saga.name}: options: ${oneLine(parsedOptions.error)}`);
  for (const [action, spec] of Object.entries(faults ?? {})) {
    if (!(saga.meta.actions as readonly string[]).includes(action)) {
      throw new SagaInputError(
        `invalid ${saga.name}: faults: unknown action "${action}"; one of: ${saga.meta.actions.join(', ')}`,
      );
    }
    // The services' own grammar and bounds (services/shared/fault-spec.ts): what they would refuse never starts a saga.
    try {
      parseFaultSpec(String(spec));
    } catch (err) {
      throw new SagaInputError(`invalid ${saga.name}: faults.${action}: ${(err as Error).message}`);
    }
  }
  return {
    input: input.data as InputOf<S>,
    ...(options && { options: parsedOptions.data }),
    ...(faults && { faults }),
  };
}

/** Starts a saga; its business key is the workflow id, so a second saga for the same key is refused. */
export async function startSaga<S extends SagaDefinition>(
  client: Client,
  taskQueue: string,
  saga: S,
  request: SagaRequest<S>,
  extra: Partial<WorkflowStartOptions> = {},
) {
  const { input, options, faults } = checkSagaRequest(saga, request);
  const key = saga.key(input);
  try {
    return await withFaultPlan(faults, () =>
      client.workflow.start(saga.workflowType, {
        taskQueue,
        // Temporal itself refuses a second saga for the same key, even after the first one ended (its idempotency
        // keys would collide with the first run's).
        workflowId: key,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        args: options ? [input, options] : [input],
        typedSearchAttributes: [{ key: SAGA_STATUS, value: 'RUNNING' }],
        staticSummary: saga.summary(input),
        staticDetails: saga.details,
        ...extra,
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new SagaAlreadyStartedError(`a saga for ${saga.name} ${key} already exists; ${saga.name} ids are unique`);
    }
    throw err;
  }
}

export async function getSagaState(client: Client, sagaId: string): Promise<SagaView> {
  return client.workflow.getHandle(sagaId).query(sagaStateQuery);
}

/** The saga's workflow execution (status, type, start time, ...); throws WorkflowNotFoundError for an unknown id. */
export async function describeSaga(client: Client, sagaId: string) {
  return client.workflow.getHandle(sagaId).describe();
}

/** The registered saga a workflow execution runs (undefined for a workflow that is not a saga). */
export function sagaOf(description: { type: string }): SagaDefinition | undefined {
  return sagaOfWorkflowType(description.type);
}

export type CancelOutcome = { cancelled: true } | { cancelled: false; refusal: CancelRefusal; reason: string };

/**
 * Requests cancellation if the saga's state says it will be honoured (cli/cancel-answer.ts); otherwise says why not,
 * without sending anything (the workflow would ignore it past the pivot anyway).
 */
export async function cancelSaga(client: Client, sagaId: string): Promise<CancelOutcome> {
  const handle = client.workflow.getHandle(sagaId);
  const description = await handle.describe();
  const state = description.status.name === 'RUNNING' ? await handle.query(sagaStateQuery) : undefined;
  const answer = cancelAnswer(description.status.name, state);
  if (!answer.cancel) return { cancelled: false, refusal: answer.refusal, reason: answer.reason };
  await handle.cancel();
  return { cancelled: true };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the caller names the result type; untyped callers read fields freely
export type SagaResult<R = any> =
  | { outcome: 'completed'; result: R }
  | { outcome: 'cancelled'; state: SagaView }
  | { outcome: 'failed'; message: string; type?: string; state?: SagaView };

/** Waits for the saga to end and says how it ended, including the state for cancelled and failed sagas. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as SagaResult
export async function awaitSagaResult<R = any>(client: Client, sagaId: string): Promise<SagaResult<R>> {
  const handle = client.workflow.getHandle(sagaId);
  try {
    return { outcome: 'completed', result: (await handle.result()) as R };
  } catch (err) {
    const state = await handle.query(sagaStateQuery).catch(() => undefined);
    const cause = (err as { cause?: { name?: string; message?: string; type?: string } }).cause;
    if (cause?.name === 'CancelledFailure') return { outcome: 'cancelled', state: state! };
    return { outcome: 'failed', message: cause?.message ?? (err as Error).message, type: cause?.type, state };
  }
}

/** The list filter for some sagas (default: every registered one), as the web UI's query language writes it. */
function sagaListQuery(options: { saga?: SagaDefinition; status?: string }): string {
  const types = (options.saga ? [options.saga] : SAGA_LIST).map((s) => `'${s.workflowType}'`);
  const clauses = [types.length === 1 ? `WorkflowType = ${types[0]}` : `WorkflowType IN (${types.join(', ')})`];
  if (options.status) clauses.push(`SagaStatus = '${options.status.replace(/'/g, '')}'`);
  return clauses.join(' AND ');
}

/** Recent sagas, newest first, optionally of one saga and in one saga status. */
export async function listSagas(
  client: Client,
  options: { saga?: SagaDefinition; status?: string; limit: number },
): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: sagaListQuery(options) })) {
    found.push(info);
    if (found.length >= options.limit) break;
  }
  return found;
}

/** A compensation parked in a saga that waits for an operator (what `dead-letters list` shows). */
export interface DeadLetteredCompensation {
  saga: string;
  sagaId: string;
  /** The dead-lettered action: a compensation, or a step after the pivot (see `kind`). */
  compensation: string;
  /** compensation: it undoes forStep; step: a forward step after the pivot that failed for good (forStep is itself). */
  kind: DeadLetteredAction['action'];
  forStep: string;
  deadLetter: NonNullable<CompensationState['deadLetter']>;
  /** Why the saga was compensating in the first place. */
  cause?: string;
}

/**
 * Every dead-lettered compensation of the sagas that wait for an operator: the sagas are found by their SagaStatus
 * search attribute (the same filter the web UI uses), and each one's state is asked for the details.
 */
const STATE_QUERIES_IN_FLIGHT = 8;

export async function listDeadLetters(
  client: Client,
  options: { saga?: SagaDefinition; limit: number },
): Promise<DeadLetteredCompensation[]> {
  const sagas = await listSagas(client, { saga: options.saga, status: 'NEEDS_ATTENTION', limit: options.limit });
  // Their states are asked a few at a time (thousands may wait after an outage), and listed in the search's order.
  const states: SagaView[] = new Array<SagaView>(sagas.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < sagas.length; i = next++) states[i] = await getSagaState(client, sagas[i].workflowId);
  };
  await Promise.all(Array.from({ length: Math.min(STATE_QUERIES_IN_FLIGHT, sagas.length) }, lane));
  const found: DeadLetteredCompensation[] = [];
  for (const [i, info] of sagas.entries()) {
    const state = states[i];
    for (const c of deadLetteredActions(state)) {
      if (!c.deadLetter) continue;
      found.push({
        saga: state.saga,
        sagaId: info.workflowId,
        compensation: c.name,
        kind: c.action,
        forStep: c.action === 'compensation' ? c.forStep : c.name,
        deadLetter: c.deadLetter,
        cause: state.compensationCause?.reason,
      });
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
    if (err instanceof WorkflowUpdateFailedError)
      throw new OperatorDecisionRefusedError((err.cause as Error | undefined)?.message ?? err.message);
    throw err;
  }
}

/** Asks a waiting saga to run a dead-lettered compensation again; unwinding resumes from there. */
export function retryCompensation(client: Client, sagaId: string, compensation?: string): Promise<OperatorDecisionAck> {
  return decide(() =>
    client.workflow.getHandle(sagaId).executeUpdate(retryCompensationUpdate, { args: [{ compensation }] }),
  );
}

/** Tells a waiting saga that a dead-lettered compensation was done by hand; the reason is recorded. */
export function resolveCompensation(
  client: Client,
  sagaId: string,
  reason: string,
  compensation?: string,
): Promise<OperatorDecisionAck> {
  return decide(() =>
    client.workflow.getHandle(sagaId).executeUpdate(resolveCompensationUpdate, { args: [{ compensation, reason }] }),
  );
}

/** How waiting for a saga can end: it ended, or it waits for an operator on a dead-lettered compensation. */
export type SagaWaitResult = SagaResult | { outcome: 'needs-attention'; state: SagaView };

/** A decision just sent: its compensation still shows DEAD_LETTERED (in that round) until the saga picks it up. */
export interface SentDecision {
  compensation: string;
  round?: number;
}

/**
 * Whether the saga waits for an operator on something other than a decision just sent. A dead letter counts once the
 * saga has recorded it (its id, or why it could not), so that what is shown is what the operator will find.
 */
function waitsForOperator(state: SagaView, sent?: SentDecision): boolean {
  if (state.status !== 'NEEDS_ATTENTION') return false;
  return deadLetteredActions(state).some((c) => {
    const d = c.deadLetter;
    if (!d || (d.id === undefined && d.recordError === undefined)) return false;
    return !(sent && c.name === sent.compensation && d.round === sent.round);
  });
}

/**
 * Waits for the saga to end, like awaitSagaResult, but returns early when it waits for an operator (it would not end
 * until someone decides). The SagaStatus search attribute (describe: no worker needed) is watched, and the state is
 * queried only when it says NEEDS_ATTENTION.
 */
export async function awaitSagaEndOrOperator(
  client: Client,
  sagaId: string,
  options: { sent?: SentDecision; pollMs?: number } = {},
): Promise<SagaWaitResult> {
  const stopResult = new AbortController();
  const stopWatch = new AbortController();
  const ended = client.withAbortSignal(stopResult.signal, () => awaitSagaResult(client, sagaId));
  const watch = async (): Promise<SagaWaitResult> => {
    for (;;) {
      const description = await describeSaga(client, sagaId).catch(() => undefined);
      if (description && description.status.name !== 'RUNNING') return ended; // the result is on its way
      if (description?.typedSearchAttributes.get(SAGA_STATUS) === 'NEEDS_ATTENTION') {
        const state = await client
          .withDeadline(Date.now() + 10_000, () => getSagaState(client, sagaId))
          .catch(() => undefined);
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

/** The saga action (step or compensation) an activity-scheduled event served: the kit's header on it. */
export function actionOfScheduledActivity(event: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const payload = event.activityTaskScheduledEventAttributes?.header?.fields?.[ACTION_HEADER];
  return payload ? defaultPayloadConverter.fromPayload<string>(payload as never) : undefined;
}
