import { ApplicationFailure, Context } from '@temporalio/activity';
import { sagaActivityHeaders } from './saga-headers';

/**
 * What a step's activity needs to be a well-behaved saga participant, read from the running activity.
 *
 * The idempotency key names one step of one saga: the workflow id (the saga's business key), the first run id of the
 * saga's run chain (the saga-run header) and the activity's type. It is the same across Temporal's retries of the step
 * and its re-executions of the saga (a reset, a workflow retry, continue-as-new), so a retried request that already
 * took effect gets the first answer back instead of doing it twice; and it is new for a new saga that reuses the
 * business key after Temporal forgot the first one, so that saga is never handed the stored answers of the first.
 */
export interface SagaActivityContext {
  /** The saga's id (its workflow id). */
  readonly sagaId: string;
  /** The saga action (step or compensation) this activity serves, as the kit tagged it. */
  readonly action?: string;
  /** The fault a test planned for this action (e.g. "transient:2"), if any; never part of the activity's arguments. */
  readonly fault?: string;
  /** This attempt's number, from 1. */
  readonly attempt: number;
  /** Milliseconds left before this attempt's start-to-close timeout. */
  readonly deadlineLeftMs: number;
  /** Aborted when the activity is cancelled (pass it to fetch and the like). */
  readonly signal: AbortSignal;
  /**
   * The step's idempotency key: `<saga id>:<first run id>:<activity type>`, plus `:<suffix>` when one activity type
   * is called several times in one saga. The same on every retry of the step, different for every step and saga.
   */
  idempotencyKey(suffix?: string): string;
  /**
   * Runs a call and, if it fails with an ApplicationFailure, adds `{ attempt }` to the failure's details: a
   * compensation given up on is then recorded (dead-lettered) with the number of attempts it took.
   */
  tagAttempt<T>(call: () => Promise<T>): Promise<T>;
}

/**
 * The running saga activity's context. Throws when called outside an activity that a saga scheduled (its
 * idempotency key needs the saga's id).
 */
export function sagaActivityContext(): SagaActivityContext {
  const { info, cancellationSignal } = Context.current();
  const sagaId = info.workflowExecution?.workflowId;
  if (!sagaId)
    throw new Error(
      `${info.activityType} must run as part of a saga workflow (its idempotency key is the workflow id)`,
    );
  const headers = sagaActivityHeaders();
  // An activity scheduled without the run header (not by the kit's workflow interceptor) keys on the workflow id.
  const saga = headers.run === undefined ? sagaId : `${sagaId}:${headers.run}`;
  return {
    sagaId,
    action: headers.action,
    fault: headers.fault,
    attempt: info.attempt,
    deadlineLeftMs: info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs - Date.now(),
    signal: cancellationSignal,
    idempotencyKey: (suffix) => `${saga}:${info.activityType}${suffix === undefined ? '' : `:${suffix}`}`,
    tagAttempt: (call) => taggedWithAttempt(call, info.attempt),
  };
}

async function taggedWithAttempt<T>(call: () => Promise<T>, attempt: number): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    throw ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable ?? undefined,
      details: [...(err.details ?? []), { attempt }],
      cause: err.cause,
    });
  }
}
