import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { newestFirst, type ReturnLookup } from '../shared/validation';
import type { ShippingDb } from './db';

/**
 * Return pickups (the return saga): the carrier collects a returned order at the delivered shipment's address. Each
 * request is one call of its database function (prisma/shipping/migrations/*_returns); the shipment's return_id is the
 * semantic lock, so at most one pickup per shipment is booked, decided there by conditional writes
 * (services/shared/request-functions.ts).
 *   book    BOOKED (404 no shipment, 409 not_delivered, return_in_progress, or a return id already used or cancelled
 *           before it was booked: a tombstone; 422 return_window_passed, 30 days after delivery)
 *   cancel  compensation of book: CANCELLED, the shipment's lock released; cancelling a pickup that was never booked
 *           records a tombstone (noop)
 */
export interface BookInput {
  returnId: string;
  orderId: string;
}

export function book(db: ShippingDb, call: IdempotentCall, input: BookInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM shipping_book_return_pickup(${call.key}, ${call.hash}, ${input.returnId}, ${input.orderId})`,
  );
}

export function cancel(
  db: ShippingDb,
  call: IdempotentCall,
  { returnId, reason }: { returnId: string; reason: string },
) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM shipping_cancel_return_pickup(${call.key}, ${call.hash}, ${returnId}, ${reason})`,
  );
}

export function list(db: ShippingDb, lookup: ReturnLookup) {
  return db.returnPickup.findMany({
    where: { orderId: lookup.orderId, returnId: lookup.returnId },
    ...newestFirst(lookup),
  });
}
