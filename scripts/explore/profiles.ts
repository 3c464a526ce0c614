/**
 * What the explorer needs to know about a saga beyond its definition: how to make a fresh business input for a key,
 * how to read its business outcome from its result, its invariants (the pure function the chaos run uses too), and
 * how an operator undoes a compensation's work by hand (the request the compensation sends). One entry per saga;
 * a registered saga without one is listed as not explored.
 *
 * To declare a new saga's invariants: write them as one pure function over that saga's rows for one business key and
 * its outcome (scripts/chaos/order-invariants.ts, return-invariants.ts), then add a profile here that calls it.
 */
import type { ServiceName } from '../../services/catalog';
import { checkOrderSaga, orderRowsOf } from '../chaos/order-invariants';
import type { DbSnapshot, SagaOutcomeKind } from '../chaos/invariants';
import { orderSaga } from '../../workflows/order-saga';
import type { SagaDefinition } from '../../workflows/saga';

/** How a saga's workflow ended, as the driver saw it. */
export type Ended = { result: unknown } | { cancelled: true } | { failed: string };

export interface ServiceRequest {
  service: ServiceName;
  path: string;
  body: unknown;
}

export interface ExploreProfile {
  saga: SagaDefinition;
  /**
   * The business's point of no return, when the explorer should hold the definition to it rather than read it from
   * the definition (which is what it checks): for the order saga, once the customer is charged the order is kept.
   */
  pivot?: string;
  /** A fresh input whose business key is `key`. */
  input(key: string): unknown;
  /** The business outcome (APPROVED, REJECTED, …) of a saga that ended so. */
  outcome(ended: Ended): SagaOutcomeKind | string;
  /** The saga's invariants for one key, over a snapshot of every service's rows. */
  check(input: unknown, outcome: string, snapshot: DbSnapshot): string[];
  /** The rows one key owns, except idempotency records: compared before and after a compensation is replayed. */
  effectRows(input: unknown, snapshot: DbSnapshot): unknown;
  /** The request a compensation sends, with the saga's reason (an operator sends the same by hand before resolving it). */
  compensationRequest(compensation: string, input: unknown, reason: string): ServiceRequest;
}

type OrderInput = { orderId: string; customerId: string };

export const orderProfile: ExploreProfile = {
  saga: orderSaga,
  pivot: 'charge-payment',
  input: (key) => ({
    orderId: key,
    customerId: 'cust-alice',
    items: [{ sku: 'KB-001', quantity: 1 }],
    destination: { recipient: `Explore ${key}`, line1: '1 Test Street', city: 'Testville', postalCode: '12345', country: 'DE' },
  }),
  outcome: (ended) => ('cancelled' in ended ? 'CANCELLED' : 'failed' in ended ? 'FAILED' : (ended.result as { status: string }).status),
  check: (input, outcome, snapshot) => {
    const { orderId, customerId } = input as OrderInput;
    return checkOrderSaga({ orderId, customerId, outcome: outcome as SagaOutcomeKind }, orderRowsOf(snapshot, orderId));
  },
  effectRows: (input, snapshot) => {
    const { idempotency: _keys, ...rows } = orderRowsOf(snapshot, (input as OrderInput).orderId);
    return rows;
  },
  compensationRequest: (compensation, input, reason) => {
    const id = encodeURIComponent((input as OrderInput).orderId);
    const body = { reason };
    const requests: Record<string, ServiceRequest> = {
      'reject-order': { service: 'orders', path: `/orders/${id}/reject`, body },
      'cancel-order': { service: 'orders', path: `/orders/${id}/cancel`, body },
      'release-inventory': { service: 'inventory', path: `/reservations/${id}/release`, body },
      'cancel-shipment': { service: 'shipping', path: `/shipments/${id}/cancel`, body },
      'refund-payment': { service: 'payments', path: `/payments/${id}/refund`, body },
    };
    const request = requests[compensation];
    if (!request) throw new Error(`the order saga has no compensation ${compensation}`);
    return request;
  },
};

/** Explore profiles by saga name. */
export const EXPLORE_PROFILES: Record<string, ExploreProfile> = { [orderProfile.saga.name]: orderProfile };
