import assert from 'node:assert/strict';
import { explore, type ExploreResult } from '../../scripts/explore/explore';
import { orderProfile } from '../../scripts/explore/profiles';

/**
 * The fourth broken fixture: a compensation that is not idempotent. The definition cannot express it (the activities
 * derive the keys), so the explorer's worker loads a broken activity module (fixtures/broken-activities.ts: a
 * release-inventory that sends a fresh idempotency key on each execution) through the explorer's test option
 * `activityOverridesModule`; production workers have no such setting.
 */
describe('explore: a compensation that is not idempotent is caught at run-twice', function () {
  this.timeout(240_000);
  let result: ExploreResult;
  const violations = () => result.reports[0].results.flatMap((r) => r.violations.map((v) => `${r.point.id}: ${v}`));

  before(async () => {
    result = await explore({
      profiles: [orderProfile],
      pairs: 0,
      subset: false,
      rotation: 0,
      // run-twice, and a point where release-inventory runs once, unfaulted (a rejection of schedule-shipment).
      only: ['release-inventory/run-twice', 'schedule-shipment/reject'],
      concurrency: 2,
      progress: false,
      outDir: false,
      activityOverridesModule: require.resolve('./fixtures/broken-activities'),
    });
  });

  it('reports the violation at release-inventory/run-twice', () => {
    const failed = result.reports[0].results.filter((r) => r.violations.length).map((r) => r.point.id);
    assert.deepEqual(failed, ['release-inventory/run-twice'], violations().join('\n'));
    assert.ok(
      violations().some((v) =>
        /^release-inventory\/run-twice: release-inventory executed twice sent [2-9] idempotency key\(s\) .*: not idempotent$/.test(
          v,
        ),
      ),
      violations().join('\n'),
    );
    assert.equal(result.summary, 'explore: 2 points, 2 sagas run, 1 violations');
  });
});
