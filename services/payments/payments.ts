import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { notFound } from '../shared/routes';
import type { PaymentsDb } from './db';

/**
 * Payments' mutating requests. Each is one call of its database function (prisma/payments/migrations/
 * *_request_functions), so the customer's balance, the payment's status row and the idempotency record commit
 * together in one round trip; races are decided there by conditional writes (services/shared/request-functions.ts).
 *   charge   takes the amount from the balance (down to -creditLimitCents): CHARGED (409 if the order has a payment or
 *            a tombstone, 404 unknown customer, 422 insufficient funds, the last unit of credit to exactly one request)
 *   refund   compensation of charge: gives the money back (REFUNDED); refunding nothing records a tombstone and
 *            succeeds (noop); 422 amount_too_large if the balance would exceed what an account holds (2^31-1 cents)
 */
export interface ChargeInput {
  orderId: string;
  customerId: string;
  amountCents: number;
}

export function charge(db: PaymentsDb, call: IdempotentCall, input: ChargeInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM payments_charge(${call.key}, ${call.hash}, ${input.orderId}, ${input.customerId}, ${input.amountCents}::integer)`,
  );
}

export function refund(db: PaymentsDb, call: IdempotentCall, { orderId, reason }: { orderId: string; reason: string }) {
  return runRequestFunction(db, sql`SELECT * FROM payments_refund(${call.key}, ${call.hash}, ${orderId}, ${reason})`);
}

/** The customer (balance and credit line), or 404 unknown_customer. */
export async function findCustomer(db: PaymentsDb, { customerId }: { customerId: string }) {
  const customer = await db.customer.findUnique({ where: { id: customerId } });
  return customer ?? notFound('unknown_customer', `unknown customer: ${customerId}`);
}

/** The order's payment, or 404 unknown_payment. */
export async function find(db: PaymentsDb, { orderId }: { orderId: string }) {
  const payment = await db.payment.findUnique({ where: { orderId } });
  return payment ?? notFound('unknown_payment', `no payment for order ${orderId}`);
}
