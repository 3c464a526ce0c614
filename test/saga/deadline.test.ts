import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import { awaitSagaResult, getSagaState, startSaga, type SagaResult } from '../../cli/saga-client';
import type { SagaRequest } from '../../cli/saga-client';

/** An order saga start: the order, and (tests only) its fault plan and run options. */
type OrderRequest = SagaRequest<typeof orderSaga>;
import { httpClient } from '../support/http';
import { ledger as readLedger, sagaRecords } from '../support/saga-records';
import { startTimeSkippingSagaStack, type TimeSkippingSagaStack } from '../support/time-skipping';
import { destination as defaultDestination } from '../support/orders';

const destination = defaultDestination();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The saga's deadline is measured in hours; these tests let Temporal's time-skipping test server skip those hours.
 * Timers and retry back-off are skipped while a test awaits the saga's result; the activities' HTTP calls to the
 * real services run in real time (the server's clock stands still meanwhile).
 *
 * Saga time is read from the workflow's history (event timestamps), not from env.currentTimeMs() after the result:
 * once the workflow has ended and before the client locks time skipping again, the test server skips on to its next
 * timer, which for an ended workflow is the 10-year default execution timeout.
 */
describe('saga deadline (time-skipping test server, real worker, real services)', function () {
  this.timeout(120_000);
  let stack: TimeSkippingSagaStack;
  let n = 0;
  const newOrderId = (label: string) => `ord-${label}-${++n}`;
  const api = (service: keyof TimeSkippingSagaStack['services']) => httpClient(stack.services[service].url);

  before(async () => {
    stack = await startTimeSkippingSagaStack();
  });
  after(() => stack?.stop());

  /** Starts the saga and waits for its result (which lets the server skip time); says how long that took for real. */
  async function run(input: OrderRequest): Promise<{ result: SagaResult; realMs: number }> {
    const started = Date.now();
    await startSaga(stack.env.client, stack.taskQueue, orderSaga, input);
    const result = await awaitSagaResult(stack.env.client, input.orderId);
    return { result, realMs: Date.now() - started };
  }

  async function history(orderId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
    return (await stack.env.client.workflow.getHandle(orderId).fetchHistory()).events ?? [];
  }

  const eventTimeMs = (e: temporal.api.history.v1.IHistoryEvent) =>
    Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6);

  /** Saga time from the workflow's first to its last history event (skipped time included), and when it started. */
  async function sagaTime(orderId: string): Promise<{ startMs: number; durationMs: number }> {
    const events = await history(orderId);
    const startMs = eventTimeMs(events[0]);
    return { startMs, durationMs: eventTimeMs(events.at(-1)!) - startMs };
  }

  async function scheduledActivities(orderId: string): Promise<string[]> {
    return (await history(orderId))
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((x): x is string => !!x);
  }

  /** The attempts the worker ran for one activity of one saga, with their start in saga time. */
  function attemptsOf(orderId: string, type: string, startMs: number) {
    return stack.attempts
      .filter((a) => a.workflowId === orderId && a.type === type)
      .map((a) => ({ attempt: a.attempt, atMs: a.startedAtMs - startMs }));
  }

  const ledger = () => readLedger(stack.services, ['cust-alice']);
  const records = (orderId: string) => sagaRecords(stack.services, orderId);

  const order = (
    orderId: string,
    sku: string,
  ): Pick<OrderRequest, 'orderId' | 'customerId' | 'items' | 'destination'> => ({
    orderId,
    customerId: 'cust-alice',
    items: [{ sku, quantity: 1 }],
    destination,
  });

  it('deadline (2h) passes while a step before the pivot keeps failing: the step is cancelled, the saga compensates, REJECTED', async () => {
    const orderId = newOrderId('deadline-passed');
    const before = await ledger();
    const { result, realMs } = await run({
      ...order(orderId, 'KB-001'),
      // 503 on every attempt (the fault counter's maximum); retried every 10 minutes, far more attempts than 2h allow.
      faults: { 'reserve-inventory': 'transient:100' },
      options: {
        deadline: '2h',
        stepRetry: { initialInterval: '10m', maximumInterval: '10m', backoffCoefficient: 1, maximumAttempts: 1000 },
      },
    });

    assert.equal(result.outcome, 'completed');
    assert.ok(result.outcome === 'completed');
    assert.equal(result.result.status, 'REJECTED');
    assert.equal(result.result.reason, 'saga deadline (2h) passed during reserve-inventory');

    const state = await getSagaState(stack.env.client, orderId);
    assert.equal(state.status, 'COMPENSATED');
    assert.deepEqual(state.compensationCause, {
      cause: 'deadline',
      reason: 'saga deadline (2h) passed during reserve-inventory',
      failedStep: 'reserve-inventory',
    });
    // The shipment ran at the same time as the reservation (one parallel group) and completed: it is compensated too.
    assert.deepEqual(
      state.steps.slice(0, 3).map((s) => [s.name, s.status]),
      [
        ['create-order', 'COMPLETED'],
        ['reserve-inventory', 'FAILED'],
        ['schedule-shipment', 'COMPLETED'],
      ],
    );
    assert.equal(state.steps[1].failure?.type, 'SagaDeadline');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.equal(
      (state.compensations[1].result as { noop: boolean }).noop,
      true,
      'nothing was reserved: releasing is a recorded no-op',
    );
    assert.deepEqual(await scheduledActivities(orderId), [
      'createOrder',
      'reserveInventory',
      'scheduleShipment',
      'cancelShipment',
      'releaseInventory',
      'rejectOrder',
    ]);
    const events = await history(orderId);
    assert.ok(
      events.some((e) => e.activityTaskCancelRequestedEventAttributes),
      'the running step was cancelled',
    );
    const timer = events.find((e) => e.timerStartedEventAttributes)!;
    assert.equal(
      Number(timer.timerStartedEventAttributes!.startToFireTimeout?.seconds),
      2 * 3600,
      "the deadline's timer",
    );
    const fired = events.filter((e) => e.timerFiredEventAttributes);
    assert.equal(fired.length, 1, "the deadline's timer fired");
    // Real milliseconds pass too (workflow tasks, HTTP calls), so "2 h" is to within a second, not exactly.
    const firedAfterMs = eventTimeMs(fired[0]) - eventTimeMs(timer);
    assert.ok(firedAfterMs >= 2 * HOUR && firedAfterMs < 2 * HOUR + 1000, `fired ${firedAfterMs} ms after it started`);

    // Saga time: 2 h and a little; real time: seconds.
    const { startMs, durationMs } = await sagaTime(orderId);
    assert.ok(
      durationMs >= 2 * HOUR && durationMs < 2 * HOUR + 5 * MINUTE,
      `saga time ${(durationMs / HOUR).toFixed(3)} h`,
    );
    assert.ok(realMs < 30_000, `real time ${realMs} ms`);
    // One attempt every 10 minutes until the deadline: 2h / 10m = 12 (attempts at 0, 10, ..., 110 min; one at
    // 120 min may or may not start before the deadline's timer fires at the same instant).
    const attempts = attemptsOf(orderId, 'reserveInventory', startMs);
    assert.ok(attempts.length >= 12 && attempts.length <= 13, `attempts: ${attempts.length}`);
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      attempts.map((_, i) => i + 1),
    );
    attempts.forEach((a, i) =>
      assert.ok(
        Math.abs(a.atMs - i * 10 * MINUTE) < MINUTE,
        `attempt ${a.attempt} at ${(a.atMs / MINUTE).toFixed(2)} min`,
      ),
    );
    console.log(
      `      deadline 2h: ${attempts.length} attempts, saga time ${(durationMs / HOUR).toFixed(3)} h, real ${realMs} ms`,
    );

    // Nothing live in any service: the order rejected with the reason, no stock held, nothing shipped or charged.
    assert.deepEqual(await records(orderId), {
      order: 'REJECTED',
      reservation: 'RELEASED',
      shipment: 'CANCELLED',
      payment: 404,
    });
    assert.match((await api('orders').get(`/orders/${orderId}`)).body.reason, /saga deadline \(2h\) passed/);
    assert.deepEqual(await ledger(), before);
  });

  it('a deadline (6h) long enough: hourly retries are waited out (~3 h of skipped time) and the saga is APPROVED', async () => {
    const orderId = newOrderId('deadline-met');
    const before = await ledger();
    const { result, realMs } = await run({
      ...order(orderId, 'MS-002'),
      faults: { 'reserve-inventory': 'transient:3' },
      options: {
        deadline: '6h',
        stepRetry: { initialInterval: '1h', maximumInterval: '1h', backoffCoefficient: 1, maximumAttempts: 1000 },
      },
    });

    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    const state = await getSagaState(stack.env.client, orderId);
    assert.equal(state.status, 'COMPLETED');
    assert.deepEqual(state.compensations, []);
    assert.equal(state.compensationCause, undefined);

    const { startMs, durationMs } = await sagaTime(orderId);
    assert.ok(
      durationMs >= 3 * HOUR && durationMs < 3 * HOUR + 5 * MINUTE,
      `saga time ${(durationMs / HOUR).toFixed(3)} h`,
    );
    assert.ok(realMs < 30_000, `real time ${realMs} ms`);
    const attempts = attemptsOf(orderId, 'reserveInventory', startMs);
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3, 4],
    );
    attempts.forEach((a, i) =>
      assert.ok(Math.abs(a.atMs - i * HOUR) < MINUTE, `attempt ${a.attempt} at ${(a.atMs / MINUTE).toFixed(2)} min`),
    );
    console.log(
      `      deadline 6h: ${attempts.length} attempts, saga time ${(durationMs / HOUR).toFixed(3)} h, real ${realMs} ms`,
    );

    assert.deepEqual(await records(orderId), {
      order: 'APPROVED',
      reservation: 'CONFIRMED',
      shipment: 'CONFIRMED',
      payment: 'CHARGED',
    });
    const after = await ledger();
    assert.equal(after.stock['MS-002'].sold, before.stock['MS-002'].sold + 1, 'reserved and sold once');
    assert.equal(after.balances['cust-alice'], before.balances['cust-alice'] - 2900, 'charged once');
  });

  it('after the pivot the deadline no longer applies: a retriable step retried long past it, the saga is APPROVED', async () => {
    const orderId = newOrderId('deadline-after-pivot');
    const { result, realMs } = await run({
      ...order(orderId, 'CB-004'),
      // 100 failures under the post-pivot policy (500 ms doubling to 30 s, no attempt limit): ~47 min of back-off.
      faults: { 'confirm-reservation': 'transient:100' },
      options: { deadline: '1m' },
    });

    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    const state = await getSagaState(stack.env.client, orderId);
    assert.equal(state.status, 'COMPLETED');
    assert.deepEqual(state.compensations, []);

    const { startMs, durationMs } = await sagaTime(orderId);
    const attempts = attemptsOf(orderId, 'confirmReservation', startMs);
    assert.equal(attempts.length, 101);
    const backoffMs = [500, 1000, 2000, 4000, 8000, 16000].reduce((a, b) => a + b, 0) + 94 * 30_000;
    assert.ok(
      Math.abs(attempts.at(-1)!.atMs - backoffMs) < MINUTE,
      `last attempt at ${(attempts.at(-1)!.atMs / MINUTE).toFixed(1)} min, expected ~${(backoffMs / MINUTE).toFixed(1)}`,
    );
    assert.ok(durationMs > 30 * MINUTE, `saga time ${(durationMs / MINUTE).toFixed(1)} min, far past the 1m deadline`);
    assert.ok(realMs < 60_000, `real time ${realMs} ms`);
    console.log(
      `      deadline 1m after the pivot: ${attempts.length} attempts, saga time ${(durationMs / MINUTE).toFixed(1)} min, real ${realMs} ms`,
    );

    assert.deepEqual(await records(orderId), {
      order: 'APPROVED',
      reservation: 'CONFIRMED',
      shipment: 'CONFIRMED',
      payment: 'CHARGED',
    });
  });
});
