import { createHash } from 'node:crypto';
import type { Destination } from '../shared/fields';
import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { notFound } from '../shared/routes';
import type { ShippingDb } from './db';

/**
 * Shipping's mutating requests. Each is one call of its database function (prisma/shipping/migrations/
 * *_request_functions), so the shipment's status row and the idempotency record commit together in one round trip;
 * races are decided there by conditional writes (services/shared/request-functions.ts).
 *   schedule  PENDING shipment (409 if the order has a shipment or a tombstone, 422 undeliverable destination)
 *   confirm   hands it to the carrier: CONFIRMED with a tracking number (idempotent; 409 unless PENDING, 404 none)
 *   cancel    compensation of schedule: CANCELLED; cancelling nothing records a tombstone and succeeds (noop), 409 once
 *             CONFIRMED
 *   deliver   the carrier's delivery report: DELIVERED at the given time, or now (idempotent; 409 unless CONFIRMED, 404
 *             none); the return window (return-pickups.ts) counts from it
 */
export interface ScheduleInput {
  orderId: string;
  destination: Destination;
}

/** Derived from the order id alone, so every retry or replay of a confirmation hands out the same number. */
function trackingNumberFor(orderId: string): string {
  return `TRK-${createHash('sha256').update(orderId).digest('hex').slice(0, 12).toUpperCase()}`;
}

export function schedule(db: ShippingDb, call: IdempotentCall, input: ScheduleInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM shipping_schedule(${call.key}, ${call.hash}, ${input.orderId}, ${JSON.stringify(input.destination)}::jsonb)`,
  );
}

export function confirm(db: ShippingDb, call: IdempotentCall, { orderId }: { orderId: string }) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM shipping_confirm(${call.key}, ${call.hash}, ${orderId}, ${trackingNumberFor(orderId)})`,
  );
}

export function cancel(db: ShippingDb, call: IdempotentCall, { orderId, reason }: { orderId: string; reason: string }) {
  return runRequestFunction(db, sql`SELECT * FROM shipping_cancel(${call.key}, ${call.hash}, ${orderId}, ${reason})`);
}

/** deliveredAt: an ISO 8601 time, or undefined for now (the database's clock, the one the return window is read by). */
export function deliver(
  db: ShippingDb,
  call: IdempotentCall,
  { orderId, deliveredAt }: { orderId: string; deliveredAt?: string },
) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM shipping_deliver(${call.key}, ${call.hash}, ${orderId}, (${deliveredAt ?? null}::timestamptz AT TIME ZONE 'UTC')::timestamp(3))`,
  );
}

/** The order's shipment, or 404 unknown_shipment. */
export async function find(db: ShippingDb, { orderId }: { orderId: string }) {
  const shipment = await db.shipment.findUnique({ where: { orderId } });
  return shipment ?? notFound('unknown_shipment', `no shipment for order ${orderId}`);
}
