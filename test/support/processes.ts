/**
 * A saga stack made of real processes that a test can kill: infra/stack's killable stack (the services in child
 * processes on fixed ports, the Temporal dev server, optionally persisted to a SQLite file so it can be restarted, or
 * the run's server) with the saga workers in child processes. PostgreSQL is the test run's shared cluster
 * (test/support/postgres.ts): the databases outlive every child, as they would outlive a crashed service in
 * production. This file only adds what tests need: the run's databases and server, and workers found by pid.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import type { ServicesProcess } from '../../infra/processes/services-process';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessConfig } from '../../infra/processes/worker-process';
import type { ChildExit } from '../../infra/processes/child';
import { getFreePort } from '../../runtime/ports';
import { startKillableStack, type KillableStack } from '../../infra/stack';
import { writeSagaWorkflowBundle } from '../../runtime/saga-worker';
import { pendingActivityWorker } from '../reliability/observe';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { testPostgres } from './postgres';
import { startTestTemporal, TEST_WORKERS } from './temporal-target';

export type { ChildExit, ServicesProcess, WorkerProcess };

export interface ProcessStackOptions {
  /** Persist Temporal's state to a SQLite file, so that restartTemporal() keeps every saga. Default false. */
  persistTemporal?: boolean;
  /** Which services share a child process; killing one kills its group. Default: each service in its own. */
  serviceGroups?: ServiceName[][];
  /** Per-request timeout of the activities' HTTP calls. Default 10 s. */
  requestTimeoutMs?: number;
  /** Extra (JSON-serialisable) worker options for every worker started. */
  worker?: Record<string, unknown>;
  /** Added to every child's environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT, to trace them). */
  env?: NodeJS.ProcessEnv;
  /** Each worker bundles the workflows itself (so that tracing interceptors get in) instead of a shared prebuilt bundle. */
  bundleInWorker?: boolean;
  /** Serve /metrics: each service and each worker on a free port (see `metricsUrls`). Default false. */
  metrics?: boolean;
}

export interface ProcessStack {
  /** The Temporal server: its address and namespace (after a restart, the same). */
  temporal: { address: string; namespace: string };
  /** A client in the test process (reconnects by itself after a server restart). */
  client: Client;
  taskQueue: string;
  /** The bearer token every service requires and every worker sends. */
  authToken: string;
  /** Fixed for the stack's life: a restarted service comes back on the same URL. */
  urls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
  /** With `metrics`: every service's and the current worker's GET /metrics. */
  metricsUrls: Partial<Record<ServiceName | 'worker', string>>;
  /** The current worker process, if one runs. */
  readonly worker: WorkerProcess | undefined;
  /** Starts a worker process (several may run; the last one is `worker`). */
  startWorker(): Promise<WorkerProcess>;
  /** Starts as many worker processes as the run asks for (TEST_WORKERS: 1 on the dev server, 2 on the cluster). */
  startWorkers(): Promise<WorkerProcess[]>;
  /** SIGKILL the current worker process and wait until it is gone. */
  killWorker(): Promise<ChildExit>;
  /**
   * SIGKILL the worker process that runs this saga's pending activity of this type (the one named by Temporal's
   * lastWorkerIdentity, `<pid>@<host>`), and wait until it is gone. With one worker, that is the worker.
   */
  killWorkerRunning(workflowId: string, activityType: string): Promise<ChildExit>;
  /** SIGKILL the process that runs this service (and the others of its group). */
  killService(name: ServiceName): Promise<ChildExit>;
  /** Starts the service's group again, on the same ports and databases. */
  startService(name: ServiceName): Promise<void>;
  /**
   * Stops the Temporal server (SIGTERM, or SIGKILL when kill is set), runs whileDown if given, and starts the server
   * again on the same port and SQLite file (needs persistTemporal). Resolves with how long the port was dead, in ms.
   */
  restartTemporal(options?: { kill?: boolean; whileDown?: () => Promise<unknown> }): Promise<number>;
  /** Everything the stack started, children first. Safe to call after partial failures. */
  stop(): Promise<void>;
  /** The last output lines of every child and of the server: for failure messages. */
  logs(): string;
}

export async function startProcessStack(options: ProcessStackOptions = {}): Promise<ProcessStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-processes-'));
  const authToken = randomBytes(24).toString('hex');
  const taskQueue = `saga-reliability-${randomBytes(3).toString('hex')}`;
  const workers: WorkerProcess[] = [];
  let stack: KillableStack | undefined;
  let connection: Connection | undefined;

  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop(5_000)));
    await connection?.close().catch(() => undefined);
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Bundle the workflows once (seconds) and hand every worker process the file: a new worker then starts in ~1 s.
    const bundling = options.bundleInWorker ? undefined : writeSagaWorkflowBundle(dir);
    const postgres = await testPostgres();
    const databaseUrls = {} as Record<ServiceName, string>;
    for (const name of SERVICE_NAMES) databaseUrls[name] = await postgres.freshDatabase(`reliability_${name}`);
    stack = await startKillableStack({
      // A persisted server is always a dev server of the stack's own (the run's cluster cannot be restarted here).
      temporal: options.persistTemporal
        ? 'dev-server'
        : await startTestTemporal({ logFile: path.join(dir, 'temporal.log') }),
      persistTemporal: options.persistTemporal,
      devServer: { parentDeathSignal: undefined },
      authToken,
      databaseUrls,
      serviceGroups: options.serviceGroups ?? SERVICE_NAMES.map((name) => [name]),
      metrics: options.metrics,
      servicesLogLevel: 'warn',
      env: options.env,
      dir: path.join(dir, 'stack'),
    });
    const s = stack;
    connection = await Connection.connect({ address: s.address });
    const client = createSagaClient(connection, s.namespace);
    const workflowBundlePath = await bundling;
    const metricsUrls: ProcessStack['metricsUrls'] = s.metricsUrls;

    const workerConfig = (metricsAddress?: string): WorkerProcessConfig => ({
      address: s.address,
      namespace: s.namespace,
      taskQueue,
      urls: s.urls,
      authToken,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      workflowBundlePath,
      worker: options.worker,
      metricsAddress,
    });

    const processStack: ProcessStack = {
      temporal: s,
      client,
      taskQueue,
      authToken,
      urls: s.urls,
      databaseUrls,
      metricsUrls,
      get worker() {
        return workers.at(-1);
      },
      async startWorker() {
        const metricsAddress = options.metrics ? `127.0.0.1:${await getFreePort()}` : undefined;
        if (metricsAddress) metricsUrls.worker = `http://${metricsAddress}/metrics`;
        const worker = await startWorkerProcess(workerConfig(metricsAddress), {
          name: `worker#${workers.length + 1}`,
          logFile: path.join(dir, 'workers.log'),
          env: options.env,
          readyTimeoutMs: options.bundleInWorker ? 120_000 : undefined,
        });
        workers.push(worker);
        return worker;
      },
      async startWorkers() {
        const started: WorkerProcess[] = [];
        for (let i = 0; i < TEST_WORKERS; i++) started.push(await processStack.startWorker());
        return started;
      },
      async killWorkerRunning(workflowId, activityType) {
        const identity = await pendingActivityWorker(client, workflowId, activityType);
        const pid = Number(identity?.split('@')[0]);
        const worker = workers.find((w) => w.pid === pid && !w.exit);
        if (!worker)
          throw new Error(
            `no live worker process with pid ${pid} (identity ${identity}) runs ${activityType} of ${workflowId}`,
          );
        return worker.kill('SIGKILL');
      },
      async killWorker() {
        const worker = workers.at(-1);
        if (!worker) throw new Error('no worker process to kill');
        return worker.kill('SIGKILL');
      },
      killService: (name) => s.killService(name),
      startService: (name) => s.startService(name),
      restartTemporal: (restart) => s.restartTemporal(restart),
      stop,
      logs() {
        const parts = workers.map(
          (c) =>
            `--- ${c.name} (pid ${c.pid}${c.exit ? `, exited ${c.exit.signal ?? c.exit.code}` : ''}) ---\n${c.logTail()}`,
        );
        return [...parts, s.logTail()].join('\n');
      },
    };
    return processStack;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
