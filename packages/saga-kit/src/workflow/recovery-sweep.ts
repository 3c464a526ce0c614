import { proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { EndedWithoutConsent } from './types';

/**
 * The recovery sweep: the kit's own workflow (export it from your workflows module; SagaClient.recover runs it now,
 * SagaClient.scheduleRecovery on a Temporal Schedule). It finds the saga runs that Temporal ended without the saga
 * deciding and starts a recovery run for each (recovery.ts says what that run does):
 * - runs terminated (an operator's terminate, a batch terminate) or timed out (a run or execution timeout) while their
 *   SagaStatus was not final;
 * - runs whose workflow task keeps failing (a non-determinism error after a bad deploy, a bug in the saga's code):
 *   Temporal marks them (the TemporalReportedProblems search attribute) but leaves them stuck. Past `stuckAfter` the
 *   sweep terminates such a run and recovers it, unless `recoverStuck` is false (a team that fixes forward with a
 *   deploy): then it only reports it.
 * Its activities (the worker's, added by sagaWorkerOptions) do the reading and starting; the sweep only decides.
 */
export interface RecoverySweepOptions {
  /** How long a run's workflow task may keep failing before the run counts as stuck. Default 10 minutes. */
  stuckAfter?: Duration;
  /** Terminate and recover stuck runs (default true); false only reports them. */
  recoverStuck?: boolean;
}

/** A run that Temporal ended without the saga deciding, as the sweep found it. */
export interface EndedSagaRun {
  /** The saga's id (its workflow id). */
  sagaId: string;
  /** The run that ended. */
  runId: string;
  /** The saga's workflow type. */
  workflowType: string;
  /** How it ended. */
  ended: EndedWithoutConsent;
}

/** A run whose workflow task keeps failing. */
export interface StuckSagaRun {
  /** The saga's id (its workflow id). */
  sagaId: string;
  /** The stuck run. */
  runId: string;
  /** The saga's workflow type. */
  workflowType: string;
  /** How long its workflow task has been failing, in ms. */
  failingForMs: number;
  /** What Temporal reports about it (e.g. `cause=WorkflowTaskFailedCauseNonDeterministicError`). */
  problems: string[];
}

/** What a sweep did. */
export interface RecoverySweepReport {
  /** Recovery runs started, one per ended run. */
  recovered: (EndedSagaRun & { recoveryRunId: string })[];
  /** Ended runs left alone: another sweep's recovery (or a newer run) took over first. */
  skipped: (EndedSagaRun & { why: string })[];
  /** Runs whose workflow task keeps failing; `terminated`: the sweep terminated them (and recovered them above). */
  stuck: (StuckSagaRun & { terminated: boolean })[];
}

/** The activities the sweep calls (the kit's, registered by sagaWorkerOptions). */
export interface RecoveryActivities {
  findStuckSagaRuns(): Promise<StuckSagaRun[]>;
  terminateStuckSagaRun(run: StuckSagaRun): Promise<void>;
  findEndedSagaRuns(): Promise<EndedSagaRun[]>;
  recoverEndedSagaRun(run: EndedSagaRun): Promise<{ recoveryRunId: string } | { skipped: string }>;
}

/** How many recovery runs the sweep starts at once. */
const AT_ONCE = 8;

const act = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

/**
 * The recovery sweep's workflow: export it from your workflows module (`export { sagaRecoverySweep } from
 * 'temporal-saga-kit/workflow'`), then run it with SagaClient.recover or SagaClient.scheduleRecovery.
 */
export async function sagaRecoverySweep(options: RecoverySweepOptions = {}): Promise<RecoverySweepReport> {
  const stuckAfterMs = msToNumber(options.stuckAfter ?? '10m');
  const recoverStuck = options.recoverStuck ?? true;
  const report: RecoverySweepReport = { recovered: [], skipped: [], stuck: [] };

  const recover = async (run: EndedSagaRun) => {
    const outcome = await act.recoverEndedSagaRun(run);
    if ('recoveryRunId' in outcome) report.recovered.push({ ...run, recoveryRunId: outcome.recoveryRunId });
    else report.skipped.push({ ...run, why: outcome.skipped });
  };

  const handled = new Set<string>();
  for (const run of await act.findStuckSagaRuns()) {
    const terminate = recoverStuck && run.failingForMs >= stuckAfterMs;
    report.stuck.push({ ...run, terminated: terminate });
    if (!terminate) continue;
    await act.terminateStuckSagaRun(run);
    // Recovered at once: the listing below may not show the terminated run yet (visibility is eventually consistent).
    await recover({ sagaId: run.sagaId, runId: run.runId, workflowType: run.workflowType, ended: 'STUCK' });
    handled.add(run.runId);
  }

  const ended = (await act.findEndedSagaRuns()).filter((r) => !handled.has(r.runId));
  for (let i = 0; i < ended.length; i += AT_ONCE) {
    await Promise.all(ended.slice(i, i + AT_ONCE).map(recover));
  }
  return report;
}
