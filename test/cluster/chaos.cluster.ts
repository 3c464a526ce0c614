/**
 * The chaos run on the cluster, small (`npm run test:cluster`): two workers, and one SIGKILL + restart of each process
 * kind (a worker, the services, history, matching) plus one PostgreSQL restart, at seeded points while sagas run; then
 * every invariant. Secured as `npm start -- --temporal cluster` is: mTLS to the frontend, payloads encrypted. The full
 * run (`npm run chaos -- --temporal cluster --sagas 300 --kills 2`) is in docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { formatReport, planProcessFaults, runChaos, type ChaosReport } from '../../scripts/chaos/chaos';
import { CLUSTER_FAULT_KINDS } from '../../scripts/chaos/chaos';

describe('npm run chaos on the Temporal cluster (small)', function () {
  this.timeout(900_000);
  let report: ChaosReport;

  before(async () => {
    report = await runChaos({
      temporal: 'cluster',
      sagas: 40,
      concurrency: 10,
      seed: 20261202,
      kills: 1,
      postgresRestarts: 1,
      restartDelayMs: 1000,
      progress: false,
      reportDir: false,
    });
  });

  it('plans each kind of fault from the seed: kills of each process kind plus the PostgreSQL restarts', () => {
    const plan = planProcessFaults({ temporal: 'cluster', kills: 2, postgresRestarts: 1, seed: 5 });
    assert.deepEqual(plan, planProcessFaults({ temporal: 'cluster', kills: 2, postgresRestarts: 1, seed: 5 }));
    assert.equal(plan.length, 9);
    for (const kind of CLUSTER_FAULT_KINDS)
      assert.equal(plan.filter((k) => k === kind).length, kind === 'postgres' ? 1 : 2, kind);
    assert.deepEqual(planProcessFaults({ temporal: 'dev-server', kills: 3, postgresRestarts: 1, seed: 5 }), [
      'worker',
      'worker',
      'worker',
    ]);
  });

  it('killed and restarted a worker, the services, history and matching, and restarted PostgreSQL, with sagas in flight', () => {
    assert.deepEqual(
      report.processes?.kills,
      { worker: 1, services: 1, history: 1, matching: 1, postgres: 1 },
      formatReport(report),
    );
    assert.equal(report.worker.restarts, report.worker.kills);
    for (const k of report.worker.killLog) assert.ok(k.restartedAfterMs !== undefined, `${k.kind} came back`);
    assert.ok(
      report.worker.killLog.some((k) => k.inFlight > 0),
      'sagas were in flight',
    );
  });

  it('ran secured, as npm start runs the cluster: mTLS to the frontend, every saga input encrypted in the history', () => {
    assert.equal(report.security.mtls, true, formatReport(report));
    assert.deepEqual(report.security.inputs, { encrypted: 40, clear: 0 }, formatReport(report));
  });

  it('every saga reached a terminal state, and every invariant holds', () => {
    assert.equal(report.sagas.length, 40);
    assert.equal(report.checks.find((c) => c.id === 1)!.figures['not terminal'], 0, formatReport(report));
    assert.ok(report.outcomes.APPROVED > 0 && report.outcomes.REJECTED > 0, formatReport(report));
    assert.equal(report.violations, 0, formatReport(report, 10));
  });
});
