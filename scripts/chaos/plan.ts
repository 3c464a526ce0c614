/**
 * What each saga of a chaos run does, drawn from a seeded PRNG: the same seed gives the same sagas, the same faults
 * and the same kill points, so a failing run can be replayed with `--seed`. Pure: no I/O.
 */
import type { SagaRequest } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import type { SagaDefinition, SagaRunOptions } from 'temporal-saga-kit/workflow';
import type { FaultPlan } from 'temporal-saga-kit/client';
import type { ActionName } from '../../workflows/saga-types';

/** mulberry32: small, fast, good enough to pick test cases; not for anything secret. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = () => number;
export const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
function weighted<T>(rng: Rng, entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [v, w] of entries) if ((r -= w) < 0) return v;
  return entries[entries.length - 1][0];
}

/**
 * Customers of the payments seed (services/payments/seed.ts). cust-broke (5.00) cannot pay for anything; cust-nobody
 * does not exist (unknown customer, 404 at the charge). Both end in a business rejection at the pivot.
 */
const CUSTOMERS = [
  ['cust-alice', 45],
  ['cust-bob', 15],
  ['cust-carol', 15],
  ['cust-broke', 12],
  ['cust-nobody', 3],
] as const;
/** Inventory seed SKUs; MN-003 (25) runs out during a long run. */
const SKUS = ['KB-001', 'MS-002', 'MN-003', 'CB-004'] as const;
/** One in stock: the first order that asks gets it, every later one is refused (insufficient stock). */
const SCARCE_SKU = 'LT-005';
/** Does not exist: 404 at reserve-inventory. */
const UNKNOWN_SKU = 'ZZ-999';
const COUNTRIES = ['US', 'CA', 'GB', 'IE', 'FR', 'DE', 'NL', 'BE', 'ES', 'IT', 'SE', 'JP', 'AU'] as const;
/** Not in the shipping service's areas: undeliverable, a business rejection at schedule-shipment. */
const UNSUPPORTED_COUNTRIES = ['AQ', 'KP'] as const;

export type FaultKind = 'transient' | 'lost-response' | 'delay' | 'reject';
export const FAULT_KINDS: readonly FaultKind[] = ['transient', 'lost-response', 'delay', 'reject'];

export type OrderRequest = SagaRequest<typeof orderSaga>;

export interface SagaPlan {
  input: OrderRequest;
  /** Milliseconds after its start at which the client cancels the saga, if it does. */
  cancelAfterMs?: number;
  /** When its run is terminated (Temporal's terminate), if it is: as soon as this action has this status. */
  terminateAt?: TerminateAt;
}

/** A moment in a saga: an action (step or compensation) running, or just completed. */
export interface TerminateAt {
  action: string;
  status: 'RUNNING' | 'COMPLETED';
}

export interface PlanOptions {
  seed: number;
  sagas: number;
  cancelRatio: number;
  /** How many of the sagas are terminated at a random moment (0: none). */
  terminate?: number;
  /** Prefix of the order ids, unique per run (Temporal refuses a second workflow with the same id). */
  idPrefix: string;
  options: SagaRunOptions | undefined;
}

export function planSagas(o: PlanOptions): SagaPlan[] {
  const rng = prng(o.seed);
  const plans = Array.from({ length: o.sagas }, (_, i) =>
    planOne(rng, `${o.idPrefix}-${String(i).padStart(4, '0')}`, o),
  );
  for (const [i, at] of planTerminations(o.seed, o.sagas, o.terminate ?? 0)) plans[i].terminateAt = at;
  return plans;
}

/**
 * Which sagas are terminated, and when: `n` of them drawn from their own generator (so that a seed's sagas and faults
 * stay the same with or without terminations), each at a random action of the order saga (a step, before, at or after
 * the pivot, or a compensation) while it runs or just after it completed. A saga that never reaches that moment (it
 * was rejected earlier, or never compensates) is not terminated.
 */
export function planTerminations(seed: number, sagas: number, n: number): Map<number, TerminateAt> {
  const rng = prng(seed ^ 0x7f4a7c15);
  const chosen = shuffle(
    rng,
    Array.from({ length: sagas }, (_, i) => i),
  ).slice(0, Math.min(n, sagas));
  // The compensations a rejected order runs (each step's default one): the alternatives (cancel-order on a
  // cancellation, refund-payment on a charge left unknown) are rarely reached, and a moment never reached terminates
  // nothing.
  const compensations = orderSaga.meta.steps.flatMap((s) => s.compensations.slice(-1));
  const actions = [...orderSaga.meta.stepNames, ...compensations];
  return new Map(
    chosen.map((i) => [i, { action: pick(rng, actions), status: rng() < 0.5 ? 'RUNNING' : 'COMPLETED' }] as const),
  );
}

function planOne(rng: Rng, orderId: string, o: PlanOptions): SagaPlan {
  const customerId = weighted(rng, CUSTOMERS);
  const skus = shuffle(rng, SKUS).slice(0, int(rng, 1, 3));
  const items: { sku: string; quantity: number }[] = skus.map((sku) => ({ sku, quantity: int(rng, 1, 3) }));
  if (rng() < 0.05) items.push({ sku: SCARCE_SKU, quantity: 1 });
  if (rng() < 0.04) items.push({ sku: UNKNOWN_SKU, quantity: 1 });
  const country = rng() < 0.08 ? pick(rng, UNSUPPORTED_COUNTRIES) : pick(rng, COUNTRIES);
  const destination = {
    recipient: `Chaos ${orderId}`,
    line1: '1 Test Street',
    city: 'Testville',
    postalCode: '12345',
    country,
  };

  const faults = planFaults(rng, orderSaga);
  const cancelAfterMs = rng() < o.cancelRatio ? int(rng, 0, 1500) : undefined;
  return {
    input: {
      orderId,
      customerId,
      items,
      destination,
      ...(Object.keys(faults).length ? { faults } : {}),
      ...(o.options ? { options: o.options } : {}),
    },
    cancelAfterMs,
  };
}

/**
 * A random fault plan for one run of any saga, from its metadata: delays, transient failures and lost responses on any
 * action; now and then a refusal of one step up to the pivot, or of one compensation for good.
 */
export function planFaults<S extends SagaDefinition>(rng: Rng, saga: S): FaultPlan<ActionName<S>> {
  const { steps, stepNames, compensationNames } = saga.meta;
  // `reject` only on steps up to the pivot: a 422 after it would fail a step that must succeed, which the saga (by
  // design) surfaces as a failed workflow for an operator, not as a business outcome.
  const rejectable = steps.filter((s) => s.kind !== 'retriable').map((s) => s.name);
  // Compensations that can be made to fail for good: the ones a rejected saga usually runs, i.e. each compensatable
  // step's default compensation (its last alternative: cancel-order needs a cancellation, refund-payment and
  // void-refund an unknown pivot outcome, so they rarely run).
  const breakable = steps
    .filter((s) => s.kind === 'compensatable')
    .map((s) => s.compensations[s.compensations.length - 1]);
  const faults: Record<string, string> = {};
  for (const action of [...stepNames, ...compensationNames]) {
    const compensation = (compensationNames as readonly string[]).includes(action);
    const parts: string[] = [];
    if (rng() < 0.1) parts.push(`delay:${int(rng, 50, 800)}`);
    if (rng() < (compensation ? 0.25 : 0.15)) parts.push(`transient:${int(rng, 1, 3)}`);
    if (rng() < 0.07) parts.push('lost-response:1');
    if (parts.length) faults[action] = parts.join(',');
  }
  if (rng() < 0.05) {
    const step = pick(rng, rejectable);
    faults[step] = faults[step] ? `${faults[step]},reject` : 'reject';
  }
  // A compensation that can never succeed (if it runs at all): the saga must dead-letter it and wait, listed.
  if (rng() < 0.06) {
    const compensation = pick(rng, breakable);
    faults[compensation] = faults[compensation] ? `${faults[compensation]},reject` : 'reject';
  }
  return faults as FaultPlan<ActionName<S>>;
}

/** The fault kinds of one spec, e.g. "delay:300,transient:2" → delay, transient. */
export function faultKinds(spec: string): FaultKind[] {
  return spec.split(',').map((p) => p.split(':')[0] as FaultKind);
}

/**
 * When to kill the worker: after this many sagas have ended, one point drawn in each of `kills` equal slices of
 * [5 %, 85 %] of the run, so kills are spread over it and always happen while sagas are still in flight.
 */
export function killPoints(seed: number, sagas: number, kills: number): number[] {
  const rng = prng(seed ^ 0x9e3779b9);
  return Array.from({ length: kills }, (_, i) => Math.floor(sagas * (0.05 + (0.8 * (i + rng())) / kills)));
}
