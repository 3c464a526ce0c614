import { sagaPost, segment, type Compensated } from './service-call';
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

export function createReturnActivities(serviceClient: ServiceClient) {
  const post = sagaPost(serviceClient);
  return {
    async requestReturn(input: { returnId: string; orderId: string; reason: string }): Promise<ReturnRecord> {
      const { returnId, orderId, reason } = input;
      return post('orders', '/returns', { returnId, orderId, reason });
    },
    async cancelReturn(input: { returnId: string; reason: string }): Promise<Compensated<ReturnRecord>> {
      return post('orders', `/returns/${segment(input.returnId)}/cancel`, { reason: input.reason });
    },
    async completeReturn(input: { returnId: string }): Promise<ReturnRecord> {
      return post('orders', `/returns/${segment(input.returnId)}/complete`);
    },

    async bookReturnPickup({ returnId, orderId }: { returnId: string; orderId: string }): Promise<ReturnPickupRecord> {
      return post('shipping', '/return-pickups', { returnId, orderId });
    },
    async cancelReturnPickup(input: { returnId: string; reason: string }): Promise<Compensated<ReturnPickupRecord>> {
      return post('shipping', `/return-pickups/${segment(input.returnId)}/cancel`, { reason: input.reason });
    },

    async refundReturn({ returnId, orderId, reason }: { returnId: string; orderId: string; reason: string }) {
      return post<RefundRecord>('payments', '/refunds', { returnId, orderId, reason });
    },
    async voidRefund(input: { returnId: string; reason: string }): Promise<Compensated<RefundRecord>> {
      return post('payments', `/refunds/${segment(input.returnId)}/void`, { reason: input.reason });
    },

    async restockItems(input: { returnId: string; orderId: string }): Promise<RestockRecord> {
      return post('inventory', `/reservations/${segment(input.orderId)}/restock`, { returnId: input.returnId });
    },
  };
}

export type ReturnActivities = ReturnType<typeof createReturnActivities>;
