import assert from 'node:assert/strict';
import pg from 'pg';
import type { InventoryDb } from '../../services/inventory/db';
import { inventoryService } from '../../services/inventory/service';
import type { OrdersDb } from '../../services/orders/db';
import { ordersService } from '../../services/orders/service';
import type { PaymentsDb } from '../../services/payments/db';
import { paymentsService } from '../../services/payments/service';
import { MAX_CENTS, MAX_QUANTITY } from '../../services/shared/fields';
import { assertRefused } from '../support/bad-input';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

/**
 * Money and stock at the edge of the 32-bit columns: a total or a balance that does not fit is a business answer
 * (422 amount_too_large, nothing written), never SQLSTATE 22003 (a 500, which the saga retries as transient and then
 * dead-letters); and CHECK constraints behind the zod bounds refuse a negative count or amount written by any path,
 * SQL included. Each service runs on its own fresh database: the products and customers made here are not the seed's.
 */
const INT_MAX = 2_147_483_647;

/** Runs one statement on its own connection: 'accepted', or the SQLSTATE and constraint that refused it. */
async function write(databaseUrl: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
    return 'accepted';
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    return `${e.code} ${e.constraint}`;
  } finally {
    await client.end();
  }
}

/** Runs each named statement on its own connection, at once: each one's answer, by name. */
async function writeEach(databaseUrl: string, statements: Record<string, string>): Promise<Record<string, string>> {
  return Object.fromEntries(
    await Promise.all(Object.entries(statements).map(async ([what, sql]) => [what, await write(databaseUrl, sql)])),
  );
}

describe('money and stock limits', () => {
  describe('inventory', () => {
    let service: Awaited<ReturnType<typeof startTestService<InventoryDb>>>;
    let api: ReturnType<typeof httpClient>;
    let n = 0;
    const orderId = () => `ord-lim-${++n}`;
    const reserve = (id: string, items: { sku: string; quantity: number }[]) =>
      api.post('/reservations', { orderId: id, items }, { key: `${id}:reserve` });
    const product = async (sku: string) => (await api.get(`/products/${sku}`)).body;

    before(async () => {
      service = await startTestService(inventoryService);
      api = httpClient(service.url);
      await service.db.product.createMany({
        data: [
          { sku: 'GOLD-1', name: 'Gold bar', priceCents: MAX_CENTS, available: 2 * MAX_QUANTITY },
          { sku: 'CAR-1', name: 'Small car', priceCents: 50_000, available: 2 * MAX_QUANTITY },
          { sku: 'TV-1', name: 'Television', priceCents: MAX_CENTS / MAX_QUANTITY, available: 2 * MAX_QUANTITY },
          { sku: 'BOLT-1', name: 'Bolt', priceCents: 1, available: INT_MAX - 1_000 },
        ],
      });
    });
    after(() => service?.close());

    it('a reservation whose total exceeds the 32-bit range (10,000 × 1,000,000.00) → 422 amount_too_large, nothing written', async () => {
      const id = orderId();
      const res = await assertRefused(
        service.databaseUrl,
        () => reserve(id, [{ sku: 'GOLD-1', quantity: MAX_QUANTITY }]),
        422,
        'amount_too_large',
      );
      assert.deepEqual(res.body.error.details, { totalCents: MAX_CENTS * MAX_QUANTITY, maxCents: MAX_CENTS });
      assert.match(res.body.error.message, /1000000000000 cents/);
    });

    it('a total above the largest chargeable amount is refused at the reservation, before the saga reaches its pivot; exactly that amount is reserved', async () => {
      // 500,000,000 cents fits the column, but payments refuses to charge more than MAX_CENTS.
      await assertRefused(
        service.databaseUrl,
        () => reserve(orderId(), [{ sku: 'CAR-1', quantity: MAX_QUANTITY }]),
        422,
        'amount_too_large',
      );
      // A line of its own fits; two of them together do not.
      await assertRefused(
        service.databaseUrl,
        () =>
          reserve(orderId(), [
            { sku: 'GOLD-1', quantity: 1 },
            { sku: 'TV-1', quantity: 1 },
          ]),
        422,
        'amount_too_large',
      );
      const exact = await reserve(orderId(), [{ sku: 'TV-1', quantity: MAX_QUANTITY }]);
      assert.deepEqual([exact.status, exact.body.totalCents], [201, MAX_CENTS], JSON.stringify(exact.body));
    });

    it('stock whose total would exceed the 32-bit range is refused, so confirm, release and restock can never overflow a counter', async () => {
      const id = orderId();
      assert.equal((await reserve(id, [{ sku: 'BOLT-1', quantity: 1_000 }])).status, 201);
      assert.equal((await api.post(`/reservations/${id}/confirm`, {}, { key: `${id}:confirm` })).status, 200);
      // Someone tops the shelf up by SQL (as infra/postgres/top-up.ts does): available + held + sold beyond INTEGER.
      const topUp = await write(
        service.databaseUrl,
        `UPDATE products SET available = available + 1001 WHERE sku = 'BOLT-1'`,
      );
      // The return's restock (sold → available) must then still succeed: it is the return saga's forward step.
      const restock = await api.post(
        `/reservations/${id}/restock`,
        { returnId: `ret-${id}` },
        { key: `${id}:restock` },
      );
      assert.equal(restock.status, 200, `restock after the top-up (${topUp}): ${JSON.stringify(restock.body)}`);
      assert.equal(topUp, '23514 products_stock_fits_integer');
      const bolt = await product('BOLT-1');
      assert.deepEqual([bolt.available, bolt.held, bolt.sold], [INT_MAX - 1_000, 0, 0]);
    });

    it('CHECK constraints refuse a negative count, a zero quantity or price, written directly with SQL', async () => {
      const refusals = {
        available: `UPDATE products SET available = -1 WHERE sku = 'KB-001'`,
        held: `UPDATE products SET held = -1 WHERE sku = 'KB-001'`,
        sold: `UPDATE products SET sold = -1 WHERE sku = 'KB-001'`,
        price: `UPDATE products SET price_cents = 0 WHERE sku = 'KB-001'`,
        quantity: `UPDATE reservation_lines SET quantity = 0`,
        unitPrice: `UPDATE reservation_lines SET unit_price_cents = -5`,
        total: `UPDATE reservations SET total_cents = -1`,
      };
      const answers = await writeEach(service.databaseUrl, refusals);
      assert.deepEqual(answers, {
        available: '23514 products_available_not_negative',
        held: '23514 products_held_not_negative',
        sold: '23514 products_sold_not_negative',
        price: '23514 products_price_cents_positive',
        quantity: '23514 reservation_lines_quantity_positive',
        unitPrice: '23514 reservation_lines_unit_price_cents_positive',
        total: '23514 reservations_total_cents_not_negative',
      });
    });
  });

  describe('payments', () => {
    let service: Awaited<ReturnType<typeof startTestService<PaymentsDb>>>;
    let api: ReturnType<typeof httpClient>;
    let n = 0;
    const orderId = () => `ord-lim-${++n}`;
    const balance = async (id: string) => (await api.get(`/customers/${id}`)).body.balanceCents as number;
    /** A deposit made outside the services (an operator, infra/postgres/top-up.ts): the balance set by SQL. */
    const setBalance = async (cents: number) =>
      assert.equal(
        await write(service.databaseUrl, `UPDATE customers SET balance_cents = ${cents} WHERE id = 'cust-whale'`),
        'accepted',
      );
    const charge = async () => {
      const id = orderId();
      const res = await api.post(
        '/payments',
        { orderId: id, customerId: 'cust-whale', amountCents: MAX_CENTS },
        { key: `${id}:charge` },
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return id;
    };

    before(async () => {
      service = await startTestService(paymentsService);
      api = httpClient(service.url);
      await service.db.customer.create({
        data: { id: 'cust-whale', name: 'Whale (near the limit)', balanceCents: 2_100_000_000, creditLimitCents: 0 },
      });
    });
    after(() => service?.close());

    it('a refund that would take a balance beyond the 32-bit range → 422 amount_too_large, the payment stays CHARGED; at the limit it is refunded', async () => {
      const id = await charge();
      await setBalance(INT_MAX - MAX_CENTS + 1);
      const res = await assertRefused(
        service.databaseUrl,
        () => api.post(`/payments/${id}/refund`, { reason: 'saga compensated' }, { key: `${id}:refund` }),
        422,
        'amount_too_large',
      );
      assert.deepEqual(res.body.error.details, {
        customerId: 'cust-whale',
        balanceCents: INT_MAX - MAX_CENTS + 1,
        amountCents: MAX_CENTS,
        maxBalanceCents: INT_MAX,
      });
      assert.equal((await api.get(`/payments/${id}`)).body.status, 'CHARGED');

      await setBalance(INT_MAX - MAX_CENTS);
      const refunded = await api.post(
        `/payments/${id}/refund`,
        { reason: 'saga compensated' },
        { key: `${id}:refund` },
      );
      assert.deepEqual([refunded.status, refunded.body.status], [200, 'REFUNDED'], JSON.stringify(refunded.body));
      assert.equal(await balance('cust-whale'), INT_MAX);
    });

    it("a return's refund beyond the 32-bit range → 422 amount_too_large, nothing written (the return saga's pivot is refused: it compensates)", async () => {
      await setBalance(2_100_000_000);
      const id = await charge();
      await setBalance(INT_MAX - 1);
      await assertRefused(
        service.databaseUrl,
        () => api.post('/refunds', { returnId: `ret-${id}`, orderId: id, reason: 'returned' }, { key: `ret-${id}` }),
        422,
        'amount_too_large',
      );
      assert.equal((await api.get(`/payments/${id}`)).body.status, 'CHARGED');
    });

    it('CHECK constraints refuse a zero or negative amount, a negative credit limit, a balance beyond the credit limit', async () => {
      const refusals = {
        payment: `INSERT INTO payments (order_id, customer_id, amount_cents, status, updated_at) VALUES ('p-neg', 'cust-alice', -5, 'CHARGED', now())`,
        paymentZero: `INSERT INTO payments (order_id, customer_id, amount_cents, status, updated_at) VALUES ('p-zero', 'cust-alice', 0, 'CHARGED', now())`,
        refund: `INSERT INTO refunds (return_id, order_id, customer_id, amount_cents, status, updated_at) VALUES ('r-neg', 'o', 'cust-alice', -5, 'REFUNDED', now())`,
        creditLimit: `UPDATE customers SET credit_limit_cents = -1 WHERE id = 'cust-alice'`,
        overdrawn: `UPDATE customers SET balance_cents = -100001 WHERE id = 'cust-carol'`,
      };
      const answers = await writeEach(service.databaseUrl, refusals);
      assert.deepEqual(answers, {
        payment: '23514 payments_amount_cents_positive',
        paymentZero: '23514 payments_amount_cents_positive',
        refund: '23514 refunds_amount_cents_positive',
        creditLimit: '23514 customers_credit_limit_cents_not_negative',
        overdrawn: '23514 customers_within_credit_limit',
      });
      // A tombstone (no customer, no amount) and a customer at exactly -creditLimit are still allowed.
      assert.equal(
        await write(
          service.databaseUrl,
          `INSERT INTO payments (order_id, status, updated_at) VALUES ('p-tombstone', 'CANCELLED', now())`,
        ),
        'accepted',
      );
      assert.equal(
        await write(service.databaseUrl, `UPDATE customers SET balance_cents = -100000 WHERE id = 'cust-carol'`),
        'accepted',
      );
    });
  });

  describe('orders', () => {
    let service: Awaited<ReturnType<typeof startTestService<OrdersDb>>>;

    before(async () => {
      service = await startTestService(ordersService);
    });
    after(() => service?.close());

    it("CHECK constraints refuse an order line's zero or negative quantity written directly with SQL", async () => {
      const res = await httpClient(service.url).post(
        '/orders',
        { orderId: 'ord-lim-1', customerId: 'cust-1', items: [{ sku: 'KB-001', quantity: 1 }] },
        { key: 'ord-lim-1:create' },
      );
      assert.equal(res.status, 201);
      for (const quantity of [0, -1])
        assert.equal(
          await write(service.databaseUrl, `UPDATE order_lines SET quantity = ${quantity}`),
          '23514 order_lines_quantity_positive',
        );
    });
  });
});
