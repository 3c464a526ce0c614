/**
 * A stack in this very process (the saga suites, the time-skipping suite, the recording of replay histories): the
 * four services on loopback ports chosen by the kernel, each on a database the caller makes, a Temporal server the
 * caller started (the dev server, the cluster, the time-skipping server), and saga workers on one task queue, each
 * on a connection of its own. Nothing here can be killed apart: for that, killable.ts.
 */
import { randomBytes } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import type { TLSConfig } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { createLogger } from '../../services/shared/logger';
import { startService, type RunningService, type ServiceDb } from '../../services/shared/runtime';
import { createSagaWorker } from '../../worker';
import type { ExistingTemporal } from './killable';
import { startScratchPostgres } from './scratch-postgres';

export type InProcessService = RunningService<ServiceDb> & { databaseUrl: string };

export interface InProcessStackOptions {
  /** The server the workers poll; stopped by stop(). */
  temporal: ExistingTemporal;
  /** Makes the (fresh) database of a service; resolves with its URL. Default: an embedded PostgreSQL of the stack's own. */
  database?(name: ServiceName): Promise<string>;
  authToken: string;
  readToken?: string;
  /** Honour the x-fault-injection header. */
  faultInjection: boolean;
  /** pino level of the services. */
  logLevel: string;
  /** The workflows, bundled once (seconds) for every worker. */
  workflowBundle: WorkflowBundleWithSourceMap;
  /** Default: a fresh random one. */
  taskQueue?: string;
  /** The workers' data converter (the payload codec's); default: from the environment, as worker.ts reads it. */
  dataConverter?: DataConverter;
  /** The workers' TLS to the server (mTLS with the worker's certificate, on a secured cluster); default: plaintext. */
  workerTls?: TLSConfig;
}

export interface InProcessStack {
  taskQueue: string;
  services: Record<ServiceName, InProcessService>;
  urls: Record<ServiceName, string>;
  /** Starts a(nother) worker on the task queue; stopped by stop() unless stopped before. */
  /** Starts a(nother) worker on the task queue; `workflowBundle`: other workflow code than the stack's (a deploy). */
  startWorker(options?: { workflowBundle?: WorkflowBundleWithSourceMap }): Promise<Worker>;
  stop(): Promise<void>;
}

export async function startInProcessStack(o: InProcessStackOptions): Promise<InProcessStack> {
  const own = o.database ? undefined : await startScratchPostgres();
  const database = o.database ?? own!.database;
  const services = Object.fromEntries(
    await Promise.all(SERVICE_NAMES.map(async (name) => [name, await startOneService(name, database, o)] as const)),
  ) as Record<ServiceName, InProcessService>;
  const urls = Object.fromEntries(SERVICE_NAMES.map((n) => [n, services[n].url])) as Record<ServiceName, string>;
  const taskQueue = o.taskQueue ?? `saga-${randomBytes(3).toString('hex')}`;
  const workers: { worker: Worker; running: Promise<void>; close: () => Promise<void> }[] = [];
  return {
    taskQueue,
    services,
    urls,
    async startWorker(options = {}) {
      // A connection per worker: the SDK refuses two workers for one task queue on the same connection.
      const connection = await NativeConnection.connect({ address: o.temporal.address, tls: o.workerTls });
      const { worker, close } = await createSagaWorker({
        connection,
        namespace: o.temporal.namespace,
        taskQueue,
        activities: { urls, requestTimeoutMs: 10_000, authToken: o.authToken },
        worker: {
          workflowBundle: options.workflowBundle ?? o.workflowBundle,
          ...(o.dataConverter && { dataConverter: o.dataConverter }),
        },
      });
      workers.push({ worker, running: worker.run(), close: async () => (await close(), await connection.close()) });
      return worker;
    },
    async stop() {
      for (const w of workers) {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.running.catch(() => undefined);
        await w.close();
      }
      await o.temporal.stop();
      await Promise.all(Object.values(services).map((s) => s.close()));
      await own?.stop();
    },
  };
}

async function startOneService(
  name: ServiceName,
  database: (name: ServiceName) => Promise<string>,
  o: InProcessStackOptions,
): Promise<InProcessService> {
  const databaseUrl = await database(name);
  const running = await startService(
    SERVICE_DEFINITIONS[name],
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl,
      dbPoolSize: 10,
      faultInjection: o.faultInjection,
      seed: true,
      logLevel: o.logLevel,
      authToken: o.authToken,
      readToken: o.readToken,
    },
    createLogger(name, o.logLevel),
  );
  return { ...running, databaseUrl };
}
