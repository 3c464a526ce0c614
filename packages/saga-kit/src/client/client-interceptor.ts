import { AsyncLocalStorage } from 'node:async_hooks';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { FAULT_PLAN_HEADER, type FaultPlan } from '../workflow/headers';

/**
 * The client side of fault injection: a workflow client interceptor that puts the fault plan of the start in
 * progress (withFaultPlan) into the workflow start's headers. Register it on every Client that starts sagas
 * (SagaClient.interceptors); without a plan it adds nothing. Client-only code: never imported by a workflow.
 */
const pending = new AsyncLocalStorage<FaultPlan>();

/** Runs `start` with this fault plan attached to the workflow it starts. */
export function withFaultPlan<T>(plan: FaultPlan | undefined, start: () => Promise<T>): Promise<T> {
  return plan && Object.keys(plan).length ? pending.run(plan, start) : start();
}

const faultPlanInterceptor: WorkflowClientInterceptor = {
  async startWithDetails(input, next) {
    const plan = pending.getStore();
    return next(
      plan
        ? { ...input, headers: { ...input.headers, [FAULT_PLAN_HEADER]: defaultPayloadConverter.toPayload(plan) } }
        : input,
    );
  },
};

/** `new Client({ connection, namespace, interceptors: SagaClient.interceptors })`. */
export const sagaClientInterceptors = { workflow: [faultPlanInterceptor] };

/** Whether a Temporal client carries the fault-plan interceptor (without it, a start's fault plan would be lost). */
export function hasFaultPlanInterceptor(interceptors: unknown): boolean {
  return Array.isArray(interceptors) && interceptors.includes(faultPlanInterceptor);
}
