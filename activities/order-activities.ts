import type { Destination, Item } from '../services/shared/fields';
import { sagaCallOptions as callOptions, sagaServiceClient, type Compensated } from './saga-call';
import type { ServiceClient } from './service-client';

export type { Compensated, Destination, Item };

/**
 * The order saga's activities: each makes exactly one HTTP call to one service, keyed by the order id (the workflow
 * id) and the activity's name (saga-call.ts). They hold no business logic: the services decide, the workflow
 * orchestrates.
 */

export interface OrderRecord {
  id: string;
  status: string;
  reason?: string | null;
}
export interface ReservationRecord {
  orderId: string;
  status: string;
  totalCents: number;
}
export interface PaymentRecord {
  orderId: string;
  status: string;
  amountCents: number;
}
export interface ShipmentRecord {
  orderId: string;
  status: string;
  trackingNumber?: string | null;
}
/**
 * What the activities return: the fields their records declare, not the service's whole row (timestamps, lines,
 * addresses). Every byte of a result is stored in the saga's history and carried through the server and the worker;
 * the saga reads `totalCents` and `trackingNumber`, the CLI a compensation's `noop`.
 */
const orderRecord = ({ id, status, reason }: OrderRecord): OrderRecord => ({ id, status, reason });
const reservationRecord = ({ orderId, status, totalCents }: ReservationRecord): ReservationRecord => ({
  orderId,
  status,
  totalCents,
});
const paymentRecord = ({ orderId, status, amountCents }: PaymentRecord): PaymentRecord => ({
  orderId,
  status,
  amountCents,
});
const shipmentRecord = ({ orderId, status, trackingNumber }: ShipmentRecord): ShipmentRecord => ({
  orderId,
  status,
  trackingNumber,
});
const compensated =
  <T>(record: (r: T) => T) =>
  (r: Compensated<T>): Compensated<T> => ({ ...record(r), noop: r.noop });

export function createOrderActivities(serviceClient: ServiceClient) {
  const client = sagaServiceClient(serviceClient);
  return {
    async createOrder(input: { orderId: string; customerId: string; items: Item[] }): Promise<OrderRecord> {
      const { orderId, customerId, items } = input;
      return client
        .call<OrderRecord>('orders', 'POST', '/orders', { orderId, customerId, items }, callOptions())
        .then(orderRecord);
    },
    async approveOrder(input: { orderId: string }): Promise<OrderRecord> {
      return client
        .call<OrderRecord>('orders', 'POST', `/orders/${encodeURIComponent(input.orderId)}/approve`, {}, callOptions())
        .then(orderRecord);
    },
    async rejectOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client
        .call<Compensated<OrderRecord>>(
          'orders',
          'POST',
          `/orders/${encodeURIComponent(input.orderId)}/reject`,
          { reason: input.reason },
          callOptions(),
        )
        .then(compensated(orderRecord));
    },
    async cancelOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client
        .call<Compensated<OrderRecord>>(
          'orders',
          'POST',
          `/orders/${encodeURIComponent(input.orderId)}/cancel`,
          { reason: input.reason },
          callOptions(),
        )
        .then(compensated(orderRecord));
    },

    async reserveInventory(input: { orderId: string; items: Item[] }): Promise<ReservationRecord> {
      return client
        .call<ReservationRecord>(
          'inventory',
          'POST',
          '/reservations',
          { orderId: input.orderId, items: input.items },
          callOptions(),
        )
        .then(reservationRecord);
    },
    async confirmReservation(input: { orderId: string }): Promise<ReservationRecord> {
      return client
        .call<ReservationRecord>(
          'inventory',
          'POST',
          `/reservations/${encodeURIComponent(input.orderId)}/confirm`,
          {},
          callOptions(),
        )
        .then(reservationRecord);
    },
    async releaseInventory(input: { orderId: string; reason: string }): Promise<Compensated<ReservationRecord>> {
      return client
        .call<Compensated<ReservationRecord>>(
          'inventory',
          'POST',
          `/reservations/${encodeURIComponent(input.orderId)}/release`,
          { reason: input.reason },
          callOptions(),
        )
        .then(compensated(reservationRecord));
    },

    async scheduleShipment(input: { orderId: string; destination: Destination }): Promise<ShipmentRecord> {
      return client
        .call<ShipmentRecord>(
          'shipping',
          'POST',
          '/shipments',
          { orderId: input.orderId, destination: input.destination },
          callOptions(),
        )
        .then(shipmentRecord);
    },
    async confirmShipment(input: { orderId: string }): Promise<ShipmentRecord> {
      return client
        .call<ShipmentRecord>(
          'shipping',
          'POST',
          `/shipments/${encodeURIComponent(input.orderId)}/confirm`,
          {},
          callOptions(),
        )
        .then(shipmentRecord);
    },
    async cancelShipment(input: { orderId: string; reason: string }): Promise<Compensated<ShipmentRecord>> {
      return client
        .call<Compensated<ShipmentRecord>>(
          'shipping',
          'POST',
          `/shipments/${encodeURIComponent(input.orderId)}/cancel`,
          { reason: input.reason },
          callOptions(),
        )
        .then(compensated(shipmentRecord));
    },

    async chargePayment(input: { orderId: string; customerId: string; amountCents: number }): Promise<PaymentRecord> {
      const { orderId, customerId, amountCents } = input;
      return client
        .call<PaymentRecord>('payments', 'POST', '/payments', { orderId, customerId, amountCents }, callOptions())
        .then(paymentRecord);
    },
    async refundPayment(input: { orderId: string; reason: string }): Promise<Compensated<PaymentRecord>> {
      return client
        .call<Compensated<PaymentRecord>>(
          'payments',
          'POST',
          `/payments/${encodeURIComponent(input.orderId)}/refund`,
          { reason: input.reason },
          callOptions(),
        )
        .then(compensated(paymentRecord));
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
