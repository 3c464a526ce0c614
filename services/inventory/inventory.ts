import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction } from '../shared/request-functions';
import type { InventoryDb } from './db';

/**
 * Inventory's mutating requests. Each is one call of its database function (prisma/inventory/migrations/
 * *_request_functions), so the stock counters, the reservation's status row and the idempotency record commit
 * together in one round trip; races are decided there by conditional writes (services/shared/request-functions.ts).
 *   reserve   holds stock for an order: PENDING (409 if the order has a reservation or a tombstone, 404 unknown SKU,
 *             422 insufficient stock, the last unit to exactly one request)
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
    db.$queryRaw`SELECT * FROM inventory_reserve(${call.key}, ${call.hash}, ${input.orderId}, ${JSON.stringify(input.items)}::jsonb)`,
  );
}

export function confirm(db: InventoryDb, call: IdempotentCall, orderId: string) {
  return runRequestFunction(db.$queryRaw`SELECT * FROM inventory_confirm(${call.key}, ${call.hash}, ${orderId})`);
}

export function release(db: InventoryDb, call: IdempotentCall, orderId: string, reason: string) {
  return runRequestFunction(
    db.$queryRaw`SELECT * FROM inventory_release(${call.key}, ${call.hash}, ${orderId}, ${reason})`,
  );
}

export function restock(db: InventoryDb, call: IdempotentCall, orderId: string, returnId: string) {
  return runRequestFunction(
    db.$queryRaw`SELECT * FROM inventory_restock(${call.key}, ${call.hash}, ${orderId}, ${returnId})`,
  );
}
