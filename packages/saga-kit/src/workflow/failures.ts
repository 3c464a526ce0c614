import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, isCancellation, TimeoutFailure } from '@temporalio/workflow';
import type { CompensationState, FailureInfo } from './types';

/** The type of the workflow failure that reports compensations that did not succeed. */
export const SAGA_COMPENSATION_FAILED = 'SagaCompensationFailed';

/** What a saga's failure classification sees of a step's application failure (see SagaOptions.wroteNothing). */
export interface StepFailure {
  /** The application failure's type (e.g. a service's error code). */
  type: string;
  /** Its message. */
  message: string;
  /** Whether the activity marked it non-retryable. */
  nonRetryable: boolean;
  /** The failure's details, as the activity attached them (e.g. the service's answer). */
  details: unknown[];
}

/** Which failures prove that the step wrote nothing. The kit's default: none (a failed step may have taken effect). */
export type FailureClassification = (failure: StepFailure) => boolean;

const ASSUME_EFFECT: FailureClassification = () => false;

/**
 * Describes a failure caught in the workflow. Whether it is a definitive "no" that wrote nothing (businessRejection)
 * is the saga's choice (classify): only an application failure can be one; a timeout, a cancellation or anything
 * else that reaches the saga means the step's retries or timeouts ran out and it may have taken effect.
 */
export function describeFailure(err: unknown, classify: FailureClassification = ASSUME_EFFECT): FailureInfo {
  if (isCancellation(err)) return { type: 'Cancelled', message: 'cancelled', businessRejection: false };
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const type = cause.type ?? 'ApplicationFailure';
    const nonRetryable = cause.nonRetryable === true;
    return {
      type,
      message: cause.message,
      businessRejection: classify({ type, message: cause.message, nonRetryable, details: cause.details ?? [] }),
    };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      type: `Timeout.${cause.timeoutType}`,
      message: `timed out (${cause.timeoutType})`,
      businessRejection: false,
    };
  }
  return {
    type: (cause as Error)?.name ?? 'Error',
    message: (cause as Error)?.message ?? String(cause),
    businessRejection: false,
  };
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
    const tagged = cause.details?.find(
      (d): d is AttemptDetail => typeof (d as AttemptDetail | null)?.attempt === 'number',
    );
    if (tagged) return tagged.attempt;
  }
  if (err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED && maximumAttempts)
    return maximumAttempts;
  return 1;
}

/**
 * One error for every compensation that did not succeed, so that none is swallowed or only logged. Non-retryable:
 * retrying the whole workflow would redo the forward steps; an operator has to look at it.
 */
export function compensationFailure(
  failed: CompensationState[],
  notRun: CompensationState[],
  originalReason: string,
): ApplicationFailure {
  const list = failed.map((c) => `${c.name} (${c.failure?.message ?? 'unknown error'})`).join('; ');
  const skipped = notRun.length ? `; not run: ${notRun.map((c) => c.name).join(', ')}` : '';
  return ApplicationFailure.create({
    type: SAGA_COMPENSATION_FAILED,
    message: `saga compensation failed: ${failed.length} compensation(s) did not succeed: ${list}${skipped}. Original failure: ${originalReason}`,
    nonRetryable: true,
    details: [{ failed, notRun, originalReason }],
  });
}
