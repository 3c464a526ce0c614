/**
 * Child-process entry of a saga worker (see worker-process.ts): configuration from $SAGA_WORKER_PROCESS_CONFIG (JSON),
 * the protocol of protocol.ts. When the worker stops by itself (the SDK's own SIGTERM handling, or a fatal error from
 * the server), the process exits: 0, or 1 after saying why.
 */
import '../../runtime/telemetry/register'; // first: tracing patches the HTTP client as it loads
import { readFileSync } from 'node:fs';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createLogger } from '../../services/shared/logger';
import { installWorkerRuntime } from '../../runtime/telemetry/worker-runtime';
import { createSagaWorker } from '../../worker';
import { loadExtension, readChildConfig, serveChild } from './protocol';
import {
  WORKER_PROCESS_CONFIG_ENV,
  type WorkerExtension,
  type WorkerExtensionFactory,
  type WorkerProcessConfig,
  type WorkerReady,
} from './worker-process';

serveChild<WorkerReady>(
  'worker process',
  async () => {
    const config = readChildConfig<WorkerProcessConfig>(WORKER_PROCESS_CONFIG_ENV);
    const level = config.logLevel ?? 'WARN';
    await installWorkerRuntime({
      logger: createLogger('worker'),
      logLevel: level,
      metricsAddress: config.metricsAddress,
    });

    const connection = await NativeConnection.connect({
      address: config.address,
      ...(config.tls && {
        tls: {
          serverNameOverride: config.tls.serverName,
          serverRootCACertificate: readFileSync(config.tls.caPath),
          clientCertPair: { crt: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) },
        },
      }),
    });
    let extension: WorkerExtension = {};
    if (config.extension) {
      const extend = await loadExtension<WorkerExtensionFactory>(config.extension, 'extendWorker');
      extension = await extend({ config, connection, options: config.extension.options });
    }
    const { worker, close } = await createSagaWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      activities: {
        urls: config.urls,
        requestTimeoutMs: config.requestTimeoutMs ?? 10_000,
        authToken: config.authToken,
      },
      extraActivities: extension.activities,
      worker: {
        ...(config.workflowBundlePath ? { workflowBundle: { codePath: config.workflowBundlePath } } : {}),
        ...(config.worker as Partial<WorkerOptions>),
      },
    });
    const running = worker.run();
    let stopping = false;
    running.then(
      () => {
        if (stopping) return;
        console.error('worker stopped');
        process.exit(0);
      },
      (err: Error) => {
        // The SDK gave up (e.g. a fatal error from the server): say so and exit non-zero, so the parent can tell.
        console.error(`worker failed: ${err.stack ?? err}`);
        process.exit(1);
      },
    );
    return {
      ready: { type: 'ready', pid: process.pid, taskQueue: config.taskQueue },
      onExtension: (body) => extension.onMessage?.(body),
      async stop() {
        stopping = true;
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await extension.close?.();
        await close();
        await connection.close();
      },
    };
  },
  // The parent is gone: nobody will stop or kill us, so go now rather than linger as an orphan.
  { onParentGone: 'exit', stopOn: [] /* the SDK shuts the worker down on SIGINT and SIGTERM */ },
);
