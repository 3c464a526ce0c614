import type { Client } from '@temporalio/client';
import { cancelSaga, getSagaState, type SagaRequest } from '../../cli/saga-client';
import type { orderSaga } from '../../workflows/order-saga';
import type { returnSaga } from '../../workflows/return-saga';
import type { FaultPlan } from 'temporal-saga-kit/client';
import type { ActionName, CompensationName, SagaStatus, StepName } from '../../workflows/saga-types';

/**
 * The demo's scenarios: each one is an order, what to do while it runs, and how it must end. The expectations are
 * the saga's documented behaviour (docs/how-the-saga-works.md), so a scenario that ends otherwise is a bug, and
 * `npm run demo` exits 1.
 */
export type Outcome = 'APPROVED' | 'RETURNED' | 'REJECTED' | 'CANCELLED' | 'FAILED';
type Sagas = typeof orderSaga | typeof returnSaga;

/** How a scenario ended; `expected` and `actual` have this shape, and pass means they are equal. */
export interface FinalState {
  /** How the saga ended, as `client.ts result` says it. */
  outcome: Outcome;
  /** The order's status in the orders service's own database (GET /orders/:id), or null if it has no order. */
  orderStatus: string | null;
  /** The saga's own status (also the SagaStatus search attribute). */
  sagaStatus: SagaStatus;
  /** The compensations that ran to completion, in the order they ran. */
  compensations: CompensationName<Sagas>[];
  /** Attempts per step, for the steps a scenario expects to be retried (only those steps are compared). */
  attempts?: Partial<Record<StepName<Sagas>, number>>;
}

export interface Scenario {
  name: string;
  /** One line: what happens and why. */
  story: string;
  /** The order, and for some scenarios a fault plan (it travels in a header, not in the order). */
  order: Omit<SagaRequest<typeof orderSaga>, 'orderId'>;
  /**
   * A return saga scenario: the order above is placed (and must be approved) first, reported delivered by the carrier
   * if `delivered`, then returned; the scenario's saga is the return.
   */
  returnOf?: { reason: string; delivered: boolean; faults?: FaultPlan<ActionName<typeof returnSaga>> };
  expected: FinalState;
  /** Runs alongside the saga, e.g. the cancellation scenario cancels it while a step is slow. */
  during?: (client: Client, orderId: string) => Promise<string | void>;
}

/**
 * One USB-C cable (9.00, 500 in stock): cheap enough that a long-lived `npm start` stack (cust-alice has 5000.00)
 * can run the demo a couple of hundred times before stock or balance run out, and still more than cust-broke's 5.00.
 */
const cable = [{ sku: 'CB-004', quantity: 1 }];
const berlin = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
/** Every compensation of the three compensatable steps, in reverse order of the steps. */
const UNDO_ALL: FinalState['compensations'] = ['cancel-shipment', 'release-inventory', 'reject-order'];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'success',
    story: 'cust-alice orders a USB-C cable to Berlin: every step succeeds, nothing is compensated',
    order: { customerId: 'cust-alice', items: cable, destination: berlin },
    expected: { outcome: 'APPROVED', orderStatus: 'APPROVED', sagaStatus: 'COMPLETED', compensations: [] },
  },
  {
    name: 'rejection-at-payment',
    story:
      'cust-broke (balance 5.00) orders a cable (9.00): the pivot refuses the charge, the three steps before it are undone',
    order: {
      customerId: 'cust-broke',
      items: cable,
      destination: { ...berlin, city: 'Paris', postalCode: '75001', country: 'FR' },
    },
    expected: { outcome: 'REJECTED', orderStatus: 'REJECTED', sagaStatus: 'COMPENSATED', compensations: UNDO_ALL },
  },
  {
    name: 'rejection-at-shipping',
    story:
      'a cable to Antarctica (AQ), where nobody delivers: shipping refuses; the order and the reservation (made at the same time) are undone',
    order: {
      customerId: 'cust-alice',
      items: cable,
      destination: {
        recipient: 'Station Chief',
        line1: 'McMurdo Station',
        city: 'Ross Island',
        postalCode: '96599',
        country: 'AQ',
      },
    },
    expected: {
      outcome: 'REJECTED',
      orderStatus: 'REJECTED',
      sagaStatus: 'COMPENSATED',
      compensations: ['release-inventory', 'reject-order'],
    },
  },
  {
    name: 'cancellation',
    story:
      'the shipping service is slow (4 s); the customer cancels meanwhile: before the pivot that is honoured, every step is undone',
    order: {
      customerId: 'cust-alice',
      items: cable,
      destination: berlin,
      faults: { 'schedule-shipment': 'delay:4000' },
    },
    expected: {
      outcome: 'CANCELLED',
      orderStatus: 'CANCELLED',
      sagaStatus: 'COMPENSATED',
      compensations: ['cancel-shipment', 'release-inventory', 'cancel-order'],
    },
    during: cancelWhileShipmentIsSlow,
  },
  {
    name: 'transient-outage',
    story:
      'inventory answers 503 three times and the payment reply is lost once: Temporal retries, the keys make retries safe, the order is approved',
    order: {
      customerId: 'cust-alice',
      items: cable,
      destination: berlin,
      faults: { 'reserve-inventory': 'transient:3', 'charge-payment': 'lost-response:1' },
    },
    expected: {
      outcome: 'APPROVED',
      orderStatus: 'APPROVED',
      sagaStatus: 'COMPLETED',
      compensations: [],
      // 3 refusals + the attempt that succeeds; the charge's lost reply + its replay (charged once).
      attempts: { 'reserve-inventory': 4, 'charge-payment': 2 },
    },
  },
  {
    name: 'return',
    story:
      'cust-alice sends back the cable after the carrier delivered it: pickup booked, refunded (the pivot), restocked, order RETURNED',
    order: { customerId: 'cust-alice', items: cable, destination: berlin },
    returnOf: { reason: 'ordered the wrong connector', delivered: true },
    expected: { outcome: 'RETURNED', orderStatus: 'RETURNED', sagaStatus: 'COMPLETED', compensations: [] },
  },
  {
    name: 'return-not-delivered',
    story:
      'a return of a cable the carrier has not delivered yet: the pickup is refused, the return request is cancelled, the order stays APPROVED',
    order: { customerId: 'cust-alice', items: cable, destination: berlin },
    returnOf: { reason: 'changed my mind', delivered: false },
    expected: {
      outcome: 'REJECTED',
      orderStatus: 'APPROVED',
      sagaStatus: 'COMPENSATED',
      compensations: ['cancel-return'],
    },
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** Waits until the saga is inside the slow step (so there is something to undo), then cancels it. */
async function cancelWhileShipmentIsSlow(client: Client, orderId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while ((await getSagaState(client, orderId).catch(() => undefined))?.currentStep !== 'schedule-shipment') {
    if (Date.now() > deadline)
      throw new Error('the saga never reached schedule-shipment within 30 s; nothing was cancelled');
    await new Promise((r) => setTimeout(r, 100));
  }
  const outcome = await cancelSaga(client, orderId);
  return outcome.cancelled
    ? 'cancelled while schedule-shipment was in progress'
    : `cancellation refused: ${outcome.reason}`;
}
