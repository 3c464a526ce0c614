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
 * Modules evaluated once per workflow thread and shared by every cached saga (zod, stateless), instead of once per
 * saga: most of a parked saga's memory otherwise (see shared-modules.ts).
 */
const PRELOAD_MODULES = ['zod', require.resolve('../workflow/shared-modules')];

/**
 * One zod in the bundle, the one preloaded: the kit (CommonJS) requires zod's CommonJS build and sagas written as ES
 * modules import its ES build, so without this alias the bundle holds both and each saga still evaluates one.
 */
const ZOD = require.resolve('zod');
type Configuration = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
function oneZod(config: Configuration): Configuration {
  return { ...config, resolve: { ...config.resolve, alias: { ...aliases(config), zod$: ZOD } } };
}
const aliases = (config: Configuration) => {
  const alias = config.resolve?.alias;
  return alias && !Array.isArray(alias) ? alias : {};
};

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
  /**
   * The memory (MB) the worker may spend on cached sagas: `maxCachedWorkflows` is what fits, at
   * about half a megabyte each (measured, see CACHED_SAGA_MB in the source). The cache evicts the least recently used saga first, so sagas parked for an operator
   * for hours leave it as others run, and one replays its history when it has work again (the decision). Default: the
   * SDK's own sizing, from the heap limit (about 2,300 sagas with a 4 GB heap: gigabytes of resident memory).
   */
  cacheMemoryMb?: number;
}

/**
 * What one cached saga costs a worker's resident memory, measured with the order saga (`npm run bench -- --parked`,
 * docs/performance.md): its workflow's objects in the V8 context and what the SDK's core keeps of the run.
 */
const CACHED_SAGA_MB = 0.5;

/**
 * One call that gives `Worker.create` what the kit needs: `Worker.create({ connection, taskQueue,
 * ...sagaWorkerOptions({ workflowsPath, activities, deadLetters }) })`. It returns the workflows (path or bundle),
 * the activities with the kit's own added (dead letters, the recovery sweep's), and the kit's interceptors (with a prebuilt bundle,
 * the workflow interceptors are already in it).
 */
export function sagaWorkerOptions(
  config: SagaWorkerConfig,
): Pick<
  WorkerOptions,
  'workflowsPath' | 'workflowBundle' | 'activities' | 'interceptors' | 'bundlerOptions' | 'maxCachedWorkflows'
> {
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
    ...(config.workflowsPath !== undefined && {
      bundlerOptions: { preloadModules: PRELOAD_MODULES, webpackConfigHook: oneZod },
    }),
    ...(config.cacheMemoryMb !== undefined && { maxCachedWorkflows: cachedSagasFor(config.cacheMemoryMb) }),
  };
}

/** How many sagas fit in `memoryMb` of cache (at least 2, the SDK's minimum for a cache). */
function cachedSagasFor(memoryMb: number): number {
  if (!(memoryMb > 0))
    throw new Error(`sagaWorkerOptions: cacheMemoryMb must be a positive number of MB, got ${memoryMb}`);
  return Math.max(2, Math.floor(memoryMb / CACHED_SAGA_MB));
}

/**
 * Bundles a workflows module with the kit's workflow interceptors, for `sagaWorkerOptions({ workflowBundle })`:
 * bundle once (seconds), start many workers. `interceptorModules` come after the kit's; `logger` is the
 * bundler's (default: the SDK's); `failureConverterPath` is your data converter's (a prebuilt bundle carries the
 * failure converter its workflows fail with: give the one the worker's `dataConverter` names).
 */
export function bundleSagaWorkflows(options: {
  workflowsPath: string;
  interceptorModules?: string[];
  logger?: BundleOptions['logger'];
  failureConverterPath?: string;
}): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES, ...(options.interceptorModules ?? [])],
    preloadModules: PRELOAD_MODULES,
    webpackConfigHook: oneZod,
    ...(options.logger && { logger: options.logger }),
    ...(options.failureConverterPath && { failureConverterPath: options.failureConverterPath }),
  });
}
