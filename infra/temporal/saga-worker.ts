import { bundleWorkflowCode, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sagaHeadersInterceptor } from '../../activities/saga-headers';

/**
 * What every worker (and every workflow bundle) that runs sagas needs besides its workflows and activities: the
 * kit's interceptors, which carry a start's fault plan to the activity it targets (workflows/saga/headers.ts).
 */
export const SAGA_WORKFLOWS_PATH = require.resolve('../../workflows');
export const SAGA_WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../../workflows/saga/interceptors')];

/**
 * The worker's interceptors. With a prebuilt bundle (bundleSagaWorkflows) the workflow interceptors are already in
 * it, and the worker would only warn that it ignores them.
 */
export function sagaWorkerInterceptors(options: {
  prebuiltBundle: boolean;
}): NonNullable<WorkerOptions['interceptors']> {
  return {
    activity: [sagaHeadersInterceptor],
    ...(!options.prebuiltBundle && { workflowModules: SAGA_WORKFLOW_INTERCEPTOR_MODULES }),
  };
}

/** Bundles a workflows module (default: the sagas the worker registers) with the kit's workflow interceptors. */
export function bundleSagaWorkflows(
  /** interceptorModules: more workflow interceptors after the kit's (the explorer's, never a production bundle). */
  options: { workflowsPath?: string; logger?: unknown; interceptorModules?: string[] } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? SAGA_WORKFLOWS_PATH,
    workflowInterceptorModules: [...SAGA_WORKFLOW_INTERCEPTOR_MODULES, ...(options.interceptorModules ?? [])],
    ...(options.logger ? { logger: options.logger as never } : {}),
  });
}
