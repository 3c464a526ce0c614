import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import { NativeConnection, Runtime, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleSagaWorkflows } from '../../infra/temporal/saga-worker';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import type { RunningService, ServiceDb } from '../../services/shared/runtime';
import { createSagaWorker } from '../../worker';
import { startTestService, TEST_SERVICE_TOKEN } from './services';
import { startTestTemporal, TEST_WORKERS, type TestTemporal } from './temporal-target';
import { silentSdkLogger as quietLogger } from '../../infra/telemetry/worker-runtime';

/**
 * Everything a saga test talks to, all real: a Temporal server (the dev server, or the cluster under
 * `npm run test:cluster`: see temporal-target.ts), the four services on loopback ports with fresh PostgreSQL databases
 * and fault injection enabled, and the saga workers (one on the dev server, two on the cluster).
 */
export interface SagaStack {
  temporal: TestTemporal;
  client: Client;
  taskQueue: string;
  services: Record<ServiceName, RunningService<ServiceDb> & { databaseUrl: string }>;
  /** Starts a(nother) worker on the task queue; stopped by stop() unless stopped before. */
  startWorker(): Promise<Worker>;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling the workflow code takes seconds: do it once per test run. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return (bundle ??= bundleSagaWorkflows({ logger: quietLogger }));
}
export { quietLogger };

let runtimeInstalled = false;
/**
 * The SDK logs worker state changes at INFO and its core prints warnings straight to the console (e.g. "Activity
 * not found on completion" when a cancelled saga's slow request answers after the saga ended). Keep test and script
 * output to their own lines; errors still show. Once per process: the runtime can only be installed once.
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: quietLogger as never,
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // already installed by another test file
  }
}

export async function startSagaStack(): Promise<SagaStack> {
  installQuietRuntime();
  const services = Object.fromEntries(
    await Promise.all(
      SERVICE_NAMES.map(
        async (name) => [name, await startTestService(SERVICE_DEFINITIONS[name], { faultInjection: true })] as const,
      ),
    ),
  ) as SagaStack['services'];
  const temporal = await startTestTemporal();
  const connection = await Connection.connect({ address: temporal.address });
  const client = createSagaClient(connection, temporal.namespace);
  const taskQueue = `saga-test-${randomBytes(3).toString('hex')}`;
  const workers: { worker: Worker; running: Promise<void>; close: () => Promise<void> }[] = [];

  const startWorker = async () => {
    // A connection per worker: the SDK refuses two workers for one task queue on the same connection.
    const workerConnection = await NativeConnection.connect({ address: temporal.address });
    const { worker, close } = await createSagaWorker({
      connection: workerConnection,
      namespace: temporal.namespace,
      taskQueue,
      activities: {
        urls: Object.fromEntries(SERVICE_NAMES.map((n) => [n, services[n].url])) as Record<ServiceName, string>,
        requestTimeoutMs: 10_000,
        authToken: TEST_SERVICE_TOKEN,
      },
      worker: { workflowBundle: await workflowBundle() },
    });
    workers.push({ worker, running: worker.run(), close: async () => (await close(), await workerConnection.close()) });
    return worker;
  };
  for (let i = 0; i < TEST_WORKERS; i++) await startWorker();

  return {
    temporal,
    client,
    taskQueue,
    services,
    startWorker,
    async stop() {
      for (const w of workers) {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.running.catch(() => undefined);
        await w.close();
      }
      await connection.close();
      await temporal.stop();
      await Promise.all(Object.values(services).map((s) => s.close()));
    },
  };
}
