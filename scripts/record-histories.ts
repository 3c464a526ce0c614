/**
 * Records the histories the replay test (test/replay/replay.test.ts) replays against the current workflow code.
 *
 *   npx tsx scripts/record-histories.ts              # every scenario
 *   npx tsx scripts/record-histories.ts happy cancelled   # only these
 *
 * Runs each scenario (the order saga's, and the return saga's: return-*) as a live saga on a fresh stack (Temporal dev server, the four services on fresh embedded
 * PostgreSQL databases with fault injection, an in-process worker), checks that it ended as the scenario says
 * (throws otherwise, and then writes nothing for it), and writes its history to test/replay/histories/<name>.json in
 * the SDK's JSON form (historyToJSON, the same norm as `temporal workflow show --output json`; the replayer reads it
 * back with historyFromJSON). Only the recorded scenarios' files are (over)written: histories kept from older
 * workflow versions stay, which is the point of a replay test.
 *
 * Re-record when the workflow changes ON PURPOSE in a way old histories cannot replay (and version it with patched()
 * if sagas of the old shape may still be running); never just to make a failing replay test pass.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  awaitSagaResult,
  cancelSaga,
  getSagaState,
  resolveCompensation,
  retryCompensation,
  startSaga,
  type SagaRequest,
  type SagaResult,
} from '../cli/saga-client';
import { randomBytes } from 'node:crypto';
import { Connection, type Client } from '@temporalio/client';
import { ServiceClient } from '../activities';
import { createSagaClient } from '../cli/saga-client';
import { startInProcessStack, type InProcessStack } from '../infra/stack';
import { startDevServer } from '../infra/temporal/dev-server';
import { bundleSagaWorkflows } from '../runtime/saga-worker';
import { installWorkerRuntime } from '../runtime/telemetry/worker-runtime';
import { SAGA_SEARCH_ATTRIBUTES } from '../runtime/search-attributes';
import { orderSaga, type OrderSagaResult } from '../workflows/order-saga';
import { returnSaga, type ReturnSagaResult } from '../workflows/return-saga';
import type { SagaDefinition, SagaView } from 'temporal-saga-kit/workflow';

const HISTORIES_DIR = path.resolve(__dirname, '../test/replay/histories');

const DESTINATION = {
  recipient: 'Alice Example',
  line1: 'Invalidenstrasse 1',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
const BASE = { customerId: 'cust-alice', items: [{ sku: 'KB-001', quantity: 1 }], destination: DESTINATION };

/** The history's JSON form, as far as the checks below read it. */
interface JsonEvent {
  eventId: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  activityTaskStartedEventAttributes?: { scheduledEventId?: string; attempt?: number };
}
interface Recorded {
  result: SagaResult<OrderSagaResult & ReturnSagaResult>;
  state: SagaView;
  events: JsonEvent[];
}

/** One history to record: an order saga's, or (with `saga`) another registered saga's. */
interface Scenario {
  name: string;
  /** Default: the order saga. */
  saga?: SagaDefinition;
  input: SagaRequest<typeof orderSaga> | SagaRequest<typeof returnSaga>;
  /** Runs before the saga starts (e.g. a return's approved, delivered order); not part of the recorded history. */
  setup?: (stack: SagaStack) => Promise<void>;
  /** Runs while the saga runs (e.g. cancels it). */
  during?: (stack: SagaStack, sagaId: string) => Promise<void>;
  /** Activities scheduled, in order. */
  activities: string[];
  /** Activities that must have succeeded only on their third attempt. */
  thirdAttempt?: string[];
  /** Default: the workflow completed. */
  lastEvent?: string;
  check: (r: Recorded) => void;
}

/** The forward steps up to the pivot, rejected there, then the first two compensations. */
const REJECTED_AT_THE_PIVOT = [
  'createOrder',
  'reserveInventory',
  'scheduleShipment',
  'chargePayment',
  'cancelShipment',
  'releaseInventory',
];

/** The check of a saga rejected at the pivot whose three compensations all ran (`resolved`: by an operator's hand). */
const compensatedAfterThePivot =
  (resolved?: string[]) =>
  ({ result, state }: Recorded) => {
    expectRejected(result, /^charge-payment: /);
    expectCompensated(state, ['cancel-shipment', 'release-inventory', 'reject-order'], { resolved });
  };

const FORWARD = [
  'createOrder',
  'reserveInventory',
  'scheduleShipment',
  'chargePayment',
  'confirmReservation',
  'confirmShipment',
  'approveOrder',
];

const SCENARIOS: Scenario[] = [
  {
    name: 'happy',
    input: { orderId: 'replay-happy', ...BASE },
    activities: FORWARD,
    check: ({ result }) => expectApproved(result),
  },
  {
    name: 'rejected-at-payment',
    input: { orderId: 'replay-rejected-at-payment', ...BASE, customerId: 'cust-broke' },
    activities: [...REJECTED_AT_THE_PIVOT, 'rejectOrder'],
    check: ({ result, state }) => {
      expectRejected(result, /^charge-payment: insufficient funds/);
      expectCompensated(state, ['cancel-shipment', 'release-inventory', 'reject-order']);
    },
  },
  {
    name: 'rejected-at-shipping',
    input: {
      orderId: 'replay-rejected-at-shipping',
      ...BASE,
      destination: { ...DESTINATION, city: 'McMurdo Station', postalCode: '00000', country: 'AQ' },
    },
    activities: ['createOrder', 'reserveInventory', 'scheduleShipment', 'releaseInventory', 'rejectOrder'],
    check: ({ result, state }) => {
      expectRejected(result, /^schedule-shipment: undeliverable destination/);
      expectCompensated(state, ['release-inventory', 'reject-order']);
    },
  },
  {
    // Inside the first parallel group: the shipment, scheduled at the same time as the refused reservation, is undone.
    name: 'rejected-at-inventory',
    input: { orderId: 'replay-rejected-at-inventory', ...BASE, items: [{ sku: 'MN-003', quantity: 1000 }] },
    activities: ['createOrder', 'reserveInventory', 'scheduleShipment', 'cancelShipment', 'rejectOrder'],
    check: ({ result, state }) => {
      expectRejected(result, /^reserve-inventory: insufficient stock for MN-003/);
      expectCompensated(state, ['cancel-shipment', 'reject-order']);
    },
  },
  {
    name: 'cancelled',
    input: { orderId: 'replay-cancelled', ...BASE, faults: { 'schedule-shipment': 'delay:3000' } },
    during: async (stack, orderId) => {
      await waitFor(
        async () => (await getSagaState(stack.client, orderId)).currentStep === 'schedule-shipment',
        `${orderId} to reach schedule-shipment`,
      );
      const outcome = await cancelSaga(stack.client, orderId);
      if (!outcome.cancelled) throw new Error(`cancelling ${orderId} was refused: ${outcome.reason}`);
    },
    activities: [
      'createOrder',
      'reserveInventory',
      'scheduleShipment',
      'cancelShipment',
      'releaseInventory',
      'cancelOrder',
    ],
    lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
    check: ({ result, state }) => {
      if (result.outcome !== 'cancelled') throw new Error(`expected a cancelled saga, got ${JSON.stringify(result)}`);
      expectCompensated(state, ['cancel-shipment', 'release-inventory', 'cancel-order']);
    },
  },
  {
    name: 'compensation-retried',
    input: {
      orderId: 'replay-compensation-retried',
      ...BASE,
      faults: { 'charge-payment': 'reject', 'release-inventory': 'transient:2' },
      options: { compensationRetry: { initialInterval: '100ms' } },
    },
    activities: [...REJECTED_AT_THE_PIVOT, 'rejectOrder'],
    thirdAttempt: ['releaseInventory'],
    check: compensatedAfterThePivot(),
  },
  {
    name: 'transient-retried',
    input: {
      orderId: 'replay-transient-retried',
      ...BASE,
      faults: { 'reserve-inventory': 'transient:2', 'approve-order': 'transient:2' },
      options: { stepRetry: { initialInterval: '100ms' } },
    },
    activities: FORWARD,
    // approve-order runs after the pivot with its own fixed retry policy (500 ms, x2): its retries take 1.5 s.
    thirdAttempt: ['reserveInventory', 'approveOrder'],
    check: ({ result }) => expectApproved(result),
  },
  {
    name: 'dead-lettered-retried',
    input: {
      orderId: 'replay-dead-lettered-retried',
      ...BASE,
      // Two attempts fail and the compensation is dead-lettered; the operator's retry fails once more, then succeeds.
      faults: { 'charge-payment': 'reject', 'release-inventory': 'transient:3' },
      options: { compensationRetry: { initialInterval: '100ms', maximumAttempts: 2 } },
    },
    during: async (stack, orderId) => {
      await waitUntilParked(stack, orderId);
      await retryCompensation(stack.client, orderId);
    },
    activities: [...REJECTED_AT_THE_PIVOT, 'recordDeadLetter', 'closeDeadLetter', 'releaseInventory', 'rejectOrder'],
    check: compensatedAfterThePivot(),
  },
  {
    name: 'dead-lettered-resolved',
    input: {
      orderId: 'replay-dead-lettered-resolved',
      ...BASE,
      faults: { 'charge-payment': 'reject', 'release-inventory': 'reject' },
    },
    during: async (stack, orderId) => {
      await waitUntilParked(stack, orderId);
      await resolveCompensation(stack.client, orderId, 'released by hand');
    },
    activities: [...REJECTED_AT_THE_PIVOT, 'recordDeadLetter', 'closeDeadLetter', 'rejectOrder'],
    check: compensatedAfterThePivot(['release-inventory']),
  },
  {
    name: 'deadline-passed',
    input: {
      orderId: 'replay-deadline-passed',
      ...BASE,
      faults: { 'schedule-shipment': 'delay:4000' },
      options: { deadline: '2s' },
    },
    activities: [
      'createOrder',
      'reserveInventory',
      'scheduleShipment',
      'cancelShipment',
      'releaseInventory',
      'rejectOrder',
    ],
    check: ({ result, state }) => {
      expectRejected(result, /^saga deadline \(2s\) passed during schedule-shipment/);
      expectCompensated(state, ['cancel-shipment', 'release-inventory', 'reject-order']);
    },
  },
  ...returnScenarios(),
];

/**
 * The return saga's histories (files return-*.json). Each returns its own order, approved by an order saga and
 * delivered by the carrier (the shipping service's delivery report) in its setup.
 */
function returnScenarios(): Scenario[] {
  const FORWARD_RETURN = ['requestReturn', 'bookReturnPickup', 'refundReturn', 'restockItems', 'completeReturn'];
  const returnOf = (name: string, extra: Partial<SagaRequest<typeof returnSaga>> = {}, delivered = true) => ({
    saga: returnSaga as SagaDefinition,
    input: { returnId: `replay-${name}`, orderId: `replay-${name}-order`, reason: 'does not fit', ...extra },
    setup: (stack: SagaStack) => approvedOrder(stack, `replay-${name}-order`, delivered),
  });
  return [
    {
      name: 'return-happy',
      ...returnOf('return-happy'),
      activities: FORWARD_RETURN,
      check: ({ result }) => expectReturn(result, 'RETURNED'),
    },
    {
      name: 'return-rejected-at-pickup',
      ...returnOf('return-rejected-at-pickup', {}, false),
      activities: ['requestReturn', 'bookReturnPickup', 'cancelReturn'],
      check: ({ result, state }) => {
        expectReturn(result, 'REJECTED', /^book-return-pickup: .*not yet delivered/);
        expectCompensated(state, ['cancel-return']);
      },
    },
    {
      name: 'return-rejected-at-refund',
      ...returnOf('return-rejected-at-refund', { faults: { 'refund-payment': 'reject' } }),
      activities: ['requestReturn', 'bookReturnPickup', 'refundReturn', 'cancelReturnPickup', 'cancelReturn'],
      check: ({ result, state }) => {
        expectReturn(result, 'REJECTED', /^refund-payment: /);
        expectCompensated(state, ['cancel-return-pickup', 'cancel-return']);
      },
    },
    {
      name: 'return-cancelled',
      ...returnOf('return-cancelled', { faults: { 'book-return-pickup': 'delay:3000' } }),
      during: async (stack, sagaId) => {
        await waitFor(
          async () => (await getSagaState(stack.client, sagaId)).currentStep === 'book-return-pickup',
          `${sagaId} to reach book-return-pickup`,
        );
        const outcome = await cancelSaga(stack.client, sagaId);
        if (!outcome.cancelled) throw new Error(`cancelling ${sagaId} was refused: ${outcome.reason}`);
      },
      activities: ['requestReturn', 'bookReturnPickup', 'cancelReturnPickup', 'cancelReturn'],
      lastEvent: 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
      check: ({ result, state }) => {
        if (result.outcome !== 'cancelled') throw new Error(`expected a cancelled saga, got ${JSON.stringify(result)}`);
        expectCompensated(state, ['cancel-return-pickup', 'cancel-return']);
      },
    },
    {
      name: 'return-dead-lettered-resolved',
      ...returnOf('return-dead-lettered-resolved', {
        faults: { 'refund-payment': 'reject', 'cancel-return-pickup': 'reject' },
      }),
      during: async (stack, sagaId) => {
        await waitUntilParked(stack, sagaId);
        await resolveCompensation(stack.client, sagaId, 'pickup cancelled by hand');
      },
      activities: [
        'requestReturn',
        'bookReturnPickup',
        'refundReturn',
        'cancelReturnPickup',
        'recordDeadLetter',
        'closeDeadLetter',
        'cancelReturn',
      ],
      check: ({ result, state }) => {
        expectReturn(result, 'REJECTED', /^refund-payment: /);
        expectCompensated(state, ['cancel-return-pickup', 'cancel-return'], { resolved: ['cancel-return-pickup'] });
      },
    },
  ];
}

/** An order approved by its saga and, if asked, reported delivered by the carrier: what a return starts from. */
async function approvedOrder(stack: SagaStack, orderId: string, delivered: boolean): Promise<void> {
  await startSaga(stack.client, stack.taskQueue, orderSaga, { orderId, ...BASE });
  expectApproved(await awaitSagaResult<OrderSagaResult>(stack.client, orderId));
  if (!delivered) return;
  await stack.services.call(
    'shipping',
    'POST',
    `/shipments/${orderId}/deliver`,
    {},
    { idempotencyKey: `${orderId}:deliver` },
  );
}

function expectReturn(result: SagaResult<ReturnSagaResult>, status: ReturnSagaResult['status'], reason?: RegExp): void {
  const r = result.outcome === 'completed' ? result.result : undefined;
  if (r?.status !== status || (reason && !(r.status === 'REJECTED' && reason.test(r.reason)))) {
    throw new Error(
      `expected a return ${status}${reason ? ` with a reason matching ${reason}` : ''}, got ${JSON.stringify(result)}`,
    );
  }
}

async function waitUntilParked(stack: SagaStack, orderId: string): Promise<void> {
  await waitFor(async () => {
    const state = await getSagaState(stack.client, orderId);
    return state.status === 'NEEDS_ATTENTION' && state.compensations.some((c) => c.deadLetter?.id !== undefined);
  }, `${orderId} to wait for an operator`);
}

function expectApproved(result: SagaResult<OrderSagaResult>): void {
  if (result.outcome !== 'completed' || result.result.status !== 'APPROVED')
    throw new Error(`expected an approved order, got ${JSON.stringify(result)}`);
}

function expectRejected(result: SagaResult<OrderSagaResult>, reason: RegExp): void {
  if (result.outcome !== 'completed' || result.result.status !== 'REJECTED' || !reason.test(result.result.reason)) {
    throw new Error(`expected an order rejected with a reason matching ${reason}, got ${JSON.stringify(result)}`);
  }
}

function expectCompensated(state: SagaView, compensations: string[], options: { resolved?: string[] } = {}): void {
  const ran = state.compensations.map((c) => `${c.name}:${c.status}`);
  const expected = compensations.map(
    (name) => `${name}:${options.resolved?.includes(name) ? 'RESOLVED' : 'COMPLETED'}`,
  );
  if (state.status !== 'COMPENSATED' || ran.join() !== expected.join()) {
    throw new Error(
      `expected status COMPENSATED after ${expected.join(', ')}; got ${state.status} after ${ran.join(', ') || 'none'}`,
    );
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The checks on the history itself: which activities ran, in what order, with which retries, and how it ended. */
function checkHistory(scenario: Scenario, events: JsonEvent[]): void {
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes);
  const types = scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name);
  if (types.join() !== scenario.activities.join()) {
    throw new Error(
      `${scenario.name}: expected activities ${scenario.activities.join(', ')}; the history scheduled ${types.join(', ')}`,
    );
  }
  for (const activity of scenario.thirdAttempt ?? []) {
    const scheduledId = scheduled.find(
      (e) => e.activityTaskScheduledEventAttributes!.activityType?.name === activity,
    )!.eventId;
    const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId === scheduledId);
    if (started?.activityTaskStartedEventAttributes?.attempt !== 3) {
      throw new Error(
        `${scenario.name}: expected ${activity} to succeed on attempt 3, got attempt ${started?.activityTaskStartedEventAttributes?.attempt}`,
      );
    }
  }
  const last = events.at(-1)?.eventType;
  const lastEvent = scenario.lastEvent ?? 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED';
  if (last !== lastEvent)
    throw new Error(`${scenario.name}: expected the history to end with ${lastEvent}, got ${last}`);
}

async function record(stack: SagaStack, scenario: Scenario): Promise<{ file: string; events: number; ms: number }> {
  const t0 = Date.now();
  const saga: SagaDefinition = scenario.saga ?? orderSaga;
  await scenario.setup?.(stack);
  const sagaId = saga.key(scenario.input);
  const handle = await startSaga(stack.client, stack.taskQueue, saga, scenario.input as SagaRequest<SagaDefinition>);
  await scenario.during?.(stack, sagaId);
  const result = await awaitSagaResult(stack.client, sagaId);
  const state = await getSagaState(stack.client, sagaId);
  const json = historyToJSON(await handle.fetchHistory());
  const events = (JSON.parse(json) as { events: JsonEvent[] }).events;
  scenario.check({ result, state, events });
  checkHistory(scenario, events);
  const file = path.join(HISTORIES_DIR, `${scenario.name}.json`);
  await writeFile(file, `${json}\n`);
  return { file: path.relative(process.cwd(), file), events: events.length, ms: Date.now() - t0 };
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const scenarios = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;

  await mkdir(HISTORIES_DIR, { recursive: true });
  await installWorkerRuntime({ logLevel: 'ERROR' }); // the SDK's own lines: errors only
  const t0 = Date.now();
  const stack = await startRecordingStack();
  console.log(`stack started in ${Date.now() - t0} ms`);
  try {
    // One at a time: concurrent sagas would not change the histories' shape, but a loaded machine could (e.g. an
    // activity completing while a workflow task is in flight adds events in between).
    for (const scenario of scenarios) {
      const { file, events, ms } = await record(stack, scenario);
      console.log(`wrote ${file} (${events} events, ${ms} ms)`);
    }
  } finally {
    await stack.stop();
  }
  console.log(`recorded ${scenarios.length} histories in ${Date.now() - t0} ms`);
}

/** What a scenario talks to: a client and the task queue of an in-process stack, and the services as the worker calls them. */
interface SagaStack {
  client: Client;
  taskQueue: string;
  services: ServiceClient;
  stop(): Promise<void>;
}

/** The dev server, the four services with fault injection on an embedded PostgreSQL of their own, one worker. */
async function startRecordingStack(): Promise<SagaStack> {
  const authToken = randomBytes(24).toString('hex');
  const server = await startDevServer({ ui: false, searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES } });
  const stack: InProcessStack = await startInProcessStack({
    temporal: server,
    authToken,
    faultInjection: true,
    logLevel: 'silent',
    workflowBundle: await bundleSagaWorkflows(),
  });
  await stack.startWorker();
  const connection = await Connection.connect({ address: server.address });
  const services = new ServiceClient({ urls: stack.urls, requestTimeoutMs: 10_000, authToken });
  return {
    client: createSagaClient(connection, server.namespace),
    taskQueue: stack.taskQueue,
    services,
    async stop() {
      await services.close();
      await connection.close();
      await stack.stop();
    },
  };
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
