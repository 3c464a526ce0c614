/**
 * Chaos child process: one saga worker, built as worker.ts builds it (createSagaWorker: createSagaActivities over a
 * ServiceClient, the bundled ./workflows), with the bundle the parent built once. The parent SIGKILLs this process
 * at random moments and starts a new one; nothing here may assume a graceful end.
 *   → { type: 'ready' }       ← { type: 'stop' } (graceful, at the end of the run)
 * CHAOS_WORKER_CONFIG (JSON): ChaosWorkerConfig.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createSagaActivities, ServiceClient } from '../../activities';
import type { ServiceName } from '../../services/catalog';
import { createSagaWorker } from '../../worker';
import { silentSdkLogger as quiet } from '../../infra/telemetry/worker-runtime';

/**
 * A test module's replacements for some of the saga activities (the explorer's broken-activity fixtures), made over
 * the worker's service client. A harness option of this child only: the production worker has no such setting.
 */
export type ActivityOverrides = (
  serviceClient: ServiceClient,
) => Record<string, (...args: never[]) => Promise<unknown>>;

export interface ChaosWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  urls: Record<ServiceName, string>;
  authToken: string;
  requestTimeoutMs: number;
  workflowBundlePath: string;
  /**
   * How long a workflow task waits on a (dead) worker's sticky queue before the server offers it to any worker.
   * The SDK default (10 s) would stall every cached saga for that long after each kill.
   */
  stickyQueueScheduleToStartTimeout: string;
  /** A module exporting `activityOverrides: ActivityOverrides` (test fixtures only); default: the saga activities. */
  activityOverridesModule?: string;
}

async function main() {
  const config = JSON.parse(process.env.CHAOS_WORKER_CONFIG!) as ChaosWorkerConfig;
  Runtime.install({
    logger: quiet as never,
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const connection = await NativeConnection.connect({ address: config.address });
  const activityConfig = { urls: config.urls, requestTimeoutMs: config.requestTimeoutMs, authToken: config.authToken };
  const overridesClient = config.activityOverridesModule ? new ServiceClient(activityConfig) : undefined;
  const overridden = overridesClient && {
    activities: {
      ...createSagaActivities(overridesClient),
      ...(
        (await import(config.activityOverridesModule!)) as { activityOverrides: ActivityOverrides }
      ).activityOverrides(overridesClient),
    },
  };
  const { worker, close } = await createSagaWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: activityConfig,
    worker: {
      workflowBundle: { codePath: config.workflowBundlePath },
      stickyQueueScheduleToStartTimeout: config.stickyQueueScheduleToStartTimeout,
      ...overridden,
    },
  });
  const running = worker.run();
  const stop = async () => {
    worker.shutdown();
    await running.catch(() => undefined);
    await close();
    await overridesClient?.close();
    await connection.close();
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop());
  process.on('disconnect', () => void stop());
  process.send!({ type: 'ready' });
  await running;
}

main().catch((err) => {
  console.error(`chaos worker process failed: ${(err as Error).stack}`);
  process.exit(1);
});
