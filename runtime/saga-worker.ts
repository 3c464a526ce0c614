import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleSagaWorkflows as bundleWithKit } from 'temporal-saga-kit/worker';
import { FAILURE_CONVERTER_PATH } from './payload-codec';
import { silentSdkLogger } from './telemetry/worker-runtime';

/** The module the worker bundles: every saga this app registers (workflows/index.ts). */
export const SAGA_WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Bundles a workflows module (default: the sagas the worker registers) with the kit's workflow interceptors and the
 * app's failure converter (failure-converter.ts). The bundler's own lines are dropped unless a logger is given (its
 * errors still throw).
 */
export function bundleSagaWorkflows(
  /** interceptorModules: more workflow interceptors after the kit's (the explorer's, never a production bundle). */
  options: { workflowsPath?: string; logger?: unknown; interceptorModules?: string[] } = {},
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWithKit({
    workflowsPath: options.workflowsPath ?? SAGA_WORKFLOWS_PATH,
    interceptorModules: options.interceptorModules,
    logger: (options.logger ?? silentSdkLogger) as never,
    // Workflow failures encoded as the worker's data converter encodes activity failures (payloadDataConverter).
    failureConverterPath: FAILURE_CONVERTER_PATH,
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
