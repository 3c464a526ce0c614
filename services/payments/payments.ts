import { lockBusinessKey } from '../shared/locks';
import { BusinessRejectionError, IllegalTransitionError, NotFoundError } from '../shared/errors';
import type { PaymentsTx } from './db';

/**
 * Payments' business rules. Every function runs inside the request's transaction (see idempotency.ts), so the
 * customer's balance, the payment's status row and the idempotency record commit together.
 */
export interface ChargeInput {
  orderId: string;
  customerId: string;
  amountCents: number;
}

export async function charge(tx: PaymentsTx, input: ChargeInput) {
  await lockBusinessKey(tx, 'payments.order', input.orderId);
  const existing = await tx.payment.findUnique({ where: { orderId: input.orderId } });
  if (existing) {
    // A different idempotency key for the same order: the order already has its one payment (or a tombstone).
    const why = existing.status === 'CANCELLED' ? ' (a refund arrived before any charge)' : '';
    throw new IllegalTransitionError(`order ${input.orderId} already has a payment in status ${existing.status}${why}`, { status: existing.status });
  }
  const customer = await tx.customer.findUnique({ where: { id: input.customerId } });
  if (!customer) throw new NotFoundError('unknown_customer', `unknown customer: ${input.customerId}`);

  // Conditional update: the row lock plus the re-checked predicate make "the last unit of credit" go to exactly one
  // request, where a read-then-write would let two concurrent charges both see enough money. The sum is computed as
  // bigint so that a large balance plus a large credit limit cannot overflow INTEGER. Raw SQL bypasses @updatedAt,
  // so updated_at is set here, in UTC like every timestamp Prisma writes.
  const updated = await tx.$executeRaw`
    UPDATE customers
    SET balance_cents = balance_cents - ${input.amountCents}, updated_at = now() AT TIME ZONE 'UTC'
    WHERE id = ${input.customerId} AND balance_cents::bigint + credit_limit_cents >= ${input.amountCents}`;
  if (updated === 0) {
    const current = await tx.customer.findUniqueOrThrow({ where: { id: input.customerId } });
    const available = current.balanceCents + current.creditLimitCents;
    throw new BusinessRejectionError(
      'insufficient_funds',
      `insufficient funds for ${input.customerId}: ${input.amountCents} cents requested, ${available} cents available (balance plus credit)`,
      { customerId: input.customerId, requested: input.amountCents, available },
    );
  }
  return tx.payment.create({
    data: { orderId: input.orderId, customerId: input.customerId, amountCents: input.amountCents, status: 'CHARGED', chargedAt: new Date() },
  });
}

/** Compensation of charge: gives the money back. Refunding nothing records a tombstone and succeeds. */
export async function refund(tx: PaymentsTx, orderId: string, reason: string) {
  await lockBusinessKey(tx, 'payments.order', orderId);
  const payment = await tx.payment.findUnique({ where: { orderId } });
  if (!payment) {
    const tombstone = await tx.payment.create({
      data: { orderId, status: 'CANCELLED', reason: `${reason} (refunded before any charge: no-op)`, refundedAt: new Date() },
    });
    return { payment: tombstone, noop: true };
  }
  if (payment.status !== 'CHARGED') return { payment, noop: true };
  // A CHARGED payment always has its customer (only a tombstone has none) and the FK forbids deleting it.
  await tx.customer.update({ where: { id: payment.customerId! }, data: { balanceCents: { increment: payment.amountCents } } });
  const refunded = await tx.payment.update({ where: { orderId }, data: { status: 'REFUNDED', reason, refundedAt: new Date() } });
  return { payment: refunded, noop: false };
}
