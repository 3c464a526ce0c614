import { lockBusinessKey } from '../shared/locks';
import { BusinessRejectionError, IllegalTransitionError, NotFoundError } from '../shared/errors';
import type { InventoryTx } from './db';

/**
 * Inventory's business rules. Every function runs inside the request's transaction (see idempotency.ts), so the
 * stock counters, the reservation's status row and the idempotency record commit together.
 */
export interface ReserveInput {
  orderId: string;
  items: { sku: string; quantity: number }[];
}

const withLines = { lines: { orderBy: { sku: 'asc' as const } } };

export async function reserve(tx: InventoryTx, input: ReserveInput) {
  await lockBusinessKey(tx, 'inventory.reservation', input.orderId);
  const existing = await tx.reservation.findUnique({ where: { orderId: input.orderId } });
  if (existing) {
    // A different idempotency key for the same order: the order already has its one reservation (or a tombstone).
    throw new IllegalTransitionError(`order ${input.orderId} already has a reservation in status ${existing.status}`, { status: existing.status });
  }
  const products = await tx.product.findMany({ where: { sku: { in: input.items.map((i) => i.sku) } } });
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const unknown = input.items.filter((i) => !bySku.has(i.sku)).map((i) => i.sku);
  if (unknown.length) throw new NotFoundError('unknown_sku', `unknown SKU: ${unknown.join(', ')}`);

  // Sorted by SKU so that concurrent reservations lock product rows in the same order (no deadlocks).
  for (const item of [...input.items].sort((a, b) => a.sku.localeCompare(b.sku))) {
    // Conditional update: the row lock plus the re-checked predicate make "the last unit" go to exactly one request.
    const { count } = await tx.product.updateMany({
      where: { sku: item.sku, available: { gte: item.quantity } },
      data: { available: { decrement: item.quantity }, held: { increment: item.quantity } },
    });
    if (count === 0) {
      const product = await tx.product.findUniqueOrThrow({ where: { sku: item.sku } });
      throw new BusinessRejectionError('insufficient_stock', `insufficient stock for ${item.sku}: ${item.quantity} requested, ${product.available} available`, {
        sku: item.sku,
        requested: item.quantity,
        available: product.available,
      });
    }
  }
  const totalCents = input.items.reduce((sum, i) => sum + i.quantity * bySku.get(i.sku)!.priceCents, 0);
  return tx.reservation.create({
    data: {
      orderId: input.orderId,
      status: 'PENDING',
      totalCents,
      lines: { create: input.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: bySku.get(i.sku)!.priceCents })) },
    },
    include: withLines,
  });
}

export async function confirm(tx: InventoryTx, orderId: string) {
  await lockBusinessKey(tx, 'inventory.reservation', orderId);
  const reservation = await tx.reservation.findUnique({ where: { orderId }, include: withLines });
  if (!reservation) throw new NotFoundError('unknown_reservation', `no reservation for order ${orderId}`);
  if (reservation.status === 'CONFIRMED') return reservation;
  if (reservation.status !== 'PENDING') throw new IllegalTransitionError(`reservation for order ${orderId} is ${reservation.status}; only PENDING can be confirmed`);
  for (const line of reservation.lines) {
    await tx.product.update({ where: { sku: line.sku }, data: { held: { decrement: line.quantity }, sold: { increment: line.quantity } } });
  }
  return tx.reservation.update({ where: { orderId }, data: { status: 'CONFIRMED', confirmedAt: new Date() }, include: withLines });
}

/** Compensation of reserve: gives the held stock back. Releasing nothing records a tombstone and succeeds. */
export async function release(tx: InventoryTx, orderId: string, reason: string) {
  await lockBusinessKey(tx, 'inventory.reservation', orderId);
  const reservation = await tx.reservation.findUnique({ where: { orderId }, include: withLines });
  if (!reservation) {
    const tombstone = await tx.reservation.create({
      data: { orderId, status: 'RELEASED', reason: `${reason} (released before any reservation existed: no-op)`, releasedAt: new Date() },
      include: withLines,
    });
    return { reservation: tombstone, noop: true };
  }
  if (reservation.status === 'RELEASED') return { reservation, noop: true };
  if (reservation.status === 'CONFIRMED') throw new IllegalTransitionError(`reservation for order ${orderId} is CONFIRMED (sold) and can no longer be released`);
  for (const line of reservation.lines) {
    await tx.product.update({ where: { sku: line.sku }, data: { held: { decrement: line.quantity }, available: { increment: line.quantity } } });
  }
  const released = await tx.reservation.update({ where: { orderId }, data: { status: 'RELEASED', reason, releasedAt: new Date() }, include: withLines });
  return { reservation: released, noop: false };
}
