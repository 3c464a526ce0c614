import type { Destination, Item } from '../services/shared/fields';
import { sagaPost, segment, type Compensated } from './service-call';
import type { ServiceClient } from './service-client';

export type { Compensated, Destination, Item };

/**
 * The order saga's activities: each makes exactly one HTTP call to one service, keyed by the order id (the workflow
 * id) and the activity's name (service-call.ts). They hold no business logic: the services decide, the workflow
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
  const post = sagaPost(serviceClient);
  return {
    async createOrder({ orderId, customerId, items }: { orderId: string; customerId: string; items: Item[] }) {
      return post<OrderRecord>('orders', '/orders', { orderId, customerId, items }).then(orderRecord);
    },
    async approveOrder(input: { orderId: string }): Promise<OrderRecord> {
      return post<OrderRecord>('orders', `/orders/${segment(input.orderId)}/approve`).then(orderRecord);
    },
    async rejectOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return post<Compensated<OrderRecord>>('orders', `/orders/${segment(input.orderId)}/reject`, {
        reason: input.reason,
      }).then(compensated(orderRecord));
    },
    async cancelOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return post<Compensated<OrderRecord>>('orders', `/orders/${segment(input.orderId)}/cancel`, {
        reason: input.reason,
      }).then(compensated(orderRecord));
    },

    async reserveInventory({ orderId, items }: { orderId: string; items: Item[] }): Promise<ReservationRecord> {
      return post<ReservationRecord>('inventory', '/reservations', { orderId, items }).then(reservationRecord);
    },
    async confirmReservation(input: { orderId: string }): Promise<ReservationRecord> {
      return post<ReservationRecord>('inventory', `/reservations/${segment(input.orderId)}/confirm`).then(
        reservationRecord,
      );
    },
    async releaseInventory(input: { orderId: string; reason: string }): Promise<Compensated<ReservationRecord>> {
      return post<Compensated<ReservationRecord>>('inventory', `/reservations/${segment(input.orderId)}/release`, {
        reason: input.reason,
      }).then(compensated(reservationRecord));
    },

    async scheduleShipment(input: { orderId: string; destination: Destination }): Promise<ShipmentRecord> {
      return post<ShipmentRecord>('shipping', '/shipments', {
        orderId: input.orderId,
        destination: input.destination,
      }).then(shipmentRecord);
    },
    async confirmShipment(input: { orderId: string }): Promise<ShipmentRecord> {
      return post<ShipmentRecord>('shipping', `/shipments/${segment(input.orderId)}/confirm`).then(shipmentRecord);
    },
    async cancelShipment(input: { orderId: string; reason: string }): Promise<Compensated<ShipmentRecord>> {
      return post<Compensated<ShipmentRecord>>('shipping', `/shipments/${segment(input.orderId)}/cancel`, {
        reason: input.reason,
      }).then(compensated(shipmentRecord));
    },

    async chargePayment(input: { orderId: string; customerId: string; amountCents: number }): Promise<PaymentRecord> {
      const { orderId, customerId, amountCents } = input;
      return post<PaymentRecord>('payments', '/payments', { orderId, customerId, amountCents }).then(paymentRecord);
    },
    async refundPayment(input: { orderId: string; reason: string }): Promise<Compensated<PaymentRecord>> {
      return post<Compensated<PaymentRecord>>('payments', `/payments/${segment(input.orderId)}/refund`, {
        reason: input.reason,
      }).then(compensated(paymentRecord));
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
