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
import { startKillableStack, type KillableStack } from '../../infra/stack';
import { writeSagaWorkflowBundle } from '../../infra/temporal/saga-worker';
import type { ServiceName } from '../../services/catalog';

export interface ExploreEnvironment {
  client: Client;
  taskQueue: string;
  databaseUrls: Record<ServiceName, string>;
  /** The services as an operator calls them by hand (the worker's token). */
  services: ServiceClient;
  worker: RestartingWorker;
  stop(): Promise<void>;
}

export async function startExploreEnvironment(
  log: (line: string) => void,
  workflowsPath?: string,
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
    const bundling = writeSagaWorkflowBundle(tmp, workflowsPath);
    stack = await startKillableStack({ authToken, topUp: 'chaos', dir: path.join(tmp, 'stack') });
    const taskQueue = `explore-${randomBytes(3).toString('hex')}`;
    worker = new RestartingWorker(
      {
        address: stack.address,
        namespace: stack.namespace,
        taskQueue,
        urls: stack.urls,
        authToken,
        requestTimeoutMs: 10_000,
        workflowBundlePath: await bundling,
        logLevel: 'ERROR',
        worker: { stickyQueueScheduleToStartTimeout: '1s' },
      },
      100,
      log,
    );
    await worker.start();
    connection = await Connection.connect({ address: stack.address });
    serviceClient = new ServiceClient({ urls: stack.urls, requestTimeoutMs: 10_000, authToken });
    return {
      client: createSagaClient(connection, stack.namespace),
      taskQueue,
      databaseUrls: stack.databaseUrls,
      services: serviceClient,
      worker,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
