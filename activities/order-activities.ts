import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DeadLetterEntry } from '../workflows/saga/types';
import { withoutControlCharacters, type Destination, type Item } from '../services/shared/fields';
import { sagaActivityHeaders } from './saga-headers';
import type { CallOptions, ServiceClient } from './service-client';

export type { Destination, Item };

/**
 * The order saga's activities: each makes exactly one HTTP call to one service. They hold no business logic;
 * the services decide, the workflow orchestrates.
 *
 * The idempotency key is the workflow id (= the order id) plus the activity's name, so it is stable across
 * Temporal's retries of the same step and unique per step: a retried request that already took effect gets the
 * first answer back instead of doing it twice.
 */

/**
 * `keySuffix` tells apart several calls of one activity type in one saga (the dead-letter log's entries). A fault
 * planned for this action (tests and demos) comes from the activity's headers, never from its arguments.
 */
function callOptions(keySuffix?: string): CallOptions {
  const { info, cancellationSignal } = Context.current();
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId) throw new Error(`${info.activityType} must run as part of a saga workflow (its idempotency key is the workflow id)`);
  const key = `${workflowId}:${info.activityType}${keySuffix === undefined ? '' : `:${keySuffix}`}`;
  return { idempotencyKey: key, faults: sagaActivityHeaders().fault, signal: cancellationSignal };
}

/**
 * Adds the attempt number to a failure's details, so that a compensation given up on can be recorded with the number
 * of attempts it took (the workflow sees failures, not attempts).
 */
async function taggedWithAttempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    throw ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable ?? undefined,
      details: [...(err.details ?? []), { attempt: Context.current().info.attempt }],
      cause: err.cause,
    });
  }
}

/** Error texts go into the dead-letter log's text columns: no control characters, bounded. */
function printable(text: string, max: number): string {
  const clean = withoutControlCharacters(text).trim();
  return (clean || '(no message)').slice(0, max);
}

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
/** What a compensation answers: the record, and whether there was anything to undo. */
export type Compensated<T> = T & { noop: boolean };

export interface DeadLetterRecord {
  id: number;
  createdAt: string;
}

export function createOrderActivities(serviceClient: ServiceClient) {
  const client = { call: ((...args) => taggedWithAttempt(() => serviceClient.call(...args))) as ServiceClient['call'] };
  return {
    async createOrder(input: { orderId: string; customerId: string; items: Item[] }): Promise<OrderRecord> {
      const { orderId, customerId, items } = input;
      return client.call('orders', 'POST', '/orders', { orderId, customerId, items }, callOptions());
    },
    async approveOrder(input: { orderId: string }): Promise<OrderRecord> {
      return client.call('orders', 'POST', `/orders/${encodeURIComponent(input.orderId)}/approve`, {}, callOptions());
    },
    async rejectOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client.call('orders', 'POST', `/orders/${encodeURIComponent(input.orderId)}/reject`, { reason: input.reason }, callOptions());
    },
    async cancelOrder(input: { orderId: string; reason: string }): Promise<Compensated<OrderRecord>> {
      return client.call('orders', 'POST', `/orders/${encodeURIComponent(input.orderId)}/cancel`, { reason: input.reason }, callOptions());
    },

    async reserveInventory(input: { orderId: string; items: Item[] }): Promise<ReservationRecord> {
      return client.call('inventory', 'POST', '/reservations', { orderId: input.orderId, items: input.items }, callOptions());
    },
    async confirmReservation(input: { orderId: string }): Promise<ReservationRecord> {
      return client.call('inventory', 'POST', `/reservations/${encodeURIComponent(input.orderId)}/confirm`, {}, callOptions());
    },
    async releaseInventory(input: { orderId: string; reason: string }): Promise<Compensated<ReservationRecord>> {
      return client.call('inventory', 'POST', `/reservations/${encodeURIComponent(input.orderId)}/release`, { reason: input.reason }, callOptions());
    },

    async scheduleShipment(input: { orderId: string; destination: Destination }): Promise<ShipmentRecord> {
      return client.call('shipping', 'POST', '/shipments', { orderId: input.orderId, destination: input.destination }, callOptions());
    },
    async confirmShipment(input: { orderId: string }): Promise<ShipmentRecord> {
      return client.call('shipping', 'POST', `/shipments/${encodeURIComponent(input.orderId)}/confirm`, {}, callOptions());
    },
    async cancelShipment(input: { orderId: string; reason: string }): Promise<Compensated<ShipmentRecord>> {
      return client.call('shipping', 'POST', `/shipments/${encodeURIComponent(input.orderId)}/cancel`, { reason: input.reason }, callOptions());
    },

    async chargePayment(input: { orderId: string; customerId: string; amountCents: number }): Promise<PaymentRecord> {
      const { orderId, customerId, amountCents } = input;
      return client.call('payments', 'POST', '/payments', { orderId, customerId, amountCents }, callOptions());
    },
    async refundPayment(input: { orderId: string; reason: string }): Promise<Compensated<PaymentRecord>> {
      return client.call('payments', 'POST', `/payments/${encodeURIComponent(input.orderId)}/refund`, { reason: input.reason }, callOptions());
    },

    /** The dead-letter log lives with the orders service (see services/orders/dead-letters.ts). */
    async recordDeadLetter(entry: DeadLetterEntry): Promise<DeadLetterRecord> {
      const body = { ...entry, errorType: printable(entry.errorType, 200), lastError: printable(entry.lastError, 2000) };
      return client.call('orders', 'POST', '/dead-letters', body, callOptions(`${entry.step}:${entry.round}`));
    },
    async closeDeadLetter(input: { id: number; outcome: { status: 'RETRIED' } | { status: 'RESOLVED'; resolution: string } }): Promise<DeadLetterRecord> {
      const path = `/dead-letters/${input.id}/${input.outcome.status === 'RETRIED' ? 'retried' : 'resolved'}`;
      const body = input.outcome.status === 'RESOLVED' ? { reason: input.outcome.resolution } : {};
      return client.call('orders', 'POST', path, body, callOptions(String(input.id)));
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
