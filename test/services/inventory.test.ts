import assert from 'node:assert/strict';
import { inventoryService } from '../../services/inventory/service';
import { assertRejectedWithoutWrites, transportBadInputs } from '../support/bad-input';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

describe('inventory service', () => {
  let service: Awaited<
    ReturnType<
      typeof startTestService<typeof inventoryService extends { createDb: (...a: any[]) => infer D } ? D : never>
    >
  >;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const orderId = () => `ord-inv-${++n}`;
  const product = async (sku: string) => (await api.get(`/products/${sku}`)).body;

  before(async () => {
    service = await startTestService(inventoryService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('reports health', async () => {
    const res = await api.get('/health');
    assert.deepEqual([res.status, res.body], [200, { service: 'inventory', status: 'ok' }]);
  });

  it('happy path: reserve holds stock (PENDING), confirm sells it (CONFIRMED), with timestamps', async () => {
    const id = orderId();
    const before = await product('KB-001');
    const reserved = await api.post(
      '/reservations',
      {
        orderId: id,
        items: [
          { sku: 'KB-001', quantity: 2 },
          { sku: 'CB-004', quantity: 3 },
        ],
      },
      { key: `${id}:reserve` },
    );
    assert.equal(reserved.status, 201);
    assert.equal(reserved.body.status, 'PENDING');
    assert.equal(reserved.body.totalCents, 2 * 8900 + 3 * 900);
    let after = await product('KB-001');
    assert.deepEqual([after.available, after.held, after.sold], [before.available - 2, before.held + 2, before.sold]);

    const confirmed = await api.post(`/reservations/${id}/confirm`, {}, { key: `${id}:confirm` });
    assert.equal(confirmed.status, 200);
    assert.equal(confirmed.body.status, 'CONFIRMED');
    assert.ok(confirmed.body.confirmedAt);
    after = await product('KB-001');
    assert.deepEqual([after.available, after.held, after.sold], [before.available - 2, before.held, before.sold + 2]);
  });

  describe('business rejections', () => {
    it('insufficient stock → 422, nothing held', async () => {
      const id = orderId();
      const before = await snapshotTables(service.databaseUrl);
      const res = await api.post(
        '/reservations',
        {
          orderId: id,
          items: [
            { sku: 'KB-001', quantity: 1 },
            { sku: 'MN-003', quantity: 9999 },
          ],
        },
        { key: `${id}:reserve` },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'insufficient_stock');
      assert.match(res.body.error.message, /MN-003/);
      assert.deepEqual(await snapshotTables(service.databaseUrl), before, 'the KB-001 line must roll back too');
    });

    it('unknown SKU → 404', async () => {
      const res = await api.post(
        '/reservations',
        { orderId: orderId(), items: [{ sku: 'NOPE-1', quantity: 1 }] },
        { key: 'k-unknown-sku' },
      );
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'unknown_sku');
    });

    it('illegal transitions → 409: release after confirm, confirm after release; unknown reservation → 404', async () => {
      const sold = orderId();
      await api.post(
        '/reservations',
        { orderId: sold, items: [{ sku: 'MS-002', quantity: 1 }] },
        { key: `${sold}:reserve` },
      );
      await api.post(`/reservations/${sold}/confirm`, {}, { key: `${sold}:confirm` });
      const release = await api.post(
        `/reservations/${sold}/release`,
        { reason: 'too late' },
        { key: `${sold}:release` },
      );
      assert.equal(release.status, 409);
      assert.equal(release.body.error.code, 'illegal_transition');

      const released = orderId();
      await api.post(
        '/reservations',
        { orderId: released, items: [{ sku: 'MS-002', quantity: 1 }] },
        { key: `${released}:reserve` },
      );
      await api.post(
        `/reservations/${released}/release`,
        { reason: 'payment declined' },
        { key: `${released}:release` },
      );
      const confirm = await api.post(`/reservations/${released}/confirm`, {}, { key: `${released}:confirm` });
      assert.equal(confirm.status, 409);

      const unknown = await api.post(`/reservations/never-seen/confirm`, {}, { key: 'never-seen:confirm' });
      assert.equal(unknown.status, 404);
    });
  });

  describe('idempotency', () => {
    it('the same key twice: one effect, the same response, marked as a replay', async () => {
      const id = orderId();
      const before = await product('MS-002');
      const body = { orderId: id, items: [{ sku: 'MS-002', quantity: 4 }] };
      const first = await api.post('/reservations', body, { key: `${id}:reserve` });
      const second = await api.post('/reservations', body, { key: `${id}:reserve` });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal((await product('MS-002')).available, before.available - 4);
    });

    it('the same key with a different body → 422, nothing changed', async () => {
      const id = orderId();
      await api.post(
        '/reservations',
        { orderId: id, items: [{ sku: 'MS-002', quantity: 1 }] },
        { key: `${id}:reserve` },
      );
      const before = await snapshotTables(service.databaseUrl);
      const res = await api.post(
        '/reservations',
        { orderId: id, items: [{ sku: 'MS-002', quantity: 2 }] },
        { key: `${id}:reserve` },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'idempotency_key_reused');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
    });

    it('concurrent requests with the same key: one effect', async () => {
      const id = orderId();
      const before = await product('CB-004');
      const body = { orderId: id, items: [{ sku: 'CB-004', quantity: 5 }] };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => api.post('/reservations', body, { key: `${id}:reserve` })),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array(6).fill(201),
      );
      assert.equal((await product('CB-004')).available, before.available - 5);
    });
  });

  describe('compensation', () => {
    it('release restores the stock; releasing twice is still one effect', async () => {
      const id = orderId();
      const before = await product('KB-001');
      await api.post(
        '/reservations',
        { orderId: id, items: [{ sku: 'KB-001', quantity: 3 }] },
        { key: `${id}:reserve` },
      );
      const first = await api.post(
        `/reservations/${id}/release`,
        { reason: 'payment declined' },
        { key: `${id}:release` },
      );
      assert.equal(first.status, 200);
      assert.equal(first.body.status, 'RELEASED');
      assert.equal(first.body.reason, 'payment declined');
      assert.equal(first.body.noop, false);
      assert.ok(first.body.releasedAt);
      const again = await api.post(
        `/reservations/${id}/release`,
        { reason: 'payment declined' },
        { key: `${id}:release` },
      );
      assert.deepEqual(again.body, first.body);
      const otherKey = await api.post(
        `/reservations/${id}/release`,
        { reason: 'payment declined' },
        { key: `${id}:release-bis` },
      );
      assert.equal(otherKey.status, 200);
      assert.equal(otherKey.body.noop, true);
      const after = await product('KB-001');
      assert.deepEqual([after.available, after.held, after.sold], [before.available, before.held, before.sold]);
    });

    it('release without a reservation is a recorded no-op, and a late reservation is then refused', async () => {
      const id = orderId();
      const before = await product('KB-001');
      const res = await api.post(
        `/reservations/${id}/release`,
        { reason: 'saga compensating' },
        { key: `${id}:release` },
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.noop, true);
      assert.equal(res.body.status, 'RELEASED');
      assert.match(res.body.reason, /no-op/);
      const recorded = await service.db.reservation.findUnique({ where: { orderId: id } });
      assert.equal(recorded?.status, 'RELEASED', 'the no-op is recorded in the database');

      const late = await api.post(
        '/reservations',
        { orderId: id, items: [{ sku: 'KB-001', quantity: 1 }] },
        { key: `${id}:reserve` },
      );
      assert.equal(late.status, 409, 'a reservation arriving after its compensation must not hold stock');
      assert.equal((await product('KB-001')).available, before.available);
    });
  });

  it('concurrent contention for the last unit: exactly one winner, the others get a business rejection', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.post(
          '/reservations',
          { orderId: `race-${i}`, items: [{ sku: 'LT-005', quantity: 1 }] },
          { key: `race-${i}:reserve` },
        ),
      ),
    );
    const statuses = attempts.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 422, 422, 422, 422, 422, 422, 422]);
    const lamp = await product('LT-005');
    assert.deepEqual([lamp.available, lamp.held], [0, 1]);
    assert.equal(await service.db.reservation.count({ where: { orderId: { startsWith: 'race-' } } }), 1);
  });

  it('reserve racing its release (different keys): either reserved then released, or a tombstone and a refused reserve; stock back', async () => {
    const before = await product('MS-002');
    for (let round = 0; round < 5; round++) {
      const id = orderId();
      const [reserved, released] = await Promise.all([
        api.post('/reservations', { orderId: id, items: [{ sku: 'MS-002', quantity: 2 }] }, { key: `${id}:reserve` }),
        api.post(`/reservations/${id}/release`, { reason: 'race' }, { key: `${id}:release` }),
      ]);
      assert.equal(released.status, 200);
      assert.deepEqual([reserved.status, released.body.noop], reserved.status === 201 ? [201, false] : [409, true]);
    }
    const after = await product('MS-002');
    assert.deepEqual(
      [after.available, after.held, after.sold],
      [before.available, before.held, before.sold],
      'every unit is back',
    );
  });

  it('confirm racing release for the same reservation: exactly one wins, stock is conserved', async () => {
    const before = await product('CB-004');
    const ids = Array.from({ length: 10 }, () => orderId());
    for (const id of ids)
      await api.post(
        '/reservations',
        { orderId: id, items: [{ sku: 'CB-004', quantity: 1 }] },
        { key: `${id}:reserve` },
      );
    const results = await Promise.all(
      ids.flatMap((id) => [
        api.post(`/reservations/${id}/confirm`, {}, { key: `${id}:confirm` }),
        api.post(`/reservations/${id}/release`, { reason: 'race' }, { key: `${id}:release` }),
      ]),
    );
    for (let i = 0; i < ids.length; i++) {
      const [confirm, release] = [results[2 * i], results[2 * i + 1]];
      assert.equal(
        [confirm.status, release.status].filter((s) => s === 200).length,
        1,
        `one winner for ${ids[i]}: ${confirm.status}/${release.status}`,
      );
    }
    const after = await product('CB-004');
    assert.equal(after.held, before.held, 'nothing left held');
    assert.equal(
      after.available + after.held + after.sold,
      before.available + before.held + before.sold,
      'stock conserved',
    );
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: 1 }] };
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/reservations', valid),
      { name: 'missing items', path: '/reservations', body: { orderId: 'bad-1' }, expectStatus: 400 },
      {
        name: 'quantity is a string',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: 'two' }] },
        expectStatus: 400,
      },
      {
        name: 'negative quantity',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: -3 }] },
        expectStatus: 400,
      },
      {
        name: 'zero quantity',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: 0 }] },
        expectStatus: 400,
      },
      {
        name: 'fractional quantity',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: 1.5 }] },
        expectStatus: 400,
      },
      {
        name: 'huge quantity',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'KB-001', quantity: 1e12 }] },
        expectStatus: 400,
      },
      { name: 'empty items', path: '/reservations', body: { orderId: 'bad-1', items: [] }, expectStatus: 400 },
      {
        name: 'duplicate SKU',
        path: '/reservations',
        body: {
          orderId: 'bad-1',
          items: [
            { sku: 'KB-001', quantity: 1 },
            { sku: 'KB-001', quantity: 1 },
          ],
        },
        expectStatus: 400,
      },
      {
        name: 'injection-looking order id',
        path: '/reservations',
        body: { orderId: "x'; DROP TABLE products;--", items: [{ sku: 'KB-001', quantity: 1 }] },
        expectStatus: 400,
      },
      {
        name: 'unknown SKU',
        path: '/reservations',
        body: { orderId: 'bad-1', items: [{ sku: 'NOPE-9', quantity: 1 }] },
        expectStatus: 404,
      },
      { name: 'release without a reason', path: '/reservations/bad-1/release', body: {}, expectStatus: 400 },
      {
        name: 'oversized reason',
        path: '/reservations/bad-1/release',
        body: { reason: 'r'.repeat(501) },
        expectStatus: 400,
      },
    ]);
  });

  describe('fault injection', () => {
    it('transient:N fails N times with 503 before doing anything, then succeeds once', async () => {
      const id = orderId();
      const before = await product('CB-004');
      const body = { orderId: id, items: [{ sku: 'CB-004', quantity: 1 }] };
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await api.post('/reservations', body, { key: `${id}:reserve`, faults: 'transient:2' })).status);
      assert.deepEqual(statuses, [503, 503, 201]);
      assert.equal((await product('CB-004')).available, before.available - 1);
    });

    it('lost-response:N commits the work but answers 503; the retry gets the stored answer', async () => {
      const id = orderId();
      const before = await product('CB-004');
      const body = { orderId: id, items: [{ sku: 'CB-004', quantity: 2 }] };
      const lost = await api.post('/reservations', body, { key: `${id}:reserve`, faults: 'lost-response:1' });
      assert.equal(lost.status, 503);
      assert.equal((await product('CB-004')).available, before.available - 2, 'the work was done');
      const retry = await api.post('/reservations', body, { key: `${id}:reserve`, faults: 'lost-response:1' });
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal((await product('CB-004')).available, before.available - 2, 'and only once');
    });

    it('reject answers 422 and writes nothing; delay slows the response', async () => {
      const before = await snapshotTables(service.databaseUrl);
      const rejected = await api.post(
        '/reservations',
        { orderId: orderId(), items: [{ sku: 'CB-004', quantity: 1 }] },
        { key: 'k-reject', faults: 'reject' },
      );
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.error.code, 'injected_rejection');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
      const started = performance.now();
      const slow = await api.post(
        '/reservations',
        { orderId: orderId(), items: [{ sku: 'CB-004', quantity: 1 }] },
        { key: 'k-slow', faults: 'delay:300' },
      );
      assert.equal(slow.status, 201);
      assert.ok(performance.now() - started >= 290);
    });

    it('an invalid fault header is a 400', async () => {
      const res = await api.post(
        '/reservations',
        { orderId: orderId(), items: [{ sku: 'CB-004', quantity: 1 }] },
        { key: 'k-bad-fault', faults: 'explode:now' },
      );
      assert.equal(res.status, 400);
    });

    it('is off by default: the header is ignored', async () => {
      const plain = await startTestService(inventoryService);
      try {
        const res = await httpClient(plain.url).post(
          '/reservations',
          { orderId: 'f-off', items: [{ sku: 'CB-004', quantity: 1 }] },
          { key: 'f-off:reserve', faults: 'reject' },
        );
        assert.equal(res.status, 201);
      } finally {
        await plain.close();
      }
    });
  });
});
