import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { BenchActivities } from './bench-activities';
import type { OrderActivities } from '../../activities/order-activities';
import { KIT_DEFAULTS } from 'temporal-saga-kit/workflow';
import type { Destination, Item } from '../../services/shared/fields';

/**
 * The benchmark's fair floors for the order saga (scripts/bench), run in the same bench as the saga:
 *   sagaShapeFloor       the saga's exact shape with no-op activities: seven activities one after another, with the
 *                        saga's start-to-close timeout and retry policies (four before and at the pivot, three after).
 *                        Saga / this floor = what the saga pays beyond Temporal's own cost for that shape.
 *   sagaShapeFloorLocal  the same seven no-ops as local activities (the saga's options.localActivities): the floor of
 *                        the saga-local series, so it too is compared with a workflow of its own shape.
 *   plainOrderWorkflow   the saga's seven activities against the real services, called one after another by a plain
 *                        workflow: no saga engine, no compensation bookkeeping, no search-attribute upserts, no
 *                        query handler, no patch marker. Saga / this = the saga engine's own cost.
 * The timeouts and policies are the saga kit's defaults (KIT_DEFAULTS, temporal-saga-kit/workflow), as the order saga's.
 */
const STEP_TIMEOUT = KIT_DEFAULTS.stepTimeout;
const FORWARD_RETRY: RetryPolicy = KIT_DEFAULTS.stepRetry;
const RETRIABLE_RETRY: RetryPolicy = KIT_DEFAULTS.retriableRetry;

export const SAGA_SHAPE_ACTIVITIES = 7;

const forwardNoop = proxyActivities<BenchActivities>({ startToCloseTimeout: STEP_TIMEOUT, retry: FORWARD_RETRY });
const retriableNoop = proxyActivities<BenchActivities>({ startToCloseTimeout: STEP_TIMEOUT, retry: RETRIABLE_RETRY });

export async function sagaShapeFloor(): Promise<number> {
  for (let i = 0; i < 4; i++) await forwardNoop.noop();
  for (let i = 0; i < 3; i++) await retriableNoop.noop();
  return SAGA_SHAPE_ACTIVITIES;
}

const forwardLocalNoop = proxyLocalActivities<BenchActivities>({
  startToCloseTimeout: STEP_TIMEOUT,
  retry: FORWARD_RETRY,
});
const retriableLocalNoop = proxyLocalActivities<BenchActivities>({
  startToCloseTimeout: STEP_TIMEOUT,
  retry: RETRIABLE_RETRY,
});

export async function sagaShapeFloorLocal(): Promise<number> {
  for (let i = 0; i < 4; i++) await forwardLocalNoop.noop();
  for (let i = 0; i < 3; i++) await retriableLocalNoop.noop();
  return SAGA_SHAPE_ACTIVITIES;
}

const forward = proxyActivities<OrderActivities>({ startToCloseTimeout: STEP_TIMEOUT, retry: FORWARD_RETRY });
const retriable = proxyActivities<OrderActivities>({ startToCloseTimeout: STEP_TIMEOUT, retry: RETRIABLE_RETRY });

export interface PlainOrderInput {
  orderId: string;
  customerId: string;
  items: Item[];
  destination: Destination;
}

/** The happy path only: a failure simply fails the workflow (nothing is compensated; it is a floor, not a saga). */
export async function plainOrderWorkflow({
  orderId,
  customerId,
  items,
  destination,
}: PlainOrderInput): Promise<string> {
  await forward.createOrder({ orderId, customerId, items });
  const { totalCents } = await forward.reserveInventory({ orderId, items });
  await forward.scheduleShipment({ orderId, destination });
  await forward.chargePayment({ orderId, customerId, amountCents: totalCents });
  await retriable.confirmReservation({ orderId });
  await retriable.confirmShipment({ orderId });
  const order = await retriable.approveOrder({ orderId });
  return order.status;
}
