import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { newestFirst, type ReturnLookup } from '../shared/validation';
import type { OrdersDb } from './db';

/**
 * Returns of approved orders (the return saga). Each request is one call of its database function
 * (prisma/orders/migrations/*_returns); the order's return_id is the semantic lock, so at most one return per order is
 * in progress or completed, decided there by conditional writes (services/shared/request-functions.ts).
 *   request   REQUESTED return, the order locked (404 unknown order, 409 order_not_approved, already_returned,
 *             return_in_progress, or a return id already used or cancelled before it was requested: a tombstone)
 *   complete  COMPLETED, and the order RETURNED (idempotent; 409 unless REQUESTED, 404 unknown return)
 *   cancel    compensation of request: CANCELLED, the order's lock released (it stays APPROVED); cancelling a return
 *             that was never requested records a tombstone (noop), 409 once COMPLETED
 */
export interface RequestInput {
  returnId: string;
  orderId: string;
  reason: string;
}

export function request(db: OrdersDb, call: IdempotentCall, input: RequestInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM orders_request_return(${call.key}, ${call.hash}, ${input.returnId}, ${input.orderId}, ${input.reason})`,
  );
}

export function complete(db: OrdersDb, call: IdempotentCall, { returnId }: { returnId: string }) {
  return runRequestFunction(db, sql`SELECT * FROM orders_complete_return(${call.key}, ${call.hash}, ${returnId})`);
}

export function cancel(db: OrdersDb, call: IdempotentCall, { returnId, reason }: { returnId: string; reason: string }) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM orders_cancel_return(${call.key}, ${call.hash}, ${returnId}, ${reason})`,
  );
}

export function list(db: OrdersDb, lookup: ReturnLookup) {
  return db.return.findMany({ where: { orderId: lookup.orderId, id: lookup.returnId }, ...newestFirst(lookup) });
}
