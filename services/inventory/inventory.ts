import { MAX_CENTS } from '../shared/fields';
import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { notFound } from '../shared/routes';
import type { InventoryDb } from './db';

/**
 * Inventory's mutating requests. Each is one call of its database function (prisma/inventory/migrations/
 * *_request_functions), so the stock counters, the reservation's status row and the idempotency record commit
 * together in one round trip; races are decided there by conditional writes (services/shared/request-functions.ts).
 *   reserve   holds stock for an order: PENDING (409 if the order has a reservation or a tombstone, 404 unknown SKU,
 *             422 amount_too_large when the total is more than one payment may charge (MAX_CENTS), 422 insufficient
 *             stock, the last unit to exactly one request)
 *   confirm   sells the held stock: CONFIRMED (idempotent; 409 unless PENDING, 404 no reservation)
 *   release   compensation of reserve: gives the held stock back (RELEASED); releasing nothing records a tombstone
 *             and succeeds (noop), 409 once CONFIRMED
 *   restock   a returned order's sold units back to available: RETURNED (idempotent for the same return; 404 no
 *             reservation, 409 already_returned for another return, 409 unless CONFIRMED)
 */
export interface ReserveInput {
  orderId: string;
  items: { sku: string; quantity: number }[];
}

export function reserve(db: InventoryDb, call: IdempotentCall, input: ReserveInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM inventory_reserve(${call.key}, ${call.hash}, ${input.orderId}, ${JSON.stringify(input.items)}::jsonb, ${MAX_CENTS}::integer)`,
  );
}

export function confirm(db: InventoryDb, call: IdempotentCall, { orderId }: { orderId: string }) {
  return runRequestFunction(db, sql`SELECT * FROM inventory_confirm(${call.key}, ${call.hash}, ${orderId})`);
}

export function release(
  db: InventoryDb,
  call: IdempotentCall,
  { orderId, reason }: { orderId: string; reason: string },
) {
  return runRequestFunction(db, sql`SELECT * FROM inventory_release(${call.key}, ${call.hash}, ${orderId}, ${reason})`);
}

export function restock(
  db: InventoryDb,
  call: IdempotentCall,
  { orderId, returnId }: { orderId: string; returnId: string },
) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM inventory_restock(${call.key}, ${call.hash}, ${orderId}, ${returnId})`,
  );
}

/** The product (price and stock counters), or 404 unknown_sku. */
export async function findProduct(db: InventoryDb, { sku }: { sku: string }) {
  return (await db.product.findUnique({ where: { sku } })) ?? notFound('unknown_sku', `unknown SKU: ${sku}`);
}

/** The order's reservation with its lines, or 404 unknown_reservation. */
export async function find(db: InventoryDb, { orderId }: { orderId: string }) {
  const reservation = await db.reservation.findUnique({ where: { orderId }, include: { lines: true } });
  return reservation ?? notFound('unknown_reservation', `no reservation for order ${orderId}`);
}
