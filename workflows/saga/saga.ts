import { CancellationScope, CancelledFailure, isCancellation, setCurrentDetails } from '@temporalio/workflow';
import { compensationFailure, describeFailure } from './failures';
import type { CompensationContext, CompensationState, SagaOptions, SagaState, SagaStep, StepState } from './types';

/**
 * A saga: forward steps in order, with a compensation stack that is unwound in reverse when a step fails or the
 * saga is cancelled. Runs inside a Temporal workflow, so the stack and the state survive worker crashes: on
 * replay, the same code rebuilds them from the workflow's history.
 *
 * The rules, in the order they matter:
 * - A step's compensation is pushed BEFORE the step runs: an activity can take effect and still time out, so
 *   "failed" does not mean "did nothing". The services treat compensating nothing as a recorded no-op.
 *   The one exception is a business rejection (a 4xx answer): the service guarantees a rejected request wrote
 *   nothing, so that step's own compensation is dropped and exactly the completed steps are compensated.
 * - Compensations run in a non-cancellable scope: cancelling the saga still compensates it.
 * - The pivot and every step after it also run non-cancellable: once the point of no return is reached, a
 *   cancellation request is ignored and the saga completes forward (`state.cancellable` says which applies).
 * - Every compensation failure is reported in one error (SagaCompensationFailed); none is swallowed.
 */
export type SagaOutcome = { outcome: 'completed' } | { outcome: 'compensated'; context: CompensationContext };

export interface SagaHooks {
  /** Called after every state change (e.g. to upsert search attributes). */
  onStateChange?: (state: SagaState) => void;
}

export function validateSteps(steps: SagaStep[]): void {
  const pivots = steps.filter((s) => s.kind === 'pivot');
  if (pivots.length > 1) throw new Error('a saga has at most one pivot step');
  const pivotIndex = steps.findIndex((s) => s.kind === 'pivot');
  steps.forEach((step, i) => {
    if (step.kind === 'compensatable' && !step.compensate) throw new Error(`compensatable step ${step.name} needs a compensation`);
    if (step.kind === 'compensatable' && pivotIndex >= 0 && i > pivotIndex) throw new Error(`compensatable step ${step.name} comes after the pivot`);
    if (step.kind === 'retriable' && step.compensate) throw new Error(`retriable step ${step.name} must not have a compensation`);
    if (step.kind === 'retriable' && (pivotIndex < 0 || i < pivotIndex)) throw new Error(`retriable step ${step.name} must come after the pivot`);
  });
  if (new Set(steps.map((s) => s.name)).size !== steps.length) throw new Error('step names must be unique');
}

export class Saga {
  readonly state: SagaState;

  constructor(
    private readonly steps: SagaStep[],
    private readonly options: SagaOptions = {},
    private readonly hooks: SagaHooks = {},
  ) {
    validateSteps(steps);
    this.state = {
      status: 'RUNNING',
      cancellable: true,
      steps: steps.map((s) => ({ name: s.name, kind: s.kind, status: 'PENDING' })),
      compensations: [],
    };
  }

  /**
   * Runs the saga. Resolves when it completed, or when it was compensated after a failure; throws the original
   * cancellation after compensating a cancelled saga, and SagaCompensationFailed when compensating did not succeed.
   */
  async run(): Promise<SagaOutcome> {
    const stack: SagaStep[] = [];
    for (const [index, step] of this.steps.entries()) {
      const stepState = this.state.steps[index];
      const forwardOnly = step.kind !== 'compensatable';
      if (forwardOnly && this.state.cancellable) {
        // Last chance to honour a cancellation: from the pivot on, the saga only goes forward.
        if (CancellationScope.current().consideredCancelled) {
          return this.unwind(stack, step, stepState, new CancelledFailure('saga cancelled before its pivot'));
        }
        this.state.cancellable = false;
      }
      if (step.compensate) stack.push(step);
      this.update({ currentStep: step.name }, stepState, { status: 'RUNNING' });
      try {
        await (forwardOnly ? CancellationScope.nonCancellable(step.run) : step.run());
      } catch (err) {
        if (this.state.status === 'COMMITTED') {
          // A retriable step ran out of retries (its policy should not let that happen): nothing may be
          // compensated after the pivot, so the failure surfaces for an operator.
          this.update({}, stepState, { status: 'FAILED', failure: describeFailure(err) });
          throw err;
        }
        return this.unwind(stack, step, stepState, err);
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

  private async unwind(stack: SagaStep[], step: SagaStep, stepState: StepState, err: unknown): Promise<SagaOutcome> {
    const failure = describeFailure(err);
    const cancelled = isCancellation(err);
    this.update({}, stepState, cancelled && stepState.status === 'PENDING' ? {} : { status: 'FAILED', failure });
    // A definitive "no" wrote nothing: don't compensate the step that was refused.
    if (failure.businessRejection && stack.at(-1) === step) stack.pop();
    const context: CompensationContext = {
      cause: cancelled ? 'cancelled' : failure.businessRejection ? 'rejected' : 'failed',
      reason: cancelled ? 'saga cancelled' : `${step.name}: ${failure.message}`,
      failedStep: step.name,
    };
    await this.compensate([...stack].reverse(), context);
    if (cancelled) throw err;
    return { outcome: 'compensated', context };
  }

  private async compensate(steps: SagaStep[], context: CompensationContext): Promise<void> {
    const entries = steps.map(
      (s): CompensationState => ({ name: compensationName(s, context), forStep: s.name, status: 'PENDING' }),
    );
    this.update({ status: 'COMPENSATING', cancellable: false, compensations: entries, compensationCause: context });

    await CancellationScope.nonCancellable(async () => {
      if (this.options.parallelCompensation) {
        await Promise.all(steps.map((s, i) => this.runCompensation(s, entries[i], context)));
        return;
      }
      for (const [i, s] of steps.entries()) {
        const ok = await this.runCompensation(s, entries[i], context);
        if (!ok && !this.options.continueOnCompensationError) break;
      }
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

  /** Runs one compensation and records its outcome; never throws, so parallel mode sees every failure. */
  private async runCompensation(step: SagaStep, entry: CompensationState, context: CompensationContext): Promise<boolean> {
    this.update({ currentStep: entry.name }, entry, { status: 'RUNNING' });
    try {
      const result = await step.compensate!(context);
      this.update({}, entry, { status: 'COMPLETED', result });
      return true;
    } catch (err) {
      this.update({}, entry, { status: 'FAILED', failure: describeFailure(err) });
      return false;
    }
  }

  private update<T extends object>(sagaChanges: Partial<SagaState>, target?: T, targetChanges?: Partial<T>): void {
    Object.assign(this.state, sagaChanges);
    if (target && targetChanges) Object.assign(target, targetChanges);
    setCurrentDetails(renderDetails(this.state));
    this.hooks.onStateChange?.(this.state);
  }
}

function compensationName(step: SagaStep, context: CompensationContext): string {
  if (typeof step.compensationName === 'function') return step.compensationName(context);
  return step.compensationName ?? `compensate-${step.name}`;
}

const MARKS: Record<string, string> = { PENDING: '·', RUNNING: '▶', COMPLETED: '✔', FAILED: '✘', NOT_RUN: '–' };

/** Markdown shown as the workflow's "current details" in the Temporal web UI. */
export function renderDetails(state: SagaState): string {
  const lines = [`**Saga ${state.status}**${state.currentStep ? `: ${state.currentStep}` : ''}`, ''];
  for (const s of state.steps) lines.push(`- ${MARKS[s.status]} ${s.name} _(${s.kind})_${s.failure ? `: ${s.failure.message}` : ''}`);
  if (state.compensations.length) {
    lines.push('', `**Compensations** (${state.compensationCause?.cause}: ${state.compensationCause?.reason})`);
    for (const c of state.compensations) lines.push(`- ${MARKS[c.status]} ${c.name}${c.failure ? `: ${c.failure.message}` : ''}`);
  }
  return lines.join('\n');
}
