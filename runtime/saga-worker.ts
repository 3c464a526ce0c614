import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sagaHeadersInterceptor } from '../activities/saga-headers';
import { silentSdkLogger } from './telemetry/worker-runtime';

/**
 * What every worker (and every workflow bundle) that runs sagas needs besides its workflows and activities: the
 * kit's interceptors, which carry a start's fault plan to the activity it targets (workflows/saga/headers.ts).
 */
export const SAGA_WORKFLOWS_PATH = require.resolve('../workflows');
export const SAGA_WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/saga/interceptors')];

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

/**
 * Bundles a workflows module (default: the sagas the worker registers) with the kit's workflow interceptors. The
 * bundler's own lines are dropped unless a logger is given (its errors still throw).
 */
export function bundleSagaWorkflows(
  /** interceptorModules: more workflow interceptors after the kit's (the explorer's, never a production bundle). */
  options: { workflowsPath?: string; logger?: unknown; interceptorModules?: string[] } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: options.workflowsPath ?? SAGA_WORKFLOWS_PATH,
    workflowInterceptorModules: [...SAGA_WORKFLOW_INTERCEPTOR_MODULES, ...(options.interceptorModules ?? [])],
    logger: (options.logger ?? silentSdkLogger) as never,
  });
}

/**
 * Bundles the workflows once (seconds) and writes the bundle into `dir`, for worker processes to load
 * (WorkerProcessConfig.workflowBundlePath): a new worker then starts in ~1 s.
 */
export async function writeSagaWorkflowBundle(
  dir: string,
  workflowsPath?: string,
  interceptorModules?: string[],
): Promise<string> {
  const bundle = await bundleSagaWorkflows({ workflowsPath, interceptorModules });
  const file = path.join(dir, 'workflow-bundle.js');
  await writeFile(file, bundle.code);
  return file;
}
