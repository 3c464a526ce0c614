/**
 * The explorer's second Temporal server: Temporal's time-skipping test server, for the points that exhaust a retry
 * policy (a forward step failing every one of its 5 attempts, a compensation failing all 20 of its own and then
 * dead-lettered). Those points run with the saga's DEFAULT policies (real back-off: seconds to a minute between
 * attempts, minutes in all), which the test server skips while the driver awaits the saga's result. The services
 * and databases are the explorer's (environment.ts): only the server and a worker are added, in this process (no
 * point here kills a worker).
 *
 * Why these points only, one at a time (explore.ts): the test server's clock is global, so while one saga waits
 * (for an operator, a back-off) time jumps for every saga on it, firing other sagas' activity timeouts and
 * deadlines mid-step; and once an activity is cancelled while it runs, the server stops skipping time for the rest
 * of its life. So cancellations and kills stay on the dev server, and points here never overlap.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { sagaWorkerOptions } from 'temporal-saga-kit/worker';
import { createDeadLetterPort, createSagaActivities } from '../../activities';
import type { WorkerExtension, WorkerExtensionFactory } from '../../infra/processes/worker-process';
import { installQuietRuntime } from '../../runtime/telemetry/worker-runtime';
import { startTimeSkippingServer } from '../../infra/temporal/time-skipping-server';
import type { ExploreEnvironment } from './environment';

/** What the driver needs of a server: a client, the worker's task queue, the services and their databases. */
export type PointEnvironment = Pick<ExploreEnvironment, 'client' | 'taskQueue' | 'databaseUrls' | 'services'> &
  Partial<Pick<ExploreEnvironment, 'worker'>>;

export async function startTimeSkippingEnvironment(
  base: ExploreEnvironment,
  fixtures: { activityOverridesModule?: string },
): Promise<PointEnvironment & { stop(): Promise<void> }> {
  installQuietRuntime();
  const env = await startTimeSkippingServer();
  const taskQueue = `explore-ts-${randomBytes(3).toString('hex')}`;
  // The fixture's broken activities, made as the dev server's worker child makes them (a worker extension).
  const extension: WorkerExtension = fixtures.activityOverridesModule
    ? await // require, not import(): a test runner's TypeScript hook (tsx/cjs under mocha) serves require only.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require(fixtures.activityOverridesModule) as { extendWorker: WorkerExtensionFactory }).extendWorker({
        config: { ...base.workerConfig, taskQueue },
        connection: env.nativeConnection,
        options: undefined,
      })
    : {};
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    ...sagaWorkerOptions({
      // The dev server's bundle (the hold interceptor in it stays inert: nothing here signals it).
      workflowBundle: { codePath: base.workflowBundlePath },
      // The explorer's own service client carries the worker's token (environment.ts).
      activities: { ...createSagaActivities(base.services), ...extension.activities },
      deadLetters: createDeadLetterPort(base.services),
    }),
  });
  const running = worker.run();
  return {
    // Its workflow handles unlock time skipping while their result is awaited.
    client: env.client as Client,
    taskQueue,
    databaseUrls: base.databaseUrls,
    services: base.services,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await extension.close?.();
      await env.teardown();
    },
  };
}
