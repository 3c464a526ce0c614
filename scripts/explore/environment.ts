/**
 * The explorer's stack, built by infra/stack (killable.ts) as the chaos run's is: PostgreSQL + the four services with
 * fault injection on (stock and cust-alice topped up), the Temporal dev server, and the saga worker in a child of its
 * own that a failure point may SIGKILL (RestartingWorker starts a new one).
 * The run options of every explored saga shorten back-off and attempts (points.ts, EXPLORE_OPTIONS), so a policy is
 * exhausted in seconds on the dev server's real clock.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { ServiceClient } from '../../activities/service-client';
import { createSagaClient } from '../../cli/saga-client';
import { RestartingWorker } from '../../infra/processes/restarting-worker';
import type { WorkerProcessConfig } from '../../infra/processes/worker-process';
import { startKillableStack, type KillableStack } from '../../infra/stack';
import { writeSagaWorkflowBundle } from '../../runtime/saga-worker';
import type { ServiceName } from '../../services/catalog';

export interface ExploreEnvironment {
  client: Client;
  taskQueue: string;
  databaseUrls: Record<ServiceName, string>;
  /** The services as an operator calls them by hand (the worker's token). */
  services: ServiceClient;
  worker: RestartingWorker;
  /** The workflow bundle the worker runs (the time-skipping server's worker runs it too). */
  workflowBundlePath: string;
  /** The worker child's configuration (the time-skipping server's worker loads the same extension with it). */
  workerConfig: WorkerProcessConfig;
  stop(): Promise<void>;
}

export async function startExploreEnvironment(
  log: (line: string) => void,
  workflowsPath?: string,
  activityOverridesModule?: string,
): Promise<ExploreEnvironment> {
  const authToken = randomBytes(24).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-explore-'));
  let stack: KillableStack | undefined;
  let worker: RestartingWorker | undefined;
  let connection: Connection | undefined;
  let serviceClient: ServiceClient | undefined;
  const stop = async () => {
    await worker?.stop().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await serviceClient?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    log('starting PostgreSQL + the services (fault injection on), the Temporal dev server; bundling the workflows…');
    // The explorer's bundle adds the hold interceptor (cancel-before points); the production bundle never has it.
    const bundling = writeSagaWorkflowBundle(tmp, workflowsPath, [require.resolve('./hold-interceptor')]);
    stack = await startKillableStack({ authToken, topUp: 'chaos', dir: path.join(tmp, 'stack') });
    const taskQueue = `explore-${randomBytes(3).toString('hex')}`;
    const bundlePath = await bundling;
    const workerConfig: WorkerProcessConfig = {
      address: stack.address,
      namespace: stack.namespace,
      taskQueue,
      urls: stack.urls,
      authToken,
      requestTimeoutMs: 10_000,
      workflowBundlePath: bundlePath,
      logLevel: 'ERROR',
      worker: { stickyQueueScheduleToStartTimeout: '1s' },
      // Test fixtures' broken activities (a harness option of the explorer, never a production worker setting).
      // The module is a worker extension (infra/processes/worker-process.ts) whose activities replace the saga's.
      ...(activityOverridesModule && { extension: { module: activityOverridesModule } }),
    };
    worker = new RestartingWorker(workerConfig, 100, log);
    await worker.start();
    connection = await Connection.connect({ address: stack.address });
    serviceClient = new ServiceClient({ urls: stack.urls, requestTimeoutMs: 10_000, authToken });
    return {
      client: createSagaClient(connection, stack.namespace),
      taskQueue,
      databaseUrls: stack.databaseUrls,
      services: serviceClient,
      worker,
      workflowBundlePath: bundlePath,
      workerConfig,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
