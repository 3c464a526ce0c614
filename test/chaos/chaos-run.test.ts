import assert from 'node:assert/strict';
import { formatReport, runChaos, type ChaosReport } from '../../scripts/chaos/chaos';

/**
 * The chaos run itself, small: real processes killed and restarted, a few runs terminated and recovered by the sweep
 * (the invariant checker's own tests: chaos.test.ts).
 */
describe('npm run chaos (small)', function () {
  // About a minute on an idle 2-core machine; several times that when the machine is shared (load average 25 seen).
  this.timeout(400_000);
  let report: ChaosReport;

  before(async () => {
    report = await runChaos({
      sagas: 30,
      concurrency: 10,
      seed: 20261125,
      kills: 3,
      kill: ['worker', 'services', 'server'],
      restartDelayMs: 500,
      terminate: 4,
      progress: false,
      reportDir: false,
    });
  });

  it('kills (SIGKILL) and restarts the worker, the services and the Temporal dev server once each, and every saga reaches a terminal state', () => {
    assert.deepEqual(report.processes?.kills, { worker: 1, services: 1, server: 1 }, formatReport(report));
    assert.deepEqual(
      report.worker.killLog.map((k) => k.kind),
      ['worker', 'services', 'server'],
    );
    assert.ok(
      report.worker.killLog.every((k) => k.restartedAfterMs !== undefined),
      'each one came back',
    );
    assert.equal(report.worker.restarts, report.worker.kills);
    assert.equal(report.sagas.length, 30);
    const terminal = report.checks.find((c) => c.id === 1)!;
    assert.equal(terminal.figures['not terminal'], 0, formatReport(report));
    assert.ok(report.outcomes.APPROVED > 0 && report.outcomes.REJECTED > 0, formatReport(report));
  });

  it('returns some of the approved orders in a second phase (the return saga), each return checked in every service', () => {
    assert.ok(report.returns && report.returns.sagas.length > 0, formatReport(report));
    assert.ok(
      report.returns.sagas.every(
        (r) =>
          r.outcome === 'RETURNED' ||
          r.outcome === 'REJECTED' ||
          r.outcome === 'CANCELLED' ||
          r.outcome === 'NEEDS_ATTENTION',
      ),
      formatReport(report),
    );
    assert.ok(report.returns.outcomes.RETURNED > 0, formatReport(report));
    assert.deepEqual(
      report.checks.map((c) => c.id),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  it('encrypts every payload, as the cluster run does (the dev server has no TLS here)', () => {
    assert.deepEqual(report.security, { mtls: false, inputs: { encrypted: 30, clear: 0 } }, formatReport(report));
  });

  it('terminates some sagas at random moments, and the recovery sweep recovers every one it terminated', () => {
    const t = report.terminations;
    assert.equal(t.planned, 4);
    assert.ok(t.terminated > 0, formatReport(report));
    assert.equal(t.recovered, t.terminated, formatReport(report));
    // Their outcomes are their recovery runs': business outcomes, each checked by the invariants below.
    for (const s of report.sagas.filter((x) => x.terminated)) {
      assert.ok(s.terminated!.recoveryRunId && s.terminated!.recoveryRunId !== s.terminated!.runId, s.orderId);
      assert.ok(['APPROVED', 'REJECTED', 'CANCELLED'].includes(s.outcome), `${s.orderId}: ${s.outcome} ${s.detail}`);
    }
  });

  it('leaves every invariant intact', () => {
    assert.equal(report.violations, 0, formatReport(report, 10));
  });
});
