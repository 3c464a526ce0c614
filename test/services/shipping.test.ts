import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ShippingDb } from '../../services/shipping/db';
import { SEED_SERVICE_AREAS } from '../../services/shipping/seed';
import { shippingService } from '../../services/shipping/service';
import { assertRejectedWithoutWrites, transportBadInputs } from '../support/bad-input';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

describe('shipping service', () => {
  let service: Awaited<ReturnType<typeof startTestService<ShippingDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const orderId = () => `ord-shp-${++n}`;
  const destination = (country = 'FR') => ({
    recipient: 'Ada Lovelace',
    line1: '12 rue de la Paix',
    city: 'Paris',
    postalCode: '75002',
    country,
  });
  const schedule = (id: string, key = `${id}:schedule`, country = 'FR') =>
    api.post('/shipments', { orderId: id, destination: destination(country) }, { key });
  const shipmentRow = (id: string) => service.db.shipment.findUnique({ where: { orderId: id } });
  // Computed here independently of the service's code: the contract is "TRK- + 12 hex chars of sha256(orderId)".
  const expectedTracking = (id: string) =>
    `TRK-${createHash('sha256').update(id).digest('hex').slice(0, 12).toUpperCase()}`;

  before(async () => {
    service = await startTestService(shippingService, { faultInjection: true });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('reports health', async () => {
    const res = await api.get('/health');
    assert.deepEqual([res.status, res.body], [200, { service: 'shipping', status: 'ok' }]);
  });

  it('seeds the service areas, and leaves AQ and KP out', async () => {
    const res = await api.get('/service-areas');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.map((a: { country: string }) => a.country),
      SEED_SERVICE_AREAS.map((a) => a.country).sort(),
    );
    assert.ok(!res.body.some((a: { country: string }) => ['AQ', 'KP'].includes(a.country)));
  });

  it('happy path: schedule (PENDING), confirm (CONFIRMED, deterministic tracking number), rows in the database', async () => {
    const id = orderId();
    const scheduled = await api.post(
      '/shipments',
      { orderId: id, destination: { ...destination(), city: '  Paris  ' } },
      { key: `${id}:schedule` },
    );
    assert.equal(scheduled.status, 201);
    assert.equal(scheduled.body.status, 'PENDING');
    assert.equal(scheduled.body.city, 'Paris', 'address fields are trimmed');
    assert.equal(scheduled.body.trackingNumber, null);
    assert.equal((await shipmentRow(id))?.status, 'PENDING');
    const read = await api.get(`/shipments/${id}`);
    assert.deepEqual([read.status, read.body.orderId, read.body.country], [200, id, 'FR']);

    const confirmed = await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm` });
    assert.equal(confirmed.status, 200);
    assert.equal(confirmed.body.status, 'CONFIRMED');
    assert.equal(confirmed.body.trackingNumber, expectedTracking(id));
    assert.ok(confirmed.body.confirmedAt);
    const row = await shipmentRow(id);
    assert.deepEqual(
      [row?.status, row?.trackingNumber, row?.recipient, row?.line1, row?.postalCode],
      ['CONFIRMED', expectedTracking(id), 'Ada Lovelace', '12 rue de la Paix', '75002'],
    );

    // Confirming again under another key (a retry that lost its key) is answered with the shipment unchanged.
    const again = await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm-bis` });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, confirmed.body);
  });

  it('unknown shipment → 404 on read', async () => {
    const res = await api.get('/shipments/never-scheduled');
    assert.deepEqual([res.status, res.body.error.code], [404, 'unknown_shipment']);
  });

  describe('business rejections', () => {
    for (const country of ['AQ', 'KP']) {
      it(`undeliverable destination (${country}) → 422, nothing written`, async () => {
        const id = orderId();
        const before = await snapshotTables(service.databaseUrl);
        const res = await schedule(id, `${id}:schedule`, country);
        assert.equal(res.status, 422);
        assert.equal(res.body.error.code, 'undeliverable_destination');
        assert.match(res.body.error.message, new RegExp(country));
        assert.deepEqual(await snapshotTables(service.databaseUrl), before, 'no shipment and no idempotency record');
      });
    }

    it('illegal transitions → 409: schedule twice, confirm after cancel, cancel after confirm; unknown shipment → 404', async () => {
      const twice = orderId();
      assert.equal((await schedule(twice)).status, 201);
      const second = await schedule(twice, `${twice}:schedule-bis`);
      assert.equal(second.status, 409);
      assert.equal(second.body.error.code, 'illegal_transition');

      const cancelled = orderId();
      await schedule(cancelled);
      await api.post(`/shipments/${cancelled}/cancel`, { reason: 'payment declined' }, { key: `${cancelled}:cancel` });
      const confirm = await api.post(`/shipments/${cancelled}/confirm`, {}, { key: `${cancelled}:confirm` });
      assert.deepEqual([confirm.status, confirm.body.error.code], [409, 'illegal_transition']);
      assert.equal((await shipmentRow(cancelled))?.trackingNumber, null);

      const shipped = orderId();
      await schedule(shipped);
      await api.post(`/shipments/${shipped}/confirm`, {}, { key: `${shipped}:confirm` });
      const cancel = await api.post(
        `/shipments/${shipped}/cancel`,
        { reason: 'too late' },
        { key: `${shipped}:cancel` },
      );
      assert.deepEqual([cancel.status, cancel.body.error.code], [409, 'illegal_transition']);
      assert.equal((await shipmentRow(shipped))?.status, 'CONFIRMED');

      const unknown = await api.post('/shipments/never-seen/confirm', {}, { key: 'never-seen:confirm' });
      assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'unknown_shipment']);
      assert.equal(await shipmentRow('never-seen'), null, 'confirming nothing writes nothing');
    });
  });

  describe('idempotency', () => {
    it('the same key twice: one row, the same response, marked as a replay', async () => {
      const id = orderId();
      const first = await schedule(id);
      const second = await schedule(id);
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(await service.db.shipment.count({ where: { orderId: id } }), 1);
    });

    it('the same key with a different body → 422, nothing changed', async () => {
      const id = orderId();
      await schedule(id);
      const before = await snapshotTables(service.databaseUrl);
      const res = await api.post(
        '/shipments',
        { orderId: id, destination: destination('DE') },
        { key: `${id}:schedule` },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'idempotency_key_reused');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
    });

    it('concurrent requests with the same key: one shipment, every caller gets it', async () => {
      const id = orderId();
      const results = await Promise.all(Array.from({ length: 6 }, () => schedule(id)));
      assert.deepEqual(
        results.map((r) => r.status),
        Array(6).fill(201),
      );
      for (const r of results) assert.deepEqual(r.body, results[0].body);
      assert.equal(await service.db.shipment.count({ where: { orderId: id } }), 1);
      assert.equal(await service.db.idempotencyRecord.count({ where: { key: `${id}:schedule` } }), 1);
    });
  });

  describe('compensation', () => {
    it('cancel undoes the schedule (CANCELLED with its reason); cancelling twice is still one effect', async () => {
      const id = orderId();
      await schedule(id);
      const first = await api.post(`/shipments/${id}/cancel`, { reason: 'payment declined' }, { key: `${id}:cancel` });
      assert.equal(first.status, 200);
      assert.equal(first.body.status, 'CANCELLED');
      assert.equal(first.body.reason, 'payment declined');
      assert.equal(first.body.noop, false);
      assert.ok(first.body.cancelledAt);
      const row = await shipmentRow(id);
      const again = await api.post(`/shipments/${id}/cancel`, { reason: 'payment declined' }, { key: `${id}:cancel` });
      assert.deepEqual([again.status, again.body], [200, first.body]);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const otherKey = await api.post(
        `/shipments/${id}/cancel`,
        { reason: 'retried by hand' },
        { key: `${id}:cancel-bis` },
      );
      assert.equal(otherKey.status, 200);
      assert.equal(otherKey.body.noop, true);
      assert.equal(otherKey.body.reason, 'payment declined', 'the first cancellation stands');
      assert.deepEqual(await shipmentRow(id), row, 'the row did not change after the first cancellation');
    });

    it('cancel without a shipment is a recorded no-op (tombstone), and a late schedule is then refused', async () => {
      const id = orderId();
      const res = await api.post(`/shipments/${id}/cancel`, { reason: 'saga compensating' }, { key: `${id}:cancel` });
      assert.equal(res.status, 200);
      assert.equal(res.body.noop, true);
      assert.equal(res.body.status, 'CANCELLED');
      assert.equal(res.body.reason, 'saga compensating (cancelled before any shipment existed: no-op)');
      const tombstone = await shipmentRow(id);
      assert.equal(tombstone?.status, 'CANCELLED', 'the no-op is recorded in the database');
      assert.deepEqual(
        [tombstone?.recipient, tombstone?.line1, tombstone?.city, tombstone?.postalCode, tombstone?.country],
        [null, null, null, null, null],
        'a tombstone has no address',
      );

      const late = await schedule(id);
      assert.equal(late.status, 409, 'a schedule arriving after its compensation must not ship');
      assert.equal(late.body.error.code, 'illegal_transition');
      assert.deepEqual(await shipmentRow(id), tombstone);
      const confirm = await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm` });
      assert.equal(confirm.status, 409, 'nor can a tombstone be confirmed');
    });
  });

  describe('concurrency', () => {
    it('8 concurrent schedules for one order under different keys: exactly one 201, the others 409', async () => {
      const id = orderId();
      const attempts = await Promise.all(Array.from({ length: 8 }, (_, i) => schedule(id, `${id}:schedule-${i}`)));
      const statuses = attempts.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(attempts.map((a) => a.body)));
      assert.equal(await service.db.shipment.count({ where: { orderId: id } }), 1);
      assert.equal(
        await service.db.idempotencyRecord.count({ where: { key: { startsWith: `${id}:schedule-` } } }),
        1,
        'the losers stored nothing',
      );
    });

    it('confirm racing cancel: exactly one wins, and the row agrees with the winner', async () => {
      for (let round = 0; round < 5; round++) {
        const id = orderId();
        await schedule(id);
        const [confirm, cancel] = await Promise.all([
          api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm` }),
          api.post(`/shipments/${id}/cancel`, { reason: 'race' }, { key: `${id}:cancel` }),
        ]);
        const row = await shipmentRow(id);
        if (confirm.status === 200) {
          assert.deepEqual([cancel.status, row?.status, row?.cancelledAt], [409, 'CONFIRMED', null]);
        } else {
          assert.deepEqual(
            [confirm.status, cancel.status, cancel.body.noop, row?.status, row?.trackingNumber],
            [409, 200, false, 'CANCELLED', null],
          );
        }
      }
    });

    it('schedule racing a compensation that arrives first: never both a tombstone and a shipment', async () => {
      for (let round = 0; round < 5; round++) {
        const id = orderId();
        const [scheduled, cancelled] = await Promise.all([
          schedule(id),
          api.post(`/shipments/${id}/cancel`, { reason: 'race' }, { key: `${id}:cancel` }),
        ]);
        assert.equal(cancelled.status, 200);
        assert.equal((await shipmentRow(id))?.status, 'CANCELLED');
        // Either the schedule came first and was cancelled (noop: false), or the tombstone came first and refused it.
        assert.deepEqual(
          [scheduled.status, cancelled.body.noop],
          scheduled.status === 201 ? [201, false] : [409, true],
        );
      }
    });
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { orderId: 'bad-1', destination: destination() };
    const withDestination = (patch: Record<string, unknown>) => ({
      orderId: 'bad-1',
      destination: { ...destination(), ...patch },
    });
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/shipments', valid),
      { name: 'missing destination', path: '/shipments', body: { orderId: 'bad-1' }, expectStatus: 400 },
      { name: 'missing orderId', path: '/shipments', body: { destination: destination() }, expectStatus: 400 },
      { name: 'lowercase country', path: '/shipments', body: withDestination({ country: 'fr' }), expectStatus: 400 },
      { name: '3-letter country', path: '/shipments', body: withDestination({ country: 'FRA' }), expectStatus: 400 },
      { name: 'country with spaces', path: '/shipments', body: withDestination({ country: ' FR' }), expectStatus: 400 },
      { name: 'empty city', path: '/shipments', body: withDestination({ city: '' }), expectStatus: 400 },
      { name: 'blank recipient', path: '/shipments', body: withDestination({ recipient: '   ' }), expectStatus: 400 },
      {
        name: 'oversized line1',
        path: '/shipments',
        body: withDestination({ line1: 'x'.repeat(201) }),
        expectStatus: 400,
      },
      {
        name: 'oversized postal code',
        path: '/shipments',
        body: withDestination({ postalCode: '9'.repeat(21) }),
        expectStatus: 400,
      },
      {
        name: 'control characters in line1',
        path: '/shipments',
        body: withDestination({ line1: 'x\u0000y\nz' }),
        expectStatus: 400,
      },
      {
        name: 'postal code is a number',
        path: '/shipments',
        body: withDestination({ postalCode: 75002 }),
        expectStatus: 400,
      },
      {
        name: 'destination is a string',
        path: '/shipments',
        body: { orderId: 'bad-1', destination: 'Paris' },
        expectStatus: 400,
      },
      { name: 'orderId is a number', path: '/shipments', body: { ...valid, orderId: 42 }, expectStatus: 400 },
      {
        name: 'unknown field inside destination',
        path: '/shipments',
        body: withDestination({ giftWrap: true }),
        expectStatus: 400,
      },
      {
        name: 'injection-looking order id',
        path: '/shipments',
        body: { ...valid, orderId: "x'; DROP TABLE shipments;--" },
        expectStatus: 400,
      },
      { name: 'too long order id', path: '/shipments', body: { ...valid, orderId: 'o'.repeat(65) }, expectStatus: 400 },
      { name: 'invalid Idempotency-Key', path: '/shipments', body: valid, key: 'k'.repeat(201), expectStatus: 400 },
      {
        name: 'undeliverable destination',
        path: '/shipments',
        body: withDestination({ country: 'AQ' }),
        expectStatus: 422,
      },
      {
        name: 'injection-looking order id in the path',
        path: `/shipments/${encodeURIComponent("x'; DROP TABLE shipments;--")}/confirm`,
        body: {},
        expectStatus: 400,
      },
      { name: 'confirm with a body field', path: '/shipments/bad-1/confirm', body: { force: true }, expectStatus: 400 },
      { name: 'confirm an unknown shipment', path: '/shipments/bad-1/confirm', body: {}, expectStatus: 404 },
      { name: 'cancel without a reason', path: '/shipments/bad-1/cancel', body: {}, expectStatus: 400 },
      {
        name: 'cancel with a blank reason',
        path: '/shipments/bad-1/cancel',
        body: { reason: '  ' },
        expectStatus: 400,
      },
      {
        name: 'reason with a NUL byte',
        path: '/shipments/bad-1/cancel',
        body: { reason: 'a\u0000b' },
        expectStatus: 400,
      },
      {
        name: 'oversized reason',
        path: '/shipments/bad-1/cancel',
        body: { reason: 'r'.repeat(501) },
        expectStatus: 400,
      },
      {
        name: 'cancel without Idempotency-Key',
        path: '/shipments/bad-1/cancel',
        body: { reason: 'x' },
        key: false,
        expectStatus: 400,
      },
    ]);
  });

  describe('fault injection', () => {
    it('transient:N fails N times with 503 before doing anything, then succeeds once', async () => {
      const id = orderId();
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (
            await api.post(
              '/shipments',
              { orderId: id, destination: destination() },
              { key: `${id}:schedule`, faults: 'transient:2' },
            )
          ).status,
        );
        if (i === 0) assert.equal(await shipmentRow(id), null, 'a transient failure does nothing');
      }
      assert.deepEqual(statuses, [503, 503, 201]);
      assert.equal(await service.db.shipment.count({ where: { orderId: id } }), 1);
    });

    it('lost-response:N commits the work but answers 503; the retry gets the stored answer and the same tracking number', async () => {
      const id = orderId();
      await schedule(id);
      const lost = await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm`, faults: 'lost-response:1' });
      assert.equal(lost.status, 503);
      const row = await shipmentRow(id);
      assert.equal(row?.status, 'CONFIRMED', 'the work was done');
      const retry = await api.post(`/shipments/${id}/confirm`, {}, { key: `${id}:confirm`, faults: 'lost-response:1' });
      assert.equal(retry.status, 200);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.body.trackingNumber, expectedTracking(id));
      assert.deepEqual(await shipmentRow(id), row, 'and only once');
    });

    it('reject answers 422 and writes nothing; delay slows the response', async () => {
      const before = await snapshotTables(service.databaseUrl);
      const rejected = await api.post(
        '/shipments',
        { orderId: orderId(), destination: destination() },
        { key: 'k-shp-reject', faults: 'reject' },
      );
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.error.code, 'injected_rejection');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
      const started = performance.now();
      const slow = await api.post(
        '/shipments',
        { orderId: orderId(), destination: destination() },
        { key: 'k-shp-slow', faults: 'delay:300' },
      );
      assert.equal(slow.status, 201);
      assert.ok(performance.now() - started >= 290);
    });

    it('an invalid fault header is a 400', async () => {
      const res = await api.post(
        '/shipments',
        { orderId: orderId(), destination: destination() },
        { key: 'k-shp-bad-fault', faults: 'explode:now' },
      );
      assert.equal(res.status, 400);
    });

    it('is off by default: the header is ignored', async () => {
      const plain = await startTestService(shippingService);
      try {
        const client = httpClient(plain.url);
        const res = await client.post(
          '/shipments',
          { orderId: 'f-off', destination: destination() },
          { key: 'f-off:schedule', faults: 'reject' },
        );
        assert.equal(res.status, 201);
        const transient = await client.post(
          '/shipments/f-off/confirm',
          {},
          { key: 'f-off:confirm', faults: 'transient:3' },
        );
        assert.equal(transient.status, 200);
      } finally {
        await plain.close();
      }
    });
  });
});
