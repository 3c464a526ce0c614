import type { Destination } from '../shared/fields';
import { createHash } from 'node:crypto';
import { BusinessRejectionError, IllegalTransitionError, NotFoundError } from '../shared/errors';
import type { ShippingTx } from './db';

/**
 * Shipping's business rules. Every function runs inside the request's transaction (see idempotency.ts), so the
 * shipment's status row and the idempotency record commit together.
 *
 * Transitions are conditional writes (INSERT ... ON CONFLICT DO NOTHING, UPDATE ... WHERE status = 'PENDING'):
 * PostgreSQL re-checks the condition after waiting for a concurrent writer of the same row, so when two requests
 * race on one order exactly one transition wins and the loser decides again on the committed state, instead of
 * overwriting it or failing with a unique-violation 500.
 */
export interface ScheduleInput {
  orderId: string;
  destination: Destination;
}

/** Derived from the order id alone, so every retry or replay of a confirmation hands out the same number. */
export function trackingNumberFor(orderId: string): string {
  return `TRK-${createHash('sha256').update(orderId).digest('hex').slice(0, 12).toUpperCase()}`;
}

function alreadyExists(orderId: string, status: string): IllegalTransitionError {
  // A different idempotency key for the same order: the order already has its one shipment (or a tombstone).
  return new IllegalTransitionError(`order ${orderId} already has a shipment in status ${status}`, { status });
}

async function findShipment(tx: ShippingTx, orderId: string) {
  const shipment = await tx.shipment.findUnique({ where: { orderId } });
  if (!shipment) throw new NotFoundError('unknown_shipment', `no shipment for order ${orderId}`);
  return shipment;
}

export async function schedule(tx: ShippingTx, input: ScheduleInput) {
  const existing = await tx.shipment.findUnique({ where: { orderId: input.orderId } });
  if (existing) throw alreadyExists(input.orderId, existing.status);
  const { country } = input.destination;
  if (!(await tx.serviceArea.findUnique({ where: { country } }))) {
    throw new BusinessRejectionError('undeliverable_destination', `undeliverable destination: we do not ship to country ${country}`, { country });
  }
  // A concurrent schedule for the same order (under another key) waits here on the primary key until the first one
  // commits, then inserts nothing.
  const [created] = await tx.shipment.createManyAndReturn({ data: [{ orderId: input.orderId, ...input.destination, status: 'PENDING' }], skipDuplicates: true });
  if (!created) throw alreadyExists(input.orderId, (await tx.shipment.findUniqueOrThrow({ where: { orderId: input.orderId } })).status);
  return created;
}

/** Hands the shipment to the carrier. Confirming a CONFIRMED shipment answers it unchanged (same tracking number). */
export async function confirm(tx: ShippingTx, orderId: string): Promise<Awaited<ReturnType<typeof findShipment>>> {
  const shipment = await findShipment(tx, orderId);
  if (shipment.status === 'CONFIRMED') return shipment;
  if (shipment.status !== 'PENDING') throw new IllegalTransitionError(`shipment for order ${orderId} is ${shipment.status}; only PENDING can be confirmed`);
  const { count } = await tx.shipment.updateMany({
    where: { orderId, status: 'PENDING' },
    data: { status: 'CONFIRMED', trackingNumber: trackingNumberFor(orderId), confirmedAt: new Date() },
  });
  // count 0: a concurrent cancel or confirm committed first; answer as if this request had come after it.
  return count === 0 ? confirm(tx, orderId) : findShipment(tx, orderId);
}

/** Compensation of schedule. Cancelling nothing records a tombstone and succeeds. */
export async function cancel(tx: ShippingTx, orderId: string, reason: string): Promise<{ shipment: Awaited<ReturnType<typeof findShipment>>; noop: boolean }> {
  const shipment = await tx.shipment.findUnique({ where: { orderId } });
  if (!shipment) {
    const [tombstone] = await tx.shipment.createManyAndReturn({
      data: [{ orderId, status: 'CANCELLED', reason: `${reason} (cancelled before any shipment existed: no-op)`, cancelledAt: new Date() }],
      skipDuplicates: true,
    });
    // No tombstone: a concurrent schedule or cancel created the row first; decide on that row instead.
    return tombstone ? { shipment: tombstone, noop: true } : cancel(tx, orderId, reason);
  }
  if (shipment.status === 'CANCELLED') return { shipment, noop: true };
  if (shipment.status === 'CONFIRMED') throw new IllegalTransitionError(`shipment for order ${orderId} is CONFIRMED (handed to the carrier) and can no longer be cancelled`);
  const { count } = await tx.shipment.updateMany({ where: { orderId, status: 'PENDING' }, data: { status: 'CANCELLED', reason, cancelledAt: new Date() } });
  return count === 0 ? cancel(tx, orderId, reason) : { shipment: await findShipment(tx, orderId), noop: false };
}
