import { setTimeout as sleep } from 'node:timers/promises';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdReusePolicy,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { defaultPayloadConverter, type Duration } from '@temporalio/common';
import { z } from 'zod';
import { sagaStateQuery, type SagaDefinition, type SagaTypes, type SagaView } from '../workflow/define';
import { ACTION_HEADER, type FaultPlan } from '../workflow/headers';
import { checkInput } from '../workflow/input';
import {
  deadLetteredActions,
  resolveCompensationUpdate,
  retryCompensationUpdate,
  type DeadLetteredAction,
  type OperatorDecisionAck,
} from '../workflow/operator';
import type { RecoverySweepOptions, RecoverySweepReport } from '../workflow/recovery-sweep';
import { sagaRunOptionsSchema, type SagaRunOptions } from '../workflow/run-options';
import { STATUS_MARKS } from '../workflow/marks';
import { groupsOf } from '../workflow/stages';
import { SAGA_STATUS } from '../workflow/search-attributes';
import type { CompensationState, SagaStatus } from '../workflow/types';
import { cancelAnswer, type CancelRefusal } from './cancel-answer';
import { hasFaultPlanInterceptor, sagaClientInterceptors, withFaultPlan } from './client-interceptor';

/** A start the client refused before sending it: the input, the run options or the fault plan are invalid. */
export class SagaInputError extends Error {
  /** `SagaInputError`, for logs and `instanceof`-free checks. */
  override name = 'SagaInputError';
}

/** A saga with this business key already exists (Temporal refuses a second one, even after the first ended). */
export class SagaAlreadyStartedError extends Error {
  /** `SagaAlreadyStartedError`, for logs and `instanceof`-free checks. */
  override name = 'SagaAlreadyStartedError';
}

/** A saga refused an operator's decision (nothing waits, not that compensation, no reason); the message says why. */
export class OperatorDecisionRefusedError extends Error {
  /** `OperatorDecisionRefusedError`, for logs and `instanceof`-free checks. */
  override name = 'OperatorDecisionRefusedError';
}

/** How a saga ended: its result, a cancellation (compensated), or a failure (with its state when it can be read). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the caller names the result type; untyped callers read fields freely
export type SagaResult<R = any> =
  | { outcome: 'completed'; result: R }
  | { outcome: 'cancelled'; state: SagaView }
  | { outcome: 'failed'; message: string; type?: string; state?: SagaView };

/** How waiting for a saga can end: it ended, or it waits for an operator on a dead-lettered compensation. */
export type SagaWaitResult = SagaResult | { outcome: 'needs-attention'; state: SagaView };

/** What a cancel did: sent, or refused with the reason (past the pivot, already compensating, already ended). */
export type CancelOutcome = { cancelled: true } | { cancelled: false; refusal: CancelRefusal; reason: string };

/** An action parked in a saga that waits for an operator: a compensation, or a step after the pivot. */
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

/** An operator's decision, for one saga or a batch: retry the compensation, or resolve it by hand with a reason. */
export type OperatorDecision = { action: 'retry' } | { action: 'resolve'; reason: string };

/** One decision of a batch and how it went. */
export interface BatchDecisionResult {
  sagaId: string;
  compensation: string;
  outcome: 'retried' | 'resolved' | 'refused' | 'failed';
  message?: string;
}

/** A decision just sent: its compensation still shows DEAD_LETTERED (in that round) until the saga picks it up. */
export interface SentDecision {
  compensation: string;
  round?: number;
}

/** What a start may add to the saga's input. */
export interface StartOptions<S extends SagaDefinition> {
  /** How this run executes (deadline, step timeout, retry policies, local activities): the workflow's 2nd argument. */
  run?: SagaRunOptions;
  /** For tests and demos: a fault per step or compensation name, carried in a header to the activity it targets. */
  faults?: FaultPlan<SagaTypes<S>['action']>;
  /** More workflow start options (e.g. a search attribute of yours); the id and the reuse policy are the kit's. */
  workflow?: Partial<WorkflowStartOptions>;
}

/** Options of a SagaClient. */
export interface SagaClientOptions<S extends SagaDefinition> {
  /** A Temporal client made with `interceptors: SagaClient.interceptors` (needed for fault plans only). */
  client: Client;
  /** The sagas this client starts and lists. */
  sagas: readonly S[];
  /** The task queue the sagas' workers poll. */
  taskQueue: string;
  /** Checks one fault spec the way your activities will read it; throws to refuse it. Default: any string. */
  checkFault?: (spec: string) => void;
}

/** How many state queries are in flight at once when listing dead letters, and decisions in a batch by default. */
const IN_FLIGHT = 8;

/**
 * A typed client over the sagas a caller hands it: start (input checked first), state, result, cancel, list, and
 * operators' decisions on dead-lettered compensations, singly and in batches. It returns typed outcomes and throws
 * typed errors (SagaInputError, SagaAlreadyStartedError, OperatorDecisionRefusedError; Temporal's own for the rest).
 */
export class SagaClient<S extends SagaDefinition = SagaDefinition> {
  /** The client interceptors that carry a start's fault plan: `new Client({ ..., interceptors: SagaClient.interceptors })`. */
  static readonly interceptors = sagaClientInterceptors;

  /**
   * The saga action (step or compensation) that an ActivityTaskScheduled event of a saga's history served (the
   * kit's `saga-action` header on it), or undefined.
   */
  static actionOf(event: {
    activityTaskScheduledEventAttributes?: { header?: { fields?: Record<string, unknown> | null } | null } | null;
  }): string | undefined {
    const payload = event.activityTaskScheduledEventAttributes?.header?.fields?.[ACTION_HEADER];
    return payload ? defaultPayloadConverter.fromPayload<string>(payload as never) : undefined;
  }

  /**
   * What waits for an operator in a saga's state: its dead-lettered compensations, and its steps after the pivot
   * that were refused for good (each with `action`: 'compensation' or 'step').
   */
  static readonly deadLetteredActions = deadLetteredActions;

  /** One mark per step or compensation status, the same the web UI's details show (✔ completed, ⚠ dead-lettered...). */
  static readonly statusMarks: Readonly<
    Record<SagaView['steps'][number]['status'] | CompensationState['status'], string>
  > = STATUS_MARKS;

  /** A saga's steps in the stages they run in: each parallel group one stage (its members share `group`), every other step one. */
  static readonly stagesOf = groupsOf;

  /** The underlying Temporal client. */
  readonly temporal: Client;
  /** The sagas this client knows. */
  readonly sagas: readonly S[];
  private readonly taskQueue: string;
  private readonly checkFault: (spec: string) => void;

  constructor(options: SagaClientOptions<S>) {
    this.temporal = options.client;
    this.sagas = options.sagas;
    this.taskQueue = options.taskQueue;
    this.checkFault = options.checkFault ?? (() => undefined);
  }

  /** The saga a workflow type belongs to (undefined for a workflow that is not one of this client's sagas). */
  sagaOf(workflowType: string): S | undefined {
    return this.sagas.find((s) => s.workflowType === workflowType);
  }

  /**
   * Checks a start without sending anything: the input (the saga's schema), the run options and the fault plan.
   * Returns the input as the schema returns it; throws SagaInputError.
   */
  check<T extends S>(saga: T, input: unknown, options: StartOptions<T> = {}): SagaTypes<T>['input'] {
    const checked = checkInput(saga.inputSchema, input);
    if ('problem' in checked) throw new SagaInputError(`invalid ${saga.name}: ${checked.problem}`);
    const run = sagaRunOptionsSchema.safeParse(options.run ?? {});
    if (!run.success)
      throw new SagaInputError(`invalid ${saga.name}: options: ${z.prettifyError(run.error).replace(/\n/g, '; ')}`);
    if (run.data.recover)
      throw new SagaInputError(`invalid ${saga.name}: options: recover is the recovery sweep's, not a start's`);
    for (const [action, spec] of Object.entries(options.faults ?? {})) {
      if (!(saga.meta.actions as readonly string[]).includes(action))
        throw new SagaInputError(
          `invalid ${saga.name}: faults: unknown action "${action}"; one of: ${saga.meta.actions.join(', ')}`,
        );
      try {
        this.checkFault(String(spec));
      } catch (err) {
        throw new SagaInputError(`invalid ${saga.name}: faults.${action}: ${(err as Error).message}`);
      }
    }
    return checked.value as SagaTypes<T>['input'];
  }

  /** Starts a saga; its business key is the workflow id, so a second saga for the same key is refused. */
  async start<T extends S>(
    saga: T,
    input: SagaTypes<T>['input'],
    options: StartOptions<T> = {},
  ): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const checked = this.check(saga, input, options);
    const key = saga.key(checked);
    if (
      Object.keys(options.faults ?? {}).length &&
      !hasFaultPlanInterceptor(this.temporal.workflow.options.interceptors)
    )
      throw new SagaInputError(
        `a fault plan needs a Temporal client made with SagaClient.interceptors (it travels in a header)`,
      );
    try {
      return await withFaultPlan(options.faults, () =>
        this.temporal.workflow.start(saga.workflowType, {
          taskQueue: this.taskQueue,
          // Temporal itself refuses a second saga for the same key, even after the first one ended (its idempotency
          // keys would collide with the first run's).
          workflowId: key,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: options.run ? [checked, sagaRunOptionsSchema.parse(options.run)] : [checked],
          typedSearchAttributes: [{ key: SAGA_STATUS, value: 'RUNNING' }],
          staticSummary: saga.summary(checked),
          staticDetails: saga.details,
          ...options.workflow,
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw new SagaAlreadyStartedError(`a saga for ${saga.name} ${key} already exists; ${saga.name} ids are unique`);
      throw err;
    }
  }

  /** The saga's state, as its query answers it (needs a worker). */
  state(sagaId: string): Promise<SagaView> {
    return this.temporal.workflow.getHandle(sagaId).query(sagaStateQuery);
  }

  /** The saga's workflow execution (status, type, start time...); throws WorkflowNotFoundError for an unknown id. */
  describe(sagaId: string) {
    return this.temporal.workflow.getHandle(sagaId).describe();
  }

  /** Waits for the saga to end and says how it ended, with the state of a cancelled or failed saga. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as SagaResult
  async result<R = any>(sagaId: string): Promise<SagaResult<R>> {
    const handle = this.temporal.workflow.getHandle(sagaId);
    try {
      return { outcome: 'completed', result: (await handle.result()) as R };
    } catch (err) {
      const state = await handle.query(sagaStateQuery).catch(() => undefined);
      const cause = (err as { cause?: { name?: string; message?: string; type?: string } }).cause;
      if (cause?.name === 'CancelledFailure') return { outcome: 'cancelled', state: state! };
      return { outcome: 'failed', message: cause?.message ?? (err as Error).message, type: cause?.type, state };
    }
  }

  /**
   * Waits for the saga to end, like result(), but returns early when it waits for an operator (it would not end until
   * someone decides). The SagaStatus search attribute is watched (no worker needed); the state is queried only when
   * it says NEEDS_ATTENTION. `sent`: a decision just sent, not to be taken for a new wait.
   */
  async endOrOperator(sagaId: string, options: { sent?: SentDecision; pollMs?: number } = {}): Promise<SagaWaitResult> {
    const stopResult = new AbortController();
    const stopWatch = new AbortController();
    const ended = this.temporal.withAbortSignal(stopResult.signal, () => this.result(sagaId));
    const watch = async (): Promise<SagaWaitResult> => {
      for (;;) {
        const description = await this.describe(sagaId).catch(() => undefined);
        if (description && description.status.name !== 'RUNNING') return ended; // the result is on its way
        if (description?.typedSearchAttributes.get(SAGA_STATUS) === 'NEEDS_ATTENTION') {
          const state = await this.temporal
            .withDeadline(Date.now() + 10_000, () => this.state(sagaId))
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

  /**
   * Requests cancellation if the saga's state says it will be honoured; otherwise says why not, without sending
   * anything (the workflow would ignore it past the pivot anyway).
   */
  async cancel(sagaId: string): Promise<CancelOutcome> {
    const handle = this.temporal.workflow.getHandle(sagaId);
    const description = await handle.describe();
    const state = description.status.name === 'RUNNING' ? await handle.query(sagaStateQuery) : undefined;
    const answer = cancelAnswer(description.status.name, state);
    if (!answer.cancel) return { cancelled: false, refusal: answer.refusal, reason: answer.reason };
    await handle.cancel();
    return { cancelled: true };
  }

  /** Recent sagas, newest first: of one saga (default: all of this client's) and in one status, at most `limit`. */
  async list(options: { saga?: S; status?: SagaStatus; limit: number }): Promise<WorkflowExecutionInfo[]> {
    const types = (options.saga ? [options.saga] : this.sagas).map((s) => `'${s.workflowType}'`);
    const clauses = [types.length === 1 ? `WorkflowType = ${types[0]}` : `WorkflowType IN (${types.join(', ')})`];
    if (options.status) clauses.push(`SagaStatus = '${options.status.replace(/'/g, '')}'`);
    const found: WorkflowExecutionInfo[] = [];
    for await (const info of this.temporal.workflow.list({ query: clauses.join(' AND ') })) {
      found.push(info);
      if (found.length >= options.limit) break;
    }
    return found;
  }

  /**
   * Every dead-lettered compensation of the sagas that wait for an operator (found by their SagaStatus, the filter the
   * web UI uses; each one's state is asked for the details, a few at a time), in the search's order.
   */
  async deadLetters(options: { saga?: S; limit: number }): Promise<DeadLetteredCompensation[]> {
    const sagas = await this.list({ saga: options.saga, status: 'NEEDS_ATTENTION', limit: options.limit });
    const states = await inLanes(sagas, (info) => this.state(info.workflowId));
    return sagas.flatMap((info, i) =>
      deadLetteredActions(states[i]).flatMap((c) =>
        c.deadLetter
          ? [
              {
                saga: states[i].saga,
                sagaId: info.workflowId,
                compensation: c.name,
                kind: c.action,
                forStep: c.action === 'compensation' ? c.forStep : c.name,
                deadLetter: c.deadLetter,
                cause: states[i].compensationCause?.reason,
              },
            ]
          : [],
      ),
    );
  }

  /**
   * An operator's decision on a waiting saga's dead-lettered compensation (which one may be left out when one waits):
   * retry it (unwinding resumes from there) or resolve it as done by hand (the reason is recorded). Throws
   * OperatorDecisionRefusedError when the saga cannot take it.
   */
  async decide(sagaId: string, decision: OperatorDecision, compensation?: string): Promise<OperatorDecisionAck> {
    const handle = this.temporal.workflow.getHandle(sagaId);
    try {
      return decision.action === 'retry'
        ? await handle.executeUpdate(retryCompensationUpdate, { args: [{ compensation }] })
        : await handle.executeUpdate(resolveCompensationUpdate, {
            args: [{ compensation, reason: decision.reason }],
          });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new OperatorDecisionRefusedError((err.cause as Error | undefined)?.message ?? err.message);
      throw err;
    }
  }

  /**
   * One decision for many dead-lettered compensations (after an outage): sent `concurrency` at a time (default 8),
   * each the same validated update as decide(); a saga that no longer waits refuses it and nothing else changes.
   * A target without `compensation` is decided on the action its saga waits on, found by the saga itself (no state
   * query first: a list of sagas from one visibility query is enough); a saga where several wait is read once and
   * each of them decided. `onDone` hears of each as it settles.
   */
  async decideMany(
    targets: readonly { sagaId: string; compensation?: string }[],
    decision: OperatorDecision,
    onDone: (result: BatchDecisionResult) => void = () => undefined,
    options: { concurrency?: number } = {},
  ): Promise<BatchDecisionResult[]> {
    const results: BatchDecisionResult[] = [];
    const settle = (result: BatchDecisionResult) => {
      results.push(result);
      onDone(result);
    };
    const done = decision.action === 'retry' ? 'retried' : 'resolved';
    await inLanes(
      targets,
      async ({ sagaId, compensation }) => {
        try {
          const ack = await this.decide(sagaId, decision, compensation);
          settle({ sagaId, compensation: ack.compensation, outcome: done });
        } catch (err) {
          const several = compensation === undefined && (await this.severalWaiting(sagaId, err));
          if (several) {
            for (const name of several) await this.decideMany([{ sagaId, compensation: name }], decision, settle);
            return;
          }
          const outcome = err instanceof OperatorDecisionRefusedError ? 'refused' : 'failed';
          settle({ sagaId, compensation: compensation ?? '', outcome, message: (err as Error).message });
        }
      },
      options.concurrency,
    );
    return results;
  }

  /** After a refused decision that named no action: the saga's waiting actions if more than one waits. */
  private async severalWaiting(sagaId: string, err: unknown): Promise<string[] | undefined> {
    if (!(err instanceof OperatorDecisionRefusedError)) return undefined;
    const state = await this.state(sagaId).catch(() => undefined);
    const waiting = state ? deadLetteredActions(state).map((c) => c.name) : [];
    return waiting.length > 1 ? waiting : undefined;
  }

  /**
   * Runs the recovery sweep now and waits for its report: every saga run that Temporal ended without the saga
   * deciding (terminated, timed out, or stuck past `stuckAfter`) gets a recovery run that undoes (or, past the pivot,
   * finishes) what it left. The sweep runs as a workflow on this client's task queue (export sagaRecoverySweep from
   * the workflows module); a sweep already running is joined, not doubled.
   */
  async recover(options: RecoverySweepOptions = {}): Promise<RecoverySweepReport> {
    const handle = await this.temporal.workflow.start<(o: RecoverySweepOptions) => Promise<RecoverySweepReport>>(
      RECOVERY_SWEEP_TYPE,
      {
        taskQueue: this.taskQueue,
        workflowId: RECOVERY_SWEEP_ID,
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [options],
      },
    );
    return handle.result();
  }

  /**
   * Runs the recovery sweep on a Temporal Schedule, every `every` (created, or updated when it exists). A sweep that
   * would overlap the previous one is skipped.
   */
  async scheduleRecovery(options: RecoverySweepOptions & { every: Duration }): Promise<void> {
    const { every, ...sweep } = options;
    const action = {
      type: 'startWorkflow' as const,
      workflowType: RECOVERY_SWEEP_TYPE,
      taskQueue: this.taskQueue,
      workflowId: RECOVERY_SWEEP_ID,
      args: [sweep] as [RecoverySweepOptions],
    };
    const spec = { intervals: [{ every }] };
    try {
      await this.temporal.schedule.create({
        scheduleId: RECOVERY_SWEEP_ID,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await this.temporal.schedule.getHandle(RECOVERY_SWEEP_ID).update((previous) => ({ ...previous, spec, action }));
    }
  }
}

/** The recovery sweep's workflow id (and its schedule's id), and its workflow type (recovery-sweep.ts). */
const RECOVERY_SWEEP_ID = 'saga-recovery-sweep';
const RECOVERY_SWEEP_TYPE = 'sagaRecoverySweep';

/** Runs `fn` over the items `lanes` at a time; the answers in the items' order. */
async function inLanes<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, lanes = IN_FLIGHT): Promise<R[]> {
  const answers = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) answers[i] = await fn(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return answers;
}

/**
 * Whether the saga waits for an operator on something other than a decision just sent. A dead letter counts once the
 * saga has recorded it (its time, or why the port could not), so that what is shown is what the operator will find.
 */
function waitsForOperator(state: SagaView, sent?: SentDecision): boolean {
  if (state.status !== 'NEEDS_ATTENTION') return false;
  return deadLetteredActions(state).some((c) => {
    const d = c.deadLetter;
    if (!d || (d.recordedAt === undefined && d.recordError === undefined)) return false;
    return !(sent && c.name === sent.compensation && d.round === sent.round);
  });
}
