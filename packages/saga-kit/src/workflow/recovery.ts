import { z } from 'zod';
import { asReason } from './reason';
import { compensationName } from './stages';
import type {
  CompensationContext,
  CompensationState,
  EndedWithoutConsent,
  SagaState,
  SagaStep,
  StepStatus,
} from './types';

/**
 * Recovery: finishing what a run left when Temporal ended it without the saga deciding (an operator's terminate, a
 * run or execution timeout, a run stuck on a failing workflow task). The recovery sweep (recovery-sweep.ts) reads how
 * far that run got and starts a recovery run of the same saga, under the same workflow id, with this request in its
 * run options. The recovery run schedules its activities under the ended run's idempotency keys (its key root), so
 * a step or compensation that already took effect is answered from the participant's stored answer, not done twice.
 *
 * What it does, from the ended run's progress:
 * - the pivot had succeeded: it drives the saga forward (the steps after the pivot that had not finished);
 * - the saga was compensating: it runs the compensations that had not finished, with the same reason;
 * - before that: it compensates every step that took effect or may have (a step that was running may have), in
 *   reverse order; if the pivot may have taken effect and has no compensation, it asks the pivot again (with the
 *   same key: its stored answer, or its effect now) and goes on from there like the saga would.
 */

/** What one action (step or compensation) of an ended run did, as its history's events say. */
export type ActionOutcome = 'COMPLETED' | 'FAILED' | 'OPEN';

/** The ended run's progress: its own state (a query replaying it), or per action what its history's events show. */
export type EndedRunProgress =
  { source: 'state'; state: SagaState } | { source: 'history'; actions: Record<string, ActionOutcome> };

/** What a recovery run is started with: SagaRunOptions.recover, set by the recovery sweep, never by a start. */
export interface SagaRecoveryRequest {
  /** The run to repair. */
  runId: string;
  /** Its idempotency keys' root: the first run id of its run chain (or the root it itself recovered under). */
  keyRoot: string;
  ended: EndedWithoutConsent;
  /** Why it ended, as Temporal recorded it. */
  reason: string;
  progress: EndedRunProgress;
}

export const recoveryRequestSchema: z.ZodType<SagaRecoveryRequest> = z
  .object({
    runId: z.string().min(1),
    keyRoot: z.string().min(1),
    ended: z.enum(['TERMINATED', 'TIMED_OUT', 'STUCK']),
    reason: z.string(),
    progress: z.union([
      z.object({
        source: z.literal('state'),
        state: z.custom<SagaState>((v) => typeof v === 'object' && v !== null && Array.isArray((v as SagaState).steps)),
      }),
      z.object({
        source: z.literal('history'),
        actions: z.record(z.string(), z.enum(['COMPLETED', 'FAILED', 'OPEN'])),
      }),
    ]),
  })
  .strict();

/** What the recovery run does: finish the steps after the pivot, or run compensations. */
export type RecoveryPlan =
  | {
      direction: 'forward';
      /** The steps' statuses as the ended run left them (adopted by the recovery's state). */
      steps: Map<string, StepStatus>;
      data: Record<string, unknown>;
      /** The first step to run: the pivot (asked again) or the first step after it. */
      from: string;
      /** When the pivot is asked again: the steps that may have taken effect, compensated if it is refused. */
      stack: SagaStep[];
      left: string[];
      openDeadLetters: number[];
    }
  | {
      direction: 'compensate';
      steps: Map<string, StepStatus>;
      data: Record<string, unknown>;
      /** The compensations the ended run finished (kept as they were) ... */
      done: CompensationState[];
      /** ... and the steps whose compensation still runs, in the order they run. */
      toCompensate: SagaStep[];
      context: CompensationContext;
      left: string[];
      openDeadLetters: number[];
    };

/** Both plans carry the ended run's dead letters that were still open: the recovery closes them as retried. */
const FINISHED_COMPENSATION = new Set(['COMPLETED', 'RESOLVED']);

/** The plan for a recovery run of a saga with these steps. */
export function planRecovery(steps: SagaStep[], request: SagaRecoveryRequest): RecoveryPlan {
  const ended = endedRunView(steps, request.progress);
  const status = (s: SagaStep) => ended.steps.get(s.name) ?? 'PENDING';
  const pivotIndex = steps.findIndex((s) => s.kind === 'pivot');
  const pivot = steps[pivotIndex];
  const finished = (s: SagaStep) => status(s) === 'COMPLETED' || status(s) === 'RESOLVED';
  const base = { steps: ended.steps, data: ended.data, openDeadLetters: ended.openDeadLetters };

  if (pivot && finished(pivot)) {
    const left = steps.slice(pivotIndex + 1).filter((s) => !finished(s));
    return { ...base, direction: 'forward', from: left[0]?.name ?? '', stack: [], left: left.map((s) => s.name) };
  }
  if (ended.compensations.length) {
    const done = ended.compensations.filter((c) => FINISHED_COMPENSATION.has(c.status));
    const rest = ended.compensations.filter((c) => !FINISHED_COMPENSATION.has(c.status));
    const toCompensate = rest.map((c) => steps.find((s) => s.name === c.forStep)!).filter(Boolean);
    return {
      ...base,
      direction: 'compensate',
      done,
      toCompensate,
      context: ended.compensationCause ?? endedContext(request, ended.currentStep),
      left: rest.map((c) => c.name),
    };
  }
  // Before the pivot: a step that completed, ran, or failed in a way that does not prove it wrote nothing.
  const mayHaveTakenEffect = (s: SagaStep) =>
    status(s) === 'COMPLETED' ||
    status(s) === 'RUNNING' ||
    (status(s) === 'FAILED' && ended.failedWroteSomething(s.name));
  const effected = steps.filter((s) => s.kind !== 'retriable' && mayHaveTakenEffect(s));
  if (pivot && mayHaveTakenEffect(pivot) && !pivot.compensate) {
    const stack = effected.filter((s) => s !== pivot && s.compensate);
    return { ...base, direction: 'forward', from: pivot.name, stack, left: [pivot.name] };
  }
  const toCompensate = effected.filter((s) => s.compensate).reverse();
  const context = endedContext(request, ended.currentStep);
  return {
    ...base,
    direction: 'compensate',
    done: [],
    toCompensate,
    context,
    left: toCompensate.map((s) => compensationName(s, context)),
  };
}

/** Why a recovery compensates a run that had not started to: it ended (terminated, timed out, stuck). */
function endedContext(request: SagaRecoveryRequest, currentStep: string | undefined): CompensationContext {
  const how = { TERMINATED: 'terminated', TIMED_OUT: 'timed out', STUCK: 'stuck' }[request.ended];
  return {
    cause: request.ended === 'TIMED_OUT' ? 'deadline' : 'terminated',
    reason: asReason(`saga ${how}${request.reason ? `: ${request.reason}` : ''}`),
    ...(currentStep !== undefined && { failedStep: currentStep }),
  };
}

/** The ended run's progress in one shape, whichever source it came from. */
function endedRunView(steps: SagaStep[], progress: EndedRunProgress) {
  if (progress.source === 'state') {
    const { state } = progress;
    return {
      steps: new Map(state.steps.map((s) => [s.name, s.status])),
      data: state.data,
      compensations: state.compensations,
      compensationCause: state.compensationCause,
      currentStep: state.currentStep,
      failedWroteSomething: (name: string) => !state.steps.find((s) => s.name === name)?.failure?.businessRejection,
      openDeadLetters: [...state.steps, ...state.compensations].flatMap((e) =>
        e.status === 'DEAD_LETTERED' && e.deadLetter?.id !== undefined ? [e.deadLetter.id] : [],
      ),
    };
  }
  // From the history's events: an action whose activity completed is done; one that failed or was still open may
  // have taken effect (a timed-out call may have arrived). What the steps returned is not known (their results need
  // the saga's code to read), so a step after the pivot that needs earlier data must not be recovered this way.
  const { actions } = progress;
  const outcome = (name: string): StepStatus | undefined =>
    actions[name] === 'COMPLETED' ? 'COMPLETED' : actions[name] !== undefined ? 'RUNNING' : undefined;
  const compensations: CompensationState[] = steps.flatMap((s) => {
    const names = s.compensationNames ?? [];
    const ran = names.find((n) => actions[n] !== undefined);
    if (ran === undefined) return [];
    return [{ name: ran, forStep: s.name, status: actions[ran] === 'COMPLETED' ? 'COMPLETED' : 'PENDING' } as const];
  });
  return {
    steps: new Map(steps.flatMap((s) => (outcome(s.name) ? [[s.name, outcome(s.name)!] as const] : []))),
    data: {},
    // The unwinding order is the reverse of the steps'.
    compensations: compensations.reverse(),
    compensationCause: undefined,
    currentStep: undefined,
    failedWroteSomething: () => true,
    // Dead letters are recorded through the saga's code; a history read without it does not see them.
    openDeadLetters: [] as number[],
  };
}
