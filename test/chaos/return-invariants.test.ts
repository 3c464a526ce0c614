import assert from 'node:assert/strict';
import { checkReturn, type ReturnRows, type ReturnSagaOutcome } from '../../scripts/chaos/return-invariants';

/**
 * The return saga's invariants on hand-made rows: they hold for a consistent world and fail for each kind of broken
 * one (a checker that cannot fail proves nothing).
 */
const saga = (outcome: ReturnSagaOutcome['outcome']): ReturnSagaOutcome => ({
  returnId: 'ret-1',
  orderId: 'o-1',
  outcome,
});
const key = (service: string, activity: string, status_code = 200) => ({
  service,
  key: `ret-1:${activity}`,
  status_code,
});

/** A return done everywhere: 2 × KB-001 (178.00) paid by alice, returned, refunded and restocked. */
function returned(): ReturnRows {
  return {
    order: { id: 'o-1', status: 'RETURNED', return_id: 'ret-1' },
    returns: [{ id: 'ret-1', order_id: 'o-1', status: 'COMPLETED' }],
    reservation: { order_id: 'o-1', status: 'RETURNED', return_id: 'ret-1' },
    shipment: { order_id: 'o-1', status: 'DELIVERED', return_id: 'ret-1' },
    pickups: [{ return_id: 'ret-1', order_id: 'o-1', status: 'BOOKED' }],
    payment: { order_id: 'o-1', customer_id: 'cust-alice', amount_cents: 17_800, status: 'REFUNDED' },
    refunds: [
      { return_id: 'ret-1', order_id: 'o-1', customer_id: 'cust-alice', amount_cents: 17_800, status: 'REFUNDED' },
    ],
    idempotency: [
      key('orders', 'requestReturn', 201),
      key('shipping', 'bookReturnPickup', 201),
      key('payments', 'refundReturn', 201),
      key('inventory', 'restockItems'),
      key('orders', 'completeReturn'),
    ],
    openDeadLetters: [],
  };
}

/** A return rejected at the pivot: the return and its pickup cancelled, the locks released, no money moved. */
function rejected(): ReturnRows {
  return {
    order: { id: 'o-1', status: 'APPROVED', return_id: null },
    returns: [{ id: 'ret-1', order_id: 'o-1', status: 'CANCELLED' }],
    reservation: { order_id: 'o-1', status: 'CONFIRMED', return_id: null },
    shipment: { order_id: 'o-1', status: 'DELIVERED', return_id: null },
    pickups: [{ return_id: 'ret-1', order_id: 'o-1', status: 'CANCELLED' }],
    payment: { order_id: 'o-1', customer_id: 'cust-alice', amount_cents: 17_800, status: 'CHARGED' },
    refunds: [],
    idempotency: [
      key('orders', 'requestReturn', 201),
      key('shipping', 'bookReturnPickup', 201),
      key('shipping', 'cancelReturnPickup'),
      key('orders', 'cancelReturn'),
    ],
    openDeadLetters: [],
  };
}

function assertViolation(outcome: ReturnSagaOutcome['outcome'], rows: ReturnRows, pattern: RegExp): void {
  const violations = checkReturn(saga(outcome), rows);
  assert.ok(
    violations.some((v) => pattern.test(v)),
    `expected a violation matching ${pattern}, got ${JSON.stringify(violations)}`,
  );
}

describe("chaos: the return saga's invariants (pure, per saga)", () => {
  it('hold for a consistent RETURNED, REJECTED, CANCELLED (only tombstones) and dead-lettered saga', () => {
    assert.deepEqual(checkReturn(saga('RETURNED'), returned()), []);
    assert.deepEqual(checkReturn(saga('REJECTED'), rejected()), []);
    const tombstones: ReturnRows = {
      ...rejected(),
      returns: [{ id: 'ret-1', order_id: null, status: 'CANCELLED' }],
      pickups: [],
      idempotency: [key('orders', 'cancelReturn')],
    };
    assert.deepEqual(checkReturn(saga('CANCELLED'), tombstones), []);
    assert.deepEqual(
      checkReturn(saga('NEEDS_ATTENTION'), { ...rejected(), openDeadLetters: ['cancel-return-pickup'] }),
      [],
    );
    const voided: ReturnRows = {
      ...rejected(),
      refunds: [{ return_id: 'ret-1', order_id: null, customer_id: null, amount_cents: 0, status: 'VOIDED' }],
    };
    assert.deepEqual(
      checkReturn(saga('REJECTED'), voided),
      [],
      "a voided refund (the pivot's outcome was unknown) is fine",
    );
  });

  it('fail for a RETURNED saga that left any service behind', () => {
    const r = returned;
    assertViolation(
      'RETURNED',
      { ...r(), order: { id: 'o-1', status: 'APPROVED', return_id: 'ret-1' } },
      /order is APPROVED .*not RETURNED/,
    );
    assertViolation(
      'RETURNED',
      { ...r(), returns: [{ id: 'ret-1', order_id: 'o-1', status: 'REQUESTED' }] },
      /return is REQUESTED, not COMPLETED/,
    );
    assertViolation('RETURNED', { ...r(), pickups: [] }, /pickup is missing/);
    assertViolation(
      'RETURNED',
      { ...r(), reservation: { order_id: 'o-1', status: 'CONFIRMED', return_id: null } },
      /not restocked by this return/,
    );
    assertViolation(
      'RETURNED',
      { ...r(), payment: { ...r().payment!, status: 'CHARGED' } },
      /payment is CHARGED, not REFUNDED/,
    );
    assertViolation(
      'RETURNED',
      { ...r(), refunds: [{ ...r().refunds[0], amount_cents: 8900 }] },
      /refund of 8900 .* ≠ the payment/,
    );
    assertViolation(
      'RETURNED',
      { ...r(), shipment: { order_id: 'o-1', status: 'DELIVERED', return_id: null } },
      /shipment .* not DELIVERED with this return's pickup/,
    );
  });

  it('fail for a compensated saga that still holds something', () => {
    const r = rejected;
    assertViolation(
      'REJECTED',
      { ...r(), order: { id: 'o-1', status: 'APPROVED', return_id: 'ret-1' } },
      /order still locked/,
    );
    assertViolation(
      'REJECTED',
      { ...r(), pickups: [{ return_id: 'ret-1', order_id: 'o-1', status: 'BOOKED' }] },
      /pickup is BOOKED, not CANCELLED/,
    );
    assertViolation(
      'CANCELLED',
      { ...r(), shipment: { order_id: 'o-1', status: 'DELIVERED', return_id: 'ret-1' } },
      /shipment still locked/,
    );
    assertViolation(
      'REJECTED',
      {
        ...r(),
        refunds: [
          { return_id: 'ret-1', order_id: 'o-1', customer_id: 'cust-alice', amount_cents: 17_800, status: 'REFUNDED' },
        ],
      },
      /refund is REFUNDED, not VOIDED/,
    );
    assertViolation(
      'REJECTED',
      {
        ...r(),
        payment: { ...r().payment!, status: 'REFUNDED' },
        refunds: [
          { return_id: 'ret-1', order_id: 'o-1', customer_id: 'cust-alice', amount_cents: 17_800, status: 'VOIDED' },
        ],
      },
      /payment REFUNDED, yet its only refund .* is VOIDED/,
    );
    assertViolation(
      'CANCELLED',
      { ...r(), returns: [{ id: 'ret-1', order_id: 'o-1', status: 'REQUESTED' }] },
      /return is REQUESTED, not CANCELLED/,
    );
    assertViolation(
      'REJECTED',
      { ...r(), reservation: { order_id: 'o-1', status: 'RETURNED', return_id: 'ret-1' } },
      /restocked by this return/,
    );
  });

  it('fail for duplicate rows, a failed request stored under a key, a saga not terminal, an operator wait without a dead letter', () => {
    assertViolation(
      'RETURNED',
      { ...returned(), refunds: [...returned().refunds, ...returned().refunds] },
      /2 refund rows/,
    );
    assertViolation(
      'RETURNED',
      { ...returned(), idempotency: [...returned().idempotency, key('payments', 'refundReturn', 201)] },
      /recorded twice in payments/,
    );
    assertViolation(
      'RETURNED',
      { ...returned(), idempotency: [key('orders', 'requestReturn', 500)] },
      /stored status 500/,
    );
    assertViolation('FAILED', returned(), /did not reach a terminal state/);
    assertViolation('NEEDS_ATTENTION', rejected(), /no dead letter is OPEN/);
  });
});
