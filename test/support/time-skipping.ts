import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createSagaActivities, ServiceClient, type SagaActivities } from '../../activities';
import { sagaWorkerInterceptors } from '../../runtime/saga-worker';
import type { ServiceName } from '../../services/catalog';
import type { InProcessService } from '../../infra/stack';
import { installQuietRuntime, startTestServices, workflowBundle } from './saga-stack';
import { startTimeSkippingServer } from '../../infra/temporal/time-skipping-server';

export { startTimeSkippingServer };
import { TEST_SERVICE_TOKEN } from './services';

/** One activity attempt as the worker saw it: which activity, which attempt, and when the server scheduled it. */
export interface ActivityAttempt {
  workflowId: string;
  type: string;
  attempt: number;
  /** The test server's clock (skipped time) when the attempt started running in the worker. */
  startedAtMs: number;
}

/**
 * The saga on Temporal's time-skipping test server (the Java SDK's, pip-installed like the CLI): the real workflow
 * bundle and the real activities against the four real services (fresh databases, fault injection on). Timers and
 * retry back-off are skipped while a test awaits a workflow's result, so hours of saga time take seconds.
 *
 * The worker is made with Worker.create rather than createSagaWorker: the test server does not implement
 * OperatorService.ListSearchAttributes, which createSagaWorker's start-up check calls. It does implement
 * AddSearchAttributes, used here to register SagaStatus.
 */
export interface TimeSkippingSagaStack {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  services: Record<ServiceName, InProcessService>;
  /** Every activity attempt the worker ran, in order (the test server keeps no per-attempt trace in the history). */
  attempts: ActivityAttempt[];
  stop(): Promise<void>;
}

export async function startTimeSkippingSagaStack(): Promise<TimeSkippingSagaStack> {
  installQuietRuntime();
  const env = await startTimeSkippingServer();
  const namespace = env.namespace ?? 'default';
  // The services and the databases from infra/stack; the worker is this file's own (see above).
  const stack = await startTestServices(
    { address: '', namespace, logTail: () => '', stop: () => env.teardown() },
    'saga-ts',
  );
  const client = new ServiceClient({ urls: stack.urls, requestTimeoutMs: 10_000, authToken: TEST_SERVICE_TOKEN });
  const attempts: ActivityAttempt[] = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace,
    taskQueue: stack.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: recordAttempts(createSagaActivities(client), attempts, () => env.currentTimeMs()),
    interceptors: sagaWorkerInterceptors({ prebuiltBundle: true }),
  });
  const running = worker.run();

  return {
    env,
    taskQueue: stack.taskQueue,
    services: stack.services,
    attempts,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await client.close();
      await stack.stop();
    },
  };
}

/** The same activities, each call first noted in `attempts` (the activities themselves are untouched). */
function recordAttempts(
  activities: SagaActivities,
  attempts: ActivityAttempt[],
  now: () => Promise<number>,
): SagaActivities {
  return Object.fromEntries(
    Object.entries(activities).map(([type, fn]) => [
      type,
      async (...args: unknown[]) => {
        // Not info.currentAttemptScheduledTimestampMs: the test server (1.40.0) reports the previous attempt's there.
        const { attempt, workflowExecution } = Context.current().info;
        attempts.push({ workflowId: workflowExecution?.workflowId ?? '', type, attempt, startedAtMs: await now() });
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as SagaActivities;
}
