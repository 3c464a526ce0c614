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
export function createOrderActivities(serviceClient: ServiceClient) {
  const client = sagaServiceClient(serviceClient);
  return {
    async createOrder(input: { orderId: string; customerId: string; items: Item[] }): Promise<OrderRecord> {
      const { orderId, customerId, items } = input;
      return client.call('orders', 'POST', '/orders', { orderId, customerId, items }, callOptions());
    },
    async approveOrder(input: { orderId: string }): Promise<OrderRecord> {
      return client.call('orders', 'POST', `/orders/${encodeURIComponent(input.orderId)}/approve`, {}, callOptions());
    },
    async rejectOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client.call(
        'orders',
        'POST',
        `/orders/${encodeURIComponent(input.orderId)}/reject`,
        { reason: input.reason },
        callOptions(),
      );
    },
    async cancelOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client.call(
        'orders',
        'POST',
        `/orders/${encodeURIComponent(input.orderId)}/cancel`,
        { reason: input.reason },
        callOptions(),
      );
    },

    async reserveInventory(input: { orderId: string; items: Item[] }): Promise<ReservationRecord> {
      return client.call(
        'inventory',
        'POST',
        '/reservations',
        { orderId: input.orderId, items: input.items },
        callOptions(),
      );
    },
    async confirmReservation(input: { orderId: string }): Promise<ReservationRecord> {
      return client.call(
        'inventory',
        'POST',
        `/reservations/${encodeURIComponent(input.orderId)}/confirm`,
        {},
        callOptions(),
      );
    },
    async releaseInventory(input: { orderId: string; reason: string }): Promise<Compensated<ReservationRecord>> {
      return client.call(
        'inventory',
        'POST',
        `/reservations/${encodeURIComponent(input.orderId)}/release`,
        { reason: input.reason },
        callOptions(),
      );
    },

    async scheduleShipment(input: { orderId: string; destination: Destination }): Promise<ShipmentRecord> {
      return client.call(
        'shipping',
        'POST',
        '/shipments',
        { orderId: input.orderId, destination: input.destination },
        callOptions(),
      );
    },
    async confirmShipment(input: { orderId: string }): Promise<ShipmentRecord> {
      return client.call(
        'shipping',
        'POST',
        `/shipments/${encodeURIComponent(input.orderId)}/confirm`,
        {},
        callOptions(),
      );
    },
    async cancelShipment(input: { orderId: string; reason: string }): Promise<Compensated<ShipmentRecord>> {
      return client.call(
        'shipping',
        'POST',
        `/shipments/${encodeURIComponent(input.orderId)}/cancel`,
        { reason: input.reason },
        callOptions(),
      );
    },

    async chargePayment(input: { orderId: string; customerId: string; amountCents: number }): Promise<PaymentRecord> {
      const { orderId, customerId, amountCents } = input;
      return client.call('payments', 'POST', '/payments', { orderId, customerId, amountCents }, callOptions());
    },
    async refundPayment(input: { orderId: string; reason: string }): Promise<Compensated<PaymentRecord>> {
      return client.call(
        'payments',
        'POST',
        `/payments/${encodeURIComponent(input.orderId)}/refund`,
        { reason: input.reason },
        callOptions(),
      );
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
