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
import { renderDetails } from './details';
import { SagaMetrics } from './metrics';
import { deadLetteredActions } from './operator';
import { asReason } from './reason';
import { planRecovery, type SagaRecoveryRequest } from './recovery';
import { compensationName, groupsOf, validateSteps } from './stages';
import type {
  CompensationContext,
  CompensationState,
  DeadLetterState,
  Duration,
  OperatorDecision,
  SagaStatus,
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
    return this.forward(groupsOf(this.steps), new Deadline(this.options.deadline));
  }

  /**
   * Runs a recovery: finishes what a run that Temporal ended without the saga deciding left (recovery.ts says what
   * and why). The state shows RECOVERING and the run it repairs until the saga is COMPENSATED or COMPLETED; dead
   * letters and operator decisions work as in any run. Finishing a cancelled saga's unwinding, it throws the
   * cancellation, as run() does.
   */
  async recover(request: SagaRecoveryRequest): Promise<SagaOutcome> {
    const plan = planRecovery(this.steps, request);
    for (const s of this.state.steps) s.status = plan.steps.get(s.name) ?? 'PENDING';
    Object.assign(this.state.data, plan.data);
    this.state.recovery = {
      runId: request.runId,
      ended: request.ended,
      reason: request.reason,
      source: request.progress.source,
      left: plan.left,
      direction: plan.direction,
    };
    this.update({ status: 'RECOVERING', cancellable: false });
    // The ended run's open dead letters: this run takes their actions over (and records its own if they fail again).
    if (this.options.deadLetters)
      for (const id of plan.openDeadLetters)
        await CancellationScope.nonCancellable(() => this.options.deadLetters!.close(id, { status: 'RETRIED' }));
    if (plan.direction === 'compensate') {
      await this.compensate(plan.toCompensate, plan.context, plan.done);
      // The run it repairs was compensating a cancellation: it ends as that run would have, cancelled (as run() does),
      // not with the saga's compensated result, which would contradict what its compensations did (cancel, not reject).
      if (plan.context.cause === 'cancelled') throw new CancelledFailure(plan.context.reason);
      return { outcome: 'compensated', context: plan.context };
    }
    const pivotIndex = this.steps.findIndex((s) => s.kind === 'pivot');
    this.committed = this.steps.findIndex((s) => s.name === plan.from) > pivotIndex;
    this.stack.push(...plan.stack);
    const done = (s: SagaStep) => ['COMPLETED', 'RESOLVED'].includes(this.state.steps[this.steps.indexOf(s)].status);
    const from = this.steps.findIndex((s) => s.name === plan.from);
    const stages = groupsOf(this.steps.slice(from < 0 ? this.steps.length : from))
      .map((stage) => stage.filter((s) => !done(s)))
      .filter((stage) => stage.length);
    return this.forward(stages, new Deadline(undefined));
  }

  /** Set once the pivot succeeded: from then on the saga only goes forward. */
  private committed = false;

  /** The status while the saga works: a recovery run shows RECOVERING whether it compensates or goes forward. */
  private inProgress(status: 'COMPENSATING' | 'COMMITTED'): SagaStatus {
    return this.state.recovery ? 'RECOVERING' : status;
  }

  private async forward(stages: SagaStep[][], deadline: Deadline): Promise<SagaOutcome> {
    const stack = this.stack;
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
      if (step.kind === 'retriable') {
        Object.assign(this.state.data, await this.runRetriable(step, stepState));
        continue;
      }
      try {
        const output = await runAsAction(step.name, forwardOnly ? 'non-cancellable' : deadline.scope, step.run);
        if (output && typeof output === 'object') Object.assign(this.state.data, output);
      } catch (err) {
        return this.unwind(stack, step, stepState, deadline.passed ? deadline.failure(step.name) : err, deadline);
      }
      this.update({}, stepState, { status: 'COMPLETED' });
      if (step.kind === 'pivot') {
        stack.length = 0;
        this.committed = true;
        this.update({ status: this.inProgress('COMMITTED') });
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
        // After the pivot a member never fails: one refused for good waits for an operator (runRetriable).
        if (m.kind === 'retriable') {
          const output = await this.runRetriable(m, states[i]);
          this.update(running());
          return output;
        }
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
    // Retriable members fail only without a dead-letter log (a saga of the pre-log shape): nothing may be compensated.
    if (this.committed) throw failed[0].err;
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
      // Whatever text the failure carried, its compensations get one bounded line (the kit's reason rule); the full
      // text stays in the step's state for the operator.
      reason: asReason(timedOut ? failure.message : cancelled ? 'saga cancelled' : `${step.name}: ${failure.message}`),
      failedStep: step.name,
    };
    await this.compensate([...stack].reverse(), context);
    if (cancelled) throw err;
    return { outcome: 'compensated', context };
  }

  /** Runs the steps' compensations; `done`: those a run this one recovers had already finished (shown first). */
  private async compensate(
    steps: SagaStep[],
    context: CompensationContext,
    done: CompensationState[] = [],
  ): Promise<void> {
    const entries = steps.map((s): CompensationState => ({
      name: compensationName(s, context),
      forStep: s.name,
      status: 'PENDING',
    }));
    this.update({
      status: this.inProgress('COMPENSATING'),
      cancellable: false,
      compensations: [...done, ...entries],
      compensationCause: context,
    });

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
          'COMPENSATING',
        );
        if (decision.action === 'resolve') {
          this.update({}, entry, { status: 'RESOLVED', resolution: decision.reason });
          return true;
        }
      }
    }
  }

  /**
   * Runs a step after the pivot and returns its output. Such a step cannot be compensated, so a failure that ends its
   * retries (a participant's refusal for good, or its retry policy run out) must not end the saga with money moved and
   * nobody told: with a dead-letter log the step waits for an operator exactly as a dead-lettered compensation does
   * (NEEDS_ATTENTION, recorded in the log), runs again when retried, and counts as done when resolved by hand. Without
   * a log (a saga of the pre-log shape) the failure surfaces and the saga fails.
   */
  private async runRetriable(step: SagaStep, stepState: StepState): Promise<object | undefined> {
    for (let round = 1; ; round++) {
      if (round > 1) this.update({ currentStep: step.name }, stepState, { status: 'RUNNING' });
      try {
        const output = await runAsAction(step.name, 'non-cancellable', step.run);
        this.update({}, stepState, { status: 'COMPLETED' });
        return output && typeof output === 'object' ? output : undefined;
      } catch (err) {
        const failure = describeFailure(err, this.options.wroteNothing);
        if (!this.options.deadLetters) {
          this.update({}, stepState, { status: 'FAILED', failure });
          throw err;
        }
        const decision = await this.parkForOperator(
          stepState,
          { ...failure, attempts: failureAttempts(err) },
          round,
          'COMMITTED',
        );
        if (decision.action === 'resolve') {
          this.update({}, stepState, { status: 'RESOLVED', resolution: decision.reason });
          return undefined;
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

  /** Operator decisions waiting to be picked up, by action name (several may wait at once). */
  private readonly decisions = new Map<string, OperatorDecision>();

  /**
   * Records the dead letter of a compensation (or of a step after the pivot), shows NEEDS_ATTENTION, and waits (a
   * workflow waiting on a condition costs nothing). When the decision comes, the saga shows `resume` again (unless
   * another action still waits) and the entry is PENDING until its caller runs it again or marks it RESOLVED.
   */
  private async parkForOperator(
    entry: StepState | CompensationState,
    failure: DescribedFailure,
    round: number,
    resume: 'COMPENSATING' | 'COMMITTED',
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
        forStep: 'forStep' in entry ? entry.forStep : entry.name,
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
    const stillWaiting = deadLetteredActions(this.state).some((e) => e.name !== entry.name);
    this.update({ status: stillWaiting ? 'NEEDS_ATTENTION' : this.inProgress(resume) }, entry, { status: 'PENDING' });
    return decision;
  }

  /**
   * Checks an operator's decision against the saga's state; throws (so an update validator rejects it before it
   * reaches the history) when nothing waits or the named action does not. Returns the action it targets.
   */
  validateDecision(decision: OperatorDecision): string {
    const waiting = deadLetteredActions(this.state)
      .filter((e) => !this.decisions.has(e.name))
      .map((e) => e.name);
    if (!waiting.length) throw new Error(`nothing is waiting for an operator (saga status ${this.state.status})`);
    if (decision.compensation !== undefined) {
      if (!waiting.includes(decision.compensation))
        throw new Error(`${decision.compensation} is not waiting for an operator; waiting: ${waiting.join(', ')}`);
      return decision.compensation;
    }
    if (waiting.length > 1) throw new Error(`several actions wait (${waiting.join(', ')}): name one`);
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
