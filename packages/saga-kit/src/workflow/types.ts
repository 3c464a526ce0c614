/**
 * The saga's vocabulary. Pure types and constants, imported by the workflow, the client (to render state) and the
 * tests; nothing here does I/O.
 */
import type { Duration } from '@temporalio/common';
import type { FailureClassification } from './failures';

/** What the saga records about a compensation it gave up on, before it waits for an operator. */
export interface DeadLetterEntry {
  /** The saga's id (its workflow id). */
  sagaId: string;
  /** The compensation, e.g. "release-inventory", and the forward step it undoes. */
  step: string;
  /** The forward step it undoes. */
  forStep: string;
  /** 1 for the first failure, +1 after each operator retry that failed again. */
  round: number;
  /** The last failure's type (a service's error code, or the Temporal failure kind). */
  errorType: string;
  /** The last failure's message. */
  lastError: string;
  /** Attempts made in this round (the compensation's retry policy's). */
  attempts: number;
}

/** How an operator closed an entry: retried by the saga, or resolved by hand with the operator's reason. */
export type DeadLetterOutcome = { status: 'RETRIED' } | { status: 'RESOLVED'; resolution: string };

/** What a dead-letter store answers when an entry is recorded. */
export interface DeadLetterRecord {
  id: number;
  createdAt: string;
}

/**
 * - compensatable: can be undone; its compensation is registered before it runs.
 * - pivot: the point of no return. Before it every step can be undone; once it succeeds, the saga only goes
 *   forward. It may carry a compensation for the one case where its own outcome is unknown (it timed out).
 * - retriable: after the pivot; never compensated, retried until it succeeds.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable';

/** Why compensations run, handed to each compensation so it can record the right business outcome. */
export interface CompensationContext {
  /**
   * deadline: the saga's overall deadline (or the workflow's run timeout) passed before its pivot. terminated: Temporal
   * stopped the run without the saga's consent (an operator's terminate, or a run stuck on a failing workflow task),
   * and a recovery run undoes what it left.
   */
  cause: 'rejected' | 'cancelled' | 'failed' | 'deadline' | 'terminated';
  /** Human-readable reason, e.g. the service's rejection message. */
  reason: string;
  /** The step whose failure (or the cancellation during which) started the unwinding. */
  failedStep?: string;
}

/** The engine's view of a step; sagas declare theirs with defineSaga (define.ts), which builds these. */
export interface SagaStep {
  /** Stable name: shown in the UI and the CLI, and part of the services' idempotency keys. */
  name: string;
  kind: StepKind;
  /**
   * The parallel group the step belongs to (its members are consecutive and run at once), if any. A group's name is
   * its members' names joined by " + ".
   */
  group?: string;
  /** The forward action: normally one activity call. What it returns (an object) is merged into the saga's data. */
  run: () => Promise<unknown>;
  /** Name of the compensating action, e.g. "release-inventory"; may depend on why the saga compensates. */
  compensationName?: string | ((context: CompensationContext) => string);
  /** Every name the compensating action may have (its alternatives), for reading a history without the saga's code. */
  compensationNames?: string[];
  /** The compensating action: normally one activity call. Required for compensatable steps. */
  compensate?: (context: CompensationContext) => Promise<unknown>;
  /** The compensation's retry policy's maximumAttempts, so a dead letter can say how many attempts were made. */
  compensationMaxAttempts?: (context: CompensationContext) => number | undefined;
}

export interface SagaOptions {
  /** Run all compensations at once instead of one by one in reverse order. Default false. */
  parallelCompensation?: boolean;
  /**
   * Sequential mode: keep compensating the remaining steps after a compensation fails. Default false: stop at the
   * first failure (later compensations may depend on it). Either way every failure is reported.
   */
  continueOnCompensationError?: boolean;
  /**
   * The saga's overall deadline, from its start: if it passes before the pivot, the running step is cancelled and
   * the saga compensates. After the pivot it no longer applies (the saga only goes forward).
   */
  deadline?: Duration;
  /**
   * Where a compensation that failed (its retry policy exhausted, or refused) goes. With it the saga records a dead
   * letter, shows NEEDS_ATTENTION and waits for an operator to retry or resolve the compensation; without it, a
   * failed compensation ends the saga failed (SagaCompensationFailed).
   */
  deadLetters?: DeadLetterLog;
  /**
   * Which failures prove that the failed step wrote nothing, so that its own compensation is skipped. Default: none
   * (a step that failed may have taken effect, so its compensation runs).
   */
  wroteNothing?: FailureClassification;
}

/** A Temporal duration: milliseconds, or a string such as "90s", "2h". */
export type { Duration };

/** The durable dead-letter log (normally activities calling the service that keeps it). */
export interface DeadLetterLog {
  /** Null when the worker has no dead-letter port: the saga's own state is then the only record. */
  record(entry: DeadLetterEntry): Promise<DeadLetterRecord | null>;
  close(id: number, outcome: DeadLetterOutcome): Promise<unknown>;
}

/**
 * An operator's decision about a dead-lettered action: a compensation, or a step after the pivot that failed for good
 * (`compensation` names either; it may be left out when exactly one waits).
 */
export type OperatorDecision =
  { action: 'retry'; compensation?: string } | { action: 'resolve'; compensation?: string; reason: string };

export type SagaStatus =
  | 'RUNNING' // forward steps before or at the pivot
  | 'COMMITTED' // the pivot succeeded: only retriable steps remain
  | 'COMPLETED'
  | 'COMPENSATING'
  | 'NEEDS_ATTENTION' // a compensation (or a step after the pivot) is dead-lettered: the saga waits for an operator
  | 'COMPENSATED' // every compensation succeeded (or was resolved by an operator)
  | 'COMPENSATION_FAILED' // at least one compensation did not succeed: needs attention
  | 'RECOVERING'; // a recovery run finishes what a terminated, timed-out or stuck run left (recovery.ts)

/** DEAD_LETTERED and RESOLVED: a step after the pivot that failed for good waits for an operator, as a compensation does. */
export type StepStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'DEAD_LETTERED' | 'RESOLVED';
/** DEAD_LETTERED: failed, waiting for an operator. RESOLVED: an operator finished it by hand (see `resolution`). */
export type CompensationStatus =
  'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'DEAD_LETTERED' | 'RESOLVED' | 'NOT_RUN';

export interface FailureInfo {
  /** The failure's type: a service's error code for a business rejection, else the Temporal failure kind. */
  type: string;
  message: string;
  /** True when the saga's classification (SagaOptions.wroteNothing) says this failure proves the step wrote nothing. */
  businessRejection: boolean;
}

export interface StepState {
  name: string;
  kind: StepKind;
  /** The parallel group it runs in, if any (SagaStep.group). */
  group?: string;
  status: StepStatus;
  /** The failure as the step saw it, its full text (a compensation's reason is a bounded line made from it). */
  failure?: FailureInfo;
  /** After the pivot: the latest dead letter of a step that failed for good, while it waits for an operator and after. */
  deadLetter?: DeadLetterState;
  /** The operator's reason, when the step was RESOLVED by hand. */
  resolution?: string;
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
  /** The latest dead letter for this compensation, while it waits for an operator and after. */
  deadLetter?: DeadLetterState;
  /** The operator's reason, when the compensation was RESOLVED by hand. */
  resolution?: string;
}

export interface DeadLetterState {
  /** The dead-letter log's id for the entry (absent if recording it failed: see recordError). */
  id?: number;
  round: number;
  attempts: number;
  errorType: string;
  lastError: string;
  recordedAt?: string;
  recordError?: string;
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
  /** What the completed steps returned for later steps (defineSaga's typed data), merged in step order. */
  data: Record<string, unknown>;
  /** In a recovery run: the run it repairs, how that run ended, and what it left to undo or finish. */
  recovery?: RecoveryState;
}

/** How a run ended without the saga's consent: terminated, timed out, or stuck on a failing workflow task. */
export type EndedWithoutConsent = 'TERMINATED' | 'TIMED_OUT' | 'STUCK';

/** What a recovery run shows about the run it repairs (SagaState.recovery). */
export interface RecoveryState {
  /** The run that ended without the saga deciding. */
  runId: string;
  /** How it ended. */
  ended: EndedWithoutConsent;
  /** Why it ended, as Temporal recorded it (the terminate reason, the timeout, the failing task's error). */
  reason: string;
  /** Where the run's progress was read from: its own state (a query replaying it), or its history's events. */
  source: 'state' | 'history';
  /** What the run left: the compensations still to run, or the steps after the pivot still to finish. */
  left: string[];
  /** What the recovery does about it. */
  direction: 'compensate' | 'forward';
}

/**
 * "If the saga failed now": the compensations that would run, in the order they would run (all at once when
 * parallel). Only while the saga can still compensate (status RUNNING); the running step's own compensation is
 * included, since a failure may follow its effect.
 */
export interface UnwindPreview {
  parallel: boolean;
  compensations: { name: string; forStep: string }[];
}
