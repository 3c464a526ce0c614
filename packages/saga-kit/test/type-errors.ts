/**
 * What the kit's types refuse at compile time. Each `@ts-expect-error` line below must be an error: `tsc` fails on
 * one that is not (test/tsconfig.json), and types.test.ts compiles
 * this file with the markers taken out and checks that exactly the marked lines fail. Never imported at run time.
 */
import type { OrderActivities } from '../../../activities/order-activities';
import { orderSaga } from '../../../workflows/order-saga';
import { orderSagaInputSchema, type OrderSagaInput } from '../../../workflows/order-saga-input';
import type { DeadLetterPort } from 'temporal-saga-kit/activity';
import type { FaultPlan, SagaClient } from 'temporal-saga-kit/client';
import { activitiesOf, defineSaga, type SagaTypes } from 'temporal-saga-kit/workflow';

type Order = SagaTypes<typeof orderSaga>;

declare const order: OrderSagaInput;
const base = { input: orderSagaInputSchema, activities: activitiesOf<OrderActivities>(), key: (o: OrderSagaInput) => o.orderId, summary: () => '' };
const outcome = { completed: () => 'done', compensated: () => 'undone' };

export const checks = [
  // A step's kind decides its shape: a compensatable step needs a compensation...
  // @ts-expect-error compensatable without compensate
  defineSaga({ ...base, ...outcome, name: 'a', steps: (s) => s.compensatable('create-order', { run: async () => undefined }) }),
  // ...and a retriable one cannot have one.
  // @ts-expect-error retriable with a compensation
  defineSaga({ ...base, ...outcome, name: 'b', steps: (s) => s.retriable('approve-order', { run: async () => undefined, compensate: { name: 'x', run: async () => undefined } }) }),

  // Typed data: a later step sees what earlier steps returned, with its type...
  defineSaga({
    ...base,
    ...outcome,
    name: 'c',
    steps: (s) =>
      s
        .compensatable('reserve-inventory', {
          run: async ({ input, act }) => ({ totalCents: (await act.reserveInventory(input)).totalCents }),
          // ...a compensation only what was known before its step (the step itself may have failed)...
          // @ts-expect-error the reservation's own total is not known to its compensation
          compensate: { name: 'release-inventory', run: async ({ data }) => data.totalCents },
        })
        .pivot('charge-payment', {
          // @ts-expect-error a typo in a data field
          run: async ({ input, data, act }) => act.chargePayment({ ...input, amountCents: data.totalCent }),
        })
        .retriable('approve-order', {
          // @ts-expect-error an activity that does not exist
          run: async ({ input, act }) => act.approveOrdr(input),
        }),
  }),

  // A parallel group: its members see only the data from before the group, never a fellow member's; the step after
  // the group sees what every member returned.
  defineSaga({
    ...base,
    ...outcome,
    name: 'd',
    steps: (s) =>
      s
        .parallel((g) =>
          g
            .compensatable('reserve-inventory', {
              run: async ({ input, act }) => ({ totalCents: (await act.reserveInventory(input)).totalCents }),
              compensate: { name: 'release-inventory', run: async () => undefined },
            })
            .compensatable('schedule-shipment', {
              // @ts-expect-error a member reads a fellow member's data
              run: async ({ data }) => ({ cents: data.totalCents }),
              compensate: { name: 'cancel-shipment', run: async () => undefined },
            }),
        )
        .pivot('charge-payment', {
          run: async ({ input, data, act }) => act.chargePayment({ ...input, amountCents: data.totalCents + data.cents }),
        }),
  }),
];

// Step and compensation names are literal unions, used wherever a name is written.
export const faults: FaultPlan<Order['action']> = {
  'charge-payment': 'reject',
  // @ts-expect-error a misspelt step in a fault plan
  'reserve-inventry': 'transient:2',
};
// @ts-expect-error a misspelt step name
export const step: Order['step'] = 'charge-paymnt';
// @ts-expect-error a step is not a compensation
export const compensation: Order['compensation'] = 'charge-payment';
export const request: NonNullable<Parameters<SagaClient<typeof orderSaga>['start']>[2]> = {
  // @ts-expect-error a misspelt compensation in a start's fault plan
  faults: { 'release-inventroy': 'reject' },
};

// The business input is business data only: no fault plan in it.
// @ts-expect-error faults are not part of the order saga's input
export const input: Parameters<typeof orderSaga.workflow>[0] = { ...order, faults: {} };

// A dead-letter port records and resolves: one without resolve is refused where it is declared.
// @ts-expect-error a dead-letter port without resolve
export const port: DeadLetterPort = { record: async () => ({ id: 1, createdAt: '' }) };
