import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import { checkInput, type InputSchema } from './input';
import type { FailureClassification } from './failures';
import { installOperatorHandlers } from './operator';
import {
  DEAD_LETTER_RETRY,
  KIT_DEFAULTS,
  retryPolicy,
  sagaRunOptionsSchema,
  type BaseRetry,
  type RetryOverride,
  type SagaDefaults,
  type SagaRunOptions,
} from './run-options';
import { useKeyRoot } from './key-root';
import { Saga } from './saga';
import { groupsOf, validateSteps } from './stages';
import { SAGA_STATUS } from './search-attributes';
import type {
  CompensationContext,
  DeadLetterEntry,
  DeadLetterLog,
  DeadLetterOutcome,
  DeadLetterRecord,
  SagaState,
  SagaStep,
  StepKind,
  UnwindPreview,
} from './types';

/**
 * defineSaga: one call declares a saga (its input, its steps in business order, how its outcome reads) and returns
 * everything that runs or talks to it: the workflow function, the query and update definitions, the summaries, and
 * the metadata (steps, kinds, compensations) that the client, the CLI, the demo, the chaos run and the tests read.
 *
 * Steps are declared with a builder whose method is the step's kind, so the kind decides the shape at compile time:
 *   .compensatable(name, { run, compensate })   compensate required
 *   .pivot(name, { run, compensate? })          the point of no return; compensate only for an unknown outcome
 *   .retriable(name, { run })                   after the pivot; no compensate (an excess property is an error)
 *   .parallel((g) => g.compensatable(…).compensatable(…))   members that run at once (retriable ones after the pivot)
 * A step's run returns what later steps need (an object, or nothing); it is merged into the saga's data, typed: a
 * later step sees `data.totalCents` as a number, a compensation sees only the data from before its step.
 */

/** Activities as the steps call them: every function returns a promise. */
type Callable<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => infer R ? (...args: P) => Promise<Awaited<R>> : never;
};

/** Names the activities' interface without a value: `activities: activitiesOf<OrderActivities>()`. */
export interface ActivitiesOf<A> {
  readonly __activities?: A;
}
/**
 * Names a saga's activities by their interface, without importing their code into the workflow bundle:
 * `activities: activitiesOf<typeof myActivities>()`. Each step's `act` then calls them typed.
 */
export function activitiesOf<A extends object>(): ActivitiesOf<A> {
  return {};
}

/** What a step (or a compensation) is handed: the saga's input, the data so far, and its activities. */
export interface StepContext<I, D, A> {
  readonly input: I;
  readonly data: Readonly<D>;
  /** The activities, scheduled with this action's retry policy and timeout, and its name as their summary. */
  readonly act: Callable<A>;
}

export interface CompensateContext<I, D, A> extends StepContext<I, D, A> {
  /** Why the saga compensates (rejected, failed, cancelled, deadline), with the reason. */
  readonly why: CompensationContext;
}

/** One compensating action. A step may list alternatives: the first whose `when` holds runs (the last has none). */
export interface CompensationSpec<I, D, A, C extends string> {
  name: C;
  when?: (why: CompensationContext) => boolean;
  run: (ctx: CompensateContext<I, D, A>) => Promise<unknown>;
  /** How this compensation's activities are scheduled; unset fields take the kit's defaults for compensations. */
  options?: StepOptions;
}

/**
 * How one step's (or one compensation's) activities are scheduled, chosen by the saga's author. Every field is
 * optional: unset ones take the kit's default for the step's kind (KIT_DEFAULTS, or the definition's `defaults`).
 * A start may still override the start-to-close timeout and the retry policies (a test's or an operator's need).
 */
export interface StepOptions {
  /** One attempt's time limit (default 15 s). */
  startToCloseTimeout?: Duration;
  /** The limit for all attempts together, retries included (default: none). */
  scheduleToCloseTimeout?: Duration;
  /** For long activities that heartbeat (ignored for local activities). */
  heartbeatTimeout?: Duration;
  /** Merged over the kit's default policy for the step's kind. */
  retry?: RetryPolicy;
  /** Another task queue for this step's activities, e.g. a slow partner served by workers of its own. */
  taskQueue?: string;
  /** Run as local activities (in the workflow's worker, no task-queue round trip). */
  local?: boolean;
}
type Compensations<I, D, A, C extends string> = CompensationSpec<I, D, A, C> | readonly CompensationSpec<I, D, A, C>[];

type Run<I, D, A, O> = (ctx: StepContext<I, D, A>) => Promise<O>;
/** The data after a step that returned O. */
type With<D, O> = O extends object ? Omit<D, keyof O> & O : D;

/** One step of a saga's metadata. */
export interface StepMeta<S extends string = string, C extends string = string> {
  name: S;
  kind: StepKind;
  /** Its compensations: one, or the alternatives in the order they are tried (the last is the default). */
  compensations: C[];
  /** The parallel group it runs in, if any: its members' names joined by " + ". */
  group?: string;
}

/** A parallel group in a saga's plan: members that run at once. */
export interface GroupMeta<S extends string = string, C extends string = string> {
  kind: 'parallel';
  name: string;
  members: StepMeta<S, C>[];
}

interface BuiltStep {
  meta: StepMeta;
  run: (ctx: StepContext<unknown, unknown, unknown>) => Promise<unknown>;
  options?: StepOptions;
  compensations: CompensationSpec<unknown, unknown, unknown, string>[];
}

interface AnySpec {
  run: unknown;
  compensate?: unknown;
  options?: StepOptions;
}

function buildStep(name: string, kind: StepKind, spec: AnySpec): BuiltStep {
  const { compensate } = spec;
  const compensations = (
    compensate === undefined ? [] : Array.isArray(compensate) ? compensate : [compensate]
  ) as BuiltStep['compensations'];
  return {
    meta: { name, kind, compensations: compensations.map((c) => c.name) },
    run: spec.run as BuiltStep['run'],
    options: spec.options,
    compensations,
  };
}

/**
 * The members of a parallel group: steps that do not depend on each other. Each sees the data from before the group
 * (D), never a fellow member's; what they return (O) joins the data after the group. Before the pivot every member
 * is compensatable, after it every member is retriable (checked when the saga is defined).
 */
export class GroupBuilder<I, A, D, O = {}, S extends string = never, C extends string = never> {
  /** @internal */
  constructor(readonly built: readonly BuiltStep[] = []) {}

  compensatable<const N extends string, R extends object | void, const K extends string>(
    name: N,
    spec: { run: Run<I, D, A, R>; compensate: Compensations<I, D, A, K>; options?: StepOptions },
  ): GroupBuilder<I, A, D, With<O, R>, S | N, C | K> {
    return new GroupBuilder([...this.built, buildStep(name, 'compensatable', spec)]) as never;
  }

  retriable<const N extends string, R extends object | void>(
    name: N,
    spec: { run: Run<I, D, A, R>; options?: StepOptions },
  ): GroupBuilder<I, A, D, With<O, R>, S | N, C> {
    return new GroupBuilder([
      ...this.built,
      buildStep(name, 'retriable', { run: spec.run, options: spec.options }),
    ]) as never;
  }
}

export class StepsBuilder<I, A, D, S extends string = never, C extends string = never> {
  /** @internal */
  constructor(readonly built: readonly BuiltStep[] = []) {}

  private add(name: string, kind: StepKind, spec: AnySpec): never {
    return new StepsBuilder([...this.built, buildStep(name, kind, spec)]) as never;
  }

  /**
   * Steps that do not depend on each other, run at once: `.parallel((g) => g.compensatable(…).compensatable(…))`.
   * Every member's compensation is registered before the group starts; if a member fails, the group settles, and
   * every member that may have taken effect is compensated with the steps before it.
   */
  parallel<O, const S2 extends string, const C2 extends string>(
    members: (g: GroupBuilder<I, A, D>) => GroupBuilder<I, A, D, O, S2, C2>,
  ): StepsBuilder<I, A, With<D, O>, S | S2, C | C2> {
    const group = members(new GroupBuilder<I, A, D>()).built;
    const name = group.map((m) => m.meta.name).join(' + ');
    return new StepsBuilder([
      ...this.built,
      ...group.map((m) => ({ ...m, meta: { ...m.meta, group: name } })),
    ]) as never;
  }

  /** A step that can be undone; its compensation is registered before it runs. */
  compensatable<const N extends string, O extends object | void, const K extends string>(
    name: N,
    spec: { run: Run<I, D, A, O>; compensate: Compensations<I, D, A, K>; options?: StepOptions },
  ): StepsBuilder<I, A, With<D, O>, S | N, C | K> {
    return this.add(name, 'compensatable', spec);
  }

  /** The point of no return: once it succeeds, only retriable steps follow and cancellation is ignored. */
  pivot<const N extends string, O extends object | void, const K extends string = never>(
    name: N,
    spec: { run: Run<I, D, A, O>; compensate?: Compensations<I, D, A, K>; options?: StepOptions },
  ): StepsBuilder<I, A, With<D, O>, S | N, C | K> {
    return this.add(name, 'pivot', spec);
  }

  /** After the pivot: never compensated, retried until it succeeds. */
  retriable<const N extends string, O extends object | void>(
    name: N,
    spec: { run: Run<I, D, A, O>; options?: StepOptions },
  ): StepsBuilder<I, A, With<D, O>, S | N, C> {
    return this.add(name, 'retriable', { run: spec.run, options: spec.options });
  }
}

/** What a saga definition may set besides its steps. */
export interface SagaDefinitionOptions {
  /** Which failures prove that a step wrote nothing (its compensation is then skipped). Default: none. */
  wroteNothing?: FailureClassification;
  /** Defaults a run may override (SagaRunOptions); unset fields take the kit's (KIT_DEFAULTS). */
  defaults?: Partial<SagaDefaults>;
  /**
   * Dead-letter compensations that fail: record them (in the saga's state, and in the worker's dead-letter port if it
   * has one) and wait for an operator. Default true; false ends such a saga SagaCompensationFailed.
   */
  deadLetters?: boolean;
  /**
   * How the saga unwinds: `parallel` runs every compensation at once instead of one by one in reverse order;
   * `continueOnError` (sequential mode) goes on with the remaining compensations after one fails or waits for an
   * operator, instead of stopping there (later compensations may depend on it). Both default to false.
   */
  compensation?: { parallel?: boolean; continueOnError?: boolean };
}

export interface SagaConfig<I, A, D, S extends string, C extends string, RC, RX> {
  /** The saga's name, kebab-case (`--saga order`); its workflow type is the camel-cased name + "Saga" (orderSaga). */
  name: string;
  /**
   * The business input's schema, any Standard Schema (zod 4, valibot, arktype...): checked by the client before a
   * start and by the workflow itself. Without one the input is taken as the `key` function's parameter type says.
   */
  input?: InputSchema<I>;
  activities: ActivitiesOf<A>;
  /** The business key: the workflow id, so Temporal refuses a second saga for the same key. */
  key: (input: I) => string;
  /** One line for the web UI's workflow list. */
  summary: (input: I) => string;
  steps: (s: StepsBuilder<I, A, {}>) => StepsBuilder<I, A, D, S, C>;
  /** The workflow's result: when every step succeeded, and when the saga was compensated after a failure. */
  completed: (r: { input: I; data: D }) => RC;
  compensated: (r: { input: I; data: Partial<D>; why: CompensationContext }) => RX;
  options?: SagaDefinitionOptions;
}

/** The saga's state as its query answers it, while it runs and after it ended. */
export interface SagaView<D = Record<string, unknown>> extends SagaState {
  /** The saga's name. */
  saga: string;
  /** Its business key (its workflow id). */
  key: string;
  /** What the completed steps returned, merged in step order. */
  data: Partial<D> & Record<string, unknown>;
  /** While the saga can still compensate: what a failure now would run. */
  unwindPreview?: UnwindPreview;
}

/** The activities the kit calls itself, when a saga dead-letters (options.deadLetters). */
export interface DeadLetterActivities {
  recordDeadLetter(entry: DeadLetterEntry): Promise<DeadLetterRecord | null>;
  closeDeadLetter(input: { id: number; outcome: DeadLetterOutcome }): Promise<unknown>;
}

/** The state query, the same for every saga. */
export const sagaStateQuery = defineQuery<SagaView>('sagaState');

/** The type of the failure a saga reports for input (or run options) it refuses. */
export const INVALID_SAGA_INPUT = 'InvalidSagaInput';

/**
 * A saga, as defineSaga returns it: the workflow function to register, and what a client and tools read of it
 * (its key and summary functions, its steps in order). Its type parameters carry the input (I), the result (R), the
 * data (D) and the step (S) and compensation (C) names: read them with SagaTypes.
 */
export interface SagaDefinition<I = any, R = any, D = any, S extends string = string, C extends string = string> {
  /** The saga's name as declared, kebab-case (`order`). */
  name: string;
  /** Its workflow type: the camel-cased name + "Saga" (`orderSaga`). Export `workflow` under this name. */
  workflowType: string;
  /** The input's schema, if the definition has one. */
  inputSchema?: InputSchema<I>;
  /** The workflow function: export it from the worker's workflows module under `workflowType`. */
  workflow: (input: I, options?: SagaRunOptions) => Promise<R>;
  /** The business key of an input: the saga's workflow id. */
  key: (input: I) => string;
  /** One line for the web UI's workflow list. */
  summary: (input: I) => string;
  /** The web UI's static details: the steps in order, the pivot marked. */
  details: string;
  /** The saga's plan, for clients and tools: its steps, kinds, groups and compensations. */
  meta: {
    /** Every step in order (a group's members carry its name in `group`). */
    steps: readonly StepMeta<S, C>[];
    /** The order in which they run: steps, and parallel groups with their members. */
    plan: readonly (StepMeta<S, C> | GroupMeta<S, C>)[];
    /** The step names, in order. */
    stepNames: readonly S[];
    /** The compensation names, in the order they are declared. */
    compensationNames: readonly C[];
    /** Every step and compensation name: what a fault plan may name. */
    actions: readonly (S | C)[];
  };
  /** Types only: the saga's data and result. */
  readonly __types?: { data: D; result: R };
}

export type StepName<T> = T extends SagaDefinition<any, any, any, infer S, any> ? S : never;
export type CompensationName<T> = T extends SagaDefinition<any, any, any, any, infer C> ? C : never;
export type ActionName<T> = StepName<T> | CompensationName<T>;
export type InputOf<T> = T extends SagaDefinition<infer I> ? I : never;
export type ResultOf<T> = T extends SagaDefinition<any, infer R> ? R : never;
export type DataOf<T> = T extends SagaDefinition<any, any, infer D> ? D : never;

/**
 * The types a saga definition carries, by name: `SagaTypes<typeof orderSaga>['input']`.
 * - input, result, data: its business input, its workflow result, and the data its steps return.
 * - step, compensation, action: the names of its steps, of its compensations, and of either (what a fault plan names).
 */
export interface SagaTypes<T extends SagaDefinition> {
  /** The business input. */
  input: InputOf<T>;
  /** The workflow's result (completed or compensated). */
  result: ResultOf<T>;
  /** The data the steps return, merged. */
  data: DataOf<T>;
  /** A step's name. */
  step: StepName<T>;
  /** A compensation's name. */
  compensation: CompensationName<T>;
  /** A step's or a compensation's name: what a fault plan names. */
  action: ActionName<T>;
}

const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const words = (kebab: string) => kebab.replace(/-/g, ' ');

function invalid(what: string, problem: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`invalid ${what}: ${problem}`, INVALID_SAGA_INPUT);
}

/** The activities as one action calls them: its policy, and its name as the summary the web UI shows. */
function actionActivities<A>(
  proxy: Record<string, { executeWithOptions: (o: { summary: string }, args: unknown[]) => Promise<unknown> }>,
  summary: string,
): Callable<A> {
  return new Proxy(
    {},
    {
      get:
        (_, type: string) =>
        (...args: unknown[]) =>
          proxy[type].executeWithOptions({ summary }, args),
    },
  ) as Callable<A>;
}

/**
 * Declares a saga: its input, its activities, its business key, its steps in business order (with their
 * compensations and options), and how its outcome reads; returns the SagaDefinition that a worker registers and a
 * client starts. A malformed saga (a compensatable step without a compensation, two pivots, a retriable step before
 * the pivot...) is refused here, at definition time; most such shapes do not even compile.
 *
 * @example
 * ```ts
 * export const tripSaga = defineSaga({
 *   name: 'trip',
 *   activities: activitiesOf<TripActivities>(),
 *   key: (trip: Trip) => trip.id,
 *   summary: (trip) => `Trip ${trip.id}`,
 *   steps: (s) =>
 *     s.compensatable('book-hotel', { run: ({ input, act }) => act.bookHotel(input), compensate: { name: 'cancel-hotel', run: ({ input, act }) => act.cancelHotel(input) } })
 *      .pivot('charge-card', { run: ({ input, act }) => act.charge(input) }),
 *   completed: () => 'BOOKED',
 *   compensated: ({ why }) => `NOT BOOKED: ${why.reason}`,
 * });
 * ```
 */
export function defineSaga<I, A, D, S extends string, C extends string, RC, RX>(
  config: SagaConfig<I, A, D, S, C, RC, RX>,
): SagaDefinition<I, RC | RX, D, S, C> {
  type R = RC | RX;
  const built = config.steps(new StepsBuilder<I, A, {}>()).built;
  const metaSteps = built.map((b) => b.meta) as StepMeta<S, C>[];
  // The same checks the engine makes, at definition time: a malformed saga fails where it is declared.
  validateSteps(
    metaSteps.map((m) => ({
      name: m.name,
      kind: m.kind,
      group: m.group,
      run: async () => undefined,
      compensate: m.compensations.length ? async () => undefined : undefined,
    })),
  );
  const defaults: SagaDefaults = { ...KIT_DEFAULTS, ...config.options?.defaults };
  const workflowType = `${camel(config.name)}Saga`;

  async function workflow(rawInput: I, rawOptions?: SagaRunOptions): Promise<R> {
    const parsedInput = checkInput(config.input, rawInput);
    if ('problem' in parsedInput) throw invalid(`${config.name} saga input`, parsedInput.problem);
    const parsedOptions = sagaRunOptionsSchema.safeParse(rawOptions ?? {});
    if (!parsedOptions.success)
      throw invalid(`${config.name} saga options`, z.prettifyError(parsedOptions.error).replace(/\n/g, '; '));
    const input = parsedInput.value as I;
    const options = parsedOptions.data;

    const base: ActivityOptions = { startToCloseTimeout: options.stepTimeout ?? defaults.stepTimeout };
    // One proxy per distinct set of options: the kit's default for the kind, the step's own options over it, and
    // what a start overrides (timeout, retries) over both. Local activities only change where they are scheduled.
    const proxy = (kindRetry: BaseRetry | RetryPolicy, step: StepOptions | undefined, runRetry?: RetryOverride) => {
      const retry = retryPolicy({ ...kindRetry, ...step?.retry } as BaseRetry, runRetry);
      const timeouts = {
        startToCloseTimeout: options.stepTimeout ?? step?.startToCloseTimeout ?? defaults.stepTimeout,
        ...(step?.scheduleToCloseTimeout !== undefined && { scheduleToCloseTimeout: step.scheduleToCloseTimeout }),
      };
      const local = options.localActivities ?? step?.local ?? false;
      const activities = local
        ? proxyLocalActivities({ ...timeouts, retry } satisfies LocalActivityOptions)
        : proxyActivities({
            ...timeouts,
            retry,
            ...(step?.heartbeatTimeout !== undefined && { heartbeatTimeout: step.heartbeatTimeout }),
            ...(step?.taskQueue !== undefined && { taskQueue: step.taskQueue }),
          } satisfies ActivityOptions);
      return { activities: activities as never, retry };
    };
    const forwardOf = (b: BuiltStep) =>
      b.meta.kind === 'retriable'
        ? proxy(defaults.retriableRetry, b.options)
        : proxy(defaults.stepRetry, b.options, options.stepRetry);
    const compensationOf = (c: BuiltStep['compensations'][number]) =>
      proxy(defaults.compensationRetry, c.options, options.compensationRetry);

    const saga: Saga = new Saga(
      workflowInfo().workflowId,
      built.map((b): SagaStep => {
        const context = (summary: string, via: never, extra?: { why: CompensationContext }) =>
          ({ input, data: saga.state.data, act: actionActivities<A>(via, summary), ...extra }) as never;
        const chosen = (why: CompensationContext) =>
          b.compensations.find((c) => !c.when || c.when(why)) ?? b.compensations[b.compensations.length - 1];
        const forward = forwardOf(b);
        const compensations = new Map(b.compensations.map((c) => [c, compensationOf(c)]));
        return {
          name: b.meta.name,
          kind: b.meta.kind,
          group: b.meta.group,
          run: () => b.run(context(words(b.meta.name), forward.activities)),
          ...(b.compensations.length && {
            compensationNames: b.compensations.map((c) => c.name),
            compensationName: (why: CompensationContext) => chosen(why).name,
            compensate: (why: CompensationContext) => {
              const c = chosen(why);
              return c.run(context(`compensate: ${words(c.name)}`, compensations.get(c)!.activities, { why }));
            },
            compensationMaxAttempts: (why: CompensationContext) =>
              compensations.get(chosen(why))!.retry.maximumAttempts,
          }),
        };
      }),
      {
        parallelCompensation: config.options?.compensation?.parallel,
        continueOnCompensationError: config.options?.compensation?.continueOnError,
        wroteNothing: config.options?.wroteNothing,
        // A recovery run has no deadline: it only finishes what the run it repairs left.
        deadline: options.recover ? undefined : (options.deadline ?? defaults.deadline),
        ...(config.options?.deadLetters !== false && {
          deadLetters: deadLetterLog(proxyActivities<DeadLetterActivities>({ ...base, retry: DEAD_LETTER_RETRY })),
        }),
      },
      { onStateChange: publishStatus(options.recover ? 'RECOVERING' : 'RUNNING') },
    );
    setHandler(sagaStateQuery, () => ({
      ...saga.state,
      saga: config.name,
      key: workflowInfo().workflowId,
      unwindPreview: saga.preview(),
    }));
    installOperatorHandlers(saga);

    // A recovery run's activities keep the keys of the run it repairs: what that run did is answered, not redone.
    if (options.recover) useKeyRoot(options.recover.keyRoot);
    const outcome = options.recover ? await saga.recover(options.recover) : await saga.run();
    const data = saga.state.data as D;
    return outcome.outcome === 'completed'
      ? config.completed({ input, data })
      : config.compensated({ input, data, why: outcome.context });
  }
  Object.defineProperty(workflow, 'name', { value: workflowType });

  const stepNames = metaSteps.map((m) => m.name);
  const plan = groupsOf(metaSteps).map((stage): StepMeta<S, C> | GroupMeta<S, C> =>
    stage[0].group === undefined ? stage[0] : { kind: 'parallel', name: stage[0].group, members: stage },
  );
  const title = (m: StepMeta) => (m.kind === 'pivot' ? `**${words(m.name)} (pivot)**` : words(m.name));
  const compensationNames = [...new Set(metaSteps.flatMap((m) => m.compensations))];
  return {
    name: config.name,
    workflowType,
    inputSchema: config.input,
    workflow,
    key: config.key,
    summary: config.summary,
    details: `${words(config.name)} saga: ${plan.map((p) => ('members' in p ? `(${p.members.map(title).join(' ‖ ')})` : title(p))).join(' → ')}`,
    meta: { steps: metaSteps, plan, stepNames, compensationNames, actions: [...stepNames, ...compensationNames] },
  };
}

/** Only status changes are published (a handful per saga), not every step: each upsert is a history event. */
function publishStatus(atStart: SagaState['status']): (state: SagaState) => void {
  let published: string | undefined = atStart; // set by the client (or the recovery sweep) at start
  return (state) => {
    if (state.status === published) return;
    published = state.status;
    upsertSearchAttributes([{ key: SAGA_STATUS, value: state.status }]);
  };
}

function deadLetterLog(activities: DeadLetterActivities): DeadLetterLog {
  return {
    record: (entry) => activities.recordDeadLetter(entry),
    close: (id, outcome) => activities.closeDeadLetter({ id, outcome }),
  };
}
