import assert from 'node:assert/strict';
import {
  checkInvariants,
  countViolations,
  type CheckResult,
  type DbSnapshot,
  type InvariantInput,
} from '../../scripts/chaos/invariants';
import { killPoints, planSagas } from '../../scripts/chaos/plan';

/**
 * A small consistent world, by hand: one approved order (2 × KB-001 at 89.00, paid by alice), one order rejected at
 * the pivot (1 × MN-003 for broke: reserved, released, shipment cancelled, no payment), one cancelled before it
 * reserved anything (only tombstones).
 */
function world(): InvariantInput {
  const empty = { orders: [], reservations: [], reservationLines: [], payments: [], shipments: [], deadLetters: [] };
  const noKeys = { orders: [], inventory: [], payments: [], shipping: [] };
  const initial: DbSnapshot = {
    ...empty,
    products: [
      { sku: 'KB-001', available: 100, held: 0, sold: 0 },
      { sku: 'MN-003', available: 25, held: 0, sold: 0 },
    ],
    customers: [
      { id: 'cust-alice', balance_cents: 500_000, credit_limit_cents: 0 },
      { id: 'cust-broke', balance_cents: 500, credit_limit_cents: 0 },
    ],
    idempotency: noKeys,
  };
  const key = (order: string, activity: string) => ({
    key: `${order}:${activity}`,
    operation: activity,
    status_code: 200,
  });
  const final: DbSnapshot = {
    orders: [
      { id: 'o-ok', customer_id: 'cust-alice', status: 'APPROVED' },
      { id: 'o-rej', customer_id: 'cust-broke', status: 'REJECTED' },
      { id: 'o-can', customer_id: null, status: 'CANCELLED' },
    ],
    products: [
      { sku: 'KB-001', available: 98, held: 0, sold: 2 },
      { sku: 'MN-003', available: 25, held: 0, sold: 0 },
    ],
    reservations: [
      { order_id: 'o-ok', status: 'CONFIRMED', total_cents: 17_800 },
      { order_id: 'o-rej', status: 'RELEASED', total_cents: 24_900 },
      { order_id: 'o-can', status: 'RELEASED', total_cents: 0 },
    ],
    reservationLines: [
      { order_id: 'o-ok', sku: 'KB-001', quantity: 2 },
      { order_id: 'o-rej', sku: 'MN-003', quantity: 1 },
    ],
    customers: [
      { id: 'cust-alice', balance_cents: 500_000 - 17_800, credit_limit_cents: 0 },
      { id: 'cust-broke', balance_cents: 500, credit_limit_cents: 0 },
    ],
    payments: [{ order_id: 'o-ok', customer_id: 'cust-alice', amount_cents: 17_800, status: 'CHARGED' }],
    shipments: [
      { order_id: 'o-ok', status: 'CONFIRMED', tracking_number: 'TRK-1', country: 'DE' },
      { order_id: 'o-rej', status: 'CANCELLED', tracking_number: null, country: 'FR' },
      { order_id: 'o-can', status: 'CANCELLED', tracking_number: null, country: null },
    ],
    idempotency: {
      orders: [
        key('o-ok', 'createOrder'),
        key('o-ok', 'approveOrder'),
        key('o-rej', 'createOrder'),
        key('o-rej', 'rejectOrder'),
        key('o-can', 'cancelOrder'),
      ],
      inventory: [
        key('o-ok', 'reserveInventory'),
        key('o-ok', 'confirmReservation'),
        key('o-rej', 'reserveInventory'),
        key('o-rej', 'releaseInventory'),
        key('o-can', 'releaseInventory'),
      ],
      payments: [key('o-ok', 'chargePayment')],
      shipping: [
        key('o-ok', 'scheduleShipment'),
        key('o-ok', 'confirmShipment'),
        key('o-rej', 'scheduleShipment'),
        key('o-rej', 'cancelShipment'),
        key('o-can', 'cancelShipment'),
      ],
    },
    deadLetters: [],
  };
  return {
    sagas: [
      { orderId: 'o-ok', customerId: 'cust-alice', outcome: 'APPROVED' },
      { orderId: 'o-rej', customerId: 'cust-broke', outcome: 'REJECTED', detail: 'charge-payment: insufficient funds' },
      { orderId: 'o-can', customerId: 'cust-alice', outcome: 'CANCELLED' },
    ],
    initial,
    final,
    listedDeadLetters: [],
  };
}

const failing = (results: CheckResult[]) => results.filter((r) => r.violations.length).map((r) => r.id);
const violationText = (results: CheckResult[]) => results.flatMap((r) => r.violations).join('\n');

describe('chaos invariant checker (hand-made rows)', () => {
  it('passes a consistent world', () => {
    const results = checkInvariants(world());
    assert.equal(countViolations(results), 0, violationText(results));
    assert.deepEqual(
      results.map((r) => r.id),
      [1, 2, 3, 4, 5],
    );
  });

  it('detects a double charge: a second payment row and the balance taken twice', () => {
    const w = world();
    w.final.payments.push({ order_id: 'o-ok', customer_id: 'cust-alice', amount_cents: 17_800, status: 'CHARGED' });
    w.final.customers[0].balance_cents -= 17_800;
    const results = checkInvariants(w);
    assert.deepEqual(failing(results), [4], violationText(results));
    assert.match(violationText(results), /order o-ok: 2 payment rows/);

    // The same charge applied twice under one key leaves one row but the balance lower: money is not conserved.
    const w2 = world();
    w2.final.customers[0].balance_cents -= 17_800;
    const r2 = checkInvariants(w2);
    assert.deepEqual(failing(r2), [3], violationText(r2));
    assert.match(violationText(r2), /cust-alice: initial balance 500000 ≠ balance 464400 \+ charged 17800/);
  });

  it('detects a leaked reservation on a rejected order', () => {
    const w = world();
    w.final.reservations[1].status = 'PENDING';
    w.final.products[1] = { sku: 'MN-003', available: 24, held: 1, sold: 0 };
    const results = checkInvariants(w);
    assert.ok(failing(results).includes(5), violationText(results));
    assert.match(violationText(results), /rejected order o-rej: live reservation \(PENDING\)/);
  });

  it('detects stock that appears from nowhere or is held without a reservation', () => {
    const w = world();
    w.final.products[0].available += 1;
    const r1 = checkInvariants(w);
    assert.deepEqual(failing(r1), [2], violationText(r1));
    assert.match(violationText(r1), /KB-001: initial 100 ≠ available 99 \+ held 0 \+ sold 2/);

    const w2 = world();
    w2.final.products[1] = { sku: 'MN-003', available: 24, held: 1, sold: 0 }; // conserved, but no PENDING reservation holds it
    assert.match(violationText(checkInvariants(w2)), /MN-003: held 1 ≠ 0 unit\(s\) in PENDING reservations/);
  });

  it('detects a live charge or shipment on a cancelled order, and an approved order never shipped', () => {
    const w = world();
    w.final.payments.push({ order_id: 'o-can', customer_id: 'cust-alice', amount_cents: 100, status: 'CHARGED' });
    w.final.customers[0].balance_cents -= 100;
    w.final.idempotency.payments.push({ key: 'o-can:chargePayment', operation: 'charge', status_code: 201 });
    w.final.shipments[0].status = 'PENDING';
    const results = checkInvariants(w);
    assert.deepEqual(failing(results), [5], violationText(results));
    assert.match(violationText(results), /cancelled order o-can: live charge of 100/);
    assert.match(violationText(results), /approved order o-ok: shipment is PENDING, not CONFIRMED/);
  });

  it('detects an effect that bypassed the idempotency layer, and a key recorded twice', () => {
    const w = world();
    w.final.idempotency.shipping = w.final.idempotency.shipping.filter((k) => k.key !== 'o-ok:confirmShipment');
    w.final.idempotency.inventory.push({ key: 'o-ok:reserveInventory', operation: 'reserve', status_code: 201 });
    const results = checkInvariants(w);
    assert.deepEqual(failing(results), [4], violationText(results));
    assert.match(violationText(results), /shipping has no record of key o-ok:confirmShipment/);
    assert.match(violationText(results), /inventory: idempotency key o-ok:reserveInventory recorded 2 times/);
  });

  it('counts a NEEDS_ATTENTION saga as dead-lettered only with an OPEN dead letter that the CLI lists; anything else is not terminal', () => {
    const w = world();
    w.sagas.push({ orderId: 'o-stuck', customerId: 'cust-alice', outcome: 'NEEDS_ATTENTION' });
    w.sagas.push({
      orderId: 'o-failed',
      customerId: 'cust-alice',
      outcome: 'FAILED',
      detail: 'SagaCompensationFailed',
    });
    w.final.deadLetters.push({ saga_id: 'o-stuck', step: 'release-inventory', status: 'RESOLVED' });
    const r1 = checkInvariants(w);
    assert.deepEqual(failing(r1), [1]);
    assert.match(violationText(r1), /o-stuck did not reach a terminal state: NEEDS_ATTENTION but no OPEN dead letter/);
    assert.match(violationText(r1), /o-failed did not reach a terminal state: FAILED/);

    w.final.deadLetters.push({ saga_id: 'o-stuck', step: 'release-inventory', status: 'OPEN' });
    assert.match(
      violationText(checkInvariants(w)),
      /o-stuck did not reach a terminal state: .*not listed/,
      'an OPEN row the operator cannot see is not enough',
    );
    w.listedDeadLetters.push('o-stuck');
    const r2 = checkInvariants(w);
    assert.equal(r2[0].figures['dead-lettered'], 1);
    assert.equal(r2[0].violations.length, 1); // only o-failed
  });

  it('detects rows no saga of the run accounts for, and an outcome the orders service disagrees with', () => {
    const w = world();
    w.final.shipments.push({ order_id: 'o-ghost', status: 'PENDING', tracking_number: null, country: 'DE' });
    w.final.idempotency.shipping.push({ key: 'o-ghost:scheduleShipment', operation: 'schedule', status_code: 201 });
    w.final.orders[1].status = 'CANCELLED';
    w.final.idempotency.orders.push({ key: 'o-rej:cancelOrder', operation: 'cancel', status_code: 200 });
    const results = checkInvariants(w);
    assert.deepEqual(failing(results), [5], violationText(results));
    assert.match(violationText(results), /shipment for o-ghost: no saga of this run made it/);
    assert.match(violationText(results), /rejected order o-rej: order is CANCELLED, not REJECTED/);
  });

  it('accepts a rejected saga without an order only when create-order wrote nothing anywhere', () => {
    const w = world();
    w.sagas.push({
      orderId: 'o-refused',
      customerId: 'cust-alice',
      outcome: 'REJECTED',
      detail: 'create-order: rejected by fault injection',
    });
    assert.equal(countViolations(checkInvariants(w)), 0);
    w.final.shipments.push({ order_id: 'o-refused', status: 'CANCELLED', tracking_number: null, country: null });
    w.final.idempotency.shipping.push({ key: 'o-refused:cancelShipment', operation: 'cancel', status_code: 200 });
    const results = checkInvariants(w);
    assert.deepEqual(failing(results), [5], violationText(results));
    assert.match(violationText(results), /rejected order o-refused: no order, yet other services hold rows for it/);
  });
});

describe('chaos plan', () => {
  it('is reproducible from its seed and spreads the kills over the run', () => {
    const plan = (seed: number) => planSagas({ seed, sagas: 50, cancelRatio: 0.1, idPrefix: 'x', options: undefined });
    assert.deepEqual(plan(7), plan(7));
    assert.notDeepEqual(plan(7), plan(8));
    const points = killPoints(7, 100, 4);
    assert.equal(points.length, 4);
    for (const [i, p] of points.entries()) assert.ok(p >= 5 + 20 * i && p <= 5 + 20 * (i + 1), `kill ${i} at ${p}`);
  });
});
