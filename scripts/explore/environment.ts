/**
 * The explorer's stack, the chaos run's processes reused (scripts/chaos): PostgreSQL + the four services with fault
 * injection on in one child (services-process.ts, stock and cust-alice topped up), the Temporal dev server, and the
 * saga worker in a child of its own that a failure point may SIGKILL (WorkerSupervisor starts a new one).
 * The run options of every explored saga shorten back-off and attempts (points.ts, EXPLORE_OPTIONS), so a policy is
 * exhausted in seconds on the dev server's real clock.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { ServiceClient } from '../../activities/service-client';
import { createSagaClient } from '../../cli/saga-client';
import { forkTsScript, nextMessage } from '../../infra/processes/child';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { bundleSagaWorkflows } from '../../infra/temporal/saga-worker';
import type { ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../workflows/saga/search-attributes';
import { stopChild, WorkerSupervisor } from '../chaos/chaos';
import type { ChaosServicesConfig, ChaosServicesReady } from '../chaos/services-process';
import type { ChaosWorkerConfig } from '../chaos/worker-process';
import { silentSdkLogger as quiet } from '../../infra/telemetry/worker-runtime';

export interface ExploreEnvironment {
  client: Client;
  taskQueue: string;
  databaseUrls: Record<ServiceName, string>;
  /** The services as an operator calls them by hand (the worker's token). */
  services: ServiceClient;
  worker: WorkerSupervisor;
  /** The workflow bundle the worker runs (the time-skipping server's worker runs it too). */
  workflowBundlePath: string;
  stop(): Promise<void>;
}

export async function startExploreEnvironment(
  log: (line: string) => void,
  workflowsPath?: string,
  activityOverridesModule?: string,
): Promise<ExploreEnvironment> {
  const authToken = randomBytes(24).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-explore-'));
  let services: ChildProcess | undefined;
  let server: DevServer | undefined;
  let worker: WorkerSupervisor | undefined;
  let connection: Connection | undefined;
  let serviceClient: ServiceClient | undefined;
  const stop = async () => {
    await worker?.stop().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await serviceClient?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await stopChild(services, 20_000);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    log('starting PostgreSQL + the services (fault injection on), the Temporal dev server; bundling the workflows…');
    const bundling = bundleSagaWorkflows({
      logger: quiet,
      workflowsPath,
      interceptorModules: [require.resolve('./hold-interceptor')],
    });
    services = forkTsScript(path.join(__dirname, '..', 'chaos', 'services-process.ts'), {
      CHAOS_SERVICES_CONFIG: JSON.stringify({ authToken, topUp: true } satisfies ChaosServicesConfig),
      SERVICE_AUTH_TOKEN: authToken,
      LOG_LEVEL: 'silent',
    });
    const [ready] = await Promise.all([
      nextMessage<ChaosServicesReady>(services, 'ready', 'services process'),
      startDevServer({
        ui: false,
        searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
        logFile: path.join(tmp, 'server.log'),
      }).then((s) => (server = s)),
    ]);
    const bundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundling).code);
    const taskQueue = `explore-${randomBytes(3).toString('hex')}`;
    const workerConfig: ChaosWorkerConfig = {
      address: server!.address,
      namespace: server!.namespace,
      taskQueue,
      urls: ready.urls,
      authToken,
      requestTimeoutMs: 10_000,
      workflowBundlePath: bundlePath,
      stickyQueueScheduleToStartTimeout: '1s',
      activityOverridesModule,
    };
    worker = new WorkerSupervisor(
      { CHAOS_WORKER_CONFIG: JSON.stringify(workerConfig), SERVICE_AUTH_TOKEN: authToken },
      100,
      log,
    );
    await worker.start();
    connection = await Connection.connect({ address: server!.address });
    serviceClient = new ServiceClient({ urls: ready.urls, requestTimeoutMs: 10_000, authToken });
    return {
      client: createSagaClient(connection, server!.namespace),
      taskQueue,
      databaseUrls: ready.databaseUrls,
      services: serviceClient,
      worker,
      workflowBundlePath: bundlePath,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
