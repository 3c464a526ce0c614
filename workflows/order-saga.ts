import {
  ApplicationFailure,
  defineQuery,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { OrderActivities } from '../activities/order-activities';
import { orderSagaInputSchema, type OrderSagaActionName, type OrderSagaInput } from './order-saga-input';
import { Saga, type CompensationContext, type DeadLetterLog, type SagaState, type SagaStep } from './saga';
import { installOperatorHandlers } from './saga/operator';
import { SAGA_STATUS } from './search-attributes';

/**
 * The order saga: one order across four services, each with its own database.
 *
 *   create order ─▶ reserve inventory ─▶ schedule shipment ─▶ CHARGE PAYMENT ─▶ confirm reservation ─▶ confirm shipment ─▶ approve order
 *   (reject/cancel)  (release)            (cancel shipment)     pivot           retriable               retriable            retriable
 *
 * Why this order: the cheap, reversible reservations come first, so a rejection costs nothing real; charging the
 * customer is the point of no return (the pivot), placed as late as possible so that every check that can say no
 * (stock, destination) has said yes before money moves. After the pivot only confirmations remain; they cannot
 * be refused by the business and are retried until they succeed.
 */
export interface OrderSagaState extends SagaState {
  orderId: string;
  totalCents?: number;
  trackingNumber?: string;
}

export interface OrderSagaResult {
  orderId: string;
  status: 'APPROVED' | 'REJECTED';
  reason?: string;
  totalCents?: number;
  trackingNumber?: string;
}

/** The saga's state, while it runs and after it ended. The client imports this definition. */
export const sagaStateQuery = defineQuery<OrderSagaState>('sagaState');

export const INVALID_SAGA_INPUT = 'InvalidSagaInput';

/** Defaults for the activities' timeouts and retries; a saga's input may override them (tests do). */
const DEFAULT_STEP_TIMEOUT = '15s';
const DEFAULT_STEP_RETRY = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 };
/** After the pivot: no attempt limit. These steps must eventually succeed. */
const RETRIABLE_RETRY = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' };
/** Compensations are worth more patience than forward steps: a generous limit of their own. */
const DEFAULT_COMPENSATION_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20 };
/** How long a saga may take to reach its pivot; past it, the running step is cancelled and the saga compensates. */
const DEFAULT_DEADLINE = '1h';
/** Writing to the dead-letter log must not give up: the operator's only trace outside Temporal is that row. */
const DEAD_LETTER_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };

/**
 * Sagas started before the deadline and the dead-letter log existed have neither: their histories (see
 * test/replay/histories) replay without them. Everything started since records this marker and gets both.
 */
export const DEADLINE_AND_DEAD_LETTERS_PATCH = 'saga-deadline-and-dead-letters';

type RetryOverride = NonNullable<OrderSagaInput['options']>['stepRetry'];

/** A default policy with the input's overrides; a first interval longer than the default cap raises the cap. */
function retryPolicy(defaults: typeof DEFAULT_STEP_RETRY, override: RetryOverride): RetryPolicy {
  const merged: RetryPolicy = { ...defaults, ...override };
  if (override?.initialInterval && !override.maximumInterval && msToNumber(override.initialInterval) > msToNumber(defaults.maximumInterval)) {
    merged.maximumInterval = override.initialInterval;
  }
  return merged;
}

function activityProxies(options: OrderSagaInput['options']) {
  const base: ActivityOptions = { startToCloseTimeout: options?.stepTimeout ?? DEFAULT_STEP_TIMEOUT };
  // The same calls either way; local activities only change where they are scheduled (see the input's option).
  const proxy = (retry: RetryPolicy) =>
    options?.localActivities ? proxyLocalActivities<OrderActivities>({ ...base, retry }) : proxyActivities<OrderActivities>({ ...base, retry });
  return {
    forward: proxy(retryPolicy(DEFAULT_STEP_RETRY, options?.stepRetry)),
    retriable: proxy(RETRIABLE_RETRY),
    compensation: proxy(retryPolicy(DEFAULT_COMPENSATION_RETRY, options?.compensationRetry)),
    operations: proxyActivities<OrderActivities>({ ...base, retry: DEAD_LETTER_RETRY }),
  };
}

function deadLetterLog(operations: OrderActivities): DeadLetterLog {
  return {
    record: (entry) => operations.recordDeadLetter(entry),
    close: (id, outcome) => operations.closeDeadLetter({ id, outcome }),
  };
}

export async function orderSaga(rawInput: OrderSagaInput): Promise<OrderSagaResult> {
  const parsed = orderSagaInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid order saga input: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, INVALID_SAGA_INPUT);
  }
  const input = parsed.data;
  const { orderId, customerId, items, destination } = input;
  const { forward, retriable, compensation, operations } = activityProxies(input.options);
  const compensationMaxAttempts = input.options?.compensationRetry?.maximumAttempts ?? DEFAULT_COMPENSATION_RETRY.maximumAttempts;
  const faults = (action: OrderSagaActionName) => input.faults?.[action];
  const facts: { totalCents?: number; trackingNumber?: string } = {};

  const steps: SagaStep[] = [
    {
      name: 'create-order',
      kind: 'compensatable',
      run: () => forward.createOrder.executeWithOptions({ summary: 'create order' }, [{ orderId, customerId, items, faults: faults('create-order') }]),
      // A user's cancellation ends the order CANCELLED; any failure ends it REJECTED, with the reason.
      compensationName: (c: CompensationContext) => (c.cause === 'cancelled' ? 'cancel-order' : 'reject-order'),
      compensate: (c) =>
        c.cause === 'cancelled'
          ? compensation.cancelOrder.executeWithOptions({ summary: 'compensate: cancel order' }, [{ orderId, reason: c.reason, faults: faults('cancel-order') }])
          : compensation.rejectOrder.executeWithOptions({ summary: 'compensate: reject order' }, [{ orderId, reason: c.reason, faults: faults('reject-order') }]),
    },
    {
      name: 'reserve-inventory',
      kind: 'compensatable',
      run: async () => {
        const reservation = await forward.reserveInventory.executeWithOptions({ summary: 'reserve inventory' }, [{ orderId, items, faults: faults('reserve-inventory') }]);
        facts.totalCents = reservation.totalCents;
      },
      compensationName: 'release-inventory',
      compensate: (c) =>
        compensation.releaseInventory.executeWithOptions({ summary: 'compensate: release inventory' }, [{ orderId, reason: c.reason, faults: faults('release-inventory') }]),
    },
    {
      name: 'schedule-shipment',
      kind: 'compensatable',
      run: () => forward.scheduleShipment.executeWithOptions({ summary: 'schedule shipment' }, [{ orderId, destination, faults: faults('schedule-shipment') }]),
      compensationName: 'cancel-shipment',
      compensate: (c) =>
        compensation.cancelShipment.executeWithOptions({ summary: 'compensate: cancel shipment' }, [{ orderId, reason: c.reason, faults: faults('cancel-shipment') }]),
    },
    {
      name: 'charge-payment',
      kind: 'pivot',
      run: () =>
        forward.chargePayment.executeWithOptions({ summary: 'charge payment' }, [
          { orderId, customerId, amountCents: facts.totalCents!, faults: faults('charge-payment') },
        ]),
      // Only runs if the charge's own outcome is unknown (it timed out): a refund of nothing is a recorded no-op.
      compensationName: 'refund-payment',
      compensate: (c) =>
        compensation.refundPayment.executeWithOptions({ summary: 'compensate: refund payment' }, [{ orderId, reason: c.reason, faults: faults('refund-payment') }]),
    },
    {
      name: 'confirm-reservation',
      kind: 'retriable',
      run: () => retriable.confirmReservation.executeWithOptions({ summary: 'confirm reservation' }, [{ orderId, faults: faults('confirm-reservation') }]),
    },
    {
      name: 'confirm-shipment',
      kind: 'retriable',
      run: async () => {
        const shipment = await retriable.confirmShipment.executeWithOptions({ summary: 'confirm shipment' }, [{ orderId, faults: faults('confirm-shipment') }]);
        facts.trackingNumber = shipment.trackingNumber ?? undefined;
      },
    },
    {
      name: 'approve-order',
      kind: 'retriable',
      run: () => retriable.approveOrder.executeWithOptions({ summary: 'approve order' }, [{ orderId, faults: faults('approve-order') }]),
    },
  ];

  let publishedStatus: string | undefined = 'RUNNING'; // set by the client at start
  for (const step of steps) if (step.compensate) step.compensationMaxAttempts = compensationMaxAttempts;

  const withDeadlineAndDeadLetters = patched(DEADLINE_AND_DEAD_LETTERS_PATCH);
  const saga = new Saga(
    workflowInfo().workflowId,
    steps,
    {
      parallelCompensation: input.options?.parallelCompensation,
      continueOnCompensationError: input.options?.continueOnCompensationError,
      ...(withDeadlineAndDeadLetters && { deadline: input.options?.deadline ?? DEFAULT_DEADLINE, deadLetters: deadLetterLog(operations) }),
    },
    {
      // Only status changes are published (a handful per saga), not every step: each upsert is a history event.
      onStateChange: (state) => {
        if (state.status === publishedStatus) return;
        publishedStatus = state.status;
        upsertSearchAttributes([{ key: SAGA_STATUS, value: state.status }]);
      },
    },
  );
  setHandler(sagaStateQuery, () => ({ orderId, ...saga.state, ...facts }));
  if (withDeadlineAndDeadLetters) installOperatorHandlers(saga);

  const outcome = await saga.run();
  if (outcome.outcome === 'completed') return { orderId, status: 'APPROVED', ...facts };
  return { orderId, status: 'REJECTED', reason: outcome.context.reason };
}
