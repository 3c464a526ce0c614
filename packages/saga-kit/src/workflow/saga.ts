import {
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  setCurrentDetails,
  sleep,
} from '@temporalio/workflow';
import { runAsAction } from './action-scope';
import { compensationFailure, describeFailure, failureAttempts, type DescribedFailure } from './failures';
import { STATUS_MARKS } from './marks';
import { SagaMetrics } from './metrics';
import type {
  CompensationContext,
  CompensationState,
  DeadLetterState,
  Duration,
  OperatorDecision,
  SagaOptions,
  SagaState,
  SagaStep,
  StepState,
  UnwindPreview,
} from './types';

/**
 * A saga: forward steps in order, with a compensation stack that is unwound in reverse when a step fails or the
 * saga is cancelled. Runs inside a Temporal workflow, so the stack and the state survive worker crashes: on
 * replay, the same code rebuilds them from the workflow's history.
 *
 * The rules, in the order they matter:
 * - A step's compensation is pushed BEFORE the step runs: an activity can take effect and still time out, so
 *   "failed" does not mean "did nothing". The services treat compensating nothing as a recorded no-op.
 *   The one exception is a failure the saga's classification (options.wroteNothing) says proves the step wrote
 *   nothing (the order saga: a 4xx from its services): that step's own compensation is dropped, and exactly the
 *   completed steps are compensated. The default classifies nothing that way.
 * - Compensations run in a non-cancellable scope: cancelling the saga still compensates it.
 * - The pivot and every step after it also run non-cancellable: once the point of no return is reached, a
 *   cancellation request is ignored and the saga completes forward (`state.cancellable` says which applies).
 * - The saga's deadline (if any) cancels the running step and compensates, up to the pivot; never after it.
 * - A compensation that fails is never dropped: with a dead-letter log it is recorded there and the saga waits
 *   (status NEEDS_ATTENTION) until an operator retries it (unwinding resumes from there) or resolves it by hand;
 *   without one, every compensation failure is reported in one error (SagaCompensationFailed).
 */
export type SagaOutcome = { outcome: 'completed' } | { outcome: 'compensated'; context: CompensationContext };

export interface SagaHooks {
  /** Called after every state change (e.g. to upsert search attributes). */
  onStateChange?: (state: SagaState) => void;
}

/** The saga's overall deadline: a timer that cancels the forward steps' scope when it fires before the pivot. */
class Deadline {
  passed = false;
  /** The forward steps run in this scope; cancelling the workflow cancels it too (it is a child of the root). */
  readonly scope = new CancellationScope();

  constructor(private readonly duration: Duration | undefined) {
    if (duration === undefined) return;
    // The timer lives in its own scope, so a user's cancellation of the saga does not look like a passed deadline.
    void new CancellationScope()
      .run(() => sleep(duration))
      .then(
        () => {
          this.passed = true;
          this.scope.cancel();
        },
        () => undefined, // the saga was cancelled: the timer went with it
      );
  }

  failure(stepName: string): CancelledFailure {
    return new CancelledFailure(`saga deadline (${this.duration}) passed during ${stepName}`);
  }
}

export function validateSteps(steps: SagaStep[]): void {
  const pivots = steps.filter((s) => s.kind === 'pivot');
  if (pivots.length > 1) throw new Error('a saga has at most one pivot step');
  const pivotIndex = steps.findIndex((s) => s.kind === 'pivot');
  steps.forEach((step, i) => {
    if (step.kind === 'compensatable' && !step.compensate)
      throw new Error(`compensatable step ${step.name} needs a compensation`);
    if (step.kind === 'compensatable' && pivotIndex >= 0 && i > pivotIndex)
      throw new Error(`compensatable step ${step.name} comes after the pivot`);
    if (step.kind === 'retriable' && step.compensate)
      throw new Error(`retriable step ${step.name} must not have a compensation`);
    if (step.kind === 'retriable' && (pivotIndex < 0 || i < pivotIndex))
      throw new Error(`retriable step ${step.name} must come after the pivot`);
  });
  if (new Set(steps.map((s) => s.name)).size !== steps.length) throw new Error('step names must be unique');
  for (const members of groupsOf(steps).filter((g) => g.length > 1 || g[0].group !== undefined)) {
    const group = members[0].group;
    if (members.length < 2) throw new Error(`parallel group ${group} needs at least two steps`);
    if (steps.filter((s) => s.group === group).length !== members.length)
      throw new Error(`the steps of parallel group ${group} must be consecutive`);
    // (Mixed kinds are refused above: a retriable member must follow the pivot, a compensatable one precede it.)
    if (members.some((m) => m.kind === 'pivot')) throw new Error(`the pivot cannot run in a parallel group (${group})`);
  }
}

/** The steps in stages: each parallel group is one stage, every other step a stage of its own. */
export function groupsOf<T extends { group?: string }>(steps: readonly T[]): T[][] {
  const stages: T[][] = [];
  for (const step of steps) {
    const last = stages.at(-1);
    if (step.group !== undefined && last?.[0].group === step.group) last.push(step);
    else stages.push([step]);
  }
  return stages;
}

export class Saga {
  readonly state: SagaState;
  private readonly metrics = new SagaMetrics();
  /** The compensations registered so far (each pushed before its step runs); emptied at the pivot. */
  private readonly stack: SagaStep[] = [];

  constructor(
    /** The saga's id in the dead-letter log (the workflow id). */
    private readonly sagaId: string,
    private readonly steps: SagaStep[],
    private readonly options: SagaOptions = {},
    private readonly hooks: SagaHooks = {},
  ) {
    validateSteps(steps);
    this.state = {
      status: 'RUNNING',
      cancellable: true,
      steps: steps.map((s) => ({
        name: s.name,
        kind: s.kind,
        ...(s.group !== undefined && { group: s.group }),
        status: 'PENDING' as const,
      })),
      compensations: [],
      data: {},
    };
  }

  /**
   * Runs the saga. Resolves when it completed, or when it was compensated after a failure; throws the original
   * cancellation after compensating a cancelled saga, and SagaCompensationFailed when compensating did not succeed.
   */
  async run(): Promise<SagaOutcome> {
    const stack = this.stack;
    const deadline = new Deadline(this.options.deadline);
    // A saga started before parallel groups existed runs their members one by one: the shape its history recorded.
    const stages = this.options.parallelGroups ? groupsOf(this.steps) : this.steps.map((s) => [s]);
    for (const stage of stages) {
      const step = stage[0];
      const stepState = this.state.steps[this.steps.indexOf(step)];
      const forwardOnly = step.kind !== 'compensatable';
      if (forwardOnly && this.state.cancellable) {
        // Last chance to honour a cancellation or the deadline: from the pivot on, the saga only goes forward.
        if (deadline.passed) return this.unwind(stack, step, stepState, deadline.failure(step.name), deadline);
        if (CancellationScope.current().consideredCancelled) {
          return this.unwind(stack, step, stepState, new CancelledFailure('saga cancelled before its pivot'));
        }
        this.state.cancellable = false;
      }
      if (stage.length > 1) {
        const unwound = await this.runGroup(stage, forwardOnly, deadline);
        if (unwound) return unwound;
        continue;
      }
      if (step.compensate) stack.push(step);
      this.update({ currentStep: step.name }, stepState, { status: 'RUNNING' });
      try {
        const output = await runAsAction(step.name, forwardOnly ? 'non-cancellable' : deadline.scope, step.run);
        if (output && typeof output === 'object') Object.assign(this.state.data, output);
      } catch (err) {
        if (this.state.status === 'COMMITTED') {
          // A retriable step ran out of retries (its policy should not let that happen): nothing may be
          // compensated after the pivot, so the failure surfaces for an operator.
          this.update({}, stepState, { status: 'FAILED', failure: describeFailure(err, this.options.wroteNothing) });
          throw err;
        }
        return this.unwind(stack, step, stepState, deadline.passed ? deadline.failure(step.name) : err, deadline);
      }
      this.update({}, stepState, { status: 'COMPLETED' });
      if (step.kind === 'pivot') {
        stack.length = 0;
        this.update({ status: 'COMMITTED' });
      }
    }
    this.update({ status: 'COMPLETED', currentStep: undefined });
    return { outcome: 'completed' };
  }

  /**
   * Runs a parallel group: every member's compensation is registered, then all members start at once, each in a
   * cancellation scope of its own (a child of the deadline's scope before the pivot). When one fails, the others are
   * not interrupted: the group settles first, so that each member's outcome is known. Then every member that may have
   * taken effect (completed, or failed in a way the saga's classification does not call "wrote nothing") is
   * compensated, with the stages before it in reverse. Returns the outcome when the saga unwound, else undefined.
   */
  private async runGroup(
    members: SagaStep[],
    forwardOnly: boolean,
    deadline: Deadline,
  ): Promise<SagaOutcome | undefined> {
    const states = members.map((m) => this.state.steps[this.steps.indexOf(m)]);
    for (const m of members) if (m.compensate) this.stack.push(m);
    for (const s of states) s.status = 'RUNNING';
    // The current step: the members still running ("a + b" while both run, then the one left).
    const running = () => ({
      currentStep:
        members
          .filter((_, i) => states[i].status === 'RUNNING')
          .map((m) => m.name)
          .join(' + ') || undefined,
    });
    this.update(running());
    const outcomes = await Promise.allSettled(
      members.map(async (m, i) => {
        try {
          const output = await runAsAction(
            m.name,
            forwardOnly ? 'non-cancellable' : new CancellationScope({ cancellable: true, parent: deadline.scope }),
            m.run,
          );
          states[i].status = 'COMPLETED';
          this.update(running());
          return output;
        } catch (err) {
          // Shown at once; the others run on until they settle.
          Object.assign(states[i], { status: 'FAILED', failure: describeFailure(err, this.options.wroteNothing) });
          this.update(running());
          throw err;
        }
      }),
    );
    // The members' data joins in declaration order, whatever order they finished in.
    for (const o of outcomes)
      if (o.status === 'fulfilled' && o.value && typeof o.value === 'object') Object.assign(this.state.data, o.value);
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ i, err: o.reason as unknown }] : []));
    if (!failed.length) return undefined;
    // Retriable members ran out of retries (their policy should not let that happen): nothing may be compensated.
    if (this.state.status === 'COMMITTED') throw failed[0].err;
    // The failure the saga reports: the first member's that was not a cancellation, else the cancellation.
    const primary = deadline.passed ? failed[0] : (failed.find((f) => !isCancellation(f.err)) ?? failed[0]);
    // A member whose failure proves it wrote nothing is not compensated (unwind does the same for the primary).
    for (const f of failed)
      if (f !== primary && states[f.i].failure?.businessRejection)
        this.stack.splice(this.stack.indexOf(members[f.i]), 1);
    const err = deadline.passed ? deadline.failure(members[primary.i].name) : primary.err;
    return this.unwind(this.stack, members[primary.i], states[primary.i], err, deadline);
  }

  private async unwind(
    stack: SagaStep[],
    step: SagaStep,
    stepState: StepState,
    err: unknown,
    deadline?: Deadline,
  ): Promise<SagaOutcome> {
    const timedOut = deadline?.passed === true;
    const failure = timedOut
      ? { type: 'SagaDeadline', message: (err as Error).message, businessRejection: false }
      : describeFailure(err, this.options.wroteNothing);
    const cancelled = isCancellation(err) && !timedOut;
    this.update({}, stepState, cancelled && stepState.status === 'PENDING' ? {} : { status: 'FAILED', failure });
    // A failure that proves the step wrote nothing: don't compensate the step that was refused.
    if (failure.businessRejection && stack.includes(step)) stack.splice(stack.indexOf(step), 1);
    const context: CompensationContext = {
      cause: timedOut ? 'deadline' : cancelled ? 'cancelled' : failure.businessRejection ? 'rejected' : 'failed',
      reason: timedOut ? failure.message : cancelled ? 'saga cancelled' : `${step.name}: ${failure.message}`,
      failedStep: step.name,
    };
    await this.compensate([...stack].reverse(), context);
    if (cancelled) throw err;
    return { outcome: 'compensated', context };
  }

  private async compensate(steps: SagaStep[], context: CompensationContext): Promise<void> {
    const entries = steps.map((s): CompensationState => ({
      name: compensationName(s, context),
      forStep: s.name,
      status: 'PENDING',
    }));
    this.update({ status: 'COMPENSATING', cancellable: false, compensations: entries, compensationCause: context });

    await CancellationScope.nonCancellable(async () => {
      if (this.options.parallelCompensation) {
        await Promise.all(steps.map((s, i) => this.runCompensation(s, entries[i], context)));
        return;
      }
      const parked: Promise<boolean>[] = [];
      for (const [i, s] of steps.entries()) {
        const done = this.runCompensation(s, entries[i], context);
        if (this.options.continueOnCompensationError && this.options.deadLetters) {
          // Go on with the others while this one waits for an operator; the saga ends only when all are settled.
          parked.push(done);
          await Promise.race([done, condition(() => entries[i].status === 'DEAD_LETTERED')]);
          continue;
        }
        const ok = await done;
        if (!ok && !this.options.continueOnCompensationError) break;
      }
      await Promise.all(parked);
    });

    const failed = entries.filter((e) => e.status === 'FAILED');
    const notRun = entries.filter((e) => e.status === 'PENDING');
    for (const e of notRun) e.status = 'NOT_RUN';
    if (failed.length) {
      this.update({ status: 'COMPENSATION_FAILED', currentStep: undefined });
      throw compensationFailure(failed, notRun, context.reason);
    }
    this.update({ status: 'COMPENSATED', currentStep: undefined });
  }

  /**
   * Runs one compensation and records its outcome; never throws, so parallel mode sees every failure. With a
   * dead-letter log, a failure parks the compensation for an operator and this returns once it was retried
   * successfully or resolved by hand.
   */
  private async runCompensation(
    step: SagaStep,
    entry: CompensationState,
    context: CompensationContext,
  ): Promise<boolean> {
    for (let round = 1; ; round++) {
      this.update({ currentStep: entry.name }, entry, { status: 'RUNNING' });
      try {
        const result = await runAsAction(entry.name, 'non-cancellable', () => step.compensate!(context));
        this.update({}, entry, { status: 'COMPLETED', result });
        return true;
      } catch (err) {
        const failure = describeFailure(err);
        if (!this.options.deadLetters) {
          this.update({}, entry, { status: 'FAILED', failure });
          return false;
        }
        const decision = await this.parkForOperator(
          entry,
          { ...failure, attempts: failureAttempts(err, step.compensationMaxAttempts?.(context)) },
          round,
        );
        if (decision.action === 'resolve') {
          this.update({}, entry, { status: 'RESOLVED', resolution: decision.reason });
          return true;
        }
      }
    }
  }

  /** The compensations a failure right now would run, in order; undefined once the saga can no longer compensate. */
  preview(): UnwindPreview | undefined {
    if (this.state.status !== 'RUNNING') return undefined;
    const context: CompensationContext = { cause: 'failed', reason: 'preview', failedStep: this.state.currentStep };
    const compensations = [...this.stack]
      .reverse()
      .map((s) => ({ name: compensationName(s, context), forStep: s.name }));
    return { parallel: this.options.parallelCompensation === true, compensations };
  }

  /** Operator decisions waiting to be picked up, by compensation name (several may wait in parallel mode). */
  private readonly decisions = new Map<string, OperatorDecision>();

  /** Records the dead letter, shows NEEDS_ATTENTION, and waits (a workflow waiting on a condition costs nothing). */
  private async parkForOperator(
    entry: CompensationState,
    failure: DescribedFailure,
    round: number,
  ): Promise<OperatorDecision> {
    const log = this.options.deadLetters!;
    const deadLetter: DeadLetterState = {
      round,
      attempts: failure.attempts,
      errorType: failure.type,
      lastError: failure.message,
    };
    this.update({ status: 'NEEDS_ATTENTION' }, entry, { status: 'DEAD_LETTERED', failure, deadLetter });
    try {
      const recorded = await log.record({
        sagaId: this.sagaId,
        step: entry.name,
        forStep: entry.forStep,
        round,
        errorType: failure.type,
        lastError: failure.message,
        attempts: failure.attempts,
      });
      // Without a port the saga's state is the record; its time is the workflow's (deterministic on replay).
      Object.assign(
        deadLetter,
        recorded ? { id: recorded.id, recordedAt: recorded.createdAt } : { recordedAt: new Date().toISOString() },
      );
    } catch (err) {
      // The log could not be written (its own retries ran out): the saga still waits, visibly, with the reason.
      deadLetter.recordError = describeFailure(err).message;
    }
    this.update({}, entry, { deadLetter });

    await condition(() => this.decisions.has(entry.name));
    const decision = this.decisions.get(entry.name)!;
    this.decisions.delete(entry.name);
    if (deadLetter.id !== undefined) {
      await log.close(
        deadLetter.id,
        decision.action === 'retry' ? { status: 'RETRIED' } : { status: 'RESOLVED', resolution: decision.reason },
      );
    }
    const stillWaiting = this.state.compensations.some((c) => c !== entry && c.status === 'DEAD_LETTERED');
    this.update({ status: stillWaiting ? 'NEEDS_ATTENTION' : 'COMPENSATING' }, entry, { status: 'PENDING' });
    return decision;
  }

  /**
   * Checks an operator's decision against the saga's state; throws (so an update validator rejects it before it
   * reaches the history) when no compensation waits or the named one does not. Returns the compensation it targets.
   */
  validateDecision(decision: OperatorDecision): string {
    const waiting = this.state.compensations
      .filter((c) => c.status === 'DEAD_LETTERED' && !this.decisions.has(c.name))
      .map((c) => c.name);
    if (!waiting.length)
      throw new Error(`no compensation is waiting for an operator (saga status ${this.state.status})`);
    if (decision.compensation !== undefined) {
      if (!waiting.includes(decision.compensation))
        throw new Error(
          `compensation ${decision.compensation} is not waiting for an operator; waiting: ${waiting.join(', ')}`,
        );
      return decision.compensation;
    }
    if (waiting.length > 1) throw new Error(`several compensations wait (${waiting.join(', ')}): name one`);
    return waiting[0];
  }

  /** Hands an operator's (validated) decision to the waiting compensation. */
  decide(decision: OperatorDecision): { compensation: string; action: OperatorDecision['action'] } {
    const compensation = this.validateDecision(decision);
    this.decisions.set(compensation, { ...decision, compensation });
    return { compensation, action: decision.action };
  }

  private update<T extends object>(sagaChanges: Partial<SagaState>, target?: T, targetChanges?: Partial<T>): void {
    Object.assign(this.state, sagaChanges);
    if (target && targetChanges) Object.assign(target, targetChanges);
    setCurrentDetails(renderDetails(this.state));
    this.metrics.observe(this.state);
    this.hooks.onStateChange?.(this.state);
  }
}

function compensationName(step: SagaStep, context: CompensationContext): string {
  if (typeof step.compensationName === 'function') return step.compensationName(context);
  return step.compensationName ?? `compensate-${step.name}`;
}

/** Markdown shown as the workflow's "current details" in the Temporal web UI. */
export function renderDetails(state: SagaState): string {
  const lines = [`**Saga ${state.status}**${state.currentStep ? `: ${state.currentStep}` : ''}`, ''];
  for (const stage of groupsOf(state.steps)) {
    // A parallel group: one "parallel" line, its members indented under it.
    const indent = stage[0].group !== undefined ? '  ' : '';
    if (indent) lines.push(`- ⇉ parallel _(${stage[0].kind})_`);
    for (const s of stage)
      lines.push(
        `${indent}- ${STATUS_MARKS[s.status]} ${s.name} _(${s.kind})_${s.failure ? `: ${s.failure.message}` : ''}`,
      );
  }
  if (state.compensations.length) {
    lines.push('', `**Compensations** (${state.compensationCause?.cause}: ${state.compensationCause?.reason})`);
    for (const c of state.compensations) {
      const note =
        c.status === 'RESOLVED'
          ? `: resolved by an operator: ${c.resolution}`
          : c.failure && c.status !== 'COMPLETED'
            ? `: ${c.failure.message}`
            : '';
      lines.push(`- ${STATUS_MARKS[c.status]} ${c.name}${note}`);
    }
    if (state.status === 'NEEDS_ATTENTION')
      lines.push(
        '',
        '**Needs attention**: retry or resolve the dead-lettered compensation (`npm run client -- dead-letters --help`).',
      );
  }
  return lines.join('\n');
}
