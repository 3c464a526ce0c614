/**
 * Child-process entry of a saga worker (see worker-process.ts): configuration from $SAGA_WORKER_PROCESS_CONFIG (JSON),
 * 'ready' over IPC once the worker runs, 'stop' over IPC for a graceful shutdown. Exits when the parent goes away.
 */
import '../telemetry/register'; // first: tracing patches the HTTP client as it loads
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createLogger } from '../../services/shared/logger';
import { installWorkerRuntime } from '../telemetry/worker-runtime';
import { createSagaWorker } from '../../worker';
import { reportFatal } from './child';
import { WORKER_PROCESS_CONFIG_ENV, type WorkerProcessConfig, type WorkerReady } from './worker-process';

async function main() {
  const raw = process.env[WORKER_PROCESS_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_PROCESS_CONFIG_ENV} is not set`);
  const config = JSON.parse(raw) as WorkerProcessConfig;
  const level = config.logLevel ?? 'WARN';
  installWorkerRuntime({ logger: createLogger('worker'), logLevel: level, metricsAddress: config.metricsAddress });

  const connection = await NativeConnection.connect({ address: config.address });
  const { worker, close } = await createSagaWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: { urls: config.urls, requestTimeoutMs: config.requestTimeoutMs ?? 10_000, authToken: config.authToken },
    worker: {
      ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : {}),
      ...(config.worker as Partial<WorkerOptions>),
    },
  });
  const running = worker.run();

  const stop = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await close();
    await connection.close();
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop());
  // The parent is gone: nobody will stop or kill us, so go now rather than linger as an orphan.
  process.on('disconnect', () => process.exit(0));

  const ready: WorkerReady = { type: 'ready', pid: process.pid, taskQueue: config.taskQueue };
  process.send?.(ready);
  try {
    await running;
    console.error('worker stopped');
    process.exit(0);
  } catch (err) {
    // The SDK gave up (e.g. a fatal error from the server): say so and exit non-zero, so the parent can tell.
    console.error(`worker failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  }
}

main().catch((err) => reportFatal('worker process failed to start', err));
