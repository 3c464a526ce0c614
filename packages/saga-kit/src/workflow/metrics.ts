import { metricMeter } from '@temporalio/workflow';
import type { CompensationStatus, SagaState, SagaStatus, StepStatus } from './types';

/**
 * The saga's own metrics, emitted from the workflow through the Temporal SDK's metric meter: the worker's runtime
 * exports them with its own (Prometheus endpoint, see runtime/telemetry/worker-runtime.ts), tagged with namespace,
 * task queue and workflow type. The SDK drops them while a workflow replays, so a restarted worker counts nothing
 * twice.
 *
 *   saga_started                                     counter
 *   saga_recovered{ended=terminated|timed_out|stuck} a recovery run started for a run Temporal ended (recovery.ts)
 *   saga_ended{outcome=completed|compensated|cancelled|compensation_failed}
 *   saga_dead_lettered{compensation} / {step}        a compensation (or a step after the pivot) parked for an operator
 *   saga_operator_decisions{compensation|step, action=retry|resolve}
 *   saga_step_duration{step, kind, outcome}          histogram, ms, from the step's start to its end (retries included)
 *   saga_compensation_duration{compensation, outcome=completed|dead_lettered|failed}   histogram, ms
 *
 * How many dead letters wait right now is a gauge of the orders service, read from the dead-letter log.
 *
 * It observes the saga's state after every change (the saga calls `observe`), so the engine needs no metric code:
 * durations use workflow time (Date.now() in a workflow is the time of the activation, deterministic on replay).
 */
const ENDED: Partial<Record<SagaStatus, string>> = {
  COMPLETED: 'completed',
  COMPENSATED: 'compensated',
  COMPENSATION_FAILED: 'compensation_failed',
};
const STEP_ENDED: StepStatus[] = ['COMPLETED', 'FAILED'];
const COMPENSATION_ENDED: Partial<Record<CompensationStatus, string>> = {
  COMPLETED: 'completed',
  DEAD_LETTERED: 'dead_lettered',
  FAILED: 'failed',
};

export class SagaMetrics {
  private readonly started = metricMeter.createCounter('saga_started', undefined, 'Sagas started');
  private readonly recovered = metricMeter.createCounter(
    'saga_recovered',
    undefined,
    'Recovery runs started for sagas that Temporal ended without the saga deciding, by how they ended',
  );
  private readonly ended = metricMeter.createCounter('saga_ended', undefined, 'Sagas ended, by outcome');
  private readonly deadLettered = metricMeter.createCounter(
    'saga_dead_lettered',
    undefined,
    'Compensations (and steps after the pivot) dead-lettered for an operator',
  );
  private readonly decisions = metricMeter.createCounter(
    'saga_operator_decisions',
    undefined,
    "Operators' decisions on dead-lettered compensations and steps",
  );
  private readonly stepDuration = metricMeter.createHistogram(
    'saga_step_duration',
    'int',
    'ms',
    'Duration of a saga step, retries included',
  );
  private readonly compensationDuration = metricMeter.createHistogram(
    'saga_compensation_duration',
    'int',
    'ms',
    'Duration of a compensation run, retries included',
  );

  private status?: SagaStatus;
  private readonly seen = new Map<string, { status: string; since: number; deadLettered?: boolean }>();

  observe(state: SagaState): void {
    if (this.status === undefined) {
      if (state.recovery) this.recovered.add(1, { ended: state.recovery.ended.toLowerCase() });
      else this.started.add(1);
    }
    if (state.status !== this.status && ENDED[state.status]) {
      const cancelled = state.status === 'COMPENSATED' && state.compensationCause?.cause === 'cancelled';
      this.ended.add(1, { outcome: cancelled ? 'cancelled' : ENDED[state.status]! });
    }
    this.status = state.status;

    for (const step of state.steps) {
      this.transition(`step:${step.name}`, step.status, (previous, ms, entry) => {
        if (previous === 'RUNNING' && STEP_ENDED.includes(step.status)) {
          this.stepDuration.record(ms, { step: step.name, kind: step.kind, outcome: step.status.toLowerCase() });
        }
        this.countOperatorWork({ step: step.name }, step.status, entry);
      });
    }
    state.compensations.forEach((c, i) => {
      this.transition(`compensation:${i}:${c.name}`, c.status, (previous, ms, entry) => {
        const outcome = COMPENSATION_ENDED[c.status];
        if (previous === 'RUNNING' && outcome) this.compensationDuration.record(ms, { compensation: c.name, outcome });
        this.countOperatorWork({ compensation: c.name }, c.status, entry);
      });
    });
  }

  /** A dead letter when the action parks; a decision when a parked one runs again (retry) or is RESOLVED. */
  private countOperatorWork(
    action: { step: string } | { compensation: string },
    status: string,
    entry: { deadLettered?: boolean },
  ): void {
    if (status === 'DEAD_LETTERED') {
      this.deadLettered.add(1, action);
      entry.deadLettered = true;
    } else if (entry.deadLettered && (status === 'RESOLVED' || status === 'RUNNING')) {
      this.decisions.add(1, { ...action, action: status === 'RESOLVED' ? 'resolve' : 'retry' });
      entry.deadLettered = false;
    }
  }

  /** Calls `changed` when the status of `key` differs from the last one seen, with the time spent in the last one. */
  private transition(
    key: string,
    status: string,
    changed: (previous: string | undefined, ms: number, entry: { deadLettered?: boolean }) => void,
  ): void {
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry?.status === status) return;
    const next = { status, since: now, deadLettered: entry?.deadLettered };
    changed(entry?.status, entry ? now - entry.since : 0, next);
    this.seen.set(key, next);
  }
}
