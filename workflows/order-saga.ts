import type { OrderActivities } from '../activities/order-activities';
import { serviceRejectionWroteNothing } from '../activities/rejection';
import { orderSagaInputSchema } from './order-saga-input';
import { activitiesOf, defineSaga } from 'temporal-saga-kit/workflow';

/**
 * The order saga: one order across four services, each with its own database.
 *
 *                      ┌ reserve inventory ┐                    ┌ confirm reservation ┐
 *   create order ─▶   ┤   (release)       ├─▶ CHARGE PAYMENT ─▶ ┤ confirm shipment    ├  retriable, at once
 *   (reject/cancel)   └ schedule shipment ┘    pivot            └ approve order       ┘
 *                         (cancel shipment), at once
 *
 * Why this order: the cheap, reversible reservations come first, so a rejection costs nothing real; charging the
 * customer is the point of no return (the pivot), placed as late as possible so that every check that can say no
 * (stock, destination) has said yes before money moves. After the pivot only confirmations remain; they cannot
 * be refused by the business and are retried until they succeed. Steps that do not depend on each other run at
 * once: the stock and the shipment are separate services, and so are the three confirmations (the orders
 * service approves a PENDING order whatever the other services say).
 */
export const orderSaga = defineOrderSaga('order');

/**
 * The order saga under another name, unwinding another way: the author's choice of compensation mode is part of a
 * saga's definition, so a variant that compensates in parallel (or goes on past a failed compensation) is a saga of
 * its own, with a workflow type of its own (the tests register two: test/support/test-workflows.ts).
 */
// #region steps
export function defineOrderSaga(name: string, compensation?: { parallel?: boolean; continueOnError?: boolean }) {
  return defineSaga({
    name,
    input: orderSagaInputSchema,
    activities: activitiesOf<OrderActivities>(),
    key: (order) => order.orderId,
    summary: (order) =>
      `Order ${order.orderId}: ${order.items.reduce((n, i) => n + i.quantity, 0)} unit(s) of ${order.items.map((i) => i.sku).join(', ')} for ${order.customerId}, shipping to ${order.destination.country}`,

    steps: (saga) =>
      saga
        .compensatable('create-order', {
          run: async ({ input: { orderId, customerId, items }, act }) => {
            await act.createOrder({ orderId, customerId, items });
          },
          // A user's cancellation ends the order CANCELLED; any failure ends it REJECTED, with the reason.
          compensate: [
            {
              name: 'cancel-order',
              when: (why) => why.cause === 'cancelled',
              run: ({ input, why, act }) => act.cancelOrder({ orderId: input.orderId, reason: why.reason }),
            },
            {
              name: 'reject-order',
              run: ({ input, why, act }) => act.rejectOrder({ orderId: input.orderId, reason: why.reason }),
            },
          ],
        })
        .parallel((group) =>
          group
            .compensatable('reserve-inventory', {
              run: async ({ input: { orderId, items }, act }) => ({
                totalCents: (await act.reserveInventory({ orderId, items })).totalCents,
              }),
              compensate: {
                name: 'release-inventory',
                run: ({ input, why, act }) => act.releaseInventory({ orderId: input.orderId, reason: why.reason }),
              },
            })
            .compensatable('schedule-shipment', {
              run: async ({ input: { orderId, destination }, act }) => {
                await act.scheduleShipment({ orderId, destination });
              },
              compensate: {
                name: 'cancel-shipment',
                run: ({ input, why, act }) => act.cancelShipment({ orderId: input.orderId, reason: why.reason }),
              },
            }),
        )
        .pivot('charge-payment', {
          run: async ({ input: { orderId, customerId }, data, act }) => {
            await act.chargePayment({ orderId, customerId, amountCents: data.totalCents });
          },
          // Only runs if the charge's own outcome is unknown (it timed out): a refund of nothing is a recorded no-op.
          compensate: {
            name: 'refund-payment',
            run: ({ input, why, act }) => act.refundPayment({ orderId: input.orderId, reason: why.reason }),
          },
        })
        .parallel((group) =>
          group
            .retriable('confirm-reservation', {
              run: async ({ input, act }) => {
                await act.confirmReservation({ orderId: input.orderId });
              },
            })
            .retriable('confirm-shipment', {
              run: async ({ input, act }) => ({
                trackingNumber: (await act.confirmShipment({ orderId: input.orderId })).trackingNumber ?? undefined,
              }),
            })
            .retriable('approve-order', {
              run: async ({ input, act }) => {
                await act.approveOrder({ orderId: input.orderId });
              },
            }),
        ),

    completed: ({ input, data }) => ({
      orderId: input.orderId,
      status: 'APPROVED' as const,
      totalCents: data.totalCents,
      trackingNumber: data.trackingNumber,
    }),
    compensated: ({ input, why }) => ({ orderId: input.orderId, status: 'REJECTED' as const, reason: why.reason }),

    options: {
      // Our services' error contract (services/shared/error-contract.ts): a business rejection (4xx) wrote nothing.
      wroteNothing: serviceRejectionWroteNothing,
      compensation,
    },
  });
}
// #endregion steps

export type OrderSagaResult = ReturnType<typeof orderSaga.workflow> extends Promise<infer R> ? R : never;
