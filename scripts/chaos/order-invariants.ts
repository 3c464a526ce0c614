/**
 * The order saga's invariants, as one pure function over the services' rows for one business key (an order id) and
 * the saga's outcome. The chaos run's checker (invariants.ts, check 5) calls orderEffectViolations for every saga of
 * its run; the explorer (scripts/explore) calls checkOrderSaga after each saga it runs. No I/O here: orderRowsOf
 * picks one order's rows out of a snapshot read with `pg` (snapshot.ts).
 *
 *   terminal     APPROVED, REJECTED or CANCELLED, or waiting for an operator with an OPEN dead letter
 *   idempotency  every key of this order (<order id>:<activity>) recorded once, with a success; at most one row per
 *                kind (order, reservation, payment, shipment)
 *   APPROVED     the order APPROVED, its reservation CONFIRMED, a charge of the reservation's total to its customer,
 *                a CONFIRMED shipment with a tracking number
 *   REJECTED /   nothing held, charged or scheduled: the reservation RELEASED (or absent), no live charge, the
 *   CANCELLED    shipment CANCELLED (or absent), the order in that status (or absent when create-order was refused)
 * Stock and money are conserved across the run (invariants.ts, checks 2 and 3: they are sums over every order).
 */
import type {
  DbSnapshot,
  IdempotencyRow,
  OrderRow,
  PaymentRow,
  ReservationRow,
  SagaOutcome,
  ShipmentRow,
} from './invariants';

/** One order's rows in every service. */
export interface OrderSagaRows {
  orders: OrderRow[];
  reservations: ReservationRow[];
  payments: PaymentRow[];
  shipments: ShipmentRow[];
  /** The idempotency records whose key starts with "<order id>:", in every service. */
  idempotency: (IdempotencyRow & { service: string })[];
  /** The compensations of this saga with an OPEN dead letter. */
  openDeadLetters: string[];
}

export function orderRowsOf(snapshot: DbSnapshot, orderId: string): OrderSagaRows {
  return {
    orders: snapshot.orders.filter((o) => o.id === orderId),
    reservations: snapshot.reservations.filter((r) => r.order_id === orderId),
    payments: snapshot.payments.filter((p) => p.order_id === orderId),
    shipments: snapshot.shipments.filter((s) => s.order_id === orderId),
    idempotency: Object.entries(snapshot.idempotency).flatMap(([service, rows]) =>
      rows.filter((r) => r.key.startsWith(`${orderId}:`)).map((r) => ({ service, ...r })),
    ),
    openDeadLetters: snapshot.deadLetters
      .filter((d) => d.saga_id === orderId && d.status === 'OPEN')
      .map((d) => d.step),
  };
}

/** What the order's effect rows say that its outcome forbids, one line each (the chaos run's check 5). */
export function orderEffectViolations(
  s: SagaOutcome,
  rows: Pick<OrderSagaRows, 'orders' | 'reservations' | 'payments' | 'shipments'>,
): string[] {
  const violations: string[] = [];
  const id = s.orderId;
  const [o] = rows.orders;
  const [r] = rows.reservations;
  const [p] = rows.payments;
  const [sh] = rows.shipments;
  const bad = (what: string) => violations.push(`${s.outcome.toLowerCase()} order ${id}: ${what}`);
  if (s.outcome === 'APPROVED') {
    if (o?.status !== 'APPROVED') bad(`order is ${o?.status ?? 'missing'}, not APPROVED`);
    if (o && o.customer_id !== s.customerId) bad(`order belongs to ${o.customer_id}, not ${s.customerId}`);
    if (r?.status !== 'CONFIRMED') bad(`reservation is ${r?.status ?? 'missing'}, not CONFIRMED`);
    if (p?.status !== 'CHARGED') bad(`payment is ${p?.status ?? 'missing'}, not CHARGED`);
    else {
      if (p.customer_id !== s.customerId) bad(`charged to ${p.customer_id}, not ${s.customerId}`);
      if (r && p.amount_cents !== r.total_cents) bad(`charged ${p.amount_cents} for a reservation of ${r.total_cents}`);
    }
    if (sh?.status !== 'CONFIRMED') bad(`shipment is ${sh?.status ?? 'missing'}, not CONFIRMED`);
    else if (!sh.tracking_number) bad('confirmed shipment without a tracking number');
  } else if (s.outcome === 'REJECTED' || s.outcome === 'CANCELLED') {
    if (!o && s.outcome === 'REJECTED') {
      // create-order itself was refused: a rejected request writes nothing, so nothing else may exist either.
      if (r || p || sh) bad('no order, yet other services hold rows for it');
    } else if (o?.status !== s.outcome) bad(`order is ${o?.status ?? 'missing'}, not ${s.outcome}`);
    if (r && r.status !== 'RELEASED') bad(`live reservation (${r.status})`);
    if (p && p.status === 'CHARGED') bad(`live charge of ${p.amount_cents}`);
    if (sh && sh.status !== 'CANCELLED') bad(`live shipment (${sh.status})`);
  }
  return violations;
}

/** Every invariant of one order saga, one line per violation; empty when all hold. */
export function checkOrderSaga(s: SagaOutcome, rows: OrderSagaRows): string[] {
  const violations: string[] = [];
  const bad = (what: string) => violations.push(`order ${s.orderId} (${s.outcome}): ${what}`);
  if (s.outcome === 'NEEDS_ATTENTION') {
    if (!rows.openDeadLetters.length) bad('waits for an operator, but no dead letter is OPEN');
  } else if (s.outcome !== 'APPROVED' && s.outcome !== 'REJECTED' && s.outcome !== 'CANCELLED') {
    bad(`did not reach a terminal state${s.detail ? ` (${s.detail})` : ''}`);
  }
  for (const [kind, list] of [
    ['order', rows.orders],
    ['reservation', rows.reservations],
    ['payment', rows.payments],
    ['shipment', rows.shipments],
  ] as const) {
    if (list.length > 1) bad(`${list.length} ${kind} rows (an effect applied twice)`);
  }
  const seen = new Set<string>();
  for (const k of rows.idempotency) {
    if (seen.has(`${k.service} ${k.key}`)) bad(`idempotency key ${k.key} recorded twice in ${k.service}`);
    seen.add(`${k.service} ${k.key}`);
    if (k.status_code < 200 || k.status_code > 299)
      bad(`idempotency key ${k.key} in ${k.service} stored status ${k.status_code}`);
  }
  return [...violations, ...orderEffectViolations(s, rows)];
}
