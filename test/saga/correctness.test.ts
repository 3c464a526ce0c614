import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  awaitSagaEndOrOperator,
  awaitSagaResult,
  getSagaState,
  listDeadLetters,
  resolveCompensation,
  retryCompensation,
  startSaga,
  type SagaRequest,
} from '../../cli/saga-client';
import { MAX_REASON_LENGTH } from '../../services/shared/fields';
import { orderSaga } from '../../workflows/order-saga';
import { httpClient } from '../support/http';
import { ledger as readLedger, sagaRecords } from '../support/saga-records';
import { destination as defaultDestination, FAST_RETRIES } from '../support/orders';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/**
 * Sequences none of the chaos run, the explorer or the fuzz tests generates, each a way for a saga to end wrong with
 * nothing crashing: a failure text that its compensations' participants refuse, a business id reused after Temporal
 * forgot the first saga, a step after the pivot that is refused for good. All on the real stack.
 */
describe('saga correctness under unusual inputs and time spans (real Temporal, real services)', function () {
  this.timeout(180_000);
  let stack: SagaStack;
  let n = 0;
  const newOrderId = (label: string) => `ord-${label}-${++n}`;
  const api = (service: keyof SagaStack['services']) => httpClient(stack.services[service].url);
  const destination = defaultDestination();

  before(async () => {
    stack = await startSagaStack();
  });
  after(() => stack?.stop());

  /** Starts the saga and waits until it ends or waits for an operator (a parked saga would never end by itself). */
  async function run(request: SagaRequest<typeof orderSaga>) {
    await startSaga(stack.client, stack.taskQueue, orderSaga, { options: FAST_RETRIES, ...request });
    return awaitSagaEndOrOperator(stack.client, request.orderId, { pollMs: 200 });
  }

  async function deadLetters(orderId: string) {
    const res = await api('orders').get(`/dead-letters?sagaId=${orderId}`);
    return res.body.deadLetters as { step: string; forStep: string; status: string; round: number }[];
  }

  it('a failure text of any length reaches the compensations as one bounded line; the full text stays in the state', async () => {
    // Eight unknown SKUs, each a valid 64-character id: the inventory's refusal lists them all (~560 characters).
    const items = Array.from({ length: 8 }, (_, i) => ({ sku: `${'NOSUCH'.padEnd(62, 'x')}-${i}`, quantity: 1 }));
    const orderId = newOrderId('long-failure');
    const outcome = await run({ orderId, customerId: 'cust-alice', items, destination });

    assert.equal(outcome.outcome, 'completed', `the saga ended ${JSON.stringify(outcome).slice(0, 600)}`);
    if (outcome.outcome !== 'completed') return;
    assert.equal(outcome.result.status, 'REJECTED');
    const reason = outcome.result.reason as string;
    assert.ok(reason.length <= MAX_REASON_LENGTH, `reason of ${reason.length} characters`);
    assert.match(reason, /^reserve-inventory: .*…$/);
    assert.deepEqual(await sagaRecords(stack.services, orderId), {
      order: 'REJECTED',
      reservation: 404,
      shipment: 'CANCELLED',
      payment: 404,
    });
    const order = (await api('orders').get(`/orders/${orderId}`)).body as { reason: string };
    assert.equal(order.reason, reason, 'the order records the reason the compensation was handed');
    // The operator still sees the participant's whole answer.
    const state = await getSagaState(stack.client, orderId);
    const failure = state.steps.find((s) => s.name === 'reserve-inventory')?.failure?.message ?? '';
    assert.ok(failure.length > MAX_REASON_LENGTH, `the step's failure keeps its ${failure.length} characters`);
    for (const item of items) assert.ok(failure.includes(item.sku), `${item.sku} named in the failure`);
    assert.deepEqual(await deadLetters(orderId), []);
  });

  it('an order id used again after Temporal forgot the first saga is refused before any effect', async () => {
    const orderId = newOrderId('reused');
    const customers = ['cust-alice'];
    const first = await run({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination,
      faults: { 'charge-payment': 'reject' },
    });
    assert.equal(first.outcome, 'completed');
    assert.equal(first.outcome === 'completed' && first.result.status, 'REJECTED');
    const before = await readLedger(stack.services, customers);

    // What the namespace's retention does after its period: the first saga's history is gone, so Temporal lets a new
    // saga start with the same workflow id.
    await forgetWorkflow(orderId);
    const second = await run({
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination,
    });

    assert.equal(second.outcome, 'completed', `the second saga ended ${JSON.stringify(second).slice(0, 600)}`);
    if (second.outcome !== 'completed') return;
    assert.equal(second.result.status, 'REJECTED');
    assert.match(second.result.reason as string, /^create-order: .*already exists/);
    // Nothing moved: the first saga's outcome stands, no charge, stock and balance as they were.
    assert.deepEqual(await sagaRecords(stack.services, orderId), {
      order: 'REJECTED',
      reservation: 'RELEASED',
      shipment: 'CANCELLED',
      payment: 404,
    });
    assert.deepEqual(await readLedger(stack.services, customers), before);
    assert.deepEqual(await deadLetters(orderId), []);
  });

  it('a reset saga replays its steps with the same idempotency keys: nothing happens twice', async () => {
    const orderId = newOrderId('reset');
    const customers = ['cust-bob'];
    const order = { orderId, customerId: 'cust-bob', items: [{ sku: 'KB-001', quantity: 2 }], destination };
    const first = await run(order);
    assert.equal(first.outcome === 'completed' && first.result.status, 'APPROVED');
    const after = await readLedger(stack.services, customers);

    // A reset to the first workflow task re-executes every step in a new run of the same chain.
    const { runId } = await stack.client.workflow.getHandle(orderId).describe();
    const reset = await stack.client.workflowService.resetWorkflowExecution({
      namespace: stack.client.options.namespace,
      workflowExecution: { workflowId: orderId, runId },
      workflowTaskFinishEventId: await firstWorkflowTaskCompleted(orderId),
      reason: 'test: re-execute the saga',
      requestId: `reset-${orderId}`,
    });
    assert.notEqual(reset.runId, runId);
    const again = await awaitSagaResult(stack.client, orderId);
    assert.equal(again.outcome === 'completed' && again.result.status, 'APPROVED');
    assert.deepEqual(await readLedger(stack.services, customers), after, 'charged and sold once');
  });

  it('a step after the pivot refused for good waits for an operator instead of failing the saga', async () => {
    const orderId = newOrderId('refused-after-pivot');
    const customers = ['cust-carol'];
    const before = await readLedger(stack.services, customers);
    const parked = await run({
      orderId,
      customerId: 'cust-carol',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination,
      faults: { 'confirm-reservation': 'reject' },
    });

    assert.equal(parked.outcome, 'needs-attention', `the saga ended ${JSON.stringify(parked).slice(0, 600)}`);
    if (parked.outcome !== 'needs-attention') return;
    const step = parked.state.steps.find((s) => s.name === 'confirm-reservation');
    assert.equal(step?.status, 'DEAD_LETTERED');
    assert.equal(parked.state.compensations.length, 0, 'nothing is compensated after the pivot');
    assert.deepEqual(
      (await deadLetters(orderId)).map((d) => [d.step, d.forStep, d.status, d.round]),
      [['confirm-reservation', 'confirm-reservation', 'OPEN', 1]],
    );
    const listed = (await listDeadLetters(stack.client, { saga: orderSaga, limit: 100 })).filter(
      (d) => d.sagaId === orderId,
    );
    assert.deepEqual(
      listed.map((d) => [d.compensation, d.kind]),
      [['confirm-reservation', 'step']],
    );

    // A retry runs the step again (still refused: the planned fault answers every attempt), a second round.
    await retryCompensation(stack.client, orderId, 'confirm-reservation');
    await waitUntil(async () => (await deadLetters(orderId)).some((d) => d.round === 2 && d.status === 'OPEN'));
    // Resolved by hand: the saga completes forward.
    await resolveCompensation(stack.client, orderId, 'reservation confirmed by hand in the warehouse system');
    const ended = await awaitSagaResult(stack.client, orderId);
    assert.equal(ended.outcome === 'completed' && ended.result.status, 'APPROVED');
    const state = await getSagaState(stack.client, orderId);
    assert.equal(state.status, 'COMPLETED');
    assert.equal(state.steps.find((s) => s.name === 'confirm-reservation')?.status, 'RESOLVED');
    assert.deepEqual((await deadLetters(orderId)).map((d) => [d.round, d.status]).sort(), [
      [1, 'RETRIED'],
      [2, 'RESOLVED'],
    ]);
    const charged = (await readLedger(stack.services, customers)).balances['cust-carol'];
    assert.ok(charged < before.balances['cust-carol'], 'the customer was charged once, and the order approved');
    assert.equal((await sagaRecords(stack.services, orderId)).order, 'APPROVED');
  });

  /** Deletes a closed workflow's history, as the namespace's retention does, and waits until it is gone. */
  async function forgetWorkflow(workflowId: string): Promise<void> {
    const { runId } = await stack.client.workflow.getHandle(workflowId).describe();
    await stack.client.workflowService.deleteWorkflowExecution({
      namespace: stack.client.options.namespace,
      workflowExecution: { workflowId, runId },
    });
    await waitUntil(() =>
      stack.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          () => false,
          () => true,
        ),
    );
  }

  /** The event id of the first WorkflowTaskCompleted: a reset to it re-executes the whole saga. */
  async function firstWorkflowTaskCompleted(workflowId: string) {
    const { events } = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    return events!.find((e) => e.workflowTaskCompletedEventAttributes)!.eventId!;
  }

  async function waitUntil(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await sleep(200);
    }
  }
});
