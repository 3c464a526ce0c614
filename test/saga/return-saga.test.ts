import assert from 'node:assert/strict';
import {
  awaitSagaEndOrOperator,
  awaitSagaResult,
  cancelSaga,
  getSagaState,
  listDeadLetters,
  resolveCompensation,
  startSaga,
  type SagaRequest,
} from '../../cli/saga-client';
import { checkReturn, type ReturnSagaOutcome } from '../../scripts/chaos/return-invariants';
import { readReturnRows } from '../../scripts/chaos/return-rows';
import type { ServiceName } from '../../services/catalog';
import { orderSaga } from '../../workflows/order-saga';
import { returnSaga } from '../../workflows/return-saga';
import { httpClient } from '../support/http';
import { ledger as readLedger } from '../support/saga-records';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/** A return saga start: the return, and (tests only) its fault plan and run options. */
type ReturnRequest = SagaRequest<typeof returnSaga>;

const DAY_MS = 24 * 60 * 60 * 1000;
const berlin = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
/** Short back-off so failure paths take milliseconds, not the production defaults' seconds. */
const fast = {
  stepRetry: { initialInterval: '50ms', maximumInterval: '200ms' },
  compensationRetry: { initialInterval: '50ms', maximumInterval: '200ms', maximumAttempts: 3 },
};
const FORWARD = ['requestReturn', 'bookReturnPickup', 'refundReturn', 'restockItems', 'completeReturn'];

/** Polls until the condition holds (10 s at most). */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('return saga (real Temporal dev server, real services, real databases)', function () {
  this.timeout(180_000);
  let stack: SagaStack;
  let n = 0;
  const RUN = Date.now().toString(36);
  const api = (service: ServiceName) => httpClient(stack.services[service].url);
  const urls = () =>
    Object.fromEntries(Object.entries(stack.services).map(([name, s]) => [name, s.databaseUrl])) as Record<
      ServiceName,
      string
    >;

  before(async () => {
    stack = await startSagaStack();
  });
  after(() => stack?.stop());

  /**
   * An order approved by the order saga (2 × MS-002 = 58.00, paid by cust-alice) and, unless told otherwise, delivered
   * by the carrier `deliveredDaysAgo` days ago (its report goes straight to the shipping service).
   */
  async function approvedOrder(
    label: string,
    delivery: { deliveredDaysAgo?: number; delivered?: boolean } = {},
  ): Promise<string> {
    // Unique per run: on the cluster every test file shares one namespace (the order saga's file uses ord-<label>-<n>).
    const orderId = `ord-ret-${label}-${RUN}-${++n}`;
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'MS-002', quantity: 2 }],
      destination: berlin,
    });
    const result = await awaitSagaResult(stack.client, orderId);
    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED', JSON.stringify(result));
    if (delivery.delivered !== false) {
      const deliveredAt = new Date(Date.now() - (delivery.deliveredDaysAgo ?? 1) * DAY_MS).toISOString();
      const delivered = await api('shipping').post(
        `/shipments/${orderId}/deliver`,
        { deliveredAt },
        { key: `${orderId}:deliver` },
      );
      assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
    }
    return orderId;
  }

  const returnOf = (orderId: string, extra: Partial<ReturnRequest> = {}): ReturnRequest => ({
    returnId: `ret-${orderId}`,
    orderId,
    reason: 'too small',
    ...extra,
  });

  async function run(request: ReturnRequest) {
    await startSaga(stack.client, stack.taskQueue, returnSaga, request);
    return awaitSagaResult(stack.client, request.returnId);
  }

  /** Activity types in the order the workflow scheduled them, from its own history. */
  async function scheduledActivities(sagaId: string): Promise<string[]> {
    const events = (await stack.client.workflow.getHandle(sagaId).fetchHistory()).events ?? [];
    return events
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((x): x is string => !!x);
  }

  /** The return saga's invariants (scripts/chaos/return-invariants.ts) on the services' rows, read with pg. */
  async function assertInvariants(request: ReturnRequest, outcome: ReturnSagaOutcome['outcome']) {
    const rows = await readReturnRows(urls(), request.returnId, request.orderId);
    assert.deepEqual(checkReturn({ returnId: request.returnId, orderId: request.orderId, outcome }, rows), []);
    return rows;
  }

  const ledger = () => readLedger(stack.services, ['cust-alice']);

  it('happy path: RETURNED; the money back once, the units back on the shelf, the order RETURNED, every invariant holds', async () => {
    const before = await ledger();
    const orderId = await approvedOrder('happy');
    const request = returnOf(orderId);
    const result = await run(request);
    assert.deepEqual(result.outcome === 'completed' && result.result, {
      returnId: request.returnId,
      orderId,
      status: 'RETURNED',
      refundedCents: 5800,
    });
    assert.deepEqual(
      await ledger(),
      before,
      'the order and its return cancel out: stock and balance as before the order',
    );
    assert.deepEqual(await scheduledActivities(request.returnId), FORWARD);
    const rows = await assertInvariants(request, 'RETURNED');
    assert.deepEqual(
      [
        rows.order?.status,
        rows.reservation?.status,
        rows.shipment?.status,
        rows.payment?.status,
        rows.pickups[0].status,
      ],
      ['RETURNED', 'RETURNED', 'DELIVERED', 'REFUNDED', 'BOOKED'],
    );
    const state = await getSagaState(stack.client, request.returnId);
    assert.deepEqual([state.status, state.compensations], ['COMPLETED', []]);
  });

  describe('each business rejection: exactly the completed steps compensated, nothing held', () => {
    const cases: { name: string; setup: () => Promise<ReturnRequest>; code: RegExp; compensations: string[] }[] = [
      {
        name: 'an order that was never approved (request-return: 409 order_not_approved)',
        setup: async () => {
          const orderId = `ord-unpaid-${RUN}-${++n}`;
          await startSaga(stack.client, stack.taskQueue, orderSaga, {
            orderId,
            customerId: 'cust-broke',
            items: [{ sku: 'MS-002', quantity: 1 }],
            destination: berlin,
          });
          await awaitSagaResult(stack.client, orderId);
          return returnOf(orderId);
        },
        code: /^request-return: order .* is REJECTED; only an APPROVED order can be returned/,
        compensations: [],
      },
      {
        name: 'an order already returned (request-return: 409 already_returned)',
        setup: async () => {
          const orderId = await approvedOrder('twice');
          assert.equal((await run(returnOf(orderId))).outcome, 'completed');
          return returnOf(orderId, { returnId: `ret-again-${orderId}` });
        },
        code: /^request-return: order .* was already returned/,
        compensations: [],
      },
      {
        name: 'an order not yet delivered (book-return-pickup: 409 not_delivered)',
        setup: async () => returnOf(await approvedOrder('undelivered', { delivered: false })),
        code: /^book-return-pickup: the shipment for order .* is CONFIRMED, not yet delivered/,
        compensations: ['cancelReturn'],
      },
      {
        name: 'the return window passed (book-return-pickup: 422 return_window_passed)',
        setup: async () => returnOf(await approvedOrder('late', { deliveredDaysAgo: 31 })),
        code: /^book-return-pickup: order .* was delivered at .*; its return window of 30 days ended at/,
        compensations: ['cancelReturn'],
      },
      {
        name: 'the refund refused at the pivot (refund-payment: injected 422)',
        setup: async () => returnOf(await approvedOrder('refused'), { faults: { 'refund-payment': 'reject' } }),
        code: /^refund-payment: rejected by fault injection/,
        compensations: ['cancelReturnPickup', 'cancelReturn'],
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const request = await c.setup();
        const before = await ledger();
        const result = await run(request);
        assert.ok(result.outcome === 'completed', JSON.stringify(result));
        assert.equal(result.result.status, 'REJECTED');
        assert.match(result.result.reason ?? '', c.code);
        const scheduled = await scheduledActivities(request.returnId);
        assert.deepEqual(
          scheduled.slice(scheduled.length - c.compensations.length),
          c.compensations,
          'the compensations, in reverse order',
        );
        assert.deepEqual(await ledger(), before, 'no money moved, no stock moved');
        await assertInvariants(request, 'REJECTED');
      });
    }
  });

  it('cancellation while the pickup is being booked: both steps undone, the order can be returned again', async () => {
    const orderId = await approvedOrder('cancel');
    const request = returnOf(orderId, { faults: { 'book-return-pickup': 'delay:3000' } });
    await startSaga(stack.client, stack.taskQueue, returnSaga, request);
    while ((await getSagaState(stack.client, request.returnId)).currentStep !== 'book-return-pickup')
      await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await cancelSaga(stack.client, request.returnId), { cancelled: true });
    const result = await awaitSagaResult(stack.client, request.returnId);
    assert.equal(result.outcome, 'cancelled');
    const scheduled = await scheduledActivities(request.returnId);
    assert.deepEqual(scheduled.slice(-2), ['cancelReturnPickup', 'cancelReturn']);
    await assertInvariants(request, 'CANCELLED');
    const again = await run(returnOf(orderId, { returnId: `ret-retry-${orderId}` }));
    assert.equal(
      again.outcome === 'completed' && again.result.status,
      'RETURNED',
      'a cancelled return leaves the order returnable',
    );
  });

  it('a compensation that never succeeds is dead-lettered (NEEDS_ATTENTION, listed); resolved by an operator, the saga ends REJECTED', async () => {
    const orderId = await approvedOrder('dead');
    const request = returnOf(orderId, {
      faults: { 'refund-payment': 'reject', 'cancel-return-pickup': 'reject' },
      options: fast,
    });
    await startSaga(stack.client, stack.taskQueue, returnSaga, request);
    const waiting = await awaitSagaEndOrOperator(stack.client, request.returnId);
    assert.equal(waiting.outcome, 'needs-attention');
    // Listed where the operator looks (`dead-letters list --saga return`: the SagaStatus search attribute, eventually).
    await waitFor(async () =>
      (await listDeadLetters(stack.client, { saga: returnSaga, limit: 100 })).some(
        (d) => d.sagaId === request.returnId && d.compensation === 'cancel-return-pickup',
      ),
    );
    await waitFor(async () =>
      (await getSagaState(stack.client, request.returnId)).compensations.some((c) => c.deadLetter?.id !== undefined),
    );
    await assertInvariants(request, 'NEEDS_ATTENTION');
    const open = await api('orders').get(`/dead-letters?sagaId=${request.returnId}&status=OPEN`);
    assert.deepEqual(
      open.body.deadLetters.map((d: { step: string; forStep: string }) => [d.step, d.forStep]),
      [['cancel-return-pickup', 'book-return-pickup']],
    );

    // The operator cancels the pickup by hand, then tells the saga so; it goes on with cancel-return.
    const byHand = await api('shipping').post(
      `/return-pickups/${request.returnId}/cancel`,
      { reason: 'cancelled by hand (OPS-7)' },
      { key: `ops-7:${request.returnId}` },
    );
    assert.equal(byHand.status, 200);
    await resolveCompensation(stack.client, request.returnId, 'pickup cancelled by hand (OPS-7)');
    const result = await awaitSagaResult(stack.client, request.returnId);
    assert.equal(result.outcome === 'completed' && result.result.status, 'REJECTED');
    await assertInvariants(request, 'REJECTED');
  });

  it("the pivot's outcome unknown (the refund done, its answer lost, no attempt left): void-refund takes it back, the saga ends REJECTED", async () => {
    const before = await ledger();
    const orderId = await approvedOrder('unknown');
    const afterOrder = await ledger();
    const request = returnOf(orderId, {
      faults: { 'refund-payment': 'lost-response:1' },
      options: { ...fast, stepRetry: { ...fast.stepRetry, maximumAttempts: 1 } },
    });
    const result = await run(request);
    assert.equal(result.outcome === 'completed' && result.result.status, 'REJECTED', JSON.stringify(result));
    assert.deepEqual((await scheduledActivities(request.returnId)).slice(-3), [
      'voidRefund',
      'cancelReturnPickup',
      'cancelReturn',
    ]);
    assert.deepEqual(await ledger(), afterOrder, 'the refund was taken back: the order stays paid');
    assert.notDeepEqual(afterOrder, before);
    const rows = await assertInvariants(request, 'REJECTED');
    assert.deepEqual([rows.refunds[0].status, rows.payment?.status], ['VOIDED', 'CHARGED']);
  });

  it('exactly once under transient faults and lost responses at every step: RETURNED, each effect once', async () => {
    const before = await ledger();
    const orderId = await approvedOrder('flaky');
    const flaky = 'transient:2,lost-response:1';
    const request = returnOf(orderId, {
      faults: {
        'request-return': flaky,
        'book-return-pickup': flaky,
        'refund-payment': flaky,
        'restock-items': flaky,
        'complete-return': flaky,
      },
      options: fast,
    });
    const result = await run(request);
    assert.equal(result.outcome === 'completed' && result.result.status, 'RETURNED', JSON.stringify(result));
    assert.deepEqual(await ledger(), before, 'refunded once, restocked once');
    const rows = await assertInvariants(request, 'RETURNED');
    assert.equal(rows.idempotency.length, FORWARD.length, 'one idempotency record per step');
    assert.deepEqual(
      await scheduledActivities(request.returnId),
      FORWARD,
      'retries are attempts of the same activity, not new ones',
    );
  });
});
