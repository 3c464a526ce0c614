import assert from 'node:assert/strict';
import type { InventoryDb } from '../../services/inventory/db';
import { SEED_PRODUCTS } from '../../services/inventory/seed';
import { inventoryService } from '../../services/inventory/service';
import type { OrdersDb } from '../../services/orders/db';
import { ordersService } from '../../services/orders/service';
import type { PaymentsDb } from '../../services/payments/db';
import { SEED_CUSTOMERS } from '../../services/payments/seed';
import { RACE_CUSTOMER } from '../support/customers';
import { paymentsService } from '../../services/payments/service';
import type { ShippingDb } from '../../services/shipping/db';
import { shippingService } from '../../services/shipping/service';
import { assertRefused, assertRejectedWithoutWrites, transportBadInputs } from '../support/bad-input';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

/**
 * The services' side of returning an approved order (the return saga): each service on its own, its preconditions set
 * up through its own endpoints. Every business rejection is a 4xx in the error contract that writes nothing (the
 * tables are compared), every compensation leaves a tombstone that refuses a late forward request, every lock goes to
 * exactly one of several racing requests.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

describe('returns: orders service', () => {
  let service: Awaited<ReturnType<typeof startTestService<OrdersDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const next = () => ++n;
  const items = [{ sku: 'KB-001', quantity: 2 }];
  /** A new order in the given state, through the orders service's own endpoints. */
  const order = async (state: 'PENDING' | 'APPROVED' | 'REJECTED' = 'APPROVED') => {
    const id = `ord-ret-${next()}`;
    assert.equal(
      (await api.post('/orders', { orderId: id, customerId: 'cust-1', items }, { key: `${id}:create` })).status,
      201,
    );
    if (state === 'APPROVED')
      assert.equal((await api.post(`/orders/${id}/approve`, {}, { key: `${id}:approve` })).status, 200);
    if (state === 'REJECTED')
      assert.equal(
        (await api.post(`/orders/${id}/reject`, { reason: 'no stock' }, { key: `${id}:reject` })).status,
        200,
      );
    return id;
  };
  const request = (returnId: string, orderId: string, key = `${returnId}:request-return`, faults?: string) =>
    api.post('/returns', { returnId, orderId, reason: 'does not fit' }, { key, faults });
  const orderRow = (id: string) => service.db.order.findUnique({ where: { id } });

  before(async () => {
    service = await startTestService(ordersService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('happy path: request (REQUESTED, the order locked), complete (COMPLETED, the order RETURNED), readable back', async () => {
    const id = await order();
    const ret = `ret-${next()}`;
    const requested = await request(ret, id);
    assert.equal(requested.status, 201, JSON.stringify(requested.body));
    assert.deepEqual(
      [
        requested.body.id,
        requested.body.orderId,
        requested.body.status,
        requested.body.reason,
        requested.body.orderStatus,
      ],
      [ret, id, 'REQUESTED', 'does not fit', 'APPROVED'],
    );
    assert.equal((await orderRow(id))?.returnId, ret, 'the order is locked by its return');

    const completed = await api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-return` });
    assert.equal(completed.status, 200);
    assert.deepEqual([completed.body.status, completed.body.orderStatus], ['COMPLETED', 'RETURNED']);
    assert.ok(completed.body.completedAt);
    const stored = await orderRow(id);
    assert.deepEqual([stored?.status, stored?.returnId], ['RETURNED', ret]);
    assert.ok(stored?.returnedAt);
    const read = await api.get(`/orders/${id}`);
    assert.deepEqual(
      [read.body.status, read.body.returnId, read.body.returnedAt],
      ['RETURNED', ret, stored!.returnedAt!.toISOString()],
    );

    const listed = await api.get(`/returns?orderId=${id}`);
    assert.deepEqual(
      listed.body.returns.map((r: { id: string; status: string }) => [r.id, r.status]),
      [[ret, 'COMPLETED']],
    );
    assert.equal((await api.get(`/returns?returnId=${ret}`)).body.returns.length, 1);

    const replay = await api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-return` });
    assert.deepEqual([replay.body, replay.headers.get('idempotent-replayed')], [completed.body, 'true']);
    const again = await api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-again` });
    assert.deepEqual(
      [again.status, again.body.status],
      [200, 'COMPLETED'],
      'completing a completed return changes nothing',
    );
  });

  describe('business rejections: a 4xx, nothing written', () => {
    it('unknown order → 404 unknown_order', async () => {
      await assertRefused(service.databaseUrl, () => request(`ret-${next()}`, 'ord-nobody'), 404, 'unknown_order');
    });

    it('an order not approved (PENDING, REJECTED) → 409 order_not_approved', async () => {
      for (const state of ['PENDING', 'REJECTED'] as const) {
        const id = await order(state);
        const res = await assertRefused(
          service.databaseUrl,
          () => request(`ret-${next()}`, id),
          409,
          'order_not_approved',
        );
        assert.deepEqual(res.body.error.details, { status: state });
      }
    });

    it('already returned → 409 already_returned', async () => {
      const id = await order();
      const first = `ret-${next()}`;
      await request(first, id);
      await api.post(`/returns/${first}/complete`, {}, { key: `${first}:complete-return` });
      const res = await assertRefused(service.databaseUrl, () => request(`ret-${next()}`, id), 409, 'already_returned');
      assert.deepEqual(res.body.error.details, { status: 'RETURNED', returnId: first });
    });

    it('another return in progress → 409 return_in_progress; the same return again under another key → 409 illegal_transition', async () => {
      const id = await order();
      const first = `ret-${next()}`;
      await request(first, id);
      await assertRefused(service.databaseUrl, () => request(`ret-${next()}`, id), 409, 'return_in_progress');
      await assertRefused(
        service.databaseUrl,
        () => request(first, id, `${first}:request-again`),
        409,
        'illegal_transition',
      );
    });

    it('a RETURNED order can no longer be rejected or cancelled (409)', async () => {
      const id = await order();
      const ret = `ret-${next()}`;
      await request(ret, id);
      await api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-return` });
      for (const op of ['reject', 'cancel']) {
        const res = await assertRefused(
          service.databaseUrl,
          () => api.post(`/orders/${id}/${op}`, { reason: 'late' }, { key: `${id}:${op}` }),
          409,
          'illegal_transition',
        );
        assert.match(res.body.error.message, /is RETURNED and can no longer be/);
      }
    });

    it('complete: unknown return → 404 unknown_return, a CANCELLED one → 409', async () => {
      await assertRefused(
        service.databaseUrl,
        () => api.post('/returns/ret-nobody/complete', {}, { key: 'ret-nobody:complete-return' }),
        404,
        'unknown_return',
      );
      const ret = `ret-${next()}`;
      await api.post(`/returns/${ret}/cancel`, { reason: 'saga compensating' }, { key: `${ret}:cancel-return` });
      await assertRefused(
        service.databaseUrl,
        () => api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-return` }),
        409,
        'illegal_transition',
      );
    });
  });

  describe('compensation', () => {
    it('cancel: CANCELLED, the lock released (the order stays APPROVED and can be returned under a new id); twice is one effect', async () => {
      const id = await order();
      const ret = `ret-${next()}`;
      await request(ret, id);
      const cancelled = await api.post(
        `/returns/${ret}/cancel`,
        { reason: 'pickup refused' },
        { key: `${ret}:cancel-return` },
      );
      assert.deepEqual(
        [
          cancelled.status,
          cancelled.body.status,
          cancelled.body.noop,
          cancelled.body.cancelReason,
          cancelled.body.reason,
        ],
        [200, 'CANCELLED', false, 'pickup refused', 'does not fit'],
      );
      assert.deepEqual([(await orderRow(id))?.status, (await orderRow(id))?.returnId], ['APPROVED', null]);
      const again = await api.post(`/returns/${ret}/cancel`, { reason: 'again' }, { key: `${ret}:cancel-again` });
      assert.deepEqual([again.status, again.body.noop, again.body.cancelReason], [200, true, 'pickup refused']);
      assert.equal((await request(`ret-${next()}`, id)).status, 201, 'a new return of the same order');
    });

    it('cancel before the request: a recorded no-op (tombstone), and the late request is refused without locking the order', async () => {
      const id = await order();
      const ret = `ret-${next()}`;
      const res = await api.post(
        `/returns/${ret}/cancel`,
        { reason: 'saga compensating' },
        { key: `${ret}:cancel-return` },
      );
      assert.deepEqual([res.status, res.body.noop, res.body.status, res.body.orderId], [200, true, 'CANCELLED', null]);
      assert.equal(res.body.cancelReason, 'saga compensating (cancelled before the return was requested: no-op)');
      const late = await assertRefused(service.databaseUrl, () => request(ret, id), 409, 'illegal_transition');
      assert.match(late.body.error.message, /was cancelled before it was requested/);
      assert.equal((await orderRow(id))?.returnId, null);
    });

    it('a COMPLETED return can no longer be cancelled (409)', async () => {
      const id = await order();
      const ret = `ret-${next()}`;
      await request(ret, id);
      await api.post(`/returns/${ret}/complete`, {}, { key: `${ret}:complete-return` });
      await assertRefused(
        service.databaseUrl,
        () => api.post(`/returns/${ret}/cancel`, { reason: 'late' }, { key: `${ret}:cancel-return` }),
        409,
        'illegal_transition',
      );
    });

    it('a request racing its own cancellation: whichever wins, the order ends APPROVED and unlocked', async () => {
      for (let i = 0; i < 5; i++) {
        const id = await order();
        const ret = `ret-${next()}`;
        const [requested, cancelled] = await Promise.all([
          request(ret, id),
          api.post(`/returns/${ret}/cancel`, { reason: 'timed out' }, { key: `${ret}:cancel-return` }),
        ]);
        assert.equal(cancelled.status, 200);
        assert.equal(requested.status, cancelled.body.noop ? 409 : 201);
        assert.deepEqual([(await orderRow(id))?.status, (await orderRow(id))?.returnId], ['APPROVED', null]);
      }
    });
  });

  it('concurrent returns of one order under different return ids: exactly one is REQUESTED, the others 409 (never a 500)', async () => {
    const id = await order();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => request(`ret-${next()}`, id)));
    assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const a of attempts.filter((a) => a.status === 409)) assert.equal(a.body.error.code, 'return_in_progress');
    assert.equal(await service.db.return.count({ where: { orderId: id } }), 1);
    assert.equal((await orderRow(id))?.returnId, attempts.find((a) => a.status === 201)!.body.id);
  });

  it('lost-response: the request commits but answers 503; the retry gets the stored answer; one return', async () => {
    const id = await order();
    const ret = `ret-${next()}`;
    assert.equal((await request(ret, id, undefined, 'lost-response:1')).status, 503);
    const retry = await request(ret, id, undefined, 'lost-response:1');
    assert.deepEqual(
      [retry.status, retry.headers.get('idempotent-replayed'), retry.body.status],
      [201, 'true', 'REQUESTED'],
    );
    assert.equal(await service.db.return.count({ where: { orderId: id } }), 1);
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { returnId: 'ret-bad', orderId: 'ord-bad', reason: 'broken' };
    const post = (body: unknown) => ({ path: '/returns', body, expectStatus: 400 });
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/returns', valid),
      { name: 'missing returnId', ...post({ orderId: 'ord-bad', reason: 'broken' }) },
      { name: 'missing reason', ...post({ returnId: 'ret-bad', orderId: 'ord-bad' }) },
      { name: 'blank reason', ...post({ ...valid, reason: '  ' }) },
      { name: 'reason with a control character', ...post({ ...valid, reason: 'bro\u009bken' }) },
      { name: 'oversized reason', ...post({ ...valid, reason: 'r'.repeat(501) }) },
      { name: 'injection-looking return id', ...post({ ...valid, returnId: "r'; DROP TABLE returns;--" }) },
      { name: 'orderId is a number', ...post({ ...valid, orderId: 42 }) },
      { name: 'complete with a body', path: '/returns/ret-bad/complete', body: { force: true }, expectStatus: 400 },
      { name: 'cancel without a reason', path: '/returns/ret-bad/cancel', body: {}, expectStatus: 400 },
      {
        name: 'cancel of an injection-looking id',
        path: `/returns/${encodeURIComponent("x' OR 1=1--")}/cancel`,
        body: { reason: 'x' },
        expectStatus: 400,
      },
      {
        name: 'cancel without Idempotency-Key',
        path: '/returns/ret-bad/cancel',
        body: { reason: 'x' },
        key: false,
        expectStatus: 400,
      },
    ]);
    const query = await api.get('/returns?limit=0');
    assert.deepEqual([query.status, query.body.error.code], [400, 'validation_failed']);
  });
});

describe('returns: shipping service', () => {
  let service: Awaited<ReturnType<typeof startTestService<ShippingDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const next = () => ++n;
  const destination = {
    recipient: 'Ada Lovelace',
    line1: '12 rue de la Paix',
    city: 'Paris',
    postalCode: '75002',
    country: 'FR',
  };
  /** A new shipment in the given state, through the shipping service's own endpoints. */
  const shipment = async (state: 'PENDING' | 'CONFIRMED' | 'DELIVERED' = 'DELIVERED', deliveredAt?: string) => {
    const id = `ord-rsh-${next()}`;
    assert.equal((await api.post('/shipments', { orderId: id, destination }, { key: `${id}:schedule` })).status, 201);
    if (state !== 'PENDING')
      assert.equal((await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm` })).status, 200);
    if (state === 'DELIVERED')
      assert.equal((await api.post(`/shipments/${id}/deliver`, { deliveredAt }, { key: `${id}:deliver` })).status, 200);
    return id;
  };
  const book = (returnId: string, orderId: string, key = `${returnId}:book-return-pickup`) =>
    api.post('/return-pickups', { returnId, orderId }, { key });
  const cancel = (returnId: string, key = `${returnId}:cancel-return-pickup`) =>
    api.post(`/return-pickups/${returnId}/cancel`, { reason: 'return cancelled' }, { key });
  const shipmentRow = (id: string) => service.db.shipment.findUnique({ where: { orderId: id } });

  before(async () => {
    service = await startTestService(shippingService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('deliver: CONFIRMED → DELIVERED at the reported time (now by default); again is the same answer; a DELIVERED shipment cannot be cancelled', async () => {
    const id = await shipment('CONFIRMED');
    const at = daysAgo(3);
    const delivered = await api.post(`/shipments/${id}/deliver`, { deliveredAt: at }, { key: `${id}:deliver` });
    assert.deepEqual([delivered.status, delivered.body.status, delivered.body.deliveredAt], [200, 'DELIVERED', at]);
    assert.deepEqual((await api.get(`/shipments/${id}`)).body, delivered.body);
    const again = await api.post(`/shipments/${id}/deliver`, {}, { key: `${id}:deliver-again` });
    assert.deepEqual([again.status, again.body.deliveredAt], [200, at], 'the first time of delivery stays');

    const now = await shipment('CONFIRMED');
    const before = Date.now();
    const byDefault = await api.post(`/shipments/${now}/deliver`, {}, { key: `${now}:deliver` });
    assert.ok(Math.abs(Date.parse(byDefault.body.deliveredAt) - before) < 60_000, 'delivered now');

    await assertRefused(
      service.databaseUrl,
      () => api.post(`/shipments/${id}/cancel`, { reason: 'late' }, { key: `${id}:cancel` }),
      409,
      'illegal_transition',
    );
    const pending = await shipment('PENDING');
    await assertRefused(
      service.databaseUrl,
      () => api.post(`/shipments/${pending}/deliver`, {}, { key: 'k-pending' }),
      409,
      'illegal_transition',
    );
    await assertRefused(
      service.databaseUrl,
      () => api.post('/shipments/ord-nobody/deliver', {}, { key: 'k-nobody' }),
      404,
      'unknown_shipment',
    );
  });

  it("book: BOOKED at the shipment's address, the shipment locked; cancel: CANCELLED, the lock released, a new return can book", async () => {
    const id = await shipment('DELIVERED', daysAgo(29));
    const ret = `ret-${next()}`;
    const booked = await book(ret, id);
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    assert.deepEqual(
      [
        booked.body.returnId,
        booked.body.orderId,
        booked.body.status,
        booked.body.recipient,
        booked.body.city,
        booked.body.country,
      ],
      [ret, id, 'BOOKED', 'Ada Lovelace', 'Paris', 'FR'],
    );
    assert.equal((await shipmentRow(id))?.returnId, ret);
    assert.deepEqual(
      (await api.get(`/return-pickups?returnId=${ret}`)).body.returnPickups.map((p: { status: string }) => p.status),
      ['BOOKED'],
    );
    const replay = await book(ret, id);
    assert.deepEqual([replay.body, replay.headers.get('idempotent-replayed')], [booked.body, 'true']);

    const cancelled = await cancel(ret);
    assert.deepEqual([cancelled.status, cancelled.body.status, cancelled.body.noop], [200, 'CANCELLED', false]);
    assert.equal((await shipmentRow(id))?.returnId, null);
    assert.deepEqual([(await cancel(ret, `${ret}:cancel-again`)).body.noop], [true]);
    assert.equal((await book(`ret-${next()}`, id)).status, 201, 'a new return of the same shipment');
  });

  describe('business rejections: a 4xx, nothing written', () => {
    it('no shipment → 404 unknown_shipment', async () => {
      await assertRefused(service.databaseUrl, () => book(`ret-${next()}`, 'ord-nobody'), 404, 'unknown_shipment');
    });

    it('not yet delivered (PENDING, CONFIRMED) → 409 not_delivered', async () => {
      for (const state of ['PENDING', 'CONFIRMED'] as const) {
        const id = await shipment(state);
        const res = await assertRefused(service.databaseUrl, () => book(`ret-${next()}`, id), 409, 'not_delivered');
        assert.deepEqual(res.body.error.details, { status: state });
      }
    });

    it('delivered more than 30 days ago → 422 return_window_passed, naming when it ended', async () => {
      const at = daysAgo(31);
      const id = await shipment('DELIVERED', at);
      const res = await assertRefused(
        service.databaseUrl,
        () => book(`ret-${next()}`, id),
        422,
        'return_window_passed',
      );
      assert.equal(res.body.error.details.deliveredAt, at);
      assert.equal(res.body.error.details.windowEndedAt, new Date(Date.parse(at) + 30 * DAY_MS).toISOString());
      assert.match(res.body.error.message, /return window of 30 days ended at/);
    });

    it('another pickup booked → 409 return_in_progress; the same return under another key → 409 illegal_transition', async () => {
      const id = await shipment();
      const ret = `ret-${next()}`;
      await book(ret, id);
      await assertRefused(service.databaseUrl, () => book(`ret-${next()}`, id), 409, 'return_in_progress');
      await assertRefused(service.databaseUrl, () => book(ret, id, `${ret}:book-again`), 409, 'illegal_transition');
    });
  });

  it('cancel before the booking: a recorded no-op (tombstone), and the late booking is refused without locking the shipment', async () => {
    const id = await shipment();
    const ret = `ret-${next()}`;
    const res = await cancel(ret);
    assert.deepEqual([res.status, res.body.noop, res.body.status, res.body.orderId], [200, true, 'CANCELLED', null]);
    const late = await assertRefused(service.databaseUrl, () => book(ret, id), 409, 'illegal_transition');
    assert.match(late.body.error.message, /was cancelled before it was booked/);
    assert.equal((await shipmentRow(id))?.returnId, null);
  });

  it('concurrent bookings for one shipment under different return ids: exactly one BOOKED, the others 409', async () => {
    const id = await shipment();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => book(`ret-${next()}`, id)));
    assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409]);
    assert.equal(await service.db.returnPickup.count({ where: { orderId: id, status: 'BOOKED' } }), 1);
  });

  it('a booking racing its own cancellation: whichever wins, the shipment ends unlocked', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await shipment();
      const ret = `ret-${next()}`;
      const [booked, cancelled] = await Promise.all([book(ret, id), cancel(ret)]);
      assert.equal(booked.status, cancelled.body.noop ? 409 : 201);
      assert.equal((await shipmentRow(id))?.returnId, null);
    }
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const id = await shipment('CONFIRMED');
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/return-pickups', { returnId: 'ret-bad', orderId: id }),
      { name: 'missing orderId', path: '/return-pickups', body: { returnId: 'ret-bad' }, expectStatus: 400 },
      {
        name: 'returnId with a space',
        path: '/return-pickups',
        body: { returnId: 'ret bad', orderId: id },
        expectStatus: 400,
      },
      {
        name: 'delivered in the future',
        path: `/shipments/${id}/deliver`,
        body: { deliveredAt: new Date(Date.now() + DAY_MS).toISOString() },
        expectStatus: 400,
      },
      {
        name: 'delivered at a date without a time',
        path: `/shipments/${id}/deliver`,
        body: { deliveredAt: '2026-11-30' },
        expectStatus: 400,
      },
      {
        name: 'delivered at nonsense',
        path: `/shipments/${id}/deliver`,
        body: { deliveredAt: 'yesterday' },
        expectStatus: 400,
      },
      {
        name: 'deliver with an extra field',
        path: `/shipments/${id}/deliver`,
        body: { signedBy: 'Ada' },
        expectStatus: 400,
      },
      { name: 'cancel pickup without a reason', path: '/return-pickups/ret-bad/cancel', body: {}, expectStatus: 400 },
      {
        name: 'cancel pickup with an oversized reason',
        path: '/return-pickups/ret-bad/cancel',
        body: { reason: 'r'.repeat(501) },
        expectStatus: 400,
      },
    ]);
  });
});

describe('returns: payments service', () => {
  let service: Awaited<ReturnType<typeof startTestService<PaymentsDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const next = () => ++n;
  const balance = async (customerId: string) => (await api.get(`/customers/${customerId}`)).body.balanceCents as number;
  const charge = async (customerId = 'cust-alice', amountCents = 5000) => {
    const id = `ord-rpy-${next()}`;
    assert.equal(
      (await api.post('/payments', { orderId: id, customerId, amountCents }, { key: `${id}:charge` })).status,
      201,
    );
    return id;
  };
  const refund = (returnId: string, orderId: string, key = `${returnId}:refund-return`, faults?: string) =>
    api.post('/refunds', { returnId, orderId, reason: 'returned' }, { key, faults });
  const voidRefund = (returnId: string, key = `${returnId}:void-refund`) =>
    api.post(`/refunds/${returnId}/void`, { reason: 'outcome unknown' }, { key });

  before(async () => {
    service = await startTestService(paymentsService, { faultInjection: true });
    await service.db.customer.create({ data: RACE_CUSTOMER });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('refund: the whole payment back to its customer (REFUNDED), once; readable back', async () => {
    const id = await charge('cust-bob', 4200);
    const before = await balance('cust-bob');
    const ret = `ret-${next()}`;
    const refunded = await refund(ret, id);
    assert.equal(refunded.status, 201, JSON.stringify(refunded.body));
    assert.deepEqual(
      [
        refunded.body.returnId,
        refunded.body.orderId,
        refunded.body.customerId,
        refunded.body.amountCents,
        refunded.body.status,
      ],
      [ret, id, 'cust-bob', 4200, 'REFUNDED'],
    );
    assert.equal(await balance('cust-bob'), before + 4200);
    assert.deepEqual(
      [(await api.get(`/payments/${id}`)).body.status, (await api.get(`/payments/${id}`)).body.reason],
      ['REFUNDED', 'returned'],
    );
    assert.deepEqual(
      (await api.get(`/refunds?orderId=${id}`)).body.refunds.map((r: { returnId: string }) => r.returnId),
      [ret],
    );
    const replay = await refund(ret, id);
    assert.deepEqual([replay.body, replay.headers.get('idempotent-replayed')], [refunded.body, 'true']);
    assert.equal(await balance('cust-bob'), before + 4200, 'refunded once');
  });

  describe('business rejections: a 4xx, nothing written', () => {
    it('no payment → 404 unknown_payment', async () => {
      await assertRefused(service.databaseUrl, () => refund(`ret-${next()}`, 'ord-nobody'), 404, 'unknown_payment');
    });

    it("already refunded (by a return, or by the order saga's compensation) → 409 already_refunded", async () => {
      const id = await charge();
      await refund(`ret-${next()}`, id);
      await assertRefused(service.databaseUrl, () => refund(`ret-${next()}`, id), 409, 'already_refunded');
      const compensated = await charge();
      await api.post(
        `/payments/${compensated}/refund`,
        { reason: 'saga compensating' },
        { key: `${compensated}:refund` },
      );
      const res = await assertRefused(
        service.databaseUrl,
        () => refund(`ret-${next()}`, compensated),
        409,
        'already_refunded',
      );
      assert.deepEqual(res.body.error.details, { status: 'REFUNDED' });
    });

    it('the same return under another key → 409 illegal_transition', async () => {
      const id = await charge();
      const ret = `ret-${next()}`;
      await refund(ret, id);
      await assertRefused(service.databaseUrl, () => refund(ret, id, `${ret}:refund-again`), 409, 'illegal_transition');
    });
  });

  describe("compensation (the pivot's, for an unknown outcome)", () => {
    it('void after a refund takes the money back (the payment CHARGED again, the refund VOIDED); twice is one effect', async () => {
      const id = await charge('cust-alice', 3000);
      const ret = `ret-${next()}`;
      await refund(ret, id);
      const before = await balance('cust-alice');
      const voided = await voidRefund(ret);
      assert.deepEqual(
        [voided.status, voided.body.status, voided.body.noop, voided.body.amountCents],
        [200, 'VOIDED', false, 3000],
      );
      assert.equal(await balance('cust-alice'), before - 3000);
      assert.equal((await api.get(`/payments/${id}`)).body.status, 'CHARGED');
      const again = await voidRefund(ret, `${ret}:void-again`);
      assert.deepEqual([again.status, again.body.noop], [200, true]);
      assert.equal(await balance('cust-alice'), before - 3000, 'taken back once');
    });

    it('void before any refund: a recorded no-op (tombstone), and the late refund is refused', async () => {
      const id = await charge();
      const ret = `ret-${next()}`;
      const res = await voidRefund(ret);
      assert.deepEqual(
        [res.status, res.body.noop, res.body.status, res.body.orderId, res.body.amountCents],
        [200, true, 'VOIDED', null, 0],
      );
      const late = await assertRefused(service.databaseUrl, () => refund(ret, id), 409, 'illegal_transition');
      assert.match(late.body.error.message, /was voided before it was refunded/);
      assert.equal((await api.get(`/payments/${id}`)).body.status, 'CHARGED');
    });

    it('void when the customer spent the refund → 422 insufficient_funds, nothing changed (an operator decides)', async () => {
      const id = await charge('cust-race', 8000);
      const ret = `ret-${next()}`;
      await refund(ret, id);
      await charge('cust-race', 9000);
      const res = await assertRefused(service.databaseUrl, () => voidRefund(ret), 422, 'insufficient_funds');
      assert.deepEqual(res.body.error.details, { customerId: 'cust-race', requested: 8000, available: 1000 });
    });

    it('a refund racing its own void: whichever wins, the money ends where it started', async () => {
      for (let i = 0; i < 5; i++) {
        const id = await charge('cust-alice', 700);
        const before = await balance('cust-alice');
        const ret = `ret-${next()}`;
        const [refunded, voided] = await Promise.all([refund(ret, id), voidRefund(ret)]);
        assert.equal(voided.status, 200);
        assert.equal(refunded.status, voided.body.noop ? 409 : 201);
        assert.equal(await balance('cust-alice'), before);
        assert.equal((await api.get(`/payments/${id}`)).body.status, 'CHARGED');
      }
    });
  });

  it('concurrent refunds of one payment under different return ids: the money comes back exactly once', async () => {
    const id = await charge('cust-bob', 1500);
    const before = await balance('cust-bob');
    const attempts = await Promise.all(Array.from({ length: 6 }, () => refund(`ret-${next()}`, id)));
    assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const a of attempts.filter((a) => a.status === 409)) assert.equal(a.body.error.code, 'already_refunded');
    assert.equal(await balance('cust-bob'), before + 1500);
    assert.equal(await service.db.refund.count({ where: { orderId: id } }), 1);
  });

  it('lost-response on a refund: committed, answered 503; the retry gets the stored answer; the money comes back once', async () => {
    const id = await charge('cust-bob', 333);
    const before = await balance('cust-bob');
    const ret = `ret-${next()}`;
    assert.equal((await refund(ret, id, undefined, 'lost-response:1')).status, 503);
    const retry = await refund(ret, id, undefined, 'lost-response:1');
    assert.deepEqual([retry.status, retry.headers.get('idempotent-replayed')], [201, 'true']);
    assert.equal(await balance('cust-bob'), before + 333);
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { returnId: 'ret-bad', orderId: 'ord-bad', reason: 'returned' };
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/refunds', valid),
      {
        name: 'an amount (refunds are always the whole payment)',
        path: '/refunds',
        body: { ...valid, amountCents: 100 },
        expectStatus: 400,
      },
      { name: 'missing orderId', path: '/refunds', body: { returnId: 'ret-bad', reason: 'x' }, expectStatus: 400 },
      { name: 'reason with a NUL', path: '/refunds', body: { ...valid, reason: 'a\u0000b' }, expectStatus: 400 },
      { name: 'void without a reason', path: '/refunds/ret-bad/void', body: {}, expectStatus: 400 },
      {
        name: 'void of an overlong id',
        path: `/refunds/${'r'.repeat(65)}/void`,
        body: { reason: 'x' },
        expectStatus: 400,
      },
    ]);
  });

  describe('after all of the above', () => {
    it('money is conserved: seeded balance = balance + sum of CHARGED payments; each REFUNDED refund matches a REFUNDED payment', async () => {
      const customers = await service.db.customer.findMany();
      const charged = await service.db.payment.groupBy({
        by: ['customerId'],
        where: { status: 'CHARGED' },
        _sum: { amountCents: true },
      });
      const chargedBy = new Map(charged.map((c) => [c.customerId, c._sum.amountCents ?? 0]));
      assert.deepEqual(
        customers.map((c) => [c.id, c.balanceCents + (chargedBy.get(c.id) ?? 0)]).sort(),
        [...SEED_CUSTOMERS, RACE_CUSTOMER].map((c) => [c.id, c.balanceCents]).sort(),
      );
      assert.ok(
        customers.every((c) => c.balanceCents >= -c.creditLimitCents),
        'no customer beyond their credit limit',
      );
      for (const r of await service.db.refund.findMany({ where: { status: 'REFUNDED' } })) {
        const payment = await service.db.payment.findUnique({ where: { orderId: r.orderId! } });
        assert.deepEqual(
          [payment?.status, payment?.amountCents, payment?.customerId],
          ['REFUNDED', r.amountCents, r.customerId],
          r.returnId,
        );
      }
    });
  });
});

describe('returns: inventory service', () => {
  let service: Awaited<ReturnType<typeof startTestService<InventoryDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const next = () => ++n;
  const product = async (sku: string) => (await api.get(`/products/${sku}`)).body;
  const sold = async (state: 'PENDING' | 'CONFIRMED' = 'CONFIRMED') => {
    const id = `ord-rin-${next()}`;
    assert.equal(
      (
        await api.post(
          '/reservations',
          {
            orderId: id,
            items: [
              { sku: 'MS-002', quantity: 2 },
              { sku: 'CB-004', quantity: 1 },
            ],
          },
          { key: `${id}:reserve` },
        )
      ).status,
      201,
    );
    if (state === 'CONFIRMED')
      assert.equal((await api.post(`/reservations/${id}/confirm`, {}, { key: `${id}:confirm` })).status, 200);
    return id;
  };
  const restock = (orderId: string, returnId: string, key = `${returnId}:restock`) =>
    api.post(`/reservations/${orderId}/restock`, { returnId }, { key });

  before(async () => {
    service = await startTestService(inventoryService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('restock: the sold units back to available (RETURNED), once; again for the same return is the same answer', async () => {
    const id = await sold();
    const before = await product('MS-002');
    const ret = `ret-${next()}`;
    const restocked = await restock(id, ret);
    assert.deepEqual([restocked.status, restocked.body.status, restocked.body.returnId], [200, 'RETURNED', ret]);
    assert.ok(restocked.body.returnedAt);
    const after = await product('MS-002');
    assert.deepEqual([after.available, after.held, after.sold], [before.available + 2, before.held, before.sold - 2]);
    const again = await restock(id, ret, `${ret}:restock-again`);
    assert.deepEqual([again.status, again.body.status], [200, 'RETURNED']);
    assert.deepEqual(await product('MS-002'), after, 'restocked once');
  });

  it('rejections: no reservation → 404, not sold (PENDING) → 409, restocked for another return → 409 already_returned, a RETURNED reservation cannot be released', async () => {
    await assertRefused(service.databaseUrl, () => restock('ord-nobody', `ret-${next()}`), 404, 'unknown_reservation');
    const pending = await sold('PENDING');
    await assertRefused(service.databaseUrl, () => restock(pending, `ret-${next()}`), 409, 'illegal_transition');
    const id = await sold();
    const ret = `ret-${next()}`;
    await restock(id, ret);
    const other = await assertRefused(service.databaseUrl, () => restock(id, `ret-${next()}`), 409, 'already_returned');
    assert.deepEqual(other.body.error.details, { status: 'RETURNED', returnId: ret });
    await assertRefused(
      service.databaseUrl,
      () => api.post(`/reservations/${id}/release`, { reason: 'late' }, { key: `${id}:release` }),
      409,
      'illegal_transition',
    );
  });

  it('concurrent restocks of one order (several keys and returns): its units come back exactly once', async () => {
    const id = await sold();
    const before = await product('CB-004');
    const ret = `ret-${next()}`;
    const attempts = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => restock(id, ret, `${ret}:restock-${i}`)),
      restock(id, `ret-${next()}`),
    ]);
    assert.deepEqual(
      attempts.map((a) => a.status),
      [200, 200, 200, 200, 409],
    );
    const after = await product('CB-004');
    assert.deepEqual([after.available, after.sold], [before.available + 1, before.sold - 1]);
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const id = await sold();
    const path = `/reservations/${id}/restock`;
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs(path, { returnId: 'ret-bad' }),
      { name: 'missing returnId', path, body: {}, expectStatus: 400 },
      { name: 'returnId is a number', path, body: { returnId: 7 }, expectStatus: 400 },
      {
        name: 'items to restock (always the whole reservation)',
        path,
        body: { returnId: 'ret-bad', items: [{ sku: 'MS-002', quantity: 1 }] },
        expectStatus: 400,
      },
      {
        name: 'an injection-looking order id',
        path: `/reservations/${encodeURIComponent("x' OR 1=1--")}/restock`,
        body: { returnId: 'ret-bad' },
        expectStatus: 400,
      },
    ]);
  });

  describe('after all of the above', () => {
    it('stock is conserved: initial = available + held + sold, for every product', async () => {
      const products = await service.db.product.findMany();
      assert.deepEqual(
        products.map((p) => [p.sku, p.available + p.held + p.sold]).sort(),
        SEED_PRODUCTS.map((p) => [p.sku, p.available]).sort(),
      );
    });
  });
});
