/**
 * Temporal server outages with real processes: the dev server (persisted to a SQLite file) goes down mid-saga,
 * gracefully (SIGTERM) or by SIGKILL, and stays down until a step in flight has taken effect at its service. It comes
 * back on the same port and file; the worker process is never restarted. The saga must resume and end where it
 * should, each effect once.
 *
 * What the SDK (1.24, server 1.32 in CLI 1.9.1) does meanwhile, as seen here: the worker keeps running and reconnects
 * by itself, and the activity that finished during the outage is not lost: its completion is retried until the
 * server answers, so the history shows it completed on attempt 1.
 */
import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import { getSagaState, startSaga } from '../../cli/saga-client';
import type { ServiceName } from '../../services/catalog';
import { startProcessStack, type ProcessStack } from '../support/processes';
import { assertSagaEnds, finalAttempts, sql, waitFor, waitForPendingActivity, stock as readStock } from './observe';
import { withoutRunId } from '../../scripts/chaos/saga-keys';
import { destination as defaultDestination } from '../support/orders';

const destination = defaultDestination();

describe('Temporal server restart mid-saga (real dev server on a SQLite file, worker process kept running)', function () {
  this.timeout(90_000);
  let stack: ProcessStack;
  let n = 0;
  const newOrderId = (label: string) => `ord-restart-${label}-${Date.now().toString(36)}-${++n}`;
  const db = (service: ServiceName, text: string, params: unknown[] = []) =>
    sql(stack.databaseUrls[service], text, params);

  before(async function () {
    this.timeout(120_000);
    stack = await startProcessStack({
      persistTemporal: true,
      serviceGroups: [['orders', 'inventory', 'shipping', 'payments']],
      requestTimeoutMs: 4_500,
    });
    await stack.startWorker();
  });

  after(async function () {
    this.timeout(60_000);
    await stack?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && stack) console.error(stack.logs());
  });

  const stock = (sku: string) => readStock(stack.databaseUrls.inventory, sku);

  it('server stopped (SIGTERM) while a step runs, the step finishes during the outage: the saga resumes, APPROVED, each effect once', async () => {
    const orderId = newOrderId('graceful');
    const worker = stack.worker!;
    const before = await stock('MS-002');
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'MS-002', quantity: 1 }],
      destination,
      faults: { 'schedule-shipment': 'delay:2000' },
      options: { stepTimeout: '5s', stepRetry: { initialInterval: '200ms', maximumInterval: '1s' } },
    });
    await waitForPendingActivity(stack.client, orderId, 'scheduleShipment');

    const downMs = await stack.restartTemporal({
      whileDown: async () => {
        await waitFor(
          'schedule-shipment to take effect while the server is down',
          async () => (await db('shipping', 'SELECT 1 FROM shipments WHERE order_id = $1', [orderId])).length === 1,
          10_000,
        );
        await new Promise((r) => setTimeout(r, 1_000)); // and the worker failing to report it for a while
      },
    });
    assert.ok(downMs >= 1_000, `server down ${downMs} ms`);
    assert.equal(worker.exit, undefined, 'the worker process survived the outage');

    await assertSagaEnds(stack.client, orderId, 'APPROVED');
    const attempts = await finalAttempts(stack.client, orderId);
    assert.ok(
      Object.values(attempts).every((a) => a <= 2),
      `no step needed more than a retry: ${JSON.stringify(attempts)}`,
    );
    assert.deepEqual(await db('shipping', 'SELECT status FROM shipments WHERE order_id = $1', [orderId]), [
      { status: 'CONFIRMED' },
    ]);
    assert.deepEqual(await db('payments', 'SELECT status, amount_cents FROM payments WHERE order_id = $1', [orderId]), [
      { status: 'CHARGED', amount_cents: 2900 },
    ]);
    assert.deepEqual(await db('orders', 'SELECT status FROM orders WHERE id = $1', [orderId]), [
      { status: 'APPROVED' },
    ]);
    assert.deepEqual(await stock('MS-002'), {
      available: before.available - 1,
      held: before.held,
      sold: before.sold + 1,
    });
    assert.deepEqual(
      (
        await db('shipping', 'SELECT key FROM idempotency_records WHERE key LIKE $1 ORDER BY key', [`${orderId}:%`])
      ).map((r) => withoutRunId(r.key as string)),
      [`${orderId}:confirmShipment`, `${orderId}:scheduleShipment`],
    );
  });

  it('server SIGKILLed during a compensation, down until it took effect: the saga resumes from the file, REJECTED, stock back exactly', async () => {
    const orderId = newOrderId('kill9');
    const worker = stack.worker!;
    const before = await stock('KB-001');
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-broke',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination,
      faults: { 'release-inventory': 'delay:2000' },
      options: { stepTimeout: '5s', compensationRetry: { initialInterval: '200ms', maximumInterval: '1s' } },
    });
    await waitForPendingActivity(stack.client, orderId, 'releaseInventory');

    await stack.restartTemporal({
      kill: true,
      whileDown: () =>
        waitFor(
          'release-inventory to take effect while the server is down',
          async () => {
            const [r] = await db('inventory', 'SELECT status FROM reservations WHERE order_id = $1', [orderId]);
            return r?.status === 'RELEASED';
          },
          10_000,
        ),
    });
    assert.equal(worker.exit, undefined, 'the worker process survived the outage');

    await assertSagaEnds(stack.client, orderId, 'REJECTED');
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'COMPENSATED');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.deepEqual(await stock('KB-001'), before, 'stock exactly as before the saga');
    assert.deepEqual(await db('orders', 'SELECT status FROM orders WHERE id = $1', [orderId]), [
      { status: 'REJECTED' },
    ]);
    assert.deepEqual(await db('shipping', 'SELECT status FROM shipments WHERE order_id = $1', [orderId]), [
      { status: 'CANCELLED' },
    ]);
    assert.deepEqual(await db('payments', 'SELECT 1 FROM payments WHERE order_id = $1', [orderId]), []);
  });
});
