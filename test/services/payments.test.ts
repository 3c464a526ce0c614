import assert from 'node:assert/strict';
import type { PaymentsDb } from '../../services/payments/db';
import { SEED_CUSTOMERS } from '../../services/payments/seed';
import { paymentsService } from '../../services/payments/service';
import { RACE_CUSTOMER } from '../support/customers';
import { assertRejectedWithoutWrites, transportBadInputs } from '../support/bad-input';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

describe('payments service', () => {
  let service: Awaited<ReturnType<typeof startTestService<PaymentsDb>>>;
  let api: ReturnType<typeof httpClient>;
  let n = 0;
  const orderId = () => `ord-pay-${++n}`;
  const balance = async (customerId: string) => (await api.get(`/customers/${customerId}`)).body.balanceCents as number;

  before(async () => {
    service = await startTestService(paymentsService, { faultInjection: true });
    await service.db.customer.create({ data: RACE_CUSTOMER });
    api = httpClient(service.url);
  });
  after(() => service?.close());

  it('reports health', async () => {
    const res = await api.get('/health');
    assert.deepEqual([res.status, res.body], [200, { service: 'payments', status: 'ok' }]);
  });

  it('happy path: a charge takes the money (CHARGED, with chargedAt) and is readable back', async () => {
    const id = orderId();
    const before = await balance('cust-alice');
    const charged = await api.post(
      '/payments',
      { orderId: id, customerId: 'cust-alice', amountCents: 12_345 },
      { key: `${id}:charge` },
    );
    assert.equal(charged.status, 201);
    assert.equal(charged.body.status, 'CHARGED');
    assert.equal(charged.body.amountCents, 12_345);
    assert.equal(charged.body.customerId, 'cust-alice');
    assert.ok(charged.body.chargedAt);
    assert.equal(await balance('cust-alice'), before - 12_345);

    const stored = await service.db.payment.findUnique({ where: { orderId: id } });
    assert.equal(stored?.status, 'CHARGED', 'the payment is in the database');
    const read = await api.get(`/payments/${id}`);
    assert.deepEqual([read.status, read.body], [200, charged.body]);
  });

  it('a customer with a credit limit may go negative, down to -creditLimit and no further', async () => {
    const first = orderId();
    const charged = await api.post(
      '/payments',
      { orderId: first, customerId: 'cust-carol', amountCents: 30_000 },
      { key: `${first}:charge` },
    );
    assert.equal(charged.status, 201);
    assert.equal(await balance('cust-carol'), -30_000, 'paid on credit');

    const second = orderId();
    const refused = await api.post(
      '/payments',
      { orderId: second, customerId: 'cust-carol', amountCents: 80_000 },
      { key: `${second}:charge` },
    );
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, 'insufficient_funds');
    assert.deepEqual(refused.body.error.details, { customerId: 'cust-carol', requested: 80_000, available: 70_000 });

    const third = orderId();
    const exact = await api.post(
      '/payments',
      { orderId: third, customerId: 'cust-carol', amountCents: 70_000 },
      { key: `${third}:charge` },
    );
    assert.equal(exact.status, 201, 'the whole credit line can be used');
    assert.equal(await balance('cust-carol'), -100_000);
  });

  it('reads: unknown customer → 404 unknown_customer, unknown payment → 404 unknown_payment', async () => {
    const customer = await api.get('/customers/cust-nobody');
    assert.deepEqual([customer.status, customer.body.error.code], [404, 'unknown_customer']);
    const payment = await api.get('/payments/never-charged');
    assert.deepEqual([payment.status, payment.body.error.code], [404, 'unknown_payment']);
  });

  it('concurrent charges for the last of the money: exactly one winner, the others get insufficient_funds', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.post(
          '/payments',
          { orderId: `race-${i}`, customerId: 'cust-race', amountCents: 8000 },
          { key: `race-${i}:charge` },
        ),
      ),
    );
    assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 422, 422, 422, 422, 422, 422, 422]);
    for (const a of attempts.filter((a) => a.status === 422)) assert.equal(a.body.error.code, 'insufficient_funds');
    assert.equal(await balance('cust-race'), 2000);
    assert.equal(await service.db.payment.count({ where: { orderId: { startsWith: 'race-' } } }), 1);
  });

  it('concurrent charges of the same order under different keys: one charge, the others 409 (never a 500)', async () => {
    const id = orderId();
    const before = await balance('cust-alice');
    const attempts = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api.post(
          '/payments',
          { orderId: id, customerId: 'cust-alice', amountCents: 1000 },
          { key: `${id}:charge-${i}` },
        ),
      ),
    );
    assert.deepEqual(attempts.map((a) => a.status).sort(), [201, 409, 409, 409, 409]);
    assert.equal(await balance('cust-alice'), before - 1000);
  });

  it('refuses at least 10 kinds of bad input with a 4xx and writes nothing', async () => {
    const valid = { orderId: 'bad-1', customerId: 'cust-alice', amountCents: 100 };
    const charge = (body: unknown) => ({ path: '/payments', body, expectStatus: 400 });
    await assertRejectedWithoutWrites(api, service.databaseUrl, [
      ...transportBadInputs('/payments', valid),
      { name: 'negative amount', ...charge({ ...valid, amountCents: -100 }) },
      { name: 'zero amount', ...charge({ ...valid, amountCents: 0 }) },
      { name: 'fractional amount', ...charge({ ...valid, amountCents: 10.5 }) },
      { name: 'amount as a string', ...charge({ ...valid, amountCents: '100' }) },
      { name: 'huge amount (beyond the 32-bit column)', ...charge({ ...valid, amountCents: 1e12 }) },
      { name: 'amount is null', ...charge({ ...valid, amountCents: null }) },
      { name: 'missing customerId', ...charge({ orderId: 'bad-1', amountCents: 100 }) },
      { name: 'missing orderId', ...charge({ customerId: 'cust-alice', amountCents: 100 }) },
      { name: 'customerId is a number', ...charge({ ...valid, customerId: 42 }) },
      { name: 'injection-looking order id', ...charge({ ...valid, orderId: "x'; DROP TABLE customers;--" }) },
      { name: 'injection-looking customer id', ...charge({ ...valid, customerId: "cust-alice' OR '1'='1" }) },
      { name: 'unknown customer', path: '/payments', body: { ...valid, customerId: 'cust-nobody' }, expectStatus: 404 },
      {
        name: 'insufficient funds',
        path: '/payments',
        body: { ...valid, customerId: 'cust-broke', amountCents: 501 },
        expectStatus: 422,
      },
      { name: 'refund without a reason', path: '/payments/bad-1/refund', body: {}, expectStatus: 400 },
      {
        name: 'refund with a blank reason',
        path: '/payments/bad-1/refund',
        body: { reason: '   ' },
        expectStatus: 400,
      },
      {
        name: 'refund with an oversized reason',
        path: '/payments/bad-1/refund',
        body: { reason: 'r'.repeat(501) },
        expectStatus: 400,
      },
      {
        name: 'refund with an extra field',
        path: '/payments/bad-1/refund',
        body: { reason: 'x', amountCents: 5 },
        expectStatus: 400,
      },
      {
        name: 'refund of an injection-looking order id',
        path: `/payments/${encodeURIComponent("x' OR 1=1--")}/refund`,
        body: { reason: 'x' },
        expectStatus: 400,
      },
      {
        name: 'refund without Idempotency-Key',
        path: '/payments/bad-1/refund',
        body: { reason: 'x' },
        key: false,
        expectStatus: 400,
      },
    ]);
  });

  describe('business rejections', () => {
    it('insufficient funds → 422 naming requested vs available, nothing written', async () => {
      const id = orderId();
      const before = await snapshotTables(service.databaseUrl);
      const res = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-broke', amountCents: 501 },
        { key: `${id}:charge` },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'insufficient_funds');
      assert.match(res.body.error.message, /501 cents requested, 500 cents available/);
      assert.deepEqual(
        await snapshotTables(service.databaseUrl),
        before,
        'no payment, no balance change, no idempotency record',
      );
    });

    it('unknown customer → 404 unknown_customer', async () => {
      const id = orderId();
      const res = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-nobody', amountCents: 100 },
        { key: `${id}:charge` },
      );
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'unknown_customer');
      assert.equal(await service.db.payment.findUnique({ where: { orderId: id } }), null);
    });

    it('illegal transition → 409: charging the same order twice under different keys', async () => {
      const id = orderId();
      const before = await balance('cust-bob');
      const first = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-bob', amountCents: 1500 },
        { key: `${id}:charge` },
      );
      assert.equal(first.status, 201);
      const again = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-bob', amountCents: 1500 },
        { key: `${id}:charge-bis` },
      );
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'illegal_transition');
      assert.deepEqual(again.body.error.details, { status: 'CHARGED' });
      assert.equal(await balance('cust-bob'), before - 1500, 'charged once');
    });
  });

  describe('idempotency', () => {
    it('the same key twice: one charge, the same response, marked as a replay', async () => {
      const id = orderId();
      const before = await balance('cust-bob');
      const body = { orderId: id, customerId: 'cust-bob', amountCents: 700 };
      const first = await api.post('/payments', body, { key: `${id}:charge` });
      const second = await api.post('/payments', body, { key: `${id}:charge` });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(await balance('cust-bob'), before - 700);
    });

    it('the same key with a different amount → 422 idempotency_key_reused, nothing changed', async () => {
      const id = orderId();
      await api.post('/payments', { orderId: id, customerId: 'cust-bob', amountCents: 300 }, { key: `${id}:charge` });
      const before = await snapshotTables(service.databaseUrl);
      const res = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-bob', amountCents: 301 },
        { key: `${id}:charge` },
      );
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'idempotency_key_reused');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
    });

    it('6 concurrent requests with the same key: one charge, six identical answers', async () => {
      const id = orderId();
      const before = await balance('cust-alice');
      const body = { orderId: id, customerId: 'cust-alice', amountCents: 2500 };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => api.post('/payments', body, { key: `${id}:charge` })),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array(6).fill(201),
      );
      for (const r of results) assert.deepEqual(r.body, results[0].body);
      assert.equal(
        results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length,
        5,
        'one original, five replays',
      );
      assert.equal(await balance('cust-alice'), before - 2500);
    });
  });

  describe('compensation', () => {
    it('refund restores the balance; refunding twice is still one effect', async () => {
      const id = orderId();
      const before = await balance('cust-bob');
      await api.post('/payments', { orderId: id, customerId: 'cust-bob', amountCents: 4200 }, { key: `${id}:charge` });
      assert.equal(await balance('cust-bob'), before - 4200);

      const first = await api.post(`/payments/${id}/refund`, { reason: 'shipping failed' }, { key: `${id}:refund` });
      assert.equal(first.status, 200);
      assert.equal(first.body.status, 'REFUNDED');
      assert.equal(first.body.reason, 'shipping failed');
      assert.equal(first.body.noop, false);
      assert.equal(first.body.amountCents, 4200, 'the refunded amount stays on the record');
      assert.ok(first.body.refundedAt);
      assert.equal(await balance('cust-bob'), before);

      const again = await api.post(`/payments/${id}/refund`, { reason: 'shipping failed' }, { key: `${id}:refund` });
      assert.deepEqual(again.body, first.body);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const otherKey = await api.post(
        `/payments/${id}/refund`,
        { reason: 'shipping failed again' },
        { key: `${id}:refund-bis` },
      );
      assert.equal(otherKey.status, 200);
      assert.equal(otherKey.body.noop, true);
      assert.equal(otherKey.body.reason, 'shipping failed', 'a no-op leaves the payment unchanged');
      assert.equal(await balance('cust-bob'), before, 'refunded exactly once');

      const recharge = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-bob', amountCents: 4200 },
        { key: `${id}:charge-bis` },
      );
      assert.equal(recharge.status, 409, 'a refunded order is never charged again');
    });

    it('refund without a charge is a recorded no-op (tombstone), and a late charge is then refused', async () => {
      const id = orderId();
      const before = await balance('cust-alice');
      const res = await api.post(`/payments/${id}/refund`, { reason: 'saga compensating' }, { key: `${id}:refund` });
      assert.equal(res.status, 200);
      assert.equal(res.body.noop, true);
      assert.equal(res.body.status, 'CANCELLED');
      assert.equal(res.body.reason, 'saga compensating (refunded before any charge: no-op)');
      const recorded = await service.db.payment.findUnique({ where: { orderId: id } });
      assert.deepEqual(
        [recorded?.status, recorded?.customerId, recorded?.amountCents],
        ['CANCELLED', null, 0],
        'the no-op is recorded in the database',
      );

      const again = await api.post(
        `/payments/${id}/refund`,
        { reason: 'saga compensating' },
        { key: `${id}:refund-bis` },
      );
      assert.deepEqual([again.status, again.body.noop, again.body.status], [200, true, 'CANCELLED']);

      const late = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-alice', amountCents: 1000 },
        { key: `${id}:charge` },
      );
      assert.equal(late.status, 409, 'a charge arriving after its compensation must not take money');
      assert.equal(late.body.error.code, 'illegal_transition');
      assert.deepEqual(late.body.error.details, { status: 'CANCELLED' });
      assert.equal(await balance('cust-alice'), before);
    });

    it('a charge racing its own refund: whichever wins, the money ends where it started', async () => {
      for (let i = 0; i < 5; i++) {
        const id = orderId();
        const before = await balance('cust-alice');
        const [charged, refunded] = await Promise.all([
          api.post('/payments', { orderId: id, customerId: 'cust-alice', amountCents: 900 }, { key: `${id}:charge` }),
          api.post(`/payments/${id}/refund`, { reason: 'timed out' }, { key: `${id}:refund` }),
        ]);
        assert.equal(refunded.status, 200);
        // Charge first → refunded (noop false); refund first → tombstone (noop true) and the charge is refused.
        if (refunded.body.noop) assert.deepEqual([charged.status, refunded.body.status], [409, 'CANCELLED']);
        else assert.deepEqual([charged.status, refunded.body.status], [201, 'REFUNDED']);
        assert.equal(await balance('cust-alice'), before);
      }
    });
  });

  describe('fault injection', () => {
    it('transient:N fails N times with 503 before doing anything, then charges once', async () => {
      const id = orderId();
      const before = await balance('cust-alice');
      const body = { orderId: id, customerId: 'cust-alice', amountCents: 111 };
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await api.post('/payments', body, { key: `${id}:charge`, faults: 'transient:2' })).status);
        if (i < 2) assert.equal(await balance('cust-alice'), before, 'a transient failure does nothing');
      }
      assert.deepEqual(statuses, [503, 503, 201]);
      assert.equal(await balance('cust-alice'), before - 111);
    });

    it('lost-response:N commits the charge but answers 503; the retry gets the stored answer; one balance change', async () => {
      const id = orderId();
      const before = await balance('cust-alice');
      const body = { orderId: id, customerId: 'cust-alice', amountCents: 222 };
      const lost = await api.post('/payments', body, { key: `${id}:charge`, faults: 'lost-response:2' });
      assert.equal(lost.status, 503);
      assert.equal(lost.body.error.code, 'injected_lost_response');
      assert.equal(await balance('cust-alice'), before - 222, 'the work was done');
      const lostAgain = await api.post('/payments', body, { key: `${id}:charge`, faults: 'lost-response:2' });
      assert.equal(lostAgain.status, 503);
      const retry = await api.post('/payments', body, { key: `${id}:charge`, faults: 'lost-response:2' });
      assert.equal(retry.status, 201);
      assert.equal(retry.body.status, 'CHARGED');
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(await balance('cust-alice'), before - 222, 'and only once');
    });

    it('lost-response on a refund: the money comes back once', async () => {
      const id = orderId();
      const before = await balance('cust-bob');
      await api.post('/payments', { orderId: id, customerId: 'cust-bob', amountCents: 333 }, { key: `${id}:charge` });
      const lost = await api.post(
        `/payments/${id}/refund`,
        { reason: 'x' },
        { key: `${id}:refund`, faults: 'lost-response:1' },
      );
      assert.equal(lost.status, 503);
      const retry = await api.post(
        `/payments/${id}/refund`,
        { reason: 'x' },
        { key: `${id}:refund`, faults: 'lost-response:1' },
      );
      assert.deepEqual([retry.status, retry.body.noop], [200, false]);
      assert.equal(await balance('cust-bob'), before);
    });

    it('reject answers 422 and writes nothing; delay slows the response', async () => {
      const before = await snapshotTables(service.databaseUrl);
      const rejected = await api.post(
        '/payments',
        { orderId: orderId(), customerId: 'cust-alice', amountCents: 100 },
        { key: 'k-reject', faults: 'reject' },
      );
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.error.code, 'injected_rejection');
      assert.deepEqual(await snapshotTables(service.databaseUrl), before);
      const started = performance.now();
      const slow = await api.post(
        '/payments',
        { orderId: orderId(), customerId: 'cust-alice', amountCents: 100 },
        { key: 'k-slow', faults: 'delay:300' },
      );
      assert.equal(slow.status, 201);
      assert.ok(performance.now() - started >= 290);
    });

    it('an invalid fault header is a 400', async () => {
      const res = await api.post(
        '/payments',
        { orderId: orderId(), customerId: 'cust-alice', amountCents: 100 },
        { key: 'k-bad-fault', faults: 'explode:now' },
      );
      assert.equal(res.status, 400);
    });

    it('is off by default: the header is ignored', async () => {
      const plain = await startTestService(paymentsService);
      try {
        const client = httpClient(plain.url);
        const rejected = await client.post(
          '/payments',
          { orderId: 'f-off', customerId: 'cust-alice', amountCents: 100 },
          { key: 'f-off:charge', faults: 'reject' },
        );
        assert.equal(rejected.status, 201);
        const lost = await client.post(
          '/payments',
          { orderId: 'f-off-2', customerId: 'cust-alice', amountCents: 100 },
          { key: 'f-off-2:charge', faults: 'lost-response:1' },
        );
        assert.equal(lost.status, 201);
        assert.equal((await client.get('/customers/cust-alice')).body.balanceCents, 500_000 - 200);
      } finally {
        await plain.close();
      }
    });
  });

  // Mocha runs a suite's own tests before its nested suites, so this one, defined last, sees everything above.
  describe('after all of the above', () => {
    it('money is conserved: seeded balance = balance + sum of CHARGED payments, for every customer', async () => {
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
      assert.ok(chargedBy.size >= 4, 'the tests above charged several customers');
      const orphans = await service.db.payment.count({
        where: {
          OR: [
            { customerId: null, NOT: { status: 'CANCELLED' } },
            { status: 'CANCELLED', amountCents: { not: 0 } },
          ],
        },
      });
      assert.equal(orphans, 0, 'only tombstones lack a customer, and they carry no money');
    });
  });
});
