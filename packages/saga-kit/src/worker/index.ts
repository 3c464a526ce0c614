/**
 * `temporal-saga-kit/worker`: what a `Worker.create` needs to run sagas besides your workflows and activities.
 *
 * @packageDocumentation
 */
import {
  bundleWorkflowCode,
  type BundleOptions,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { deadLetterActivities, type DeadLetterPort } from '../activity/dead-letters';
import { recoveryActivities } from '../activity/recovery';
import { sagaHeadersInterceptor } from '../activity/saga-headers';

/** The kit's workflow interceptors (the action tag and fault plan on every activity a saga schedules). */
const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflow/interceptors')];

/**
 * Options for {@link sagaWorkerOptions}: where the workflows are, the activities, and the dead-letter port.
 */
interface SagaWorkerConfig {
  /** The module that exports every saga's `workflow` under its `workflowType` (bundled at worker start)... */
  workflowsPath?: string;
  /** ...or a bundle made beforehand with {@link bundleSagaWorkflows} (a worker then starts in about a second). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Your sagas' activities. */
  activities?: object;
  /** Where dead letters are recorded outside Temporal; without one, the saga's state is the only record. */
  deadLetters?: DeadLetterPort;
}

/**
 * One call that gives `Worker.create` what the kit needs: `Worker.create({ connection, taskQueue,
 * ...sagaWorkerOptions({ workflowsPath, activities, deadLetters }) })`. It returns the workflows (path or bundle),
 * the activities with the kit's own added (dead letters, the recovery sweep's), and the kit's interceptors (with a prebuilt bundle,
 * the workflow interceptors are already in it).
 */
export function sagaWorkerOptions(
  config: SagaWorkerConfig,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'activities' | 'interceptors'> {
  if ((config.workflowsPath === undefined) === (config.workflowBundle === undefined))
    throw new Error('sagaWorkerOptions: give either workflowsPath or workflowBundle');
  return {
    ...(config.workflowsPath !== undefined
      ? { workflowsPath: config.workflowsPath }
      : { workflowBundle: config.workflowBundle }),
    activities: { ...config.activities, ...deadLetterActivities(config.deadLetters), ...recoveryActivities() },
    interceptors: {
      activity: [sagaHeadersInterceptor],
      ...(config.workflowsPath !== undefined && { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
    },
  };
}

/**
 * Bundles a workflows module with the kit's workflow interceptors, for `sagaWorkerOptions({ workflowBundle })`:
 * bundle once (seconds), start many workers. `interceptorModules` come after the kit's; `logger` is the
 * bundler's (default: the SDK's).
 */
export function bundleSagaWorkflows(options: {
  workflowsPath: string;
  interceptorModules?: string[];
  logger?: BundleOptions['logger'];
}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES, ...(options.interceptorModules ?? [])],
    ...(options.logger && { logger: options.logger }),
  });
}
