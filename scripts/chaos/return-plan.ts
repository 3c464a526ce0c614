/**
 * The return phase of a chaos run, drawn from a seeded PRNG like the orders (plan.ts): which approved orders are
 * returned, when their parcel was delivered (or not), and the faults and cancellations of each return saga. Pure.
 */
import type { SagaRequest } from '../../cli/saga-client';
import { returnSaga } from '../../workflows/return-saga';
import type { SagaRunOptions } from 'temporal-saga-kit/workflow';
import { int, planFaults, prng } from './plan';

export interface ReturnPlan {
  input: SagaRequest<typeof returnSaga>;
  /** Days ago the carrier delivered the order (31+: the return window has passed), or undefined: not delivered. */
  deliveredDaysAgo?: number;
  cancelAfterMs?: number;
}

export function planReturns(o: {
  seed: number;
  approvedOrderIds: string[];
  ratio: number;
  cancelRatio: number;
  options?: SagaRunOptions;
}): ReturnPlan[] {
  const rng = prng(o.seed ^ 0x2545f491);
  const plans: ReturnPlan[] = [];
  for (const orderId of o.approvedOrderIds) {
    if (rng() >= o.ratio) continue;
    const delivery = rng();
    const deliveredDaysAgo = delivery < 0.1 ? undefined : delivery < 0.2 ? int(rng, 31, 60) : int(rng, 0, 29);
    const faults = planFaults(rng, returnSaga);
    plans.push({
      input: {
        returnId: `ret-${orderId}`,
        orderId,
        reason: 'chaos return',
        ...(Object.keys(faults).length ? { faults } : {}),
        ...(o.options ? { options: o.options } : {}),
      },
      deliveredDaysAgo,
      cancelAfterMs: rng() < o.cancelRatio ? int(rng, 0, 1500) : undefined,
    });
  }
  return plans;
}
