/**
 * The return phase of a chaos run, drawn from a seeded PRNG like the orders (plan.ts): which approved orders are
 * returned, when their parcel was delivered (or not), and the faults and cancellations of each return saga. Pure.
 */
import type { SagaRequest } from '../../cli/saga-client';
import { returnSaga } from '../../workflows/return-saga';
import type { ActionName, FaultPlan, SagaRunOptions } from '../../workflows/saga';
import { prng, type Rng } from './plan';

const { steps: STEPS, stepNames: STEP_NAMES, compensationNames: COMPENSATION_NAMES } = returnSaga.meta;
/** `reject` only up to the pivot (after it a refusal fails a step that must succeed: an operator's case, not chaos). */
const REJECTABLE_STEPS = STEPS.filter((s) => s.kind !== 'retriable').map((s) => s.name);
/** The compensations a refused return runs (void-refund needs an unknown refund outcome, so it rarely runs). */
const BREAKABLE_COMPENSATIONS = STEPS.filter((s) => s.kind === 'compensatable').map((s) => s.compensations[0]);

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];

export interface ReturnPlan {
  input: SagaRequest<typeof returnSaga>;
  /** Days ago the carrier delivered the order (31+: the return window has passed), or undefined: not delivered. */
  deliveredDaysAgo?: number;
  cancelAfterMs?: number;
}

export function planReturns(o: { seed: number; approvedOrderIds: string[]; ratio: number; cancelRatio: number; options?: SagaRunOptions }): ReturnPlan[] {
  const rng = prng(o.seed ^ 0x2545f491);
  const plans: ReturnPlan[] = [];
  for (const orderId of o.approvedOrderIds) {
    if (rng() >= o.ratio) continue;
    const delivery = rng();
    const deliveredDaysAgo = delivery < 0.1 ? undefined : delivery < 0.2 ? int(rng, 31, 60) : int(rng, 0, 29);
    const faults: FaultPlan<ActionName<typeof returnSaga>> = {};
    for (const action of [...STEP_NAMES, ...COMPENSATION_NAMES]) {
      const parts: string[] = [];
      if (rng() < 0.1) parts.push(`delay:${int(rng, 50, 800)}`);
      if (rng() < 0.15) parts.push(`transient:${int(rng, 1, 3)}`);
      if (rng() < 0.1) parts.push('lost-response:1');
      if (parts.length) faults[action] = parts.join(',');
    }
    if (rng() < 0.05) {
      const step = pick(rng, REJECTABLE_STEPS);
      faults[step] = faults[step] ? `${faults[step]},reject` : 'reject';
    }
    if (rng() < 0.05) {
      const compensation = pick(rng, BREAKABLE_COMPENSATIONS);
      faults[compensation] = faults[compensation] ? `${faults[compensation]},reject` : 'reject';
    }
    plans.push({
      input: { returnId: `ret-${orderId}`, orderId, reason: 'chaos return', ...(Object.keys(faults).length ? { faults } : {}), ...(o.options ? { options: o.options } : {}) },
      deliveredDaysAgo,
      cancelAfterMs: rng() < o.cancelRatio ? int(rng, 0, 1500) : undefined,
    });
  }
  return plans;
}
