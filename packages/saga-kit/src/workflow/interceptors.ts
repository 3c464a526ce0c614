import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type {
  ActivityInput,
  LocalActivityInput,
  Next,
  WorkflowInterceptors,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { currentAction } from './action-scope';
import { keyRoot } from './key-root';
import { ACTION_HEADER, FAULT_HEADER, FAULT_PLAN_HEADER, RUN_HEADER, type FaultPlan } from './headers';

/**
 * The kit's workflow interceptors (register this module with the worker's `interceptors.workflowModules`, and with
 * bundleWorkflowCode's `workflowInterceptorModules`): the fault plan the client put in the workflow start's headers
 * is kept per workflow, and every activity is scheduled with the saga's run chain (its idempotency keys' root), its
 * action's name and, if planned, its fault.
 * Headers are not compared on replay: histories recorded before this existed replay unchanged.
 */
export const interceptors = (): WorkflowInterceptors => {
  let plan: FaultPlan = {};
  const withSagaHeaders = (headers: Headers): Headers => {
    const chain = { ...headers, [RUN_HEADER]: defaultPayloadConverter.toPayload(keyRoot()) };
    const action = currentAction();
    if (action === undefined) return chain;
    const fault = plan[action];
    return {
      ...chain,
      [ACTION_HEADER]: defaultPayloadConverter.toPayload(action),
      ...(fault !== undefined && { [FAULT_HEADER]: defaultPayloadConverter.toPayload(fault) }),
    };
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) =>
      next({ ...input, headers: withSagaHeaders(input.headers) }),
    scheduleLocalActivity: (
      input: LocalActivityInput,
      next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
    ) => next({ ...input, headers: withSagaHeaders(input.headers) }),
  };
  return {
    inbound: [
      {
        execute: (input, next) => {
          const header = input.headers[FAULT_PLAN_HEADER];
          if (header) plan = defaultPayloadConverter.fromPayload<FaultPlan>(header) ?? {};
          return next(input);
        },
      },
    ],
    outbound: [outbound],
  };
};
