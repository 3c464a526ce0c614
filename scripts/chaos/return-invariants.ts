/**
 * The return saga's invariants, as one pure function over the services' rows for one business key (a return id and
 * its order) and the saga's outcome. No I/O here (readReturnRows in return-rows.ts reads the rows with `pg`), so a
 * chaos run, a test or an audit can call it per saga, and it can be fed hand-made broken rows to show it fails.
 *
 *   terminal     the saga ended RETURNED, REJECTED or CANCELLED, or waits for an operator with an OPEN dead letter
 *   idempotency  every request the saga made succeeded once under its key (<return id>:<activity>)
 *   RETURNED     every service shows the return done: the order RETURNED by this return, the return COMPLETED, the
 *                pickup BOOKED on the DELIVERED shipment, the payment REFUNDED in full to its customer by this
 *                return's refund, the reservation RETURNED (restocked) by this return
 *   REJECTED /   no service holds anything for this return: the order and the shipment no longer locked by it, the
 *   CANCELLED    return and the pickup absent or CANCELLED, the refund absent or VOIDED (and the payment not REFUNDED
 *                by it), the reservation not restocked by it
 * Money and stock are conserved by the run-level checks (invariants.ts: a refund moves a payment CHARGED → REFUNDED
 * and the money back; a restock moves units sold → available).
 */

export type ReturnOutcomeKind = 'RETURNED' | 'REJECTED' | 'CANCELLED' | 'NEEDS_ATTENTION' | 'FAILED' | 'TIMED_OUT';

export interface ReturnSagaOutcome {
  returnId: string;
  orderId: string;
  outcome: ReturnOutcomeKind;
  detail?: string;
}

// Rows as `pg` returns them (snake_case columns; enums as text).
export interface ReturnRows {
  /** The order (orders service). */
  order?: { id: string; status: string; return_id: string | null };
  /** This return's row(s) in the orders service (the primary key allows one; more is a broken database). */
  returns: { id: string; order_id: string | null; status: 'REQUESTED' | 'COMPLETED' | 'CANCELLED' }[];
  /** The order's reservation (inventory). */
  reservation?: { order_id: string; status: string; return_id: string | null };
  /** The order's shipment (shipping). */
  shipment?: { order_id: string; status: string; return_id: string | null };
  /** This return's pickup row(s) (shipping). */
  pickups: { return_id: string; order_id: string | null; status: 'BOOKED' | 'CANCELLED' }[];
  /** The order's payment (payments). */
  payment?: { order_id: string; customer_id: string | null; amount_cents: number; status: string };
  /** Every refund of the order, this return's and any other's (payments). */
  refunds: {
    return_id: string;
    order_id: string | null;
    customer_id: string | null;
    amount_cents: number;
    status: 'REFUNDED' | 'VOIDED';
  }[];
  /** The idempotency records of this saga's requests, in every service (keys starting with "<return id>:"). */
  idempotency: { service: string; key: string; status_code: number }[];
  /** The saga's OPEN dead letters (the compensations waiting for an operator). */
  openDeadLetters: string[];
}

/** What is wrong with one return saga's rows, one line each; empty when every invariant holds. */
export function checkReturn(saga: ReturnSagaOutcome, rows: ReturnRows): string[] {
  const { returnId: id } = saga;
  const violations: string[] = [];
  const bad = (what: string) => violations.push(`return ${id} (order ${saga.orderId}, ${saga.outcome}): ${what}`);

  if (rows.returns.length > 1) bad(`${rows.returns.length} return rows`);
  if (rows.pickups.length > 1) bad(`${rows.pickups.length} pickup rows`);
  const ownRefunds = rows.refunds.filter((r) => r.return_id === id);
  if (ownRefunds.length > 1) bad(`${ownRefunds.length} refund rows`);
  const seen = new Set<string>();
  for (const k of rows.idempotency) {
    if (seen.has(`${k.service} ${k.key}`)) bad(`idempotency key ${k.key} recorded twice in ${k.service}`);
    seen.add(`${k.service} ${k.key}`);
    if (k.status_code < 200 || k.status_code > 299)
      bad(`idempotency key ${k.key} in ${k.service} stored status ${k.status_code}`);
  }

  const ret = rows.returns[0];
  const pickup = rows.pickups[0];
  const refund = ownRefunds[0];
  const { order, reservation, shipment, payment } = rows;

  switch (saga.outcome) {
    case 'RETURNED': {
      if (order?.status !== 'RETURNED' || order.return_id !== id)
        bad(
          `order is ${order?.status ?? 'missing'} (return ${order?.return_id ?? 'none'}), not RETURNED by this return`,
        );
      if (ret?.status !== 'COMPLETED') bad(`return is ${ret?.status ?? 'missing'}, not COMPLETED`);
      if (pickup?.status !== 'BOOKED') bad(`pickup is ${pickup?.status ?? 'missing'}, not BOOKED`);
      if (shipment?.status !== 'DELIVERED' || shipment.return_id !== id)
        bad(
          `shipment is ${shipment?.status ?? 'missing'} (return ${shipment?.return_id ?? 'none'}), not DELIVERED with this return's pickup`,
        );
      if (refund?.status !== 'REFUNDED') bad(`refund is ${refund?.status ?? 'missing'}, not REFUNDED`);
      else if (!payment || refund.amount_cents !== payment.amount_cents || refund.customer_id !== payment.customer_id) {
        bad(
          `refund of ${refund.amount_cents} to ${refund.customer_id} ≠ the payment (${payment?.amount_cents ?? 'none'} by ${payment?.customer_id ?? 'nobody'})`,
        );
      }
      if (payment?.status !== 'REFUNDED') bad(`payment is ${payment?.status ?? 'missing'}, not REFUNDED`);
      if (reservation?.status !== 'RETURNED' || reservation.return_id !== id)
        bad(
          `reservation is ${reservation?.status ?? 'missing'} (return ${reservation?.return_id ?? 'none'}), not restocked by this return`,
        );
      break;
    }
    case 'REJECTED':
    case 'CANCELLED': {
      if (order?.return_id === id) bad(`order still locked by this return (${order.status})`);
      if (ret && ret.status !== 'CANCELLED') bad(`return is ${ret.status}, not CANCELLED`);
      if (pickup && pickup.status !== 'CANCELLED') bad(`pickup is ${pickup.status}, not CANCELLED`);
      if (shipment?.return_id === id) bad(`shipment still locked by this return's pickup`);
      if (refund && refund.status !== 'VOIDED')
        bad(`refund is ${refund.status}, not VOIDED: the money went back for a return that did not happen`);
      const refundedByAnother = rows.refunds.some((r) => r.return_id !== id && r.status === 'REFUNDED');
      if (payment?.status === 'REFUNDED' && ownRefunds.length && !refundedByAnother)
        bad("payment REFUNDED, yet its only refund (this return's) is VOIDED");
      if (reservation?.return_id === id) bad(`reservation restocked by this return (${reservation.status})`);
      break;
    }
    case 'NEEDS_ATTENTION':
      if (!rows.openDeadLetters.length) bad('waits for an operator, but no dead letter is OPEN');
      break;
    default:
      bad(`did not reach a terminal state${saga.detail ? ` (${saga.detail})` : ''}`);
  }
  return violations;
}
