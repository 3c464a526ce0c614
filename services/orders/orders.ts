import { IllegalTransitionError, NotFoundError } from '../shared/errors';
import type { OrdersTx } from './db';

/**
 * Orders' business rules: PENDING → APPROVED, or PENDING → REJECTED / CANCELLED; the last three are final. Every
 * function runs inside the request's transaction (see idempotency.ts), so the order's row and the idempotency record
 * commit together.
 *
 * Two requests with different idempotency keys can touch the same order at the same moment (a retried saga step
 * racing a cancellation, say), so no rule is checked by reading first and writing after: each write carries its
 * precondition itself and is re-evaluated by PostgreSQL after any concurrent writer commits.
 */
export interface CreateInput {
  orderId: string;
  customerId: string;
  items: { sku: string; quantity: number }[];
}

export type ClosedStatus = 'REJECTED' | 'CANCELLED';

export const withLines = { lines: { orderBy: { sku: 'asc' as const } } };

function find(tx: OrdersTx, orderId: string) {
  return tx.order.findUnique({ where: { id: orderId }, include: withLines });
}

export async function create(tx: OrdersTx, input: CreateInput) {
  // INSERT ... ON CONFLICT DO NOTHING: a concurrent create of the same id waits on the primary key until the first
  // commits, then inserts nothing; a check-then-insert would let both pass the check and fail the second with a 500.
  const { count } = await tx.order.createMany({
    data: [{ id: input.orderId, customerId: input.customerId, status: 'PENDING' }],
    skipDuplicates: true,
  });
  if (count === 0) {
    // A different idempotency key for the same order id: the saga's order (or its tombstone) already exists.
    const existing = await tx.order.findUniqueOrThrow({ where: { id: input.orderId } });
    const what = existing.customerId === null ? `was ${existing.status.toLowerCase()} before it was created` : `already exists in status ${existing.status}`;
    throw new IllegalTransitionError(`order ${input.orderId} ${what}`, { status: existing.status });
  }
  await tx.orderLine.createMany({ data: input.items.map((i) => ({ orderId: input.orderId, sku: i.sku, quantity: i.quantity })) });
  return tx.order.findUniqueOrThrow({ where: { id: input.orderId }, include: withLines });
}

export async function approve(tx: OrdersTx, orderId: string) {
  // Read first: a committed order is then certain to be seen by the update below. (Updating first and reading after
  // could miss a create that commits in between and call a PENDING order not approvable.)
  if (!(await find(tx, orderId))) throw new NotFoundError('unknown_order', `unknown order: ${orderId}`);
  // Conditional update: the row lock plus the re-checked predicate make a concurrent approve and reject of one
  // PENDING order end in exactly one of the two, never an APPROVED order with a rejection reason.
  const { count } = await tx.order.updateMany({ where: { id: orderId, status: 'PENDING' }, data: { status: 'APPROVED', approvedAt: new Date() } });
  const order = (await find(tx, orderId))!;
  if (count === 1 || order.status === 'APPROVED') return order;
  throw new IllegalTransitionError(`order ${orderId} is ${order.status}; only PENDING can be approved`, { status: order.status });
}

/**
 * Compensation of create (REJECTED, the saga failed) or the user's cancellation (CANCELLED). Closing an order that is
 * already closed changes nothing; closing one that does not exist yet records a tombstone and succeeds, so that a
 * create arriving late (a retry still in flight when the saga gave up) is refused instead of leaving a PENDING order
 * that no saga will ever finish.
 */
export async function close(tx: OrdersTx, orderId: string, status: ClosedStatus, reason: string) {
  const now = new Date();
  const stamp = status === 'REJECTED' ? { rejectedAt: now } : { cancelledAt: now };
  // The tombstone goes first, with ON CONFLICT DO NOTHING: if a create of this id is in flight, the insert waits for
  // it to commit. Afterwards the order is either our tombstone or a committed row that the update below sees; looking
  // for the row first instead could miss a create committing between the look and the update.
  const tombstone = await tx.order.createMany({
    data: [{ id: orderId, customerId: null, status, reason: `${reason} (${status.toLowerCase()} before the order existed: no-op)`, ...stamp }],
    skipDuplicates: true,
  });
  if (tombstone.count === 1) return { order: (await find(tx, orderId))!, noop: true };

  // Conditional update, as in approve: of a concurrent approve and close, exactly one moves the PENDING order.
  const { count } = await tx.order.updateMany({ where: { id: orderId, status: 'PENDING' }, data: { status, reason, ...stamp } });
  const order = (await find(tx, orderId))!;
  if (count === 1) return { order, noop: false };
  // No longer PENDING, so final: an approval cannot be undone, and a closed order stays as it was closed.
  if (order.status === 'APPROVED') {
    throw new IllegalTransitionError(`order ${orderId} is APPROVED and can no longer be ${status.toLowerCase()}`, { status: order.status });
  }
  return { order, noop: true };
}
