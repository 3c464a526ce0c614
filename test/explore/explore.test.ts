import assert from 'node:assert/strict';
import { explore, pointsOf, type ExploreResult } from '../../scripts/explore/explore';
import { COMPENSATION_FAILURES, FORWARD_FAILURES, groupPoints, singlePoints } from '../../scripts/explore/points';
import { EXPLORE_PROFILES, orderProfile, type ExploreProfile } from '../../scripts/explore/profiles';
import { matrix } from '../../scripts/explore/report';
import { orderSaga } from '../../workflows/order-saga';
import { SAGA_LIST } from '../../workflows/sagas';
import { afterPivotSaga, afterPushSaga, compensatesRejectSaga } from './fixtures/broken-sagas';

const violationText = (r: ExploreResult) =>
  r.reports
    .flatMap((s) => s.results.flatMap((x) => x.violations.map((v) => `${s.saga} ${x.point.id}: ${v}`)))
    .join('\n');

describe('explore: failure points from the definition', () => {
  it('derives every forward kind for the steps up to the pivot and the kinds that apply after it, and every compensation kind', () => {
    const points = singlePoints(orderSaga);
    const ids = new Set(points.map((p) => p.id));
    for (const step of ['create-order', 'reserve-inventory', 'schedule-shipment', 'charge-payment']) {
      for (const f of FORWARD_FAILURES)
        if (!(step === 'approve-order' && f.startsWith('kill-between')))
          assert.ok(ids.has(`${step}/${f}`), `${step}/${f}`);
    }
    // After the pivot the business cannot refuse and the policy has no limit: no rejection, no exhaustion.
    assert.ok(!ids.has('confirm-shipment/reject') && !ids.has('confirm-shipment/transient-exhaust'));
    // After the first step's compensations (cancel-order, reject-order) the saga ends: no "between" to terminate in.
    const last = orderSaga.meta.steps[0].compensations as readonly string[];
    for (const c of orderSaga.meta.compensationNames)
      for (const f of COMPENSATION_FAILURES)
        if (!(last.includes(c) && f === 'terminate-between')) assert.ok(ids.has(`${c}/${f}`), `${c}/${f}`);
    for (const c of last) assert.ok(!ids.has(`${c}/terminate-between`), `${c}/terminate-between`);
    const rejectAtPivot = points.find((p) => p.id === 'charge-payment/reject')!;
    assert.deepEqual(rejectAtPivot.expect.compensated, ['create-order', 'reserve-inventory', 'schedule-shipment']);
    assert.deepEqual(points.find((p) => p.id === 'charge-payment/cancel-after')!.expect.status, ['COMPLETED']);
  });

  it('terminates at every step and compensation: recovered backward before the pivot, forward after it', () => {
    const points = singlePoints(orderSaga);
    const at = (id: string) => points.find((p) => p.id === id)!;
    // In flight at the pivot: the charge's outcome is unknown, so the recovery refunds it with the rest.
    assert.deepEqual(at('charge-payment/terminate-during').drive, { terminate: { whileRunning: 'charge-payment' } });
    assert.deepEqual(at('charge-payment/terminate-during').faults, { 'charge-payment': 'delay:2500' });
    assert.deepEqual(at('charge-payment/terminate-during').expect, {
      status: ['COMPENSATED'],
      compensated: ['create-order', 'reserve-inventory', 'schedule-shipment', 'charge-payment'],
      notCompensated: [],
    });
    // Past the pivot the recovery drives the saga forward; just before it, the pivot may have completed first.
    assert.deepEqual(at('charge-payment/terminate-between').expect.status, ['COMPLETED']);
    assert.deepEqual(at('confirm-shipment/terminate-during').expect.status, ['COMPLETED']);
    assert.deepEqual(at('schedule-shipment/terminate-between').expect.status, ['COMPENSATED', 'COMPLETED']);
    assert.deepEqual(at('reserve-inventory/terminate-between').expect.status, ['COMPENSATED', 'COMPLETED']);
    assert.deepEqual(at('create-order/terminate-between').expect.status, ['COMPENSATED']);
    // A compensation terminated in flight, or between two: the recovery run finishes the unwinding.
    const release = at('release-inventory/terminate-during');
    assert.equal(release.faults['release-inventory'], 'delay:2500');
    assert.deepEqual(release.drive.terminate, { whileRunning: 'release-inventory' });
    assert.deepEqual(release.expect.compensation, { name: 'release-inventory', status: 'COMPLETED' });
    assert.deepEqual(at('release-inventory/terminate-between').drive.terminate, {
      afterCompleted: 'release-inventory',
    });
    assert.ok(points.filter((p) => p.drive.terminate).every((p) => p.server === 'dev'));
  });

  it('runs the points that exhaust a policy on the time-skipping server with the default policies, the rest on the dev server', () => {
    const points = singlePoints(orderSaga);
    const at = (id: string) => points.find((p) => p.id === id)!;
    for (const id of [
      'reserve-inventory/transient-exhaust',
      'charge-payment/lost-exhaust',
      'release-inventory/dead-letter',
    ]) {
      assert.equal(at(id).server, 'time-skipping', id);
      assert.deepEqual(at(id).options, {}, id);
    }
    assert.deepEqual(at('reserve-inventory/transient-exhaust').faults, { 'reserve-inventory': 'transient:5' });
    assert.equal(at('release-inventory/dead-letter').faults['release-inventory'], 'transient:20');
    // Cancellations, kills and the operator's decisions (updates, which the test server lacks) stay on the dev server.
    for (const p of points.filter((p) => p.drive.cancel || p.drive.kill || p.drive.operator))
      assert.equal(p.server, 'dev', p.id);
    assert.equal(at('cancel-order/dead-letter').server, 'dev');
  });

  it('cancels before a step once the step (or group) before it completed, and fails two members of a group at once', () => {
    const points = singlePoints(orderSaga);
    const at = (id: string) => points.find((p) => p.id === id)!;
    // schedule-shipment runs in a group with reserve-inventory: "before" it is after create-order, as for its sibling.
    assert.deepEqual(at('schedule-shipment/cancel-before').drive, { cancel: { afterCompleted: 'create-order' } });
    assert.deepEqual(at('schedule-shipment/cancel-before').expect.compensated, ['create-order']);
    // The charge done, cancelled before the confirmations: the order is kept.
    assert.deepEqual(at('confirm-shipment/cancel-before').drive, { cancel: { afterCompleted: 'charge-payment' } });
    assert.deepEqual(at('confirm-shipment/cancel-before').expect.status, ['COMPLETED']);
    const groups = groupPoints(orderSaga);
    const both = groups.find((p) => p.id === 'reserve-inventory/reject+schedule-shipment/reject')!;
    assert.deepEqual(both.expect, {
      status: ['COMPENSATED'],
      compensated: ['create-order'],
      notCompensated: ['reserve-inventory', 'schedule-shipment'],
    });
    const mixed = groups.find((p) => p.id === 'reserve-inventory/reject+schedule-shipment/transient-exhaust')!;
    assert.deepEqual(mixed.expect.compensated, ['create-order', 'schedule-shipment']);
    assert.deepEqual(mixed.expect.notCompensated, ['reserve-inventory']);
    // After the pivot, three members: every two of them, recovering.
    assert.equal(groups.filter((p) => p.expect.status.includes('COMPLETED')).length, 3 * 2);
  });

  it('the subset covers every failure kind once, on steps that rotate', () => {
    const a = pointsOf(orderProfile, { pairs: 0, subset: true, rotation: 0 });
    const b = pointsOf(orderProfile, { pairs: 0, subset: true, rotation: 1 });
    // Every kind once, plus one of the order saga's parallel-group points.
    assert.equal(a.length, FORWARD_FAILURES.length + COMPENSATION_FAILURES.length + 1);
    const singles = a.filter((p) => p.targetKind !== 'group');
    assert.deepEqual(new Set(singles.map((p) => p.failure)), new Set([...FORWARD_FAILURES, ...COMPENSATION_FAILURES]));
    assert.equal(a.filter((p) => p.targetKind === 'group').length, 1);
    assert.notDeepEqual(
      a.map((p) => p.target),
      b.map((p) => p.target),
    );
  });
});

describe('npm run explore (every registered saga, every failure kind once)', function () {
  this.timeout(300_000);
  let result: ExploreResult;
  const kinds = FORWARD_FAILURES.length + COMPENSATION_FAILURES.length;
  before(async () => {
    const profiles = SAGA_LIST.map((s) => EXPLORE_PROFILES[s.name]);
    assert.ok(profiles.every(Boolean), 'every registered saga has an explore profile');
    result = await explore({
      profiles,
      pairs: 0,
      subset: true,
      rotation: new Date().getUTCDate(),
      concurrency: 6,
      progress: false,
      outDir: false,
    });
  });

  it('runs one saga per point for each saga and finds no violation', () => {
    assert.deepEqual(
      result.reports.map((r) => r.saga),
      SAGA_LIST.map((s) => s.name),
    );
    // Every kind once, and one parallel-group point for a saga that has groups.
    const expected = (saga: string) => kinds + (groupPoints(EXPLORE_PROFILES[saga].saga).length ? 1 : 0);
    for (const r of result.reports) assert.equal(r.results.length, expected(r.saga), r.saga);
    const matrices = result.reports
      .map((r) =>
        matrix(
          SAGA_LIST.find((s) => s.name === r.saga)!,
          r.results,
        ),
      )
      .join('\n');
    assert.equal(result.violations, 0, `${violationText(result)}\n${matrices}`);
    const n = SAGA_LIST.reduce((sum, s) => sum + expected(s.name), 0);
    assert.equal(result.summary, `explore: ${n} points, ${n} sagas run, 0 violations`);
  });
});

describe('explore: broken sagas are caught at the right point', function () {
  this.timeout(240_000);
  const profile = (saga: ExploreProfile['saga']): ExploreProfile => ({ ...orderProfile, saga });
  // Each broken saga at the three points, the order saga (with the broken activity) at run-twice.
  const only = [
    ...['broken-after-push', 'broken-compensates-reject', 'broken-after-pivot'].flatMap((saga) =>
      ['reserve-inventory/lost-exhaust', 'reserve-inventory/reject', 'charge-payment/cancel-after'].map(
        (id) => `${saga}:${id}`,
      ),
    ),
    'order:release-inventory/run-twice',
  ];
  let result: ExploreResult;
  const failedPoints = (saga: string) =>
    result.reports
      .find((r) => r.saga === saga)!
      .results.filter((r) => r.violations.length)
      .map((r) => r.point.id);

  before(async () => {
    result = await explore({
      // The broken sagas, and the real order saga with the broken activity (which every saga here gets).
      profiles: [profile(afterPushSaga), profile(compensatesRejectSaga), profile(afterPivotSaga), orderProfile],
      pairs: 0,
      subset: false,
      rotation: 0,
      only,
      concurrency: 5,
      progress: false,
      outDir: false,
      workflowsPath: require.resolve('./fixtures/workflows'),
      // A test option of the explorer's worker, not a production setting: the kit derives idempotency keys itself,
      // so a non-idempotent compensation needs a broken activity (a fresh key on each execution).
      activityOverridesModule: require.resolve('./fixtures/broken-activities'),
    });
  });

  it('a compensation registered after its step: a lost response leaves the reservation held', () => {
    assert.deepEqual(failedPoints('broken-after-push'), ['reserve-inventory/lost-exhaust'], violationText(result));
    assert.match(
      violationText(result),
      /broken-after-push reserve-inventory\/lost-exhaust: reserve-inventory was not compensated/,
    );
    assert.match(
      violationText(result),
      /broken-after-push reserve-inventory\/lost-exhaust: .*live reservation \(PENDING\)/,
    );
  });

  it('a rejected step compensated', () => {
    assert.deepEqual(failedPoints('broken-compensates-reject'), ['reserve-inventory/reject'], violationText(result));
    assert.match(violationText(result), /reserve-inventory was compensated although it wrote nothing/);
  });

  it('a compensation after the pivot: a cancellation after the charge refunds the customer', () => {
    assert.deepEqual(failedPoints('broken-after-pivot'), ['charge-payment/cancel-after'], violationText(result));
    assert.match(
      violationText(result),
      /broken-after-pivot charge-payment\/cancel-after: saga ended COMPENSATED, expected COMPLETED/,
    );
  });

  it('a compensation that is not idempotent: run twice, it sent a fresh idempotency key each time', () => {
    assert.deepEqual(failedPoints('order'), ['release-inventory/run-twice'], violationText(result));
    assert.match(
      violationText(result),
      /order release-inventory\/run-twice: release-inventory executed twice sent [2-9] idempotency key\(s\) .*: not idempotent/,
    );
  });

  it('reports the violations in its summary', () => {
    assert.equal(result.violations, 4);
    assert.match(result.summary, /^explore: 10 points, 10 sagas run, 4 violations$/);
  });
});
