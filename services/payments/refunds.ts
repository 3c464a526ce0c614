import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import { newestFirst, type ReturnLookup } from '../shared/validation';
import type { PaymentsDb } from './db';

/**
 * Refunds of returned orders (the return saga's pivot). Each request is one call of its database function
 * (prisma/payments/migrations/*_returns); the payment's status is the guard (CHARGED → REFUNDED exactly once), decided
 * there by conditional writes (services/shared/request-functions.ts).
 *   refund  gives the order's CHARGED payment back in full: REFUNDED (404 no payment, 409 already_refunded, or a return
 *           id already refunded or voided before it was refunded: a tombstone; 422 amount_too_large if the balance would
 *           exceed what an account holds, 2^31-1 cents)
 *   void    compensation of refund, for an unknown outcome: a refund that happened is taken back (the payment is CHARGED
 *           again; 422 insufficient_funds if the customer no longer has it), none records a tombstone (noop)
 */
export interface RefundInput {
  returnId: string;
  orderId: string;
  reason: string;
}

export function refund(db: PaymentsDb, call: IdempotentCall, input: RefundInput) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM payments_refund_return(${call.key}, ${call.hash}, ${input.returnId}, ${input.orderId}, ${input.reason})`,
  );
}

export function voidRefund(
  db: PaymentsDb,
  call: IdempotentCall,
  { returnId, reason }: { returnId: string; reason: string },
) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM payments_void_refund(${call.key}, ${call.hash}, ${returnId}, ${reason})`,
  );
}

export function list(db: PaymentsDb, lookup: ReturnLookup) {
  return db.refund.findMany({ where: { orderId: lookup.orderId, returnId: lookup.returnId }, ...newestFirst(lookup) });
}
