import { sagaCallOptions, sagaServiceClient, type Compensated } from './saga-call';
import type { ServiceClient } from './service-client';

/**
 * The return saga's activities: each makes exactly one HTTP call to one service, keyed `<return id>:<activity>` (the
 * workflow id is the return id), so a retried request that already took effect gets its first answer back. They hold
 * no business logic: the services decide (the return window, what was delivered, refunded or returned), the workflow
 * orchestrates.
 */
export interface ReturnRecord {
  id: string;
  orderId: string | null;
  status: string;
  orderStatus?: string | null;
}
export interface ReturnPickupRecord {
  returnId: string;
  orderId: string | null;
  status: string;
  city?: string | null;
  country?: string | null;
}
export interface RefundRecord {
  returnId: string;
  orderId: string | null;
  status: string;
  amountCents: number;
}
export interface RestockRecord {
  orderId: string;
  status: string;
  lines: { sku: string; quantity: number }[];
}

const segment = encodeURIComponent;

export function createReturnActivities(serviceClient: ServiceClient) {
  const client = sagaServiceClient(serviceClient);
  return {
    async requestReturn(input: { returnId: string; orderId: string; reason: string }): Promise<ReturnRecord> {
      const { returnId, orderId, reason } = input;
      return client.call('orders', 'POST', '/returns', { returnId, orderId, reason }, sagaCallOptions());
    },
    async cancelReturn(input: { returnId: string; reason: string }): Promise<Compensated<ReturnRecord>> {
      return client.call(
        'orders',
        'POST',
        `/returns/${segment(input.returnId)}/cancel`,
        { reason: input.reason },
        sagaCallOptions(),
      );
    },
    async completeReturn(input: { returnId: string }): Promise<ReturnRecord> {
      return client.call('orders', 'POST', `/returns/${segment(input.returnId)}/complete`, {}, sagaCallOptions());
    },

    async bookReturnPickup(input: { returnId: string; orderId: string }): Promise<ReturnPickupRecord> {
      const { returnId, orderId } = input;
      return client.call('shipping', 'POST', '/return-pickups', { returnId, orderId }, sagaCallOptions());
    },
    async cancelReturnPickup(input: { returnId: string; reason: string }): Promise<Compensated<ReturnPickupRecord>> {
      return client.call(
        'shipping',
        'POST',
        `/return-pickups/${segment(input.returnId)}/cancel`,
        { reason: input.reason },
        sagaCallOptions(),
      );
    },

    async refundReturn(input: { returnId: string; orderId: string; reason: string }): Promise<RefundRecord> {
      const { returnId, orderId, reason } = input;
      return client.call('payments', 'POST', '/refunds', { returnId, orderId, reason }, sagaCallOptions());
    },
    async voidRefund(input: { returnId: string; reason: string }): Promise<Compensated<RefundRecord>> {
      return client.call(
        'payments',
        'POST',
        `/refunds/${segment(input.returnId)}/void`,
        { reason: input.reason },
        sagaCallOptions(),
      );
    },

    async restockItems(input: { returnId: string; orderId: string }): Promise<RestockRecord> {
      return client.call(
        'inventory',
        'POST',
        `/reservations/${segment(input.orderId)}/restock`,
        { returnId: input.returnId },
        sagaCallOptions(),
      );
    },
  };
}

export type ReturnActivities = ReturnType<typeof createReturnActivities>;
