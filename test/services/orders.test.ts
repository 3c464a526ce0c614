import assert from 'node:assert/strict';
import type { OrdersDb } from '../../services/orders/db';
import { ordersService } from '../../services/orders/service';
import { assertRejectedWithoutWrites, transportBadInputs } from '../support/bad-input';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

describe('orders service', () => {
  let service: Awaited<ReturnType<typeof startTestService<OrdersDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const orderId = () => `ord-ord-${++n}`;
  const items = [
    { sku: 'KB-001', quantity: 2 },
    { sku: 'CB-004', quantity: 3 },
  ];
  const create = (id: string, key = `${id}:create`, body: object = { orderId: id, customerId: 'cust-1', items }) =>
    api.post('/orders', body, { key });
  const row = (id: string) =>
    service.db.order.findUnique({ where: { id }, include: { lines: { orderBy: { sku: 'asc' } } } });

  before(async () => {
    service = await startTestService(ordersService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('reports health', async () => {
    const res = await api.get('/health');
    assert.deepEqual([res.status, res.body], [200, { service: 'orders', status: 'ok' }]);
  });

  it('happy path: create (PENDING, with lines), approve (APPROVED), with timestamps and rows in the database', async () => {
    const id = orderId();
    const created = await create(id);
    assert.equal(created.status, 201);
    assert.equal(created.body.id, id);
    assert.equal(created.body.customerId, 'cust-1');
    assert.equal(created.body.status, 'PENDING');
    assert.deepEqual(created.body.lines, [
      { orderId: id, sku: 'CB-004', quantity: 3 },
      { orderId: id, sku: 'KB-001', quantity: 2 },
    ]);
    assert.ok(created.body.createdAt && created.body.updatedAt);
    assert.deepEqual(
      [created.body.approvedAt, created.body.rejectedAt, created.body.cancelledAt, created.body.reason],
      [null, null, null, null],
    );
    assert.deepEqual((await api.get(`/orders/${id}`)).body, created.body);

    const approved = await api.post(`/orders/${id}/approve`, {}, { key: `${id}:approve` });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'APPROVED');
    assert.ok(approved.body.approvedAt);
    assert.ok(approved.body.updatedAt >= created.body.updatedAt);
    assert.deepEqual(approved.body.lines, created.body.lines);

    const stored = await row(id);
    assert.equal(stored?.status, 'APPROVED');
    assert.equal(stored?.approvedAt?.toISOString(), approved.body.approvedAt);
    assert.deepEqual(
      stored?.lines.map((l) => [l.sku, l.quantity]),
      [
        ['CB-004', 3],
        ['KB-001', 2],
      ],
    );

    const again = await api.post(`/orders/${id}/approve`, {}, { key: `${id}:approve-again` });
    assert.equal(again.status, 200, 'approving an approved order is not an error');
    assert.deepEqual(again.body, approved.body, 'and changes nothing');
  });

  describe('business rejections', () => {
    it('unknown order → 404 unknown_order (read and approve)', async () => {
      const read = await api.get('/orders/never-seen');
      assert.equal(read.status, 404);
      assert.equal(read.body.error.code, 'unknown_order');
      const approve = await api.post('/orders/never-seen/approve', {}, { key: 'never-seen:approve' });
      assert.equal(approve.status, 404);
      assert.equal(approve.body.error.code, 'unknown_order');
      assert.equal(await row('never-seen'), null, 'approving nothing leaves no trace');
    });

    it('illegal transitions → 409: approve a rejected or cancelled order, reject or cancel an approved one', async () => {
      const rejected = orderId();
      await create(rejected);
      await api.post(`/orders/${rejected}/reject`, { reason: 'payment declined' }, { key: `${rejected}:reject` });
      const approve = await api.post(`/orders/${rejected}/approve`, {}, { key: `${rejected}:approve` });
      assert.equal(approve.status, 409);
      assert.equal(approve.body.error.code, 'illegal_transition');
      assert.equal((await row(rejected))?.status, 'REJECTED');

      const cancelled = orderId();
      await create(cancelled);
      await api.post(`/orders/${cancelled}/cancel`, { reason: 'user cancelled' }, { key: `${cancelled}:cancel` });
      assert.equal((await api.post(`/orders/${cancelled}/approve`, {}, { key: `${cancelled}:approve` })).status, 409);

      const approved = orderId();
      await create(approved);
      await api.post(`/orders/${approved}/approve`, {}, { key: `${approved}:approve` });
      const before = await snapshotTables(service.databaseUrl);
      const reject = await api.post(
        `/orders/${approved}/reject`,
        { reason: 'too late' },
        { key: `${approved}:reject` },
      );
      assert.equal(reject.status, 409);
      assert.equal(reject.body.error.code, 'illegal_transition');
      const cancel = await api.post(
        `/orders/${approved}/cancel`,
        { reason: 'too late' },
        { key: `${approved}:cancel` },
      );
      assert.equal(cancel.status, 409);
      assert.deepEqual(await snapshotTables(service.databaseUrl), before, 'a refused transition writes nothing');
    });

    it('creating an existing order id (with another key) → 409, the first order untouched', async () => {
      const id = orderId();
      const first = await create(id);
      const second = await create(id, `${id}:create-again`, {
        orderId: id,
        customerId: 'cust-2',
        items: [{ sku: 'MS-002', quantity: 1 }],
      });
      assert.equal(second.status, 409);
      assert.equal(second.body.error.code, 'illegal_transition');
      assert.deepEqual((await api.get(`/orders/${id}`)).body, first.body);
    });
  });

  describe('idempotency', () => {
    it('the same key twice: one row, the same response, marked as a replay', async () => {
      const id = orderId();
      const first = await create(id);
      const second = await create(id);
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(await service.db.order.count({ where: { id } }), 1);
      assert.equal(await service.db.orderLine.count({ where: { orderId: id } }), 2);
    });

    it('the same key with a different body → 422 idempotency_key_reused, nothing changed', async () => {
      const id = orderId();
      await create(id);
      const before = await snapshotTables(service.databaseUrl);
      const res = await create(id, `${id}:create`, {
        orderId: id,
        customerId: 'cust-1',
        items: [{ sku: 'KB-001', quantity: 9 }],
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'idempotency_key_reused');
      const otherOperation = await api.post(`/orders/${id}/approve`, {}, { key: `${id}:create` });
      assert.equal(otherOperation.status, 422, 'a key is bound to its operation too');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
    });

    it('6 concurrent requests with the same key: one order, every caller gets the same answer', async () => {
      const id = orderId();
      const results = await Promise.all(Array.from({ length: 6 }, () => create(id)));
      assert.deepEqual(
        results.map((r) => r.status),
        Array(6).fill(201),
      );
      for (const r of results) assert.deepEqual(r.body, results[0].body);
      assert.equal(await service.db.order.count({ where: { id } }), 1);
      assert.equal(await service.db.idempotencyRecord.count({ where: { key: `${id}:create` } }), 1);
    });
  });

  describe('compensation', () => {
    it('reject closes the order (REJECTED with reason); rejecting twice is still one effect', async () => {
      const id = orderId();
      await create(id);
      const first = await api.post(`/orders/${id}/reject`, { reason: 'payment declined' }, { key: `${id}:reject` });
      assert.equal(first.status, 200);
      assert.equal(first.body.status, 'REJECTED');
      assert.equal(first.body.reason, 'payment declined');
      assert.equal(first.body.noop, false);
      assert.ok(first.body.rejectedAt);
      assert.equal(first.body.lines.length, 2, 'the order keeps its lines');

      const replay = await api.post(`/orders/${id}/reject`, { reason: 'payment declined' }, { key: `${id}:reject` });
      assert.deepEqual(replay.body, first.body);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      const otherKey = await api.post(
        `/orders/${id}/reject`,
        { reason: 'another reason' },
        { key: `${id}:reject-bis` },
      );
      assert.equal(otherKey.status, 200);
      assert.equal(otherKey.body.noop, true);
      const { noop: _noop, ...unchanged } = otherKey.body;
      const { noop: _first, ...original } = first.body;
      assert.deepEqual(unchanged, original, 'the second reject changes nothing, not even the reason');

      const stored = await row(id);
      assert.deepEqual(
        [stored?.status, stored?.reason, stored?.rejectedAt?.toISOString()],
        ['REJECTED', 'payment declined', first.body.rejectedAt],
      );
    });

    it('cancel closes the order (CANCELLED with reason); cancelling twice, or rejecting after, is still one effect', async () => {
      const id = orderId();
      await create(id);
      const first = await api.post(
        `/orders/${id}/cancel`,
        { reason: 'cancelled by the customer' },
        { key: `${id}:cancel` },
      );
      assert.equal(first.status, 200);
      assert.deepEqual(
        [first.body.status, first.body.reason, first.body.noop, first.body.rejectedAt],
        ['CANCELLED', 'cancelled by the customer', false, null],
      );
      assert.ok(first.body.cancelledAt);
      const again = await api.post(
        `/orders/${id}/cancel`,
        { reason: 'cancelled by the customer' },
        { key: `${id}:cancel-bis` },
      );
      assert.deepEqual([again.status, again.body.noop, again.body.cancelledAt], [200, true, first.body.cancelledAt]);
      const reject = await api.post(`/orders/${id}/reject`, { reason: 'saga compensating' }, { key: `${id}:reject` });
      assert.deepEqual(
        [reject.status, reject.body.noop, reject.body.status, reject.body.reason],
        [200, true, 'CANCELLED', 'cancelled by the customer'],
      );
      assert.equal((await row(id))?.status, 'CANCELLED');
    });

    for (const [action, status] of [
      ['reject', 'REJECTED'],
      ['cancel', 'CANCELLED'],
    ] as const) {
      it(`${action} without a prior create is a recorded no-op (tombstone), and a late create is refused`, async () => {
        const id = orderId();
        const res = await api.post(
          `/orders/${id}/${action}`,
          { reason: 'saga compensating' },
          { key: `${id}:${action}` },
        );
        assert.equal(res.status, 200);
        assert.equal(res.body.noop, true);
        assert.equal(res.body.status, status);
        assert.equal(res.body.reason, `saga compensating (${status.toLowerCase()} before the order existed: no-op)`);
        assert.deepEqual([res.body.customerId, res.body.lines], [null, []]);

        const tombstone = await row(id);
        assert.equal(tombstone?.status, status, 'the no-op is recorded in the database');
        assert.equal(tombstone?.customerId, null);
        assert.deepEqual(tombstone?.lines, []);

        const before = await snapshotTables(service.databaseUrl);
        const late = await create(id);
        assert.equal(late.status, 409, 'an order created after its compensation must not come to life');
        assert.equal(late.body.error.code, 'illegal_transition');
        assert.equal((await api.post(`/orders/${id}/approve`, {}, { key: `${id}:approve` })).status, 409);
        assert.deepEqual(await snapshotTables(service.databaseUrl), before);
      });
    }
  });

  describe('concurrency', () => {
    it('8 concurrent creates of the same order id with different keys: exactly one 201, the others 409', async () => {
      const id = orderId();
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          create(id, `${id}:create-${i}`, {
            orderId: id,
            customerId: `cust-${i}`,
            items: [{ sku: `SKU-${i}`, quantity: i + 1 }],
          }),
        ),
      );
      assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
      const winner = attempts.find((a) => a.status === 201)!;
      const stored = await row(id);
      assert.equal(stored?.customerId, winner.body.customerId);
      assert.deepEqual(
        stored?.lines.map((l) => l.sku),
        [winner.body.lines[0].sku],
        "only the winner's lines were written",
      );
      assert.equal(
        await service.db.idempotencyRecord.count({ where: { key: { startsWith: `${id}:create-` } } }),
        1,
        'the losers left no record',
      );
    });

    it('a create racing its compensation ends consistently: either created then rejected, or a tombstone and a refused create', async () => {
      // The interleavings that matter are rare (the reject's statements straddling the create's commit), so repeat.
      for (let i = 0; i < 25; i++) {
        const id = orderId();
        const [created, rejected] = await Promise.all([
          create(id),
          api.post(`/orders/${id}/reject`, { reason: 'saga gave up' }, { key: `${id}:reject` }),
        ]);
        assert.equal(rejected.status, 200);
        assert.equal(rejected.body.status, 'REJECTED', 'a reject never answers with a PENDING order');
        const stored = await row(id);
        assert.equal(stored?.status, 'REJECTED');
        if (created.status === 201) {
          assert.equal(rejected.body.noop, false, 'the reject ran after the create and closed it');
          assert.equal(stored?.lines.length, 2);
        } else {
          assert.equal(created.status, 409);
          assert.equal(rejected.body.noop, true);
          assert.deepEqual([stored?.customerId, stored?.lines.length], [null, 0]);
        }
      }
    });

    it('approve racing reject on a PENDING order: exactly one of them wins', async () => {
      for (let i = 0; i < 10; i++) {
        const id = orderId();
        await create(id);
        const [approve, reject] = await Promise.all([
          api.post(`/orders/${id}/approve`, {}, { key: `${id}:approve` }),
          api.post(`/orders/${id}/reject`, { reason: 'timed out' }, { key: `${id}:reject` }),
        ]);
        const stored = await row(id);
        if (approve.status === 200) {
          assert.equal(reject.status, 409);
          assert.deepEqual([stored?.status, stored?.reason, stored?.rejectedAt], ['APPROVED', null, null]);
        } else {
          assert.deepEqual([approve.status, reject.status, reject.body.noop], [409, 200, false]);
          assert.deepEqual([stored?.status, stored?.approvedAt], ['REJECTED', null]);
        }
      }
    });
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { orderId: 'bad-1', customerId: 'cust-1', items: [{ sku: 'KB-001', quantity: 1 }] };
    const withBody = (changes: object) => ({ ...valid, ...changes });
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/orders', valid),
      {
        name: 'missing customerId',
        path: '/orders',
        body: { orderId: 'bad-1', items: valid.items },
        expectStatus: 400,
      },
      {
        name: 'missing orderId',
        path: '/orders',
        body: { customerId: 'cust-1', items: valid.items },
        expectStatus: 400,
      },
      { name: 'missing items', path: '/orders', body: { orderId: 'bad-1', customerId: 'cust-1' }, expectStatus: 400 },
      { name: 'customerId is a number', path: '/orders', body: withBody({ customerId: 42 }), expectStatus: 400 },
      { name: 'customerId is null', path: '/orders', body: withBody({ customerId: null }), expectStatus: 400 },
      {
        name: 'items is an object',
        path: '/orders',
        body: withBody({ items: { sku: 'KB-001', quantity: 1 } }),
        expectStatus: 400,
      },
      {
        name: 'quantity is a string',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: 'two' }] }),
        expectStatus: 400,
      },
      {
        name: 'negative quantity',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: -3 }] }),
        expectStatus: 400,
      },
      {
        name: 'zero quantity',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: 0 }] }),
        expectStatus: 400,
      },
      {
        name: 'fractional quantity',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: 1.5 }] }),
        expectStatus: 400,
      },
      {
        name: 'huge quantity',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: 1e12 }] }),
        expectStatus: 400,
      },
      { name: 'empty items', path: '/orders', body: withBody({ items: [] }), expectStatus: 400 },
      {
        name: 'too many items',
        path: '/orders',
        body: withBody({ items: Array.from({ length: 51 }, (_, i) => ({ sku: `S-${i}`, quantity: 1 })) }),
        expectStatus: 400,
      },
      {
        name: 'duplicate SKU',
        path: '/orders',
        body: withBody({
          items: [
            { sku: 'KB-001', quantity: 1 },
            { sku: 'KB-001', quantity: 1 },
          ],
        }),
        expectStatus: 400,
      },
      {
        name: 'extra field in a line',
        path: '/orders',
        body: withBody({ items: [{ sku: 'KB-001', quantity: 1, priceCents: 1 }] }),
        expectStatus: 400,
      },
      {
        name: 'injection-looking order id',
        path: '/orders',
        body: withBody({ orderId: "x'; DROP TABLE orders;--" }),
        expectStatus: 400,
      },
      { name: 'order id too long', path: '/orders', body: withBody({ orderId: 'o'.repeat(65) }), expectStatus: 400 },
      {
        name: 'injection-looking order id in the path',
        path: `/orders/${encodeURIComponent("x'; DROP TABLE orders;--")}/reject`,
        body: { reason: 'r' },
        expectStatus: 400,
      },
      { name: 'invalid Idempotency-Key', path: '/orders', body: valid, key: 'has space', expectStatus: 400 },
      { name: 'approve with a body field', path: '/orders/bad-1/approve', body: { force: true }, expectStatus: 400 },
      { name: 'unknown order for approve', path: '/orders/bad-1/approve', body: {}, expectStatus: 404 },
      { name: 'reject without a reason', path: '/orders/bad-1/reject', body: {}, expectStatus: 400 },
      { name: 'reject with a blank reason', path: '/orders/bad-1/reject', body: { reason: '   ' }, expectStatus: 400 },
      {
        name: 'reject with an oversized reason',
        path: '/orders/bad-1/reject',
        body: { reason: 'r'.repeat(501) },
        expectStatus: 400,
      },
      { name: 'cancel with a non-string reason', path: '/orders/bad-1/cancel', body: { reason: 7 }, expectStatus: 400 },
      {
        name: 'cancel without an Idempotency-Key',
        path: '/orders/bad-1/cancel',
        body: { reason: 'r' },
        key: false,
        expectStatus: 400,
      },
      { name: 'unknown route', path: '/orders/bad-1/ship', body: {}, expectStatus: 404 },
    ]);
    assert.equal(await row('bad-1'), null);
  });

  describe('fault injection', () => {
    it('transient:N fails N times with 503 before doing anything, then succeeds once', async () => {
      const id = orderId();
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (
            await api.post(
              '/orders',
              { orderId: id, customerId: 'cust-1', items },
              { key: `${id}:create`, faults: 'transient:2' },
            )
          ).status,
        );
        if (i === 0) assert.equal(await row(id), null, 'a transient failure does nothing');
      }
      assert.deepEqual(statuses, [503, 503, 201]);
      assert.equal(await service.db.order.count({ where: { id } }), 1);
    });

    it('lost-response:N commits the work but answers 503; the retry gets the stored answer', async () => {
      const id = orderId();
      const body = { orderId: id, customerId: 'cust-1', items };
      const lost = await api.post('/orders', body, { key: `${id}:create`, faults: 'lost-response:1' });
      assert.equal(lost.status, 503);
      assert.equal(lost.body.error.code, 'injected_lost_response');
      assert.equal((await row(id))?.status, 'PENDING', 'the work was done');
      const retry = await api.post('/orders', body, { key: `${id}:create`, faults: 'lost-response:1' });
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(await service.db.order.count({ where: { id } }), 1, 'and only once');

      const reject = await api.post(
        `/orders/${id}/reject`,
        { reason: 'r' },
        { key: `${id}:reject`, faults: 'lost-response:1' },
      );
      assert.equal(reject.status, 503);
      const rejectRetry = await api.post(
        `/orders/${id}/reject`,
        { reason: 'r' },
        { key: `${id}:reject`, faults: 'lost-response:1' },
      );
      assert.deepEqual(
        [rejectRetry.status, rejectRetry.body.noop],
        [200, false],
        'the retry sees the first answer, not a no-op',
      );
    });

    it('reject answers 422 and writes nothing; delay slows the response', async () => {
      const before = await snapshotTables(service.databaseUrl);
      const id = orderId();
      const rejected = await api.post(
        '/orders',
        { orderId: id, customerId: 'cust-1', items },
        { key: `${id}:create`, faults: 'reject' },
      );
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.error.code, 'injected_rejection');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
      const started = performance.now();
      const slow = await api.post(
        '/orders',
        { orderId: orderId(), customerId: 'cust-1', items },
        { key: 'k-slow', faults: 'delay:300' },
      );
      assert.equal(slow.status, 201);
      assert.ok(performance.now() - started >= 290);
    });

    it('an invalid fault header is a 400', async () => {
      const id = orderId();
      const res = await api.post(
        '/orders',
        { orderId: id, customerId: 'cust-1', items },
        { key: `${id}:create`, faults: 'explode:now' },
      );
      assert.equal(res.status, 400);
      assert.equal(await row(id), null);
    });

    it('is off by default: the header is ignored', async () => {
      const plain = await startTestService(ordersService);
      try {
        const client = httpClient(plain.url);
        const res = await client.post(
          '/orders',
          { orderId: 'f-off', customerId: 'cust-1', items },
          { key: 'f-off:create', faults: 'reject' },
        );
        assert.equal(res.status, 201);
        const approved = await client.post(
          '/orders/f-off/approve',
          {},
          { key: 'f-off:approve', faults: 'transient:3' },
        );
        assert.equal(approved.status, 200);
      } finally {
        await plain.close();
      }
    });
  });
});
