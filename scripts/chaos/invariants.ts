/**
 * The invariants a chaos run must leave intact, as pure functions over rows (read with `pg` from each service's
 * database, see snapshot.ts) and the sagas' outcomes (from Temporal). No I/O here, so the checker can be fed
 * hand-made rows and shown to fail (test/chaos/chaos.test.ts): a checker that cannot fail proves nothing.
 *
 *   1 terminal     every saga ended APPROVED, REJECTED or CANCELLED, or is parked dead-lettered
 *                  (status NEEDS_ATTENTION with an OPEN dead_letters row)
 *   2 stock        per SKU: initial stock = available + held + sold, and held / sold agree with the reservations
 *   3 money        per customer: initial balance = balance + charged − refunded, within the credit limit
 *   4 idempotency  every key recorded once, with a success; at most one effect row per order and kind; every
 *                  effect went through the idempotency layer (its key is recorded)
 *   5 effects      a rejected or cancelled order holds no stock, no money and no shipment; an approved one has a
 *                  confirmed reservation, a charge of its total and a confirmed shipment; no row without a saga
 */
import type { DeadLetterStatus } from '../../services/shared/dead-letters';
import type { ServiceName } from '../../services/catalog';
import { orderEffectViolations } from './order-invariants';
import { withoutRunId } from './saga-keys';

export type SagaOutcomeKind = 'APPROVED' | 'REJECTED' | 'CANCELLED' | 'NEEDS_ATTENTION' | 'FAILED' | 'TIMED_OUT';

export interface SagaOutcome {
  orderId: string;
  customerId: string;
  outcome: SagaOutcomeKind;
  /** Why (a rejection's reason, a failure's message). */
  detail?: string;
}

// Rows as `pg` returns them (snake_case columns; INTEGER as number).
export interface OrderRow {
  id: string;
  customer_id: string | null;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'CANCELLED';
}
export interface ProductRow {
  sku: string;
  available: number;
  held: number;
  sold: number;
}
export interface ReservationRow {
  order_id: string;
  status: 'PENDING' | 'CONFIRMED' | 'RELEASED';
  total_cents: number;
}
export interface ReservationLineRow {
  order_id: string;
  sku: string;
  quantity: number;
}
export interface CustomerRow {
  id: string;
  balance_cents: number;
  credit_limit_cents: number;
}
export interface PaymentRow {
  order_id: string;
  customer_id: string | null;
  amount_cents: number;
  status: 'CHARGED' | 'REFUNDED' | 'CANCELLED';
}
export interface ShipmentRow {
  order_id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  tracking_number: string | null;
  /** Null only for a tombstone (a cancellation before any shipment). */
  country: string | null;
}
export interface IdempotencyRow {
  key: string;
  operation: string;
  status_code: number;
}
export interface DeadLetterRow {
  saga_id: string;
  step: string;
  status: DeadLetterStatus;
}

export interface DbSnapshot {
  orders: OrderRow[];
  products: ProductRow[];
  reservations: ReservationRow[];
  reservationLines: ReservationLineRow[];
  customers: CustomerRow[];
  payments: PaymentRow[];
  shipments: ShipmentRow[];
  idempotency: Record<ServiceName, IdempotencyRow[]>;
  /** Empty when the table does not exist (yet). */
  deadLetters: DeadLetterRow[];
}

export interface CheckResult {
  id: number;
  name: string;
  /** What was checked, with counts, in one line. */
  summary: string;
  figures: Record<string, number>;
  violations: string[];
  /** Things worth listing that are not violations (e.g. the dead-lettered sagas). */
  notes?: string[];
}

export interface InvariantInput {
  sagas: SagaOutcome[];
  /** Before the first saga started. */
  initial: DbSnapshot;
  /** After every saga ended. */
  final: DbSnapshot;
  /** Order ids that the CLI's `dead-letters list` shows (what an operator sees). */
  listedDeadLetters: string[];
}

export function checkInvariants(input: InvariantInput): CheckResult[] {
  return [
    checkTerminal(input),
    checkStock(input),
    checkMoney(input),
    checkIdempotency(input),
    checkOrderEffects(input),
  ];
}

export function countViolations(results: CheckResult[]): number {
  return results.reduce((n, r) => n + r.violations.length, 0);
}

/** A saga parked for an operator: NEEDS_ATTENTION, an OPEN dead letter, and listed where the operator looks. */
export function isDeadLettered(saga: SagaOutcome, deadLetters: DeadLetterRow[], listed: string[]): boolean {
  return (
    saga.outcome === 'NEEDS_ATTENTION' &&
    listed.includes(saga.orderId) &&
    deadLetters.some((d) => d.saga_id === saga.orderId && d.status === 'OPEN')
  );
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}
function duplicates<T>(rows: T[], key: (r: T) => string): [string, number][] {
  return [...groupBy(rows, key)].filter(([, list]) => list.length > 1).map(([k, list]) => [k, list.length]);
}

// 1 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────
export function checkTerminal({ sagas, final, listedDeadLetters }: InvariantInput): CheckResult {
  const violations: string[] = [];
  const notes: string[] = [];
  const figures: Record<string, number> = {
    sagas: sagas.length,
    APPROVED: 0,
    REJECTED: 0,
    CANCELLED: 0,
    'dead-lettered': 0,
    'not terminal': 0,
  };
  for (const [id, n] of duplicates(sagas, (s) => s.orderId)) violations.push(`saga ${id} listed ${n} times`);
  for (const s of sagas) {
    if (s.outcome === 'APPROVED' || s.outcome === 'REJECTED' || s.outcome === 'CANCELLED') {
      figures[s.outcome]++;
    } else if (isDeadLettered(s, final.deadLetters, listedDeadLetters)) {
      figures['dead-lettered']++;
      const steps = final.deadLetters.filter((d) => d.saga_id === s.orderId && d.status === 'OPEN').map((d) => d.step);
      notes.push(`${s.orderId}: dead-lettered (${steps.join(', ')})`);
    } else {
      figures['not terminal']++;
      const why =
        s.outcome === 'NEEDS_ATTENTION'
          ? 'NEEDS_ATTENTION but no OPEN dead letter, or not listed by `dead-letters list`'
          : s.outcome;
      violations.push(`saga ${s.orderId} did not reach a terminal state: ${why}${s.detail ? ` (${s.detail})` : ''}`);
    }
  }
  return {
    id: 1,
    name: 'every saga terminal',
    summary: `${sagas.length} sagas: ${figures.APPROVED} approved, ${figures.REJECTED} rejected, ${figures.CANCELLED} cancelled, ${figures['dead-lettered']} dead-lettered, ${figures['not terminal']} not terminal`,
    figures,
    violations,
    notes,
  };
}

// 2 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────
export function checkStock({ initial, final }: InvariantInput): CheckResult {
  const violations: string[] = [];
  const before = new Map(initial.products.map((p) => [p.sku, p]));
  const after = new Map(final.products.map((p) => [p.sku, p]));
  const byStatus = (snap: DbSnapshot, sku: string, status: ReservationRow['status']) => {
    const statusOf = new Map(snap.reservations.map((r) => [r.order_id, r.status]));
    return sum(
      snap.reservationLines.filter((l) => l.sku === sku && statusOf.get(l.order_id) === status).map((l) => l.quantity),
    );
  };
  const figures = { skus: 0, initialUnits: 0, available: 0, held: 0, sold: 0 };
  for (const [sku, n] of duplicates(final.products, (p) => p.sku)) violations.push(`${sku}: ${n} product rows`);
  for (const sku of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(sku);
    const a = after.get(sku);
    if (!b || !a) {
      violations.push(`${sku}: product ${b ? 'disappeared' : 'appeared'} during the run`);
      continue;
    }
    figures.skus++;
    const initialUnits = b.available + b.held + b.sold;
    figures.initialUnits += initialUnits;
    figures.available += a.available;
    figures.held += a.held;
    figures.sold += a.sold - b.sold;
    if (a.available + a.held + a.sold !== initialUnits) {
      violations.push(
        `${sku}: initial ${initialUnits} ≠ available ${a.available} + held ${a.held} + sold ${a.sold} (= ${a.available + a.held + a.sold})`,
      );
    }
    if (a.available < 0 || a.held < 0 || a.sold < 0)
      violations.push(`${sku}: negative counter (available ${a.available}, held ${a.held}, sold ${a.sold})`);
    const pending = byStatus(final, sku, 'PENDING');
    if (a.held !== pending) violations.push(`${sku}: held ${a.held} ≠ ${pending} unit(s) in PENDING reservations`);
    const soldByRows = byStatus(final, sku, 'CONFIRMED') - byStatus(initial, sku, 'CONFIRMED');
    if (a.sold - b.sold !== soldByRows)
      violations.push(`${sku}: sold grew by ${a.sold - b.sold} but CONFIRMED reservations hold ${soldByRows} unit(s)`);
  }
  return {
    id: 2,
    name: 'stock conserved per SKU',
    summary: `${figures.skus} SKUs: initial ${figures.initialUnits} units = available ${figures.available} + held ${figures.held} + sold ${figures.sold} (+ sold before the run)`,
    figures,
    violations,
  };
}

// 3 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────
export function checkMoney({ initial, final }: InvariantInput): CheckResult {
  const violations: string[] = [];
  const before = new Map(initial.customers.map((c) => [c.id, c]));
  const after = new Map(final.customers.map((c) => [c.id, c]));
  const money = (snap: DbSnapshot, id: string) => {
    const mine = snap.payments.filter((p) => p.customer_id === id);
    const charged = sum(
      mine.filter((p) => p.status === 'CHARGED' || p.status === 'REFUNDED').map((p) => p.amount_cents),
    );
    const refunded = sum(mine.filter((p) => p.status === 'REFUNDED').map((p) => p.amount_cents));
    return { charged, refunded };
  };
  const figures = {
    customers: 0,
    initialCents: 0,
    balanceCents: 0,
    chargedCents: 0,
    refundedCents: 0,
    payments: final.payments.length,
  };
  for (const [id, n] of duplicates(final.customers, (c) => c.id)) violations.push(`customer ${id}: ${n} rows`);
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(id);
    const a = after.get(id);
    if (!b || !a) {
      violations.push(`customer ${id} ${b ? 'disappeared' : 'appeared'} during the run`);
      continue;
    }
    figures.customers++;
    const m0 = money(initial, id);
    const m1 = money(final, id);
    const charged = m1.charged - m0.charged;
    const refunded = m1.refunded - m0.refunded;
    figures.initialCents += b.balance_cents;
    figures.balanceCents += a.balance_cents;
    figures.chargedCents += charged;
    figures.refundedCents += refunded;
    if (b.balance_cents !== a.balance_cents + charged - refunded) {
      violations.push(
        `${id}: initial balance ${b.balance_cents} ≠ balance ${a.balance_cents} + charged ${charged} − refunded ${refunded} (= ${a.balance_cents + charged - refunded})`,
      );
    }
    if (a.credit_limit_cents !== b.credit_limit_cents)
      violations.push(`${id}: credit limit changed from ${b.credit_limit_cents} to ${a.credit_limit_cents}`);
    if (a.balance_cents < -a.credit_limit_cents)
      violations.push(`${id}: balance ${a.balance_cents} below its credit limit −${a.credit_limit_cents}`);
  }
  for (const p of final.payments) {
    if (p.status === 'CANCELLED' && (p.amount_cents !== 0 || p.customer_id !== null)) {
      violations.push(
        `payment ${p.order_id}: a CANCELLED tombstone with customer ${p.customer_id} and amount ${p.amount_cents}`,
      );
    }
    if (p.status !== 'CANCELLED' && (p.customer_id === null || !after.has(p.customer_id))) {
      violations.push(
        `payment ${p.order_id} (${p.status}, ${p.amount_cents}) belongs to no known customer (${p.customer_id})`,
      );
    }
    if (p.status !== 'CANCELLED' && p.amount_cents <= 0)
      violations.push(`payment ${p.order_id} (${p.status}) has amount ${p.amount_cents}`);
  }
  return {
    id: 3,
    name: 'money conserved per customer',
    summary: `${figures.customers} customers, ${figures.payments} payment rows: initial ${figures.initialCents} = balance ${figures.balanceCents} + charged ${figures.chargedCents} − refunded ${figures.refundedCents} (cents)`,
    figures,
    violations,
  };
}

// 4 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────
/** Which service each saga activity calls; its idempotency key is `<order id>:<run id>:<activity>` (saga-keys.ts). */
export const ACTIVITY_SERVICE: Record<string, ServiceName> = {
  createOrder: 'orders',
  approveOrder: 'orders',
  rejectOrder: 'orders',
  cancelOrder: 'orders',
  reserveInventory: 'inventory',
  confirmReservation: 'inventory',
  releaseInventory: 'inventory',
  scheduleShipment: 'shipping',
  confirmShipment: 'shipping',
  cancelShipment: 'shipping',
  chargePayment: 'payments',
  refundPayment: 'payments',
};

/** The activities whose recorded key must exist for an effect row in this state (tombstones have no forward key). */
function requiredKeys(
  kind: 'order' | 'reservation' | 'payment' | 'shipment',
  status: string,
  tombstone: boolean,
): string[] {
  const keys: string[] = [];
  if (kind === 'order') {
    if (!tombstone) keys.push('createOrder');
    keys.push(
      ...((
        { APPROVED: ['approveOrder'], REJECTED: ['rejectOrder'], CANCELLED: ['cancelOrder'] } as Record<
          string,
          string[]
        >
      )[status] ?? []),
    );
  } else if (kind === 'reservation') {
    if (!tombstone) keys.push('reserveInventory');
    keys.push(
      ...(({ CONFIRMED: ['confirmReservation'], RELEASED: ['releaseInventory'] } as Record<string, string[]>)[status] ??
        []),
    );
  } else if (kind === 'payment') {
    if (!tombstone) keys.push('chargePayment');
    keys.push(
      ...(({ REFUNDED: ['refundPayment'], CANCELLED: ['refundPayment'] } as Record<string, string[]>)[status] ?? []),
    );
  } else {
    if (!tombstone) keys.push('scheduleShipment');
    keys.push(
      ...(({ CONFIRMED: ['confirmShipment'], CANCELLED: ['cancelShipment'] } as Record<string, string[]>)[status] ??
        []),
    );
  }
  return keys;
}

export function checkIdempotency({ initial, final }: InvariantInput): CheckResult {
  const violations: string[] = [];
  let records = 0;
  let sagaKeys = 0;
  const keysByService = new Map<ServiceName, Set<string>>();
  for (const [service, rows] of Object.entries(final.idempotency) as [ServiceName, IdempotencyRow[]][]) {
    records += rows.length;
    // By saga and activity: the run id in each key names the saga's run chain, which this check does not know.
    keysByService.set(service, new Set(rows.map((r) => withoutRunId(r.key))));
    for (const [key, n] of duplicates(rows, (r) => r.key))
      violations.push(`${service}: idempotency key ${key} recorded ${n} times`);
    for (const r of rows) {
      if (r.status_code < 200 || r.status_code >= 300)
        violations.push(`${service}: key ${r.key} stored status ${r.status_code} (only successes are stored)`);
      const activity = withoutRunId(r.key).slice(withoutRunId(r.key).lastIndexOf(':') + 1);
      const owner = ACTIVITY_SERVICE[activity];
      if (!owner) continue; // not a saga activity's key (e.g. an operator's request)
      sagaKeys++;
      if (owner !== service) violations.push(`${service}: key ${r.key} belongs to a ${owner} activity`);
    }
  }

  // One effect row per order and kind; each effect recorded under its saga key.
  type Effect = { orderId: string; status: string; tombstone: boolean };
  const linesOf = new Set(final.reservationLines.map((l) => l.order_id));
  const kinds: {
    kind: 'order' | 'reservation' | 'payment' | 'shipment';
    service: ServiceName;
    rows: Effect[];
    before: Set<string>;
  }[] = [
    {
      kind: 'order',
      service: 'orders',
      rows: final.orders.map((o) => ({ orderId: o.id, status: o.status, tombstone: o.customer_id === null })),
      before: new Set(initial.orders.map((o) => o.id)),
    },
    {
      kind: 'reservation',
      service: 'inventory',
      rows: final.reservations.map((r) => ({
        orderId: r.order_id,
        status: r.status,
        tombstone: r.status === 'RELEASED' && !linesOf.has(r.order_id),
      })),
      before: new Set(initial.reservations.map((r) => r.order_id)),
    },
    {
      kind: 'payment',
      service: 'payments',
      rows: final.payments.map((p) => ({ orderId: p.order_id, status: p.status, tombstone: p.status === 'CANCELLED' })),
      before: new Set(initial.payments.map((p) => p.order_id)),
    },
    {
      kind: 'shipment',
      service: 'shipping',
      rows: final.shipments.map((s) => ({
        orderId: s.order_id,
        status: s.status,
        tombstone: s.status === 'CANCELLED' && s.country === null,
      })),
      before: new Set(initial.shipments.map((s) => s.order_id)),
    },
  ];
  let effects = 0;
  for (const { kind, service, rows, before } of kinds) {
    for (const [orderId, n] of duplicates(rows, (r) => r.orderId))
      violations.push(`order ${orderId}: ${n} ${kind} rows (an effect applied twice)`);
    const keys = keysByService.get(service) ?? new Set<string>();
    for (const r of rows) {
      if (before.has(r.orderId)) continue;
      effects++;
      for (const activity of requiredKeys(kind, r.status, r.tombstone)) {
        if (!keys.has(`${r.orderId}:${activity}`))
          violations.push(
            `order ${r.orderId}: ${kind} is ${r.status} but ${service} has no record of key ${r.orderId}:${activity}`,
          );
      }
    }
  }
  return {
    id: 4,
    name: 'no idempotency key applied twice',
    summary: `${records} idempotency records (${sagaKeys} saga keys) across 4 services, each key once; ${effects} effect rows, at most one per order and kind, each under its recorded key`,
    figures: { records, sagaKeys, effects },
    violations,
  };
}

// 5 ────────────────────────────────────────────────────────────────────────────────────────────────────────────────
export function checkOrderEffects({ sagas, initial, final }: InvariantInput): CheckResult {
  const violations: string[] = [];
  const order = new Map(final.orders.map((o) => [o.id, o]));
  const reservation = new Map(final.reservations.map((r) => [r.order_id, r]));
  const payment = new Map(final.payments.map((p) => [p.order_id, p]));
  const shipment = new Map(final.shipments.map((s) => [s.order_id, s]));
  const figures = { approved: 0, closed: 0, skipped: 0, orphans: 0 };
  for (const s of sagas) {
    const id = s.orderId;
    const o = order.get(id);
    const r = reservation.get(id);
    const p = payment.get(id);
    const sh = shipment.get(id);
    if (s.outcome === 'APPROVED') figures.approved++;
    else if (s.outcome === 'REJECTED' || s.outcome === 'CANCELLED') figures.closed++;
    // The order saga's own invariant function (order-invariants.ts), the one the explorer checks each saga with.
    violations.push(
      ...orderEffectViolations(s, {
        orders: o ? [o] : [],
        reservations: r ? [r] : [],
        payments: p ? [p] : [],
        shipments: sh ? [sh] : [],
      }),
    );
    if (s.outcome !== 'APPROVED' && s.outcome !== 'REJECTED' && s.outcome !== 'CANCELLED') {
      figures.skipped++; // dead-lettered or not terminal: check 1 says which; stock and money still hold (2, 3)
    }
  }
  // Rows that no saga of this run (and nothing before it) accounts for.
  const known = new Set(sagas.map((s) => s.orderId));
  const before = new Set([
    ...initial.orders.map((o) => o.id),
    ...initial.reservations.map((r) => r.order_id),
    ...initial.payments.map((p) => p.order_id),
    ...initial.shipments.map((s) => s.order_id),
  ]);
  const rows: [string, string][] = [
    ...final.orders.map((o) => ['order', o.id] as [string, string]),
    ...final.reservations.map((r) => ['reservation', r.order_id] as [string, string]),
    ...final.payments.map((p) => ['payment', p.order_id] as [string, string]),
    ...final.shipments.map((s) => ['shipment', s.order_id] as [string, string]),
  ];
  for (const [kind, id] of rows) {
    if (known.has(id) || before.has(id)) continue;
    figures.orphans++;
    violations.push(`${kind} for ${id}: no saga of this run made it`);
  }
  return {
    id: 5,
    name: 'effects match outcomes',
    summary: `${figures.approved} approved orders fully confirmed and charged; ${figures.closed} rejected/cancelled orders hold no reservation, charge or shipment; ${figures.skipped} skipped (not terminal or dead-lettered); ${figures.orphans} orphan rows`,
    figures,
    violations,
  };
}
