/**
 * The failure points of a saga, derived from its definition's metadata alone (steps in order, their kinds, their
 * compensations): for each forward step every FORWARD_FAILURES kind that applies to its kind, for each compensation
 * every COMPENSATION_FAILURES kind, plus a sample of pairs. Each point says which faults to plan (by action name,
 * in the kit's fault-plan header), what the driver does while the saga runs (cancel, kill, operator), and what the
 * kit's rules say must come of it (the saga's status, which steps must have been compensated). Pure: no I/O.
 *
 * To add a failure kind: add it to FORWARD_FAILURES or COMPENSATION_FAILURES, derive its faults and expectation in
 * forwardPoint / compensationPoint, and, if the driver must act while the saga runs, a `drive` action (driver.ts).
 *
 * The terminate kinds are Temporal ending the run without the saga's consent (an operator's terminate): the driver
 * terminates it while an action is in flight or right after one completed, then runs the kit's recovery sweep, and
 * the point's expectation is the recovery run's: compensated before the pivot, driven forward after it.
 */
import { KIT_DEFAULTS, type SagaDefinition, type SagaRunOptions } from 'temporal-saga-kit/workflow';
import type { StepMeta } from '../../workflows/saga-types';

export const FORWARD_FAILURES = [
  'reject',
  'transient-recover',
  'transient-exhaust',
  'lost-once',
  'lost-exhaust',
  'late-effect',
  'cancel-before',
  'cancel-during',
  'cancel-after',
  'kill-during',
  'kill-between',
  'terminate-during',
  'terminate-between',
] as const;
export const COMPENSATION_FAILURES = [
  'transient-recover',
  'dead-letter',
  'dead-letter-retry',
  'dead-letter-resolve',
  'run-twice',
  'terminate-during',
  'terminate-between',
] as const;
export type ForwardFailure = (typeof FORWARD_FAILURES)[number];
export type CompensationFailure = (typeof COMPENSATION_FAILURES)[number];

/** The run options of every explored saga: short back-off and few attempts, so exhausting a policy takes seconds. */
export const ATTEMPTS = 3;
export const EXPLORE_OPTIONS: SagaRunOptions = {
  stepRetry: { initialInterval: '100ms', maximumInterval: '500ms', maximumAttempts: ATTEMPTS },
  compensationRetry: { initialInterval: '100ms', maximumInterval: '500ms', maximumAttempts: ATTEMPTS },
  // A worker killed mid-step: its activity is retried after this.
  stepTimeout: '4s',
};
/**
 * The points that exhaust a retry policy run with the saga's DEFAULT policies (the explored sagas set none of their
 * own: the kit's, 5 forward attempts, 20 compensation attempts, back-off up to a minute) on the time-skipping test
 * server, which skips the back-off (time-skipping-environment.ts). Every other point runs on the dev server with
 * EXPLORE_OPTIONS: the cancellations and kills must (the test server's clock is global, and stops skipping after an
 * activity is cancelled mid-run), the rest need no waiting.
 */
export const DEFAULT_RUN: SagaRunOptions = {};
export const DEFAULT_STEP_ATTEMPTS = KIT_DEFAULTS.stepRetry.maximumAttempts!;
export const DEFAULT_COMPENSATION_ATTEMPTS = KIT_DEFAULTS.compensationRetry.maximumAttempts!;
export type Server = 'dev' | 'time-skipping';

/** How long a step is held in flight (an injected delay) so that a cancellation or a kill lands while it runs. */
export const IN_FLIGHT_MS = 2500;

/** What the driver does while the saga runs (any combination, in this order). */
export interface Drive {
  /**
   * Cancel the saga while this step runs, or after it completed and before the next step is scheduled (the
   * explorer's hold interceptor keeps its result until the cancellation is in); neither: right after the start.
   */
  cancel?: { whileRunning?: string; afterCompleted?: string };
  /** SIGKILL the worker while this step runs, or just after it completed; a new worker is started at once. */
  kill?: { whileRunning: string } | { afterCompleted: string };
  /** When the compensation waits dead-lettered: the operator's decision (a resolve first does the work by hand). */
  operator?: { decision: 'retry' | 'resolve'; compensation: string };
  /** After the saga ended: send the compensation's request again, with its key and with a fresh one. */
  replay?: { compensation: string };
  /**
   * Terminate the run (Temporal's terminate, no say for the saga) while this action (a step or a compensation) runs,
   * or as soon as it completed; then the kit's recovery sweep, and the recovery run's end is the point's.
   */
  terminate?: { whileRunning: string } | { afterCompleted: string };
  /** The compensation must end dead-lettered after every attempt of its policy: checked there, then terminated. */
  deadLetter?: { compensation: string; attempts: number };
}

/** What the kit's rules say must come of the point. */
export interface Expectation {
  /** The saga's final status (SagaView.status); several when the rules allow either. */
  status: ('COMPLETED' | 'COMPENSATED' | 'NEEDS_ATTENTION')[];
  /** Steps whose compensation must have run (COMPLETED, or RESOLVED by an operator) when the saga compensated. */
  compensated: string[];
  /** Steps whose compensation must not have run (a rejected step wrote nothing). */
  notCompensated: string[];
  /** The compensation under test and the status it must end in. */
  compensation?: { name: string; status: 'COMPLETED' | 'RESOLVED' | 'DEAD_LETTERED' };
}

export interface FailurePoint {
  /** Unique in the saga: "<step or compensation>/<failure kind>", pairs "a/x+b/y". */
  id: string;
  saga: string;
  /** The row of the matrix (a step or a compensation) and its column. */
  target: string;
  targetKind: 'step' | 'compensation' | 'pair' | 'group';
  failure: string;
  faults: Record<string, string>;
  options: SagaRunOptions;
  /** The Temporal server it runs on (see DEFAULT_RUN). */
  server: Server;
  drive: Drive;
  expect: Expectation;
}

interface Shape {
  steps: readonly StepMeta[];
  /** Index of the pivot (or of the last step that is not retriable, when a saga has no pivot). */
  pivot: number;
}

/** The saga as the points see it: its metadata and, if its profile names one, the business's point of no return. */
export type Explored = Pick<SagaDefinition, 'name' | 'meta'> & { pivot?: string };

function shapeOf(saga: Explored): Shape {
  const steps = saga.meta.steps;
  // The business's pivot when the profile names it (a definition may fail to declare it: the explorer must notice).
  const pivot = saga.pivot ? steps.findIndex((s) => s.name === saga.pivot) : steps.findIndex((s) => s.kind === 'pivot');
  const lastUndoable = steps.map((s) => s.kind !== 'retriable').lastIndexOf(true);
  return { steps, pivot: pivot >= 0 ? pivot : lastUndoable };
}

const withCompensation = (shape: Shape, upTo: number) =>
  shape.steps
    .slice(0, Math.max(0, upTo + 1))
    .filter((s) => s.compensations.length)
    .map((s) => s.name);

/** A step in flight when a cancellation lands: before the pivot the saga compensates it and every step before it. */
function cancelledWhile(shape: Shape, index: number): Expectation {
  if (index < 0) return { status: ['COMPENSATED'], compensated: [], notCompensated: [] };
  if (index < shape.pivot)
    return { status: ['COMPENSATED'], compensated: withCompensation(shape, index), notCompensated: [] };
  if (index === shape.pivot) return { status: ['COMPLETED', 'COMPENSATED'], compensated: [], notCompensated: [] };
  return { status: ['COMPLETED'], compensated: [], notCompensated: [] };
}

/** A cancellation after step p completed, before the next is scheduled: up to the pivot the saga compensates. */
function cancelledAfter(shape: Shape, p: number): Expectation {
  if (p < shape.pivot) return { status: ['COMPENSATED'], compensated: withCompensation(shape, p), notCompensated: [] };
  return { status: ['COMPLETED'], compensated: [], notCompensated: [] };
}

/** The step before step i's parallel group (or before i, when it runs alone): what must have completed first. */
function before(shape: Shape, i: number): number {
  const group = shape.steps[i].group;
  const first = group === undefined ? i : shape.steps.findIndex((s) => s.group === group);
  return first - 1;
}

/**
 * The run terminated while step i was in flight: its outcome is unknown, so up to the pivot (the pivot in flight
 * included) the recovery run compensates it and every step before it; past the pivot it drives the saga forward.
 */
function terminatedWhile(shape: Shape, i: number): Expectation {
  if (i <= shape.pivot) return { status: ['COMPENSATED'], compensated: withCompensation(shape, i), notCompensated: [] };
  return { status: ['COMPLETED'], compensated: [], notCompensated: [] };
}

/**
 * The run terminated as soon as step p completed, the next one perhaps already under way: before the pivot the
 * recovery run compensates; when the next step (after p's parallel group) is the pivot it may have completed before
 * the termination landed, and then the saga is driven forward; after the pivot it always is.
 */
function terminatedAfter(shape: Shape, p: number): Expectation {
  if (p >= shape.pivot) return { status: ['COMPLETED'], compensated: [], notCompensated: [] };
  const status: Expectation['status'] =
    after(shape, p) === shape.pivot ? ['COMPENSATED', 'COMPLETED'] : ['COMPENSATED'];
  return { status, compensated: withCompensation(shape, p), notCompensated: [] };
}

/** The step after step i's parallel group (its siblings may finish after it), or after i when it runs alone. */
function after(shape: Shape, i: number): number {
  const group = shape.steps[i].group;
  return group === undefined ? i + 1 : shape.steps.map((s) => s.group).lastIndexOf(group) + 1;
}

const completed: Expectation = { status: ['COMPLETED'], compensated: [], notCompensated: [] };
/** The step failed with its outcome unknown (it may have written): it is compensated too. */
const unknownOutcome = (shape: Shape, i: number): Expectation => ({
  status: ['COMPENSATED'],
  compensated: withCompensation(shape, i),
  notCompensated: [],
});
const rejected = (shape: Shape, i: number): Expectation => ({
  status: ['COMPENSATED'],
  compensated: withCompensation(shape, i - 1),
  notCompensated: [shape.steps[i].name],
});

/** One forward failure at step i, or undefined when the kind does not apply to the step (e.g. a rejection after the pivot). */
export function forwardPoint(
  saga: Explored,
  i: number,
  failure: ForwardFailure,
  /** The run options of a point that exhausts a policy: the saga's defaults, unless a pair needs the short ones. */
  exhaustOptions: SagaRunOptions = DEFAULT_RUN,
): FailurePoint | undefined {
  const shape = shapeOf(saga);
  const step = shape.steps[i];
  const name = step.name;
  const undoable = i <= shape.pivot;
  const point = (
    faults: Record<string, string>,
    drive: Drive,
    expect: Expectation,
    options: SagaRunOptions = EXPLORE_OPTIONS,
  ): FailurePoint => ({
    id: `${name}/${failure}`,
    saga: saga.name,
    target: name,
    targetKind: 'step',
    failure,
    faults,
    options,
    server: options === DEFAULT_RUN ? 'time-skipping' : 'dev',
    drive,
    expect,
  });
  const hold = (n: number) =>
    n >= 0 && n < shape.steps.length ? { [shape.steps[n].name]: `delay:${IN_FLIGHT_MS}` } : {};
  const exhaustAttempts = exhaustOptions === DEFAULT_RUN ? DEFAULT_STEP_ATTEMPTS : ATTEMPTS;
  switch (failure) {
    case 'reject':
      return undoable ? point({ [name]: 'reject' }, {}, rejected(shape, i)) : undefined;
    case 'transient-recover':
      return point({ [name]: `transient:${ATTEMPTS - 1}` }, {}, completed);
    case 'transient-exhaust':
      // After the pivot steps retry without limit: there is no policy to exhaust.
      return undoable
        ? point({ [name]: `transient:${exhaustAttempts}` }, {}, unknownOutcome(shape, i), exhaustOptions)
        : undefined;
    case 'lost-once':
      return point({ [name]: 'lost-response:1' }, {}, completed);
    case 'lost-exhaust':
      return undoable
        ? point({ [name]: `lost-response:${exhaustAttempts}` }, {}, unknownOutcome(shape, i), exhaustOptions)
        : undefined;
    case 'late-effect':
      // Every attempt answers after the step timeout; the effect lands after the saga gave up (and compensated).
      return undoable
        ? point({ [name]: 'delay:2000' }, {}, unknownOutcome(shape, i), { ...EXPLORE_OPTIONS, stepTimeout: '1s' })
        : undefined;
    case 'cancel-before': {
      // After the step (or group) before it completed, before it is scheduled; before the first step: at once.
      const p = before(shape, i);
      if (p < 0) return point({}, { cancel: {} }, cancelledWhile(shape, -1));
      return point(hold(p), { cancel: { afterCompleted: shape.steps[p].name } }, cancelledAfter(shape, p));
    }
    case 'cancel-during':
      return point(hold(i), { cancel: { whileRunning: name } }, cancelledWhile(shape, i));
    case 'cancel-after':
      if (i + 1 >= shape.steps.length) return undefined; // after the last step the saga has ended
      return point(hold(i + 1), { cancel: { whileRunning: shape.steps[i + 1].name } }, cancelledWhile(shape, i + 1));
    case 'kill-during':
      return point(hold(i), { kill: { whileRunning: name } }, completed);
    case 'kill-between':
      if (i + 1 >= shape.steps.length) return undefined;
      return point({}, { kill: { afterCompleted: name } }, completed);
    case 'terminate-during':
      return point(hold(i), { terminate: { whileRunning: name } }, terminatedWhile(shape, i));
    case 'terminate-between': {
      if (i + 1 >= shape.steps.length) return undefined;
      // The step after i's group held a moment: the termination lands when i completed, whatever the next is doing
      // (not scheduled yet, or in flight), but never after the saga ran to its end.
      // Nothing after i's group (the last group): its siblings are what runs next, held instead.
      const next = after(shape, i);
      const siblings = shape.steps.filter((s) => step.group !== undefined && s.group === step.group && s !== step);
      const held =
        next < shape.steps.length
          ? hold(next)
          : Object.fromEntries(siblings.map((s) => [s.name, `delay:${IN_FLIGHT_MS}`]));
      return point(held, { terminate: { afterCompleted: name } }, terminatedAfter(shape, i));
    }
  }
}

/**
 * What makes compensation `c` (of step j) run: a rejection at the next step that can be rejected; for an
 * alternative chosen on a cancellation (not the step's last, default compensation), a cancellation while the next
 * step runs; for a step with no later undoable step (the pivot's compensation), its own outcome left unknown.
 */
function trigger(
  shape: Shape,
  j: number,
  c: string,
  stepAttempts = ATTEMPTS,
): { faults: Record<string, string>; drive: Drive; expect: Expectation } {
  const step = shape.steps[j];
  const isDefault = step.compensations[step.compensations.length - 1] === c;
  if (!isDefault && j + 1 < shape.steps.length) {
    return {
      faults: { [shape.steps[j + 1].name]: `delay:${IN_FLIGHT_MS}` },
      drive: { cancel: { whileRunning: shape.steps[j + 1].name } },
      expect: cancelledWhile(shape, j + 1),
    };
  }
  if (j + 1 <= shape.pivot)
    return { faults: { [shape.steps[j + 1].name]: 'reject' }, drive: {}, expect: rejected(shape, j + 1) };
  return { faults: { [step.name]: `lost-response:${stepAttempts}` }, drive: {}, expect: unknownOutcome(shape, j) };
}

/** One compensation failure, or undefined when the kind does not apply (no compensation runs after the first step's). */
export function compensationPoint(
  saga: Explored,
  j: number,
  c: string,
  failure: CompensationFailure,
): FailurePoint | undefined {
  const shape = shapeOf(saga);
  // Dead-lettered after its whole default policy, on the time-skipping server, unless a cancellation triggers it
  // (that one with the short policy on the dev server). The operator's decisions are Temporal updates, which the
  // test server does not implement: dead-letter-retry and -resolve run on the dev server, with the short policy.
  const exhausts = failure === 'dead-letter' && !trigger(shape, j, c).drive.cancel;
  const t = exhausts ? trigger(shape, j, c, DEFAULT_STEP_ATTEMPTS) : trigger(shape, j, c);
  const base = {
    id: `${c}/${failure}`,
    saga: saga.name,
    target: c,
    targetKind: 'compensation' as const,
    failure,
    options: exhausts ? DEFAULT_RUN : EXPLORE_OPTIONS,
    server: exhausts ? ('time-skipping' as const) : ('dev' as const),
  };
  const ran = (status: 'COMPLETED' | 'RESOLVED' | 'DEAD_LETTERED'): Expectation => ({
    ...t.expect,
    status: ['COMPENSATED'],
    compensation: { name: c, status },
  });
  switch (failure) {
    case 'transient-recover':
      return {
        ...base,
        faults: { ...t.faults, [c]: `transient:${ATTEMPTS - 1}` },
        drive: t.drive,
        expect: ran('COMPLETED'),
      };
    case 'dead-letter': {
      // Fails every attempt of its policy: dead-lettered, the saga NEEDS_ATTENTION with an OPEN dead letter.
      const attempts = exhausts ? DEFAULT_COMPENSATION_ATTEMPTS : ATTEMPTS;
      return {
        ...base,
        faults: { ...t.faults, [c]: `transient:${attempts}` },
        drive: { ...t.drive, deadLetter: { compensation: c, attempts } },
        expect: { ...ran('DEAD_LETTERED'), status: ['NEEDS_ATTENTION'], compensated: [] },
      };
    }
    case 'dead-letter-retry':
      // Fails every attempt of its policy (dead-lettered); the operator's retry is the attempt after: it succeeds.
      return {
        ...base,
        faults: { ...t.faults, [c]: `transient:${ATTEMPTS}` },
        drive: { ...t.drive, operator: { decision: 'retry', compensation: c } },
        expect: ran('COMPLETED'),
      };
    case 'dead-letter-resolve':
      return {
        ...base,
        faults: { ...t.faults, [c]: 'reject' },
        drive: { ...t.drive, operator: { decision: 'resolve', compensation: c } },
        expect: ran('RESOLVED'),
      };
    case 'run-twice':
      // The first response is lost (the activity runs again, same request); after the saga, the driver replays it.
      return {
        ...base,
        faults: { ...t.faults, [c]: 'lost-response:1' },
        drive: { ...t.drive, replay: { compensation: c } },
        expect: ran('COMPLETED'),
      };
    case 'terminate-during':
      // Held in flight when the run is terminated: the recovery run sends it again (same key) and finishes unwinding.
      return {
        ...base,
        faults: { ...t.faults, [c]: `delay:${IN_FLIGHT_MS}` },
        drive: { ...t.drive, terminate: { whileRunning: c } },
        expect: ran('COMPLETED'),
      };
    case 'terminate-between': {
      // After the first step's compensation the saga ends at once: there is no "between" left to terminate in.
      const earlier = withCompensation(shape, j - 1);
      if (!earlier.length) return undefined;
      // The compensations that run next held a moment (whichever alternative runs), so that the saga has not
      // finished unwinding by the time the termination lands.
      const next = shape.steps.find((s) => s.name === earlier[earlier.length - 1])!.compensations;
      return {
        ...base,
        faults: { ...Object.fromEntries(next.map((n) => [n, `delay:${IN_FLIGHT_MS}`])), ...t.faults },
        drive: { ...t.drive, terminate: { afterCompleted: c } },
        expect: ran('COMPLETED'),
      };
    }
  }
}

/** Every single-failure point of a saga, steps first in business order, then compensations in unwinding order. */
export function singlePoints(saga: Explored): FailurePoint[] {
  const points: FailurePoint[] = [];
  saga.meta.steps.forEach((_, i) => {
    for (const f of FORWARD_FAILURES) {
      const p = forwardPoint(saga, i, f);
      if (p) points.push(p);
    }
  });
  for (let j = saga.meta.steps.length - 1; j >= 0; j--) {
    for (const c of saga.meta.steps[j].compensations)
      for (const f of COMPENSATION_FAILURES) {
        const p = compensationPoint(saga, j, c, f);
        if (p) points.push(p);
      }
  }
  return points;
}

/**
 * Two members of one parallel group failing at once. Before the pivot: both rejected (neither wrote anything: only
 * the steps before the group are compensated), or one rejected while the other exhausts its policy (that one's
 * outcome is unknown, or it is cancelled mid-retry when its sibling's rejection fails the group: compensated either
 * way). After it: both failing transiently, or both losing an answer, and recovering. On the dev server with the
 * short policies: a rejection cancels the sibling's running activity, which the time-skipping server cannot take.
 */
export function groupPoints(saga: Explored): FailurePoint[] {
  const shape = shapeOf(saga);
  const points: FailurePoint[] = [];
  const groups = [...new Set(shape.steps.map((s) => s.group).filter((g): g is string => g !== undefined))];
  for (const group of groups) {
    const members = shape.steps.map((s, i) => ({ s, i })).filter((m) => m.s.group === group);
    const undoable = members.every((m) => m.i <= shape.pivot);
    const before = members[0].i - 1;
    const kinds: [ForwardFailure, ForwardFailure][] = undoable
      ? [
          ['reject', 'reject'],
          ['reject', 'transient-exhaust'],
          ['transient-exhaust', 'reject'],
        ]
      : [
          ['transient-recover', 'transient-recover'],
          ['lost-once', 'lost-once'],
        ];
    const spec: Partial<Record<ForwardFailure, string>> = {
      reject: 'reject',
      'transient-exhaust': `transient:${ATTEMPTS}`,
      'transient-recover': `transient:${ATTEMPTS - 1}`,
      'lost-once': 'lost-response:1',
    };
    members.forEach((a, x) =>
      members.slice(x + 1).forEach((b) => {
        for (const [fa, fb] of kinds) {
          const rejectedOnes = [fa === 'reject' ? a.s.name : undefined, fb === 'reject' ? b.s.name : undefined];
          const unknownOnes = [fa !== 'reject' ? a : undefined, fb !== 'reject' ? b : undefined].filter(
            (m) => m !== undefined && m.s.compensations.length,
          );
          points.push({
            id: `${a.s.name}/${fa}+${b.s.name}/${fb}`,
            saga: saga.name,
            target: group,
            targetKind: 'group',
            failure: `${fa}+${fb}`,
            faults: { [a.s.name]: spec[fa]!, [b.s.name]: spec[fb]! },
            options: EXPLORE_OPTIONS,
            server: 'dev',
            drive: {},
            expect: undoable
              ? {
                  status: ['COMPENSATED'],
                  compensated: [...withCompensation(shape, before), ...unknownOnes.map((m) => m!.s.name)],
                  notCompensated: rejectedOnes.filter((n): n is string => n !== undefined),
                }
              : completed,
          });
        }
      }),
    );
  }
  return points;
}

/**
 * Pairs: a forward failure that makes the saga compensate, combined with a failure of one of the compensations it
 * runs (a transient that recovers, or one that dead-letters and is retried). Sampled with a seeded generator.
 */
export function pairPoints(saga: Explored, n: number, seed = 1): FailurePoint[] {
  const candidates: FailurePoint[] = [];
  const shape = shapeOf(saga);
  shape.steps.forEach((_, i) => {
    for (const f of ['reject', 'transient-exhaust', 'lost-exhaust'] as const) {
      const forward = forwardPoint(saga, i, f);
      if (!forward) continue;
      for (const stepName of forward.expect.compensated) {
        const step = shape.steps.find((s) => s.name === stepName)!;
        const c = step.compensations[step.compensations.length - 1];
        for (const cf of ['transient-recover', 'dead-letter-retry'] as const) {
          // A forward failure exhausting its default policy is on the time-skipping server, unless the operator
          // must decide (an update, which only the dev server implements): then with the short policy.
          const first = cf === 'dead-letter-retry' ? (forwardPoint(saga, i, f, EXPLORE_OPTIONS) ?? forward) : forward;
          const spec = cf === 'transient-recover' ? `transient:${ATTEMPTS - 1}` : `transient:${ATTEMPTS}`;
          candidates.push({
            ...first,
            id: `${forward.id}+${c}/${cf}`,
            targetKind: 'pair',
            failure: `${f}+${c}/${cf}`,
            faults: { ...first.faults, [c]: spec },
            drive: cf === 'dead-letter-retry' ? { operator: { decision: 'retry', compensation: c } } : {},
            expect: { ...forward.expect, compensation: { name: c, status: 'COMPLETED' } },
          });
        }
      }
    }
  });
  // Seeded shuffle (mulberry32), then the first n.
  let a = seed >>> 0;
  const rng = () => ((a = (a + 0x6d2b79f5) >>> 0), (((a ^ (a >>> 15)) * (a | 1)) >>> 0) / 4294967296);
  for (let i = candidates.length - 1; i > 0; i--) {
    const k = Math.floor(rng() * (i + 1));
    [candidates[i], candidates[k]] = [candidates[k], candidates[i]];
  }
  return candidates.slice(0, n);
}

/**
 * The bounded subset `npm test` runs: every failure kind once, each on a step (or compensation) chosen by rotation
 * (`rotation` shifts the choice, e.g. by the day).
 */
export function subsetPoints(points: FailurePoint[], rotation = 0): FailurePoint[] {
  const byKind = new Map<string, FailurePoint[]>();
  for (const p of points) {
    const key = `${p.targetKind}:${p.failure}`;
    byKind.set(key, [...(byKind.get(key) ?? []), p]);
  }
  // Each kind shifted by its own index too, so that one run spreads over the steps rather than hitting one.
  return [...byKind.values()].map((list, k) => list[(rotation + k) % list.length]);
}
