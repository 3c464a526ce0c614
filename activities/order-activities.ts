import type { Destination, Item } from '../services/shared/fields';
import { sagaPost, segment, type Compensated } from './saga-call';
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
export function createOrderActivities(serviceClient: ServiceClient) {
  const post = sagaPost(serviceClient);
  return {
    async createOrder({ orderId, customerId, items }: { orderId: string; customerId: string; items: Item[] }) {
      return post<OrderRecord>('orders', '/orders', { orderId, customerId, items });
    },
    async approveOrder(input: { orderId: string }): Promise<OrderRecord> {
      return post('orders', `/orders/${segment(input.orderId)}/approve`);
    },
    async rejectOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return post('orders', `/orders/${segment(input.orderId)}/reject`, { reason: input.reason });
    },
    async cancelOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return post('orders', `/orders/${segment(input.orderId)}/cancel`, { reason: input.reason });
    },

    async reserveInventory({ orderId, items }: { orderId: string; items: Item[] }): Promise<ReservationRecord> {
      return post('inventory', '/reservations', { orderId, items });
    },
    async confirmReservation(input: { orderId: string }): Promise<ReservationRecord> {
      return post('inventory', `/reservations/${segment(input.orderId)}/confirm`);
    },
    async releaseInventory(input: { orderId: string; reason: string }): Promise<Compensated<ReservationRecord>> {
      return post('inventory', `/reservations/${segment(input.orderId)}/release`, { reason: input.reason });
    },

    async scheduleShipment(input: { orderId: string; destination: Destination }): Promise<ShipmentRecord> {
      return post('shipping', '/shipments', { orderId: input.orderId, destination: input.destination });
    },
    async confirmShipment(input: { orderId: string }): Promise<ShipmentRecord> {
      return post('shipping', `/shipments/${segment(input.orderId)}/confirm`);
    },
    async cancelShipment(input: { orderId: string; reason: string }): Promise<Compensated<ShipmentRecord>> {
      return post('shipping', `/shipments/${segment(input.orderId)}/cancel`, { reason: input.reason });
    },

    async chargePayment(input: { orderId: string; customerId: string; amountCents: number }): Promise<PaymentRecord> {
      const { orderId, customerId, amountCents } = input;
      return post('payments', '/payments', { orderId, customerId, amountCents });
    },
    async refundPayment(input: { orderId: string; reason: string }): Promise<Compensated<PaymentRecord>> {
      return post('payments', `/payments/${segment(input.orderId)}/refund`, { reason: input.reason });
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
