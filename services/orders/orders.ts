import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { notFound } from '../shared/routes';
import type { OrdersDb } from './db';

/**
 * Orders' mutating requests: PENDING → APPROVED, or PENDING → REJECTED / CANCELLED; the last three are final. Each is
 * one call of its database function (prisma/orders/migrations/*_request_functions), so the order's row and the
 * idempotency record commit together in one round trip. Two requests with different idempotency keys can touch the
 * same order at the same moment (a retried saga step racing a cancellation, say); they are decided there by
 * conditional writes (services/shared/request-functions.ts).
 *   create   PENDING order with its lines (409 if the id exists, or was closed before it was created: a tombstone)
 *   approve  APPROVED (idempotent; 409 unless PENDING, 404 unknown)
 *   close    compensation of create (REJECTED) or the user's cancellation (CANCELLED); closing a closed order
 *            changes nothing, closing one that does not exist yet records a tombstone (noop), 409 once APPROVED
 */
export interface CreateInput {
  orderId: string;
  customerId: string;
  items: { sku: string; quantity: number }[];
}

type ClosedStatus = 'REJECTED' | 'CANCELLED';

const withLines = { lines: { orderBy: { sku: 'asc' as const } } };

export function create(db: OrdersDb, call: IdempotentCall, input: CreateInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM orders_create(${call.key}, ${call.hash}, ${input.orderId}, ${input.customerId}, ${JSON.stringify(input.items)}::jsonb)`,
  );
}

export function approve(db: OrdersDb, call: IdempotentCall, { orderId }: { orderId: string }) {
  return runRequestFunction(db, sql`SELECT * FROM orders_approve(${call.key}, ${call.hash}, ${orderId})`);
}

/** `operation` names the request for its idempotency record: "reject" or "cancel". */
function close(
  db: OrdersDb,
  call: IdempotentCall,
  operation: string,
  orderId: string,
  status: ClosedStatus,
  reason: string,
) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM orders_close(${call.key}, ${operation}, ${call.hash}, ${orderId}, ${status}::"OrderStatus", ${reason})`,
  );
}

/** The saga's compensation of create: REJECTED. */
export function reject(db: OrdersDb, call: IdempotentCall, { orderId, reason }: { orderId: string; reason: string }) {
  return close(db, call, 'reject', orderId, 'REJECTED', reason);
}

/** The user's cancellation: CANCELLED. */
export function cancel(db: OrdersDb, call: IdempotentCall, { orderId, reason }: { orderId: string; reason: string }) {
  return close(db, call, 'cancel', orderId, 'CANCELLED', reason);
}

/** The order with its lines, or 404 unknown_order. */
export async function find(db: OrdersDb, { orderId }: { orderId: string }) {
  const order = await db.order.findUnique({ where: { id: orderId }, include: withLines });
  return order ?? notFound('unknown_order', `unknown order: ${orderId}`);
}
