import {
  ApplicationFailure,
  defineQuery,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { FailureClassification } from './failures';
import { installOperatorHandlers, resolveCompensationUpdate, retryCompensationUpdate } from './operator';
import {
  DEAD_LETTER_RETRY,
  KIT_DEFAULTS,
  retryPolicy,
  sagaRunOptionsSchema,
  type SagaDefaults,
  type SagaRunOptions,
} from './run-options';
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
  compensations: CompensationSpec<unknown, unknown, unknown, string>[];
}

function buildStep(name: string, kind: StepKind, run: unknown, compensate?: unknown): BuiltStep {
  const compensations = (
    compensate === undefined ? [] : Array.isArray(compensate) ? compensate : [compensate]
  ) as BuiltStep['compensations'];
  return {
    meta: { name, kind, compensations: compensations.map((c) => c.name) },
    run: run as BuiltStep['run'],
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
    spec: { run: Run<I, D, A, R>; compensate: Compensations<I, D, A, K> },
  ): GroupBuilder<I, A, D, With<O, R>, S | N, C | K> {
    return new GroupBuilder([...this.built, buildStep(name, 'compensatable', spec.run, spec.compensate)]) as never;
  }

  retriable<const N extends string, R extends object | void>(
    name: N,
    spec: { run: Run<I, D, A, R> },
  ): GroupBuilder<I, A, D, With<O, R>, S | N, C> {
    return new GroupBuilder([...this.built, buildStep(name, 'retriable', spec.run)]) as never;
  }
}

export class StepsBuilder<I, A, D, S extends string = never, C extends string = never> {
  /** @internal */
  constructor(readonly built: readonly BuiltStep[] = []) {}

  private add(name: string, kind: StepKind, run: unknown, compensate?: unknown): never {
    return new StepsBuilder([...this.built, buildStep(name, kind, run, compensate)]) as never;
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
    spec: { run: Run<I, D, A, O>; compensate: Compensations<I, D, A, K> },
  ): StepsBuilder<I, A, With<D, O>, S | N, C | K> {
    return this.add(name, 'compensatable', spec.run, spec.compensate);
  }

  /** The point of no return: once it succeeds, only retriable steps follow and cancellation is ignored. */
  pivot<const N extends string, O extends object | void, const K extends string = never>(
    name: N,
    spec: { run: Run<I, D, A, O>; compensate?: Compensations<I, D, A, K> },
  ): StepsBuilder<I, A, With<D, O>, S | N, C | K> {
    return this.add(name, 'pivot', spec.run, spec.compensate);
  }

  /** After the pivot: never compensated, retried until it succeeds. */
  retriable<const N extends string, O extends object | void>(
    name: N,
    spec: { run: Run<I, D, A, O> },
  ): StepsBuilder<I, A, With<D, O>, S | N, C> {
    return this.add(name, 'retriable', spec.run);
  }
}

/** What a saga definition may set besides its steps. */
export interface SagaDefinitionOptions {
  /** Which failures prove that a step wrote nothing (its compensation is then skipped). Default: none. */
  wroteNothing?: FailureClassification;
  /** Defaults a run may override (SagaRunOptions); unset fields take the kit's (KIT_DEFAULTS). */
  defaults?: Partial<SagaDefaults>;
  /**
   * Dead-letter compensations that fail: record them with the activities recordDeadLetter / closeDeadLetter
   * (DeadLetterActivities) and wait for an operator. Default true; false ends such a saga SagaCompensationFailed.
   */
  deadLetters?: boolean;
}

export interface SagaConfig<I, A, D, S extends string, C extends string, RC, RX> {
  /** The saga's name, kebab-case (`--saga order`); its workflow type is the camel-cased name + "Saga" (orderSaga). */
  name: string;
  /** The business input's schema (zod): checked by the client before a start and by the workflow itself. */
  input: z.ZodType<I>;
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
  /** The saga's name and business key (its workflow id). */
  saga: string;
  key: string;
  data: Partial<D> & Record<string, unknown>;
  /** While the saga can still compensate: what a failure now would run. */
  unwindPreview?: UnwindPreview;
}

/** The activities the kit calls itself, when a saga dead-letters (options.deadLetters). */
export interface DeadLetterActivities {
  recordDeadLetter(entry: DeadLetterEntry): Promise<DeadLetterRecord>;
  closeDeadLetter(input: { id: number; outcome: DeadLetterOutcome }): Promise<unknown>;
}

/** The state query, the same for every saga. */
export const sagaStateQuery = defineQuery<SagaView>('sagaState');

/** The type of the failure a saga reports for input (or run options) it refuses. */
export const INVALID_SAGA_INPUT = 'InvalidSagaInput';

/**
 * Versions of the kit's behaviour, as patch markers every saga records at its start. A saga started by an older
 * worker replays through the old branch: before SAGA_DEADLINE_PATCH, no deadline and no dead-letter log; before
 * SAGA_KIT_PATCH, the fault plan and run options travelled inside the input (they are dropped from it).
 */
export const SAGA_DEADLINE_PATCH = 'saga-deadline-and-dead-letters';
/** Parallel groups run at once (each member in a scope of its own); before it, a group's members ran one by one. */
export const SAGA_PARALLEL_PATCH = 'saga-parallel-groups';
export const SAGA_KIT_PATCH = 'saga-kit-v1';

export interface SagaDefinition<I = any, R = any, D = any, S extends string = string, C extends string = string> {
  name: string;
  workflowType: string;
  inputSchema: z.ZodType<I>;
  /** The workflow function: export it from the worker's workflows module under `workflowType`. */
  workflow: (input: I, options?: SagaRunOptions) => Promise<R>;
  key: (input: I) => string;
  summary: (input: I) => string;
  /** The web UI's static details: the steps in order, the pivot marked. */
  details: string;
  meta: {
    /** Every step in order (a group's members carry its name in `group`). */
    steps: readonly StepMeta<S, C>[];
    /** The order in which they run: steps, and parallel groups with their members. */
    plan: readonly (StepMeta<S, C> | GroupMeta<S, C>)[];
    stepNames: readonly S[];
    compensationNames: readonly C[];
    /** Every step and compensation name: what a fault plan may name. */
    actions: readonly (S | C)[];
  };
  stateQuery: typeof sagaStateQuery;
  retryCompensationUpdate: typeof retryCompensationUpdate;
  resolveCompensationUpdate: typeof resolveCompensationUpdate;
  searchAttributes: { status: typeof SAGA_STATUS };
  /** Types only: the saga's data and result. */
  readonly __types?: { data: D; result: R };
}

export type StepName<T> = T extends SagaDefinition<any, any, any, infer S, any> ? S : never;
export type CompensationName<T> = T extends SagaDefinition<any, any, any, any, infer C> ? C : never;
export type ActionName<T> = StepName<T> | CompensationName<T>;
export type InputOf<T> = T extends SagaDefinition<infer I> ? I : never;
export type ResultOf<T> = T extends SagaDefinition<any, infer R> ? R : never;
export type DataOf<T> = T extends SagaDefinition<any, any, infer D> ? D : never;

const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const words = (kebab: string) => kebab.replace(/-/g, ' ');

function invalid(what: string, error: z.ZodError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `invalid ${what}: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    INVALID_SAGA_INPUT,
  );
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
    // Markers first, before any other command. A saga of the pre-kit shape carried its options inside its input.
    const kitShape = patched(SAGA_KIT_PATCH);
    const legacy =
      !kitShape && rawInput && typeof rawInput === 'object'
        ? (rawInput as { faults?: unknown; options?: SagaRunOptions } & Record<string, unknown>)
        : undefined;
    const { faults: _faults, options: legacyOptions, ...legacyInput } = legacy ?? {};
    const parsedInput = config.input.safeParse(legacy ? legacyInput : rawInput);
    if (!parsedInput.success) throw invalid(`${config.name} saga input`, parsedInput.error);
    const parsedOptions = sagaRunOptionsSchema.safeParse((legacy ? legacyOptions : rawOptions) ?? {});
    if (!parsedOptions.success) throw invalid(`${config.name} saga options`, parsedOptions.error);
    const input = parsedInput.data;
    const options = parsedOptions.data;
    const withDeadlineAndDeadLetters = patched(SAGA_DEADLINE_PATCH);
    // Only a saga that has groups records this marker: the others' histories stay as they were.
    const parallelGroups = metaSteps.some((m) => m.group !== undefined) && patched(SAGA_PARALLEL_PATCH);

    const base: ActivityOptions = { startToCloseTimeout: options.stepTimeout ?? defaults.stepTimeout };
    // The same calls either way; local activities only change where they are scheduled.
    const proxy = (retry: RetryPolicy) =>
      (options.localActivities
        ? proxyLocalActivities({ ...base, retry })
        : proxyActivities({ ...base, retry })) as never;
    const forward = proxy(retryPolicy(defaults.stepRetry, options.stepRetry));
    const retriable = proxy(defaults.retriableRetry);
    const compensationRetry = retryPolicy(defaults.compensationRetry, options.compensationRetry);
    const compensation = proxy(compensationRetry);

    const saga: Saga = new Saga(
      workflowInfo().workflowId,
      built.map((b): SagaStep => {
        const context = (summary: string, via: never, extra?: { why: CompensationContext }) =>
          ({ input, data: saga.state.data, act: actionActivities<A>(via, summary), ...extra }) as never;
        const chosen = (why: CompensationContext) =>
          b.compensations.find((c) => !c.when || c.when(why)) ?? b.compensations[b.compensations.length - 1];
        return {
          name: b.meta.name,
          kind: b.meta.kind,
          group: b.meta.group,
          run: () => b.run(context(words(b.meta.name), b.meta.kind === 'retriable' ? retriable : forward)),
          ...(b.compensations.length && {
            compensationName: (why: CompensationContext) => chosen(why).name,
            compensate: (why: CompensationContext) =>
              chosen(why).run(context(`compensate: ${words(chosen(why).name)}`, compensation, { why })),
            compensationMaxAttempts: compensationRetry.maximumAttempts,
          }),
        };
      }),
      {
        parallelCompensation: options.parallelCompensation,
        continueOnCompensationError: options.continueOnCompensationError,
        wroteNothing: config.options?.wroteNothing,
        parallelGroups,
        ...(withDeadlineAndDeadLetters && {
          deadline: options.deadline ?? defaults.deadline,
          ...(config.options?.deadLetters !== false && {
            deadLetters: deadLetterLog(proxyActivities<DeadLetterActivities>({ ...base, retry: DEAD_LETTER_RETRY })),
          }),
        }),
      },
      { onStateChange: publishStatus() },
    );
    setHandler(sagaStateQuery, () => ({
      ...saga.state,
      saga: config.name,
      key: workflowInfo().workflowId,
      unwindPreview: saga.preview(),
    }));
    if (withDeadlineAndDeadLetters) installOperatorHandlers(saga);

    const outcome = await saga.run();
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
    stateQuery: sagaStateQuery,
    retryCompensationUpdate,
    resolveCompensationUpdate,
    searchAttributes: { status: SAGA_STATUS },
  };
}

/** Only status changes are published (a handful per saga), not every step: each upsert is a history event. */
function publishStatus(): (state: SagaState) => void {
  let published: string | undefined = 'RUNNING'; // set by the client at start
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
