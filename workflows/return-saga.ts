import type { ReturnActivities } from '../activities/return-activities';
import { serviceRejectionWroteNothing } from '../activities/rejection';
import { returnSagaInputSchema } from './return-saga-input';
import { activitiesOf, defineSaga } from 'temporal-saga-kit/workflow';

/**
 * The return saga: a customer sends back an approved, delivered order, across the same four services.
 *
 *   request return ─▶ book return pickup ─▶ REFUND PAYMENT ─▶ restock items ─▶ complete return
 *   (cancel return)   (cancel pickup)        pivot (void)      retriable        retriable: order RETURNED
 *
 * Why this order: the checks that can say no come first and cost nothing real — the orders service refuses an order
 * that is not approved or already returned (and locks it, so two returns cannot race), the carrier refuses a parcel
 * that was not delivered or whose 30-day return window has passed. Giving the money back is the point of no return;
 * after it the items go back on the shelf and the order is closed RETURNED, retried until they succeed.
 */
export const returnSaga = defineSaga({
  name: 'return',
  input: returnSagaInputSchema,
  activities: activitiesOf<ReturnActivities>(),
  key: (ret) => ret.returnId,
  summary: (ret) => `Return ${ret.returnId} of order ${ret.orderId}: ${ret.reason}`,

  steps: (saga) =>
    saga
      .compensatable('request-return', {
        run: async ({ input: { returnId, orderId, reason }, act }) => {
          await act.requestReturn({ returnId, orderId, reason });
        },
        compensate: {
          name: 'cancel-return',
          run: ({ input, why, act }) => act.cancelReturn({ returnId: input.returnId, reason: why.reason }),
        },
      })
      .compensatable('book-return-pickup', {
        run: async ({ input: { returnId, orderId }, act }) => {
          const pickup = await act.bookReturnPickup({ returnId, orderId });
          return { pickupCity: pickup.city ?? undefined };
        },
        compensate: {
          name: 'cancel-return-pickup',
          run: ({ input, why, act }) => act.cancelReturnPickup({ returnId: input.returnId, reason: why.reason }),
        },
      })
      .pivot('refund-payment', {
        run: async ({ input: { returnId, orderId, reason }, act }) => {
          const refund = await act.refundReturn({ returnId, orderId, reason: `returned: ${reason}` });
          return { refundedCents: refund.amountCents };
        },
        // Only runs if the refund's own outcome is unknown (it timed out): a void of nothing is a recorded no-op.
        compensate: {
          name: 'void-refund',
          run: ({ input, why, act }) => act.voidRefund({ returnId: input.returnId, reason: why.reason }),
        },
      })
      .retriable('restock-items', {
        run: async ({ input: { returnId, orderId }, act }) => {
          await act.restockItems({ returnId, orderId });
        },
      })
      .retriable('complete-return', {
        run: async ({ input, act }) => {
          await act.completeReturn({ returnId: input.returnId });
        },
      }),

  completed: ({ input, data }) => ({
    returnId: input.returnId,
    orderId: input.orderId,
    status: 'RETURNED' as const,
    refundedCents: data.refundedCents,
  }),
  compensated: ({ input, why }) => ({
    returnId: input.returnId,
    orderId: input.orderId,
    status: 'REJECTED' as const,
    reason: why.reason,
  }),

  options: {
    // Our services' error contract (services/shared/error-contract.ts): a business rejection (4xx) wrote nothing.
    wroteNothing: serviceRejectionWroteNothing,
  },
});

export type ReturnSagaResult = ReturnType<typeof returnSaga.workflow> extends Promise<infer R> ? R : never;
