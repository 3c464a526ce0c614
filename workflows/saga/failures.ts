import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { CompensationState, FailureInfo } from './types';

/** The type of the workflow failure that reports compensations that did not succeed. */
export const SAGA_COMPENSATION_FAILED = 'SagaCompensationFailed';

/**
 * Classifies a failure caught in the workflow. A non-retryable application failure from an activity is a business
 * rejection (the activity maps the services' 4xx answers to those); anything else that reaches the saga means the
 * step's retries or timeouts were exhausted.
 */
export function describeFailure(err: unknown): FailureInfo {
  if (isCancellation(err)) return { type: 'Cancelled', message: 'cancelled', businessRejection: false };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? 'ApplicationFailure', message: cause.message, businessRejection: cause.nonRetryable === true };
  }
  if (cause instanceof TimeoutFailure) {
    return { type: `Timeout.${cause.timeoutType}`, message: `timed out (${cause.timeoutType})`, businessRejection: false };
  }
  return { type: (cause as Error)?.name ?? 'Error', message: (cause as Error)?.message ?? String(cause), businessRejection: false };
}

/** A failure with the number of attempts the failed activity made (for a dead letter). */
export type DescribedFailure = FailureInfo & { attempts: number };

/** The detail an activity adds to its failures: the attempt it failed on (see activities/order-activities.ts). */
export interface AttemptDetail {
  attempt: number;
}

/**
 * How many attempts the failed activity made. Its own failures carry the attempt number; a timeout carries none, but
 * when the retry policy ran out its maximum is the answer (maximumAttempts, if the caller knows it).
 */
export function failureAttempts(err: unknown, maximumAttempts?: number): number {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const tagged = cause.details?.find((d): d is AttemptDetail => typeof (d as AttemptDetail | null)?.attempt === 'number');
    if (tagged) return tagged.attempt;
  }
  if (err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED && maximumAttempts) return maximumAttempts;
  return 1;
}

/**
 * One error for every compensation that did not succeed, so that none is swallowed or only logged. Non-retryable:
 * retrying the whole workflow would redo the forward steps; an operator has to look at it.
 */
export function compensationFailure(failed: CompensationState[], notRun: CompensationState[], originalReason: string): ApplicationFailure {
  const list = failed.map((c) => `${c.name} (${c.failure?.message ?? 'unknown error'})`).join('; ');
  const skipped = notRun.length ? `; not run: ${notRun.map((c) => c.name).join(', ')}` : '';
  return ApplicationFailure.create({
    type: SAGA_COMPENSATION_FAILED,
    message: `saga compensation failed: ${failed.length} compensation(s) did not succeed: ${list}${skipped}. Original failure: ${originalReason}`,
    nonRetryable: true,
    details: [{ failed, notRun, originalReason }],
  });
}
