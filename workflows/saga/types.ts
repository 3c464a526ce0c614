/**
 * The saga's vocabulary. Pure types and constants, imported by the workflow, the client (to render state) and the
 * tests; nothing here does I/O.
 */

/**
 * - compensatable: can be undone; its compensation is registered before it runs.
 * - pivot: the point of no return. Before it every step can be undone; once it succeeds, the saga only goes
 *   forward. It may carry a compensation for the one case where its own outcome is unknown (it timed out).
 * - retriable: after the pivot; never compensated, retried until it succeeds.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable';

/** Why compensations run, handed to each compensation so it can record the right business outcome. */
export interface CompensationContext {
  cause: 'rejected' | 'cancelled' | 'failed';
  /** Human-readable reason, e.g. the service's rejection message. */
  reason: string;
  /** The step whose failure (or the cancellation during which) started the unwinding. */
  failedStep?: string;
}

export interface SagaStep {
  /** Stable name: shown in the UI and the CLI, and part of the services' idempotency keys. */
  name: string;
  kind: StepKind;
  /** The forward action: normally one activity call. */
  run: () => Promise<unknown>;
  /** Name of the compensating action, e.g. "release-inventory"; may depend on why the saga compensates. */
  compensationName?: string | ((context: CompensationContext) => string);
  /** The compensating action: normally one activity call. Required for compensatable steps. */
  compensate?: (context: CompensationContext) => Promise<unknown>;
}

export interface SagaOptions {
  /** Run all compensations at once instead of one by one in reverse order. Default false. */
  parallelCompensation?: boolean;
  /**
   * Sequential mode: keep compensating the remaining steps after a compensation fails. Default false: stop at the
   * first failure (later compensations may depend on it). Either way every failure is reported.
   */
  continueOnCompensationError?: boolean;
}

export type SagaStatus =
  | 'RUNNING' // forward steps before or at the pivot
  | 'COMMITTED' // the pivot succeeded: only retriable steps remain
  | 'COMPLETED'
  | 'COMPENSATING'
  | 'COMPENSATED' // every compensation succeeded
  | 'COMPENSATION_FAILED'; // at least one compensation did not succeed: needs attention

export type StepStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
export type CompensationStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'NOT_RUN';

export interface FailureInfo {
  /** The failure's type: a service's error code for a business rejection, else the Temporal failure kind. */
  type: string;
  message: string;
  /** True when a service gave a definitive business answer (4xx). */
  businessRejection: boolean;
}

export interface StepState {
  name: string;
  kind: StepKind;
  status: StepStatus;
  failure?: FailureInfo;
}

export interface CompensationState {
  /** The compensating action, e.g. "release-inventory". */
  name: string;
  /** The forward step it undoes. */
  forStep: string;
  status: CompensationStatus;
  failure?: FailureInfo;
  /** What the compensation answered (e.g. the service's response, which says whether it was a no-op). */
  result?: unknown;
}

/** Everything a query returns while the saga runs and after it ended. */
export interface SagaState {
  status: SagaStatus;
  /** The step (or compensation) in progress, if any. */
  currentStep?: string;
  /** Whether a cancellation request will still be honoured (false from the pivot on). */
  cancellable: boolean;
  steps: StepState[];
  /** In the order they were (or will be) run. */
  compensations: CompensationState[];
  /** What started the compensation, if it happened. */
  compensationCause?: CompensationContext;
}
