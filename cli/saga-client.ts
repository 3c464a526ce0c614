import type { Client, ClientOptions, WorkflowStartOptions } from '@temporalio/client';
import { Client as TemporalClient } from '@temporalio/client';
import { SagaClient, type FaultPlan } from 'temporal-saga-kit/client';
import type { SagaDefinition, SagaRunOptions, SagaTypes, SagaView } from 'temporal-saga-kit/workflow';
import { clientTracingInterceptors } from '../runtime/telemetry/tracing';
import { parseFaultSpec } from '../services/shared/fault-spec';
import { SAGA_LIST, sagaOfWorkflowType } from '../workflows/sagas';

/**
 * This app's binding of the kit's SagaClient (temporal-saga-kit/client): its sagas (workflows/sagas.ts), its fault
 * grammar (the services', services/shared/fault-spec.ts) and its tracing, as functions over a Temporal client for
 * the CLI, the tests, the demo, the chaos run and the bench. No printing here: cli/render.ts renders.
 */
export { SagaAlreadyStartedError, SagaInputError, OperatorDecisionRefusedError } from 'temporal-saga-kit/client';
export type { SagaResult } from 'temporal-saga-kit/client';

type Kit = SagaClient<SagaDefinition>;
export type CancelOutcome = Awaited<ReturnType<Kit['cancel']>>;
export type SagaWaitResult = Awaited<ReturnType<Kit['endOrOperator']>>;
export type DeadLetteredCompensation = Awaited<ReturnType<Kit['deadLetters']>>[number];
export type RecoverySweepReport = Awaited<ReturnType<Kit['recover']>>;
export type SentDecision = NonNullable<NonNullable<Parameters<Kit['endOrOperator']>[1]>['sent']>;

/** The kit's client over this app's sagas (the task queue matters to starts only). */
export function sagaClient(client: Client, taskQueue = ''): Kit {
  return new SagaClient({ client, sagas: SAGA_LIST, taskQueue, checkFault: (spec) => void parseFaultSpec(spec) });
}

/** A Temporal client that can start sagas with a fault plan (the kit's client interceptor). */
export function createSagaClient(
  connection: ClientOptions['connection'],
  namespace: string,
  /** The payload codec's (runtime/payload-codec.ts), when payloads are encrypted. */
  dataConverter?: ClientOptions['dataConverter'],
): Client {
  // With tracing on (OTEL_EXPORTER_OTLP_ENDPOINT), a start opens the saga's trace and hands its context to the workflow.
  const tracing = clientTracingInterceptors();
  return new TemporalClient({
    connection,
    namespace,
    dataConverter,
    interceptors: { workflow: [...(tracing?.workflow ?? []), ...SagaClient.interceptors.workflow] },
  });
}

/**
 * A start as callers write it: the saga's business input, plus how to run it (the workflow's second argument) and,
 * for tests and demos, a fault plan keyed by step or compensation name (it travels in a header, not in the input).
 */
export type SagaRequest<S extends SagaDefinition> = SagaTypes<S>['input'] & {
  options?: SagaRunOptions;
  faults?: FaultPlan<SagaTypes<S>['action']>;
};

function split<S extends SagaDefinition>(request: SagaRequest<S>) {
  const { options, faults, ...input } = request as SagaRequest<S> & Record<string, unknown>;
  return { input: input as SagaTypes<S>['input'], run: options, faults };
}

/** Checks a start without starting anything (the CLI does this before it connects): the input, options, faults. */
export function checkSagaRequest<S extends SagaDefinition>(
  saga: S,
  request: SagaRequest<S>,
): { input: SagaTypes<S>['input'] } {
  const { input, run, faults } = split(request);
  // No Temporal client yet: a check needs none.
  return { input: sagaClient(undefined as never).check(saga, input, { run, faults }) as SagaTypes<S>['input'] };
}

/** Starts a saga; its business key is the workflow id, so a second saga for the same key is refused. */
export function startSaga<S extends SagaDefinition>(
  client: Client,
  taskQueue: string,
  saga: S,
  request: SagaRequest<S>,
  extra: Partial<WorkflowStartOptions> = {},
) {
  const { input, run, faults } = split(request);
  return sagaClient(client, taskQueue).start(saga, input, { run, faults, workflow: extra });
}

export const getSagaState = (client: Client, sagaId: string): Promise<SagaView> => sagaClient(client).state(sagaId);
export const describeSaga = (client: Client, sagaId: string) => sagaClient(client).describe(sagaId);
/** The registered saga a workflow execution runs (undefined for a workflow that is not a saga). */
export const sagaOf = (description: { type: string }) => sagaOfWorkflowType(description.type);
export const cancelSaga = (client: Client, sagaId: string) => sagaClient(client).cancel(sagaId);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as SagaResult
export const awaitSagaResult = <R = any>(client: Client, sagaId: string) => sagaClient(client).result<R>(sagaId);
export const awaitSagaEndOrOperator = (
  client: Client,
  sagaId: string,
  options: { sent?: SentDecision; pollMs?: number } = {},
) => sagaClient(client).endOrOperator(sagaId, options);
/** Runs the recovery sweep now (on the task queue's workers) and returns its report. */
export const recoverSagas = (client: Client, taskQueue: string, options: Parameters<Kit['recover']>[0]) =>
  sagaClient(client, taskQueue).recover(options);
/** Puts the recovery sweep on a Temporal Schedule (created or updated). */
export const scheduleRecovery = (client: Client, taskQueue: string, options: Parameters<Kit['scheduleRecovery']>[0]) =>
  sagaClient(client, taskQueue).scheduleRecovery(options);
export const listSagas = (client: Client, options: Parameters<Kit['list']>[0]) => sagaClient(client).list(options);
export const listDeadLetters = (client: Client, options: Parameters<Kit['deadLetters']>[0]) =>
  sagaClient(client).deadLetters(options);

/** Asks a waiting saga to run a dead-lettered compensation again; unwinding resumes from there. */
export const retryCompensation = (client: Client, sagaId: string, compensation?: string) =>
  sagaClient(client).decide(sagaId, { action: 'retry' }, compensation);

/** Tells a waiting saga that a dead-lettered compensation was done by hand; the reason is recorded. */
export const resolveCompensation = (client: Client, sagaId: string, reason: string, compensation?: string) =>
  sagaClient(client).decide(sagaId, { action: 'resolve', reason }, compensation);

/**
 * One decision for many waiting sagas, `concurrency` at a time; a target without a compensation is decided on the one
 * its saga waits on.
 */
export const decideMany = (
  client: Client,
  targets: readonly { sagaId: string; compensation?: string }[],
  decision: Parameters<Kit['decideMany']>[1],
  onDone: Parameters<Kit['decideMany']>[2],
  concurrency?: number,
) => sagaClient(client).decideMany(targets, decision, onDone, { concurrency });

/** The saga action (step or compensation) an activity-scheduled event served: the kit's header on it. */
export const actionOfScheduledActivity = SagaClient.actionOf;
