import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import type { temporal } from '@temporalio/proto';
import {
  awaitSagaResult,
  cancelSaga,
  getSagaState,
  OperatorDecisionRefusedError,
  resolveCompensation,
  retryCompensation,
  SagaAlreadyStartedError,
  startSaga,
} from '../../cli/saga-client';
import type { SagaRequest } from '../../cli/saga-client';

/** An order saga start: the order, and (tests only) its fault plan and run options. */
type OrderRequest = SagaRequest<typeof orderSaga>;
import { httpClient } from '../support/http';
import { ledger as readLedger, sagaRecords } from '../support/saga-records';
import { destination, FAST_RETRIES } from '../support/orders';
import { startSagaStack, type SagaStack } from '../support/saga-stack';
import { orderSagaContinuingCompensation, orderSagaParallelCompensation } from '../support/order-saga-variants';

describe('order saga (real Temporal dev server, real services, real databases)', function () {
  this.timeout(120_000);
  let stack: SagaStack;
  let n = 0;
  const newOrderId = (label: string) => `ord-${label}-${++n}`;
  const api = (service: keyof SagaStack['services']) => httpClient(stack.services[service].url);

  before(async () => {
    stack = await startSagaStack();
  });
  after(() => stack?.stop());

  async function run(input: OrderRequest) {
    await startSaga(stack.client, stack.taskQueue, orderSaga, input);
    return awaitSagaResult(stack.client, input.orderId);
  }

  const ledger = () => readLedger(stack.services, ['cust-alice', 'cust-bob', 'cust-carol', 'cust-broke']);
  /** Each service's record for the order: its status, or 404. */
  const records = (orderId: string) => sagaRecords(stack.services, orderId);

  async function history(orderId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
    return (await stack.client.workflow.getHandle(orderId).fetchHistory()).events ?? [];
  }

  /** Activity types in the order the workflow scheduled them, from the workflow's own history. */
  async function scheduledActivities(orderId: string): Promise<string[]> {
    return (await history(orderId))
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((x): x is string => !!x);
  }

  /** cust-broke cannot pay: three steps done, rejected at the pivot, three compensations to run. */
  const rejectedAtPivot = (orderId: string) => ({
    orderId,
    customerId: 'cust-broke',
    items: [{ sku: 'KB-001', quantity: 1 }],
    destination: destination(),
  });

  const FORWARD = [
    'createOrder',
    'reserveInventory',
    'scheduleShipment',
    'chargePayment',
    'confirmReservation',
    'confirmShipment',
    'approveOrder',
  ];

  it("happy path: order APPROVED; stock sold, balance charged, shipment confirmed in each service's database", async () => {
    const orderId = newOrderId('happy');
    const before = await ledger();
    const result = await run({
      orderId,
      customerId: 'cust-alice',
      items: [
        { sku: 'KB-001', quantity: 2 },
        { sku: 'MS-002', quantity: 1 },
      ],
      destination: destination(),
    });
    assert.equal(result.outcome, 'completed');
    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    const total = 2 * 8900 + 2900;
    const after = await ledger();
    assert.deepEqual(after.stock['KB-001'], {
      ...before.stock['KB-001'],
      available: before.stock['KB-001'].available - 2,
      sold: before.stock['KB-001'].sold + 2,
    });
    assert.equal(after.balances['cust-alice'], before.balances['cust-alice'] - total);
    assert.deepEqual(await records(orderId), {
      order: 'APPROVED',
      reservation: 'CONFIRMED',
      shipment: 'CONFIRMED',
      payment: 'CHARGED',
    });
    assert.deepEqual(await scheduledActivities(orderId), FORWARD);
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'COMPLETED');
    assert.deepEqual(state.compensations, []);
  });

  describe('a business rejection at each step up to and including the pivot', () => {
    const cases: {
      step: string;
      input: (orderId: string) => OrderRequest;
      code: RegExp;
      compensations: string[];
      after: Record<string, string | number>;
    }[] = [
      {
        step: 'create-order',
        input: (orderId) => ({
          orderId,
          customerId: 'cust-alice',
          items: [{ sku: 'KB-001', quantity: 1 }],
          destination: destination(),
          faults: { 'create-order': 'reject' },
        }),
        code: /rejected by fault injection/,
        compensations: [],
        after: { order: 404, reservation: 404, shipment: 404, payment: 404 },
      },
      {
        // The shipment is scheduled at the same time (one parallel group) and took effect: it is cancelled too.
        step: 'reserve-inventory',
        input: (orderId) => ({
          orderId,
          customerId: 'cust-alice',
          items: [
            { sku: 'KB-001', quantity: 1 },
            { sku: 'MN-003', quantity: 1000 },
          ],
          destination: destination(),
        }),
        code: /insufficient stock for MN-003/,
        compensations: ['cancelShipment', 'rejectOrder'],
        after: { order: 'REJECTED', reservation: 404, shipment: 'CANCELLED', payment: 404 },
      },
      {
        // The reservation ran at the same time (one parallel group) and took effect: it is released.
        step: 'schedule-shipment',
        input: (orderId) => ({
          orderId,
          customerId: 'cust-alice',
          items: [{ sku: 'KB-001', quantity: 1 }],
          destination: destination('AQ'),
        }),
        code: /AQ/,
        compensations: ['releaseInventory', 'rejectOrder'],
        after: { order: 'REJECTED', reservation: 'RELEASED', shipment: 404, payment: 404 },
      },
      {
        step: 'charge-payment (the pivot)',
        input: (orderId) => ({
          orderId,
          customerId: 'cust-broke',
          items: [{ sku: 'KB-001', quantity: 1 }],
          destination: destination(),
        }),
        code: /insufficient funds/i,
        compensations: ['cancelShipment', 'releaseInventory', 'rejectOrder'],
        after: { order: 'REJECTED', reservation: 'RELEASED', shipment: 'CANCELLED', payment: 404 },
      },
    ];
    for (const c of cases) {
      it(`rejected at ${c.step}: exactly the completed steps compensated, in reverse order; every database as before`, async () => {
        const orderId = newOrderId('reject');
        const before = await ledger();
        const result = await run(c.input(orderId));
        assert.equal(result.outcome, 'completed');
        assert.ok(result.outcome === 'completed');
        assert.equal(result.result.status, 'REJECTED');
        assert.match(result.result.reason ?? '', c.code);

        const scheduled = await scheduledActivities(orderId);
        const forwardRun = scheduled.filter((a) => FORWARD.includes(a));
        assert.deepEqual(
          scheduled.slice(forwardRun.length),
          c.compensations,
          'compensations from the history, in reverse order',
        );
        const state = await getSagaState(stack.client, orderId);
        assert.equal(state.status, 'COMPENSATED');
        assert.equal(state.compensationCause?.cause, 'rejected');
        assert.deepEqual(
          state.compensations.map((x) => x.status),
          c.compensations.map(() => 'COMPLETED'),
        );

        assert.deepEqual(await ledger(), before, 'stock and balances back to their starting state');
        assert.deepEqual(await records(orderId), c.after);
        if (c.after.order === 'REJECTED') {
          const order = (await api('orders').get(`/orders/${orderId}`)).body;
          assert.match(order.reason, c.code, 'the order carries the reason');
        }
      });
    }
  });

  it('transient failures are retried by Temporal and the saga completes with exactly one effect per step', async () => {
    const orderId = newOrderId('transient');
    const before = await ledger();
    const result = await run({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'CB-004', quantity: 3 }],
      destination: destination(),
      faults: {
        'create-order': 'transient:2',
        'reserve-inventory': 'lost-response:2',
        'schedule-shipment': 'transient:1',
        'charge-payment': 'lost-response:1',
        'confirm-reservation': 'transient:1',
        'approve-order': 'lost-response:1',
      },
      options: FAST_RETRIES,
    });
    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    const after = await ledger();
    assert.equal(after.stock['CB-004'].sold, before.stock['CB-004'].sold + 3, 'reserved and sold once');
    assert.equal(after.stock['CB-004'].available, before.stock['CB-004'].available - 3);
    assert.equal(after.balances['cust-alice'], before.balances['cust-alice'] - 3 * 900, 'charged once');
    const attempts = (await history(orderId))
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => !!a);
    assert.ok(Math.max(...attempts) >= 3, `retries visible in the history (max attempt ${Math.max(...attempts)})`);
  });

  it('cancelled while a step before the pivot is slow: compensations still run, the order ends CANCELLED', async () => {
    const orderId = newOrderId('cancel');
    const before = await ledger();
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: destination(),
      faults: { 'schedule-shipment': 'delay:2500' },
    });
    await waitFor(async () => (await getSagaState(stack.client, orderId)).currentStep === 'schedule-shipment');
    assert.deepEqual(await cancelSaga(stack.client, orderId), { cancelled: true });
    const result = await awaitSagaResult(stack.client, orderId);
    assert.equal(result.outcome, 'cancelled');
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.compensationCause?.cause, 'cancelled');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['cancel-order', 'COMPLETED'],
      ],
    );
    // Let the slow request land: the shipment's tombstone must refuse it.
    await new Promise((r) => setTimeout(r, 2800));
    assert.deepEqual(await records(orderId), {
      order: 'CANCELLED',
      reservation: 'RELEASED',
      shipment: 'CANCELLED',
      payment: 404,
    });
    assert.deepEqual(await ledger(), before);
  });

  it('after the pivot, cancellation is refused and a retriable step that fails transiently is retried until it succeeds', async () => {
    const orderId = newOrderId('post-pivot');
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: destination(),
      faults: { 'confirm-shipment': 'transient:3,delay:300' },
    });
    await waitFor(async () => (await getSagaState(stack.client, orderId)).status === 'COMMITTED');
    const cancel = await cancelSaga(stack.client, orderId);
    assert.equal(cancel.cancelled, false);
    assert.match(cancel.cancelled ? '' : cancel.reason, /past its pivot/);
    const result = await awaitSagaResult(stack.client, orderId);
    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    assert.deepEqual(await records(orderId), {
      order: 'APPROVED',
      reservation: 'CONFIRMED',
      shipment: 'CONFIRMED',
      payment: 'CHARGED',
    });
    const confirmAttempts = (await history(orderId))
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(Math.max(...confirmAttempts) >= 4, 'confirm-shipment needed four attempts');
  });

  it('a post-pivot step whose participant answers after 12 s (step timeout 15 s) completes on its first attempt: the request timeout is what is left of the attempt', async function () {
    this.timeout(90_000);
    const orderId = newOrderId('slow-confirm');
    const result = await run({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: destination(),
      faults: { 'confirm-reservation': 'delay:12000' },
      options: { stepTimeout: '15s' },
    });
    assert.equal(result.outcome === 'completed' && result.result.status, 'APPROVED');
    const events = await history(orderId);
    const scheduled = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]),
    );
    const attempts = events
      .filter(
        (e) =>
          e.activityTaskStartedEventAttributes &&
          scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId)) === 'confirmReservation',
      )
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.deepEqual(
      attempts,
      [1],
      "confirm-reservation: one attempt, not cut off by a request timeout shorter than the step's",
    );
    const completed = events.find(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) === 'confirmReservation',
    );
    assert.ok(completed, 'confirm-reservation completed');
  });

  it('a compensation that fails a few times and then succeeds', async () => {
    const orderId = newOrderId('comp-retry');
    const before = await ledger();
    const result = await run({
      ...rejectedAtPivot(orderId),
      faults: { 'release-inventory': 'transient:3' },
      options: FAST_RETRIES,
    });
    assert.equal(result.outcome === 'completed' && result.result.status, 'REJECTED');
    const state = await getSagaState(stack.client, orderId);
    assert.deepEqual(
      state.compensations.map((c) => c.status),
      ['COMPLETED', 'COMPLETED', 'COMPLETED'],
    );
    assert.deepEqual(await ledger(), before);
  });

  /** Polls the saga's state until every named compensation waits for an operator with its dead letter recorded. */
  async function waitUntilDeadLettered(orderId: string, names: string[]) {
    for (let i = 0; i < 300; i++) {
      const state = await getSagaState(stack.client, orderId);
      const waiting = state.compensations
        .filter((c) => c.status === 'DEAD_LETTERED' && c.deadLetter?.id !== undefined)
        .map((c) => c.name);
      if (state.status === 'NEEDS_ATTENTION' && names.every((n) => waiting.includes(n))) return state;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`saga ${orderId} did not park ${names.join(', ')} for an operator`);
  }

  /** The orders service's dead-letter log for one saga, oldest first. */
  async function deadLetters(orderId: string) {
    const res = await api('orders').get(`/dead-letters?sagaId=${orderId}`);
    assert.equal(res.status, 200);
    return (
      res.body.deadLetters as {
        id: number;
        step: string;
        forStep: string;
        round: number;
        attempts: number;
        status: string;
        lastError: string;
        resolution: string | null;
      }[]
    ).reverse();
  }

  /** What the web UI's filter (and `list --status NEEDS_ATTENTION`) finds: the SagaStatus search attribute. */
  async function needsAttention(orderId: string): Promise<boolean> {
    for await (const w of stack.client.workflow.list({
      query: `WorkflowId = '${orderId}' AND SagaStatus = 'NEEDS_ATTENTION'`,
    }))
      if (w.workflowId === orderId) return true;
    return false;
  }

  it("a compensation that never succeeds is dead-lettered: the saga waits (NEEDS_ATTENTION), and an operator's retry resumes the unwinding from there", async () => {
    const orderId = newOrderId('comp-dead-letter');
    // Faults count per idempotency key: 3 attempts fail, then the operator's retry fails once more and then succeeds.
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      ...rejectedAtPivot(orderId),
      faults: { 'release-inventory': 'transient:4' },
      options: { ...FAST_RETRIES, compensationRetry: { ...FAST_RETRIES.compensationRetry, maximumAttempts: 3 } },
    });
    const parked = await waitUntilDeadLettered(orderId, ['release-inventory']);
    assert.deepEqual(
      parked.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'DEAD_LETTERED'],
        ['reject-order', 'PENDING'],
      ],
    );
    const entry = parked.compensations[1].deadLetter!;
    assert.equal(entry.attempts, 3);
    assert.equal(entry.round, 1);
    assert.match(entry.lastError, /transient failure injected/);
    assert.deepEqual(
      await records(orderId),
      { order: 'PENDING', reservation: 'PENDING', shipment: 'CANCELLED', payment: 404 },
      'unwinding stopped at the dead letter',
    );
    await waitFor(() => needsAttention(orderId), 'the SagaStatus search attribute says NEEDS_ATTENTION');
    const [open] = await deadLetters(orderId);
    assert.deepEqual(
      {
        id: open.id,
        step: open.step,
        forStep: open.forStep,
        round: open.round,
        attempts: open.attempts,
        status: open.status,
      },
      { id: entry.id, step: 'release-inventory', forStep: 'reserve-inventory', round: 1, attempts: 3, status: 'OPEN' },
    );

    // The saga only moves when an operator decides; a decision it cannot take is refused without touching it.
    await assert.rejects(
      resolveCompensation(stack.client, orderId, 'done', 'cancel-shipment'),
      OperatorDecisionRefusedError,
    );
    assert.deepEqual(await retryCompensation(stack.client, orderId), {
      compensation: 'release-inventory',
      action: 'retry',
    });

    const result = await awaitSagaResult(stack.client, orderId);
    assert.ok(result.outcome === 'completed');
    assert.equal(result.result.status, 'REJECTED');
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
    assert.deepEqual(await records(orderId), {
      order: 'REJECTED',
      reservation: 'RELEASED',
      shipment: 'CANCELLED',
      payment: 404,
    });
    assert.deepEqual(
      (await deadLetters(orderId)).map((d) => [d.round, d.status]),
      [[1, 'RETRIED']],
    );
    await assert.rejects(retryCompensation(stack.client, orderId), /nothing is waiting|completed|not found|already/i);
  });

  it('an operator resolves a dead-lettered compensation by hand: the reason is recorded and the unwinding goes on', async () => {
    const orderId = newOrderId('comp-resolve');
    // A refusal (422) is never retried: dead-lettered after one attempt.
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      ...rejectedAtPivot(orderId),
      faults: { 'release-inventory': 'reject' },
      options: FAST_RETRIES,
    });
    const parked = await waitUntilDeadLettered(orderId, ['release-inventory']);
    assert.equal(parked.compensations[1].deadLetter!.attempts, 1);
    await assert.rejects(resolveCompensation(stack.client, orderId, '   '), /needs a reason/);

    await resolveCompensation(stack.client, orderId, 'stock released by hand in the warehouse system (ticket OPS-42)');
    const result = await awaitSagaResult(stack.client, orderId);
    assert.ok(result.outcome === 'completed' && result.result.status === 'REJECTED');
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'COMPENSATED');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'RESOLVED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.equal(state.compensations[1].resolution, 'stock released by hand in the warehouse system (ticket OPS-42)');
    const [entry] = await deadLetters(orderId);
    assert.deepEqual(
      [entry.status, entry.resolution],
      ['RESOLVED', 'stock released by hand in the warehouse system (ticket OPS-42)'],
    );
    // The operator said it was done by hand: the service's own reservation was never released by the saga.
    assert.deepEqual(await records(orderId), {
      order: 'REJECTED',
      reservation: 'PENDING',
      shipment: 'CANCELLED',
      payment: 404,
    });
  });

  it('continue-on-compensation-error: the other compensations run while the failed one waits for an operator', async () => {
    const orderId = newOrderId('comp-continue');
    // The saga's definition chooses to go on past a failed compensation (test/support/order-saga-variants.ts).
    await startSaga(stack.client, stack.taskQueue, orderSagaContinuingCompensation, {
      ...rejectedAtPivot(orderId),
      faults: { 'release-inventory': 'transient:100' },
      options: { ...FAST_RETRIES, compensationRetry: { ...FAST_RETRIES.compensationRetry, maximumAttempts: 2 } },
    });
    await waitUntilDeadLettered(orderId, ['release-inventory']);
    await waitFor(
      async () => (await records(orderId)).order === 'REJECTED',
      'reject-order ran after the dead-lettered compensation',
    );
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'NEEDS_ATTENTION');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'DEAD_LETTERED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    await resolveCompensation(stack.client, orderId, 'released by hand');
    const result = await awaitSagaResult(stack.client, orderId);
    assert.ok(result.outcome === 'completed' && result.result.status === 'REJECTED');
  });

  it('parallel compensation: all compensations start together; each failure is dead-lettered on its own and decided by name', async () => {
    const orderId = newOrderId('comp-parallel');
    // The saga's definition chooses parallel compensation (test/support/order-saga-variants.ts).
    await startSaga(stack.client, stack.taskQueue, orderSagaParallelCompensation, {
      ...rejectedAtPivot(orderId),
      faults: { 'cancel-shipment': 'transient:3', 'release-inventory': 'transient:100' },
      options: { ...FAST_RETRIES, compensationRetry: { ...FAST_RETRIES.compensationRetry, maximumAttempts: 2 } },
    });
    await waitUntilDeadLettered(orderId, ['cancel-shipment', 'release-inventory']);
    assert.equal((await records(orderId)).order, 'REJECTED', 'reject-order ran alongside the failing ones');
    await assert.rejects(retryCompensation(stack.client, orderId), /several actions wait/);
    assert.equal((await deadLetters(orderId)).filter((d) => d.status === 'OPEN').length, 2);

    await retryCompensation(stack.client, orderId, 'cancel-shipment'); // its third attempt succeeds
    await waitFor(async () => (await records(orderId)).shipment === 'CANCELLED', 'cancel-shipment succeeded on retry');
    assert.equal(
      (await getSagaState(stack.client, orderId)).status,
      'NEEDS_ATTENTION',
      'release-inventory still waits',
    );
    await resolveCompensation(stack.client, orderId, 'released by hand', 'release-inventory');
    const result = await awaitSagaResult(stack.client, orderId);
    assert.ok(result.outcome === 'completed' && result.result.status === 'REJECTED');
    assert.deepEqual((await deadLetters(orderId)).map((d) => [d.step, d.status]).sort(), [
      ['cancel-shipment', 'RETRIED'],
      ['release-inventory', 'RESOLVED'],
    ]);

    // From the history: the three compensations were all scheduled before any of them finished.
    const events = await history(orderId);
    const compensationTypes = new Set(['cancelShipment', 'releaseInventory', 'rejectOrder']);
    const scheduledIds = events
      .filter((e) => compensationTypes.has(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''))
      .map((e) => Number(e.eventId));
    const firstFinished = events.find((e) => {
      const scheduledId = Number(
        e.activityTaskCompletedEventAttributes?.scheduledEventId ??
          e.activityTaskFailedEventAttributes?.scheduledEventId ??
          -1,
      );
      return scheduledIds.includes(scheduledId);
    });
    assert.ok(
      scheduledIds.slice(0, 3).every((id) => id < Number(firstFinished!.eventId)),
      'scheduled together',
    );
  });

  it('a failure inside the parallel group compensates exactly the members that may have taken effect', async () => {
    // Both members fail: the reservation takes effect but its answer is lost on every attempt (it may have taken
    // effect, so it is released); the shipment is refused (a 4xx: it wrote nothing, so nothing is cancelled).
    const orderId = newOrderId('group-failure');
    const before = await ledger();
    const result = await run({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: destination('AQ'),
      faults: { 'reserve-inventory': 'lost-response:100' },
      options: { ...FAST_RETRIES, stepRetry: { ...FAST_RETRIES.stepRetry, maximumAttempts: 3 } },
    });
    assert.equal(result.outcome === 'completed' && result.result.status, 'REJECTED');
    const state = await getSagaState(stack.client, orderId);
    assert.deepEqual(
      state.steps.slice(1, 3).map((s) => [s.name, s.group, s.status, s.failure?.businessRejection]),
      [
        ['reserve-inventory', 'reserve-inventory + schedule-shipment', 'FAILED', false],
        ['schedule-shipment', 'reserve-inventory + schedule-shipment', 'FAILED', true],
      ],
    );
    // The first member's failure is the saga's; the refused shipment is not compensated, the reservation is.
    assert.equal(state.compensationCause?.failedStep, 'reserve-inventory');
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.equal((state.compensations[0].result as { noop: boolean }).noop, false, 'the reservation had taken effect');
    const scheduled = await scheduledActivities(orderId);
    assert.deepEqual(scheduled, [
      'createOrder',
      'reserveInventory',
      'scheduleShipment',
      'releaseInventory',
      'rejectOrder',
    ]);
    assert.deepEqual(await records(orderId), {
      order: 'REJECTED',
      reservation: 'RELEASED',
      shipment: 404,
      payment: 404,
    });
    assert.deepEqual(await ledger(), before);
  });

  it('two sagas racing for the last unit of stock: one APPROVED, the other REJECTED and fully compensated', async () => {
    const [a, b] = [newOrderId('race'), newOrderId('race')];
    const before = await ledger();
    const results = await Promise.all(
      [a, b].map((orderId) =>
        run({ orderId, customerId: 'cust-alice', items: [{ sku: 'LT-005', quantity: 1 }], destination: destination() }),
      ),
    );
    const statuses = results.map((r) => (r.outcome === 'completed' ? r.result.status : r.outcome)).sort();
    assert.deepEqual(statuses, ['APPROVED', 'REJECTED']);
    const loser = results[0].outcome === 'completed' && results[0].result.status === 'REJECTED' ? a : b;
    // Its shipment, scheduled at the same time as the refused reservation (one parallel group), was cancelled.
    assert.deepEqual(await records(loser), {
      order: 'REJECTED',
      reservation: 404,
      shipment: 'CANCELLED',
      payment: 404,
    });
    const after = await ledger();
    assert.deepEqual(after.stock['LT-005'], { available: 0, held: 0, sold: before.stock['LT-005'].sold + 1 });
    assert.equal(after.balances['cust-alice'], before.balances['cust-alice'] - 12000, 'only the winner paid');
  });

  it('starting the same order twice is refused by Temporal', async () => {
    const orderId = newOrderId('dup');
    const input = {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'CB-004', quantity: 1 }],
      destination: destination(),
    };
    await run(input);
    await assert.rejects(startSaga(stack.client, stack.taskQueue, orderSaga, input), SagaAlreadyStartedError);
  });

  it('a saga started with invalid input fails at once, non-retryably, and touches no service', async () => {
    const orderId = newOrderId('invalid');
    const before = await ledger();
    const handle = await stack.client.workflow.start('orderSaga', {
      taskQueue: stack.taskQueue,
      workflowId: orderId,
      args: [
        { orderId, customerId: 'cust-alice', items: [{ sku: 'KB-001', quantity: -5 }], destination: destination() },
      ],
    });
    await assert.rejects(
      handle.result(),
      (err: { cause?: { type?: string } }) => err.cause?.type === 'InvalidSagaInput',
    );
    assert.deepEqual(await scheduledActivities(orderId), []);
    assert.deepEqual(await records(orderId), { order: 404, reservation: 404, shipment: 404, payment: 404 });
    assert.deepEqual(await ledger(), before);
  });
});

async function waitFor(condition: () => Promise<boolean>, what = 'condition', timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
