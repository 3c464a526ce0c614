/**
 * Crash survival with real processes and no mocks: the saga worker is SIGKILLed mid-step and mid-compensation, and a
 * service is SIGKILLed mid-request and kept down for seconds. Each time the saga must still end where it should,
 * and every effect must have happened exactly once, as the services' own databases show.
 *
 * Why a killed step is retried at all: the activities do not heartbeat, so Temporal notices a dead worker only when
 * the step's start-to-close timeout expires. The sagas here set it to 5 s (stepTimeout) to keep the tests short.
 */
import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import { getSagaState, startSaga } from '../../cli/saga-client';
import type { ServiceName } from '../../services/catalog';
import type { SagaRequest } from '../../cli/saga-client';

/** An order saga start: the order, and (tests only) its fault plan and run options. */
type OrderRequest = SagaRequest<typeof orderSaga>;
import { startProcessStack, type ProcessStack } from '../support/processes';
import {
  assertSagaEnds,
  finalAttempts,
  sql,
  waitFor,
  waitForPendingActivity,
  balance as readBalance,
  stock as readStock,
} from './observe';
import { withoutRunId } from '../../scripts/chaos/saga-keys';
import { destination as defaultDestination } from '../support/orders';

const destination = defaultDestination();
/** Dead-worker detection takes stepTimeout; the delays below stay well inside it, the HTTP timeout too. */
const STEP_TIMEOUT = '5s';
const SLOW = 'delay:2500';
/** How long after Temporal marks a step started we wait before killing: the request has reached the service. */
const IN_FLIGHT_MS = 700;

describe('crash survival (real worker and service processes, SIGKILL)', function () {
  this.timeout(90_000);
  let stack: ProcessStack;
  let n = 0;
  const newOrderId = (label: string) => `ord-crash-${label}-${Date.now().toString(36)}-${++n}`;
  const db = (service: ServiceName, text: string, params: unknown[] = []) =>
    sql(stack.databaseUrls[service], text, params);

  before(async function () {
    this.timeout(120_000);
    // payments alone in its process, so that it can be killed while the others keep running.
    stack = await startProcessStack({
      serviceGroups: [['orders', 'inventory', 'shipping'], ['payments']],
      requestTimeoutMs: 4_500,
      // A killed worker's sticky queue is not polled any more, yet the server still sends that workflow's next task
      // there and reroutes it only after this timeout (default 10 s: seen as WORKFLOW_TASK_TIMED_OUT
      // SCHEDULE_TO_START in the history). Short here to keep the tests short.
      worker: { stickyQueueScheduleToStartTimeout: '1s' },
    });
    await stack.startWorkers();
  });

  after(async function () {
    this.timeout(60_000);
    await stack?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && stack) console.error(stack.logs());
  });

  const stock = (sku: string) => readStock(stack.databaseUrls.inventory, sku);
  const balance = (customerId: string) => readBalance(stack.databaseUrls.payments, customerId);
  /** Every row each service holds for the order, and its idempotency keys (without the "<orderId>:" prefix). */
  async function rowsFor(orderId: string) {
    const keys = async (service: ServiceName) =>
      (await db(service, 'SELECT key FROM idempotency_records WHERE key LIKE $1 ORDER BY key', [`${orderId}:%`])).map(
        (r) => withoutRunId(r.key as string).slice(orderId.length + 1),
      );
    return {
      orders: await db('orders', 'SELECT status FROM orders WHERE id = $1', [orderId]),
      reservations: await db('inventory', 'SELECT status FROM reservations WHERE order_id = $1', [orderId]),
      reservationLines: await db('inventory', 'SELECT sku, quantity FROM reservation_lines WHERE order_id = $1', [
        orderId,
      ]),
      shipments: await db('shipping', 'SELECT status FROM shipments WHERE order_id = $1', [orderId]),
      payments: await db('payments', 'SELECT status, amount_cents FROM payments WHERE order_id = $1', [orderId]),
      keys: {
        orders: await keys('orders'),
        inventory: await keys('inventory'),
        shipping: await keys('shipping'),
        payments: await keys('payments'),
      },
    };
  }

  async function start(input: OrderRequest) {
    await startSaga(stack.client, stack.taskQueue, orderSaga, input);
  }

  it('worker SIGKILLed while a forward step is in flight: a new worker finishes the saga, APPROVED, each effect once', async () => {
    const orderId = newOrderId('forward');
    const [stockBefore, balanceBefore] = [await stock('KB-001'), await balance('cust-alice')];
    await start({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 2 }],
      destination,
      faults: { 'schedule-shipment': SLOW },
      options: { stepTimeout: STEP_TIMEOUT, stepRetry: { initialInterval: '200ms', maximumInterval: '1s' } },
    });

    // reserve-inventory is done (the saga says so), schedule-shipment is in the worker's hands and at the service.
    await waitFor('reserve-inventory completed', async () => {
      const state = await getSagaState(stack.client, orderId);
      return (
        state.steps.find((s) => s.name === 'reserve-inventory')?.status === 'COMPLETED' &&
        state.currentStep === 'schedule-shipment'
      );
    });
    await waitForPendingActivity(stack.client, orderId, 'scheduleShipment');
    await new Promise((r) => setTimeout(r, IN_FLIGHT_MS));
    const killed = await stack.killWorkerRunning(orderId, 'scheduleShipment');
    assert.equal(killed.signal, 'SIGKILL');

    // The request the dead worker sent still lands: the shipment exists once. (On the cluster a second worker lives on
    // and takes the retry once the start-to-close timeout expires; on the dev server the new one below does.)
    await waitFor(
      'the orphaned schedule-shipment request to take effect',
      async () => (await db('shipping', 'SELECT 1 FROM shipments WHERE order_id = $1', [orderId])).length === 1,
      10_000,
    );

    await stack.startWorker();
    await assertSagaEnds(stack.client, orderId, 'APPROVED');

    const attempts = await finalAttempts(stack.client, orderId);
    assert.ok(
      attempts.scheduleShipment >= 2,
      `schedule-shipment was retried after the crash (attempts: ${JSON.stringify(attempts)})`,
    );

    const total = 2 * 8900;
    const rows = await rowsFor(orderId);
    assert.deepEqual(rows.orders, [{ status: 'APPROVED' }]);
    assert.deepEqual(rows.reservations, [{ status: 'CONFIRMED' }]);
    assert.deepEqual(rows.reservationLines, [{ sku: 'KB-001', quantity: 2 }]);
    assert.deepEqual(rows.shipments, [{ status: 'CONFIRMED' }]);
    assert.deepEqual(rows.payments, [{ status: 'CHARGED', amount_cents: total }]);
    assert.deepEqual(rows.keys, {
      orders: ['approveOrder', 'createOrder'],
      inventory: ['confirmReservation', 'reserveInventory'],
      shipping: ['confirmShipment', 'scheduleShipment'],
      payments: ['chargePayment'],
    });
    assert.deepEqual(
      await stock('KB-001'),
      { available: stockBefore.available - 2, held: stockBefore.held, sold: stockBefore.sold + 2 },
      'stock taken once',
    );
    assert.equal(await balance('cust-alice'), balanceBefore - total, 'charged once');
  });

  it('worker SIGKILLed while a compensation is in flight: a new worker finishes unwinding, REJECTED, stock back exactly', async () => {
    const orderId = newOrderId('compensation');
    const [stockBefore, balanceBefore] = [await stock('KB-001'), await balance('cust-broke')];
    // cust-broke (5.00) cannot pay 89.00: rejected at the pivot; three compensations, the middle one slow.
    await start({
      orderId,
      customerId: 'cust-broke',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination,
      faults: { 'release-inventory': SLOW },
      options: { stepTimeout: STEP_TIMEOUT, compensationRetry: { initialInterval: '200ms', maximumInterval: '1s' } },
    });

    await waitForPendingActivity(stack.client, orderId, 'releaseInventory');
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'COMPENSATING');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'RUNNING'],
        ['reject-order', 'PENDING'],
      ],
    );
    await new Promise((r) => setTimeout(r, IN_FLIGHT_MS));
    await stack.killWorkerRunning(orderId, 'releaseInventory');

    await waitFor(
      'the orphaned release request to take effect',
      async () => {
        const [r] = await db('inventory', 'SELECT status FROM reservations WHERE order_id = $1', [orderId]);
        return r?.status === 'RELEASED';
      },
      10_000,
    );

    await stack.startWorker();
    const result = await assertSagaEnds(stack.client, orderId, 'REJECTED');
    assert.match(result.outcome === 'completed' ? (result.result.reason ?? '') : '', /insufficient funds/i);

    const attempts = await finalAttempts(stack.client, orderId);
    assert.ok(
      attempts.releaseInventory >= 2,
      `release-inventory was retried after the crash (attempts: ${JSON.stringify(attempts)})`,
    );
    const after = await getSagaState(stack.client, orderId);
    assert.equal(after.status, 'COMPENSATED');
    assert.deepEqual(
      after.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );

    const rows = await rowsFor(orderId);
    assert.deepEqual(rows.orders, [{ status: 'REJECTED' }]);
    assert.deepEqual(rows.reservations, [{ status: 'RELEASED' }]);
    assert.deepEqual(rows.shipments, [{ status: 'CANCELLED' }]);
    assert.deepEqual(rows.payments, [], 'a rejected charge writes nothing');
    assert.deepEqual(rows.keys, {
      orders: ['createOrder', 'rejectOrder'],
      inventory: ['releaseInventory', 'reserveInventory'],
      shipping: ['cancelShipment', 'scheduleShipment'],
      payments: [],
    });
    assert.deepEqual(await stock('KB-001'), stockBefore, 'stock exactly as before the saga');
    assert.equal(await balance('cust-broke'), balanceBefore);
  });

  it('payments SIGKILLed mid-request and down for seconds, then restarted on the same port and database: APPROVED, charged once', async () => {
    const orderId = newOrderId('outage');
    const [stockBefore, balanceBefore] = [await stock('CB-004'), await balance('cust-alice')];
    await start({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'CB-004', quantity: 3 }],
      destination,
      faults: { 'charge-payment': 'delay:1500' },
      options: {
        stepTimeout: STEP_TIMEOUT,
        stepRetry: { maximumAttempts: 30, initialInterval: '200ms', maximumInterval: '1s' },
      },
    });

    // The charge request is at the payments service, which dies before doing anything (the delay comes first).
    await waitForPendingActivity(stack.client, orderId, 'chargePayment');
    await new Promise((r) => setTimeout(r, IN_FLIGHT_MS));
    const downAt = Date.now();
    await stack.killService('payments');

    // The step keeps failing (connection reset, then refused) and Temporal keeps retrying it.
    const failing = await waitForPendingActivity(
      stack.client,
      orderId,
      'chargePayment',
      (a) => a.attempt >= 3 && !!a.lastFailure,
      20_000,
    );
    assert.match(
      failing.lastFailure!,
      /ECONNREFUSED|ECONNRESET|socket|fetch failed|connect|closed/i,
      failing.lastFailure,
    );
    assert.deepEqual(await db('payments', 'SELECT 1 FROM payments WHERE order_id = $1', [orderId]), []);
    await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - downAt))));

    await stack.startService('payments');
    await assertSagaEnds(stack.client, orderId, 'APPROVED');

    const total = 3 * 900;
    const rows = await rowsFor(orderId);
    assert.deepEqual(rows.payments, [{ status: 'CHARGED', amount_cents: total }]);
    assert.deepEqual(rows.keys.payments, ['chargePayment']);
    assert.deepEqual(rows.orders, [{ status: 'APPROVED' }]);
    assert.equal(await balance('cust-alice'), balanceBefore - total, 'charged once');
    assert.deepEqual(await stock('CB-004'), {
      available: stockBefore.available - 3,
      held: stockBefore.held,
      sold: stockBefore.sold + 3,
    });
    const attempts = await finalAttempts(stack.client, orderId);
    assert.ok(
      attempts.chargePayment >= 3,
      `charge-payment retried through the outage (attempts: ${JSON.stringify(attempts)})`,
    );
  });
});
