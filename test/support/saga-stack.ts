import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  startInProcessStack,
  type InProcessService,
  type InProcessStack,
  type InProcessStackOptions,
} from '../../infra/stack';
import { bundleSagaWorkflows } from '../../runtime/saga-worker';
import type { ServiceName } from '../../services/catalog';
import { testPostgres } from './postgres';
import { TEST_READ_TOKEN, TEST_SERVICE_TOKEN } from './services';
import { startTestTemporal, TEST_WORKERS, type TestTemporal } from './temporal-target';
import { installQuietRuntime, silentSdkLogger as quietLogger } from '../../runtime/telemetry/worker-runtime';

/**
 * Everything a saga test talks to, all real: a Temporal server (the dev server, or the cluster under
 * `npm run test:cluster`: see temporal-target.ts), the four services on loopback ports with fresh PostgreSQL databases
 * and fault injection enabled, and the saga workers (one on the dev server, two on the cluster).
 */
export interface SagaStack {
  temporal: TestTemporal;
  client: Client;
  taskQueue: string;
  services: Record<ServiceName, InProcessService>;
  /** Starts a(nother) worker on the task queue; stopped by stop() unless stopped before. */
  startWorker(): Promise<Worker>;
  stop(): Promise<void>;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling the workflow code takes seconds: do it once per test run (the app's sagas and the tests' variants). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return (bundle ??= bundleSagaWorkflows({ workflowsPath: require.resolve('./test-workflows'), logger: quietLogger }));
}
export { quietLogger };

export { installQuietRuntime };

/**
 * The services as every saga test stack has them: fresh databases, the test tokens, fault injection on, logs silent
 * unless LOG_LEVEL says otherwise, the run's one workflow bundle, and a task queue of its own.
 */
export async function startTestServices(
  temporal: InProcessStackOptions['temporal'],
  taskQueuePrefix: string,
  /** More of the stack's options (the workers' data converter...). */
  extra: Partial<InProcessStackOptions> = {},
): Promise<InProcessStack> {
  const postgres = await testPostgres();
  return startInProcessStack({
    temporal,
    database: (name) => postgres.freshDatabase(name),
    authToken: TEST_SERVICE_TOKEN,
    readToken: TEST_READ_TOKEN,
    faultInjection: true,
    logLevel: process.env.LOG_LEVEL ?? 'silent',
    workflowBundle: await workflowBundle(),
    taskQueue: `${taskQueuePrefix}-${randomBytes(3).toString('hex')}`,
    ...extra,
  });
}

export async function startSagaStack(): Promise<SagaStack> {
  installQuietRuntime();
  const temporal = await startTestTemporal();
  const stack = await startTestServices(temporal, 'saga-test');
  const connection = await Connection.connect({ address: temporal.address });
  for (let i = 0; i < TEST_WORKERS; i++) await stack.startWorker();
  return {
    temporal,
    client: createSagaClient(connection, temporal.namespace),
    taskQueue: stack.taskQueue,
    services: stack.services,
    startWorker: () => stack.startWorker(),
    async stop() {
      await connection.close();
      await stack.stop();
    },
  };
}
