/**
 * A saga stack made of real processes that a test can kill: the Temporal dev server (optionally persisted to a
 * SQLite file, so it can be restarted), the services in child processes on fixed ports, and the saga worker in a
 * child process. PostgreSQL is the test run's shared cluster (test/support/postgres.ts): the databases outlive every
 * child, as they would outlive a crashed service in production.
 *
 * The launchers themselves (worker and services child processes) live in infra/processes/, where scripts can reuse
 * them; this file only assembles them for tests.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import { startServicesProcess, type ServicesProcess } from '../../infra/processes/services-process';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessConfig } from '../../infra/processes/worker-process';
import type { ChildExit } from '../../infra/processes/child';
import { getFreePort } from '../../infra/ports';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { pendingActivityWorker } from '../reliability/observe';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../workflows/saga/search-attributes';
import { testPostgres } from './postgres';
import { workflowBundle } from './saga-stack';
import { startTestTemporal, TEST_WORKERS, type TestTemporal } from './temporal-target';

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
  /** The dev server (a DevServer when persistTemporal is set), or the run's shared cluster under test:cluster. */
  temporal: TestTemporal | DevServer;
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
  const groups = options.serviceGroups ?? SERVICE_NAMES.map((name) => [name]);
  const grouped = groups.flat();
  if (grouped.length !== SERVICE_NAMES.length || SERVICE_NAMES.some((n) => !grouped.includes(n))) {
    throw new Error(`serviceGroups must name each service exactly once, got ${JSON.stringify(groups)}`);
  }

  const servicesByGroup = new Map<number, ServicesProcess>();
  const workers: WorkerProcess[] = [];
  let temporal: TestTemporal | DevServer | undefined;
  let connection: Connection | undefined;

  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop(5_000)));
    await Promise.all([...servicesByGroup.values()].map((s) => s.stop(5_000)));
    await connection?.close().catch(() => undefined);
    await temporal?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Bundle the workflows once (seconds) and hand every worker process the file: a new worker then starts in ~1 s.
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    const bundleStarted = workflowBundle();
    const postgres = await testPostgres();
    const databaseUrls = {} as Record<ServiceName, string>;
    const ports = {} as Record<ServiceName, number>;
    const metricsPorts = {} as Record<ServiceName, number | undefined>;
    const metricsUrls: ProcessStack['metricsUrls'] = {};
    for (const name of SERVICE_NAMES) {
      databaseUrls[name] = await postgres.freshDatabase(`reliability_${name}`);
      ports[name] = await getFreePort();
      // 0: the child binds a free port itself and reports it (no window for another process to take it).
      metricsPorts[name] = options.metrics ? 0 : undefined;
    }
    const urls = Object.fromEntries(SERVICE_NAMES.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<
      ServiceName,
      string
    >;

    const startGroup = async (index: number) => {
      const names = groups[index];
      const child = await startServicesProcess(
        {
          services: names.map((name) => ({
            name,
            port: ports[name],
            databaseUrl: databaseUrls[name],
            metricsPort: metricsPorts[name],
          })),
          authToken,
          faultInjection: true,
          seed: true,
          logLevel: 'warn',
        },
        { logFile: path.join(dir, `services-${names.join('-')}.log`), env: options.env },
      );
      servicesByGroup.set(index, child);
      Object.assign(metricsUrls, child.ready.metricsUrls);
    };
    const groupOf = (name: ServiceName) => groups.findIndex((g) => g.includes(name));

    const [, server] = await Promise.all([
      Promise.all(groups.map((_, i) => startGroup(i))),
      options.persistTemporal
        ? startDevServer({
            ui: false,
            searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
            dbFilename: path.join(dir, 'temporal.sqlite'),
            logFile: path.join(dir, 'temporal.log'),
          })
        : startTestTemporal({ logFile: path.join(dir, 'temporal.log') }),
    ]);
    temporal = server;
    connection = await Connection.connect({ address: temporal.address });
    const client = createSagaClient(connection, temporal.namespace);
    fs.writeFileSync(bundlePath, (await bundleStarted).code);

    const workerConfig = (metricsAddress?: string): WorkerProcessConfig => ({
      address: temporal!.address,
      namespace: temporal!.namespace,
      taskQueue,
      urls,
      authToken,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      workflowBundlePath: options.bundleInWorker ? undefined : bundlePath,
      worker: options.worker,
      metricsAddress,
    });

    const stack: ProcessStack = {
      get temporal() {
        return temporal!;
      },
      client,
      taskQueue,
      authToken,
      urls,
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
        for (let i = 0; i < TEST_WORKERS; i++) started.push(await stack.startWorker());
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
      async killService(name) {
        const child = servicesByGroup.get(groupOf(name));
        if (!child) throw new Error(`no process runs ${name}`);
        return child.kill('SIGKILL');
      },
      async startService(name) {
        const index = groupOf(name);
        const running = servicesByGroup.get(index);
        if (running && !running.exit) throw new Error(`${name} is still running (pid ${running.pid})`);
        await startGroup(index);
      },
      async restartTemporal(restart = {}) {
        if (!options.persistTemporal)
          throw new Error('restartTemporal needs persistTemporal: an in-memory server would come back empty');
        const old = temporal as DevServer;
        const downSince = Date.now();
        if (restart.kill) process.kill(old.pid, 'SIGKILL');
        await old.stop(); // after a SIGKILL: just waits for the exit
        await restart.whileDown?.();
        temporal = await startDevServer(old.options);
        return Date.now() - downSince;
      },
      stop,
      logs() {
        const parts = [...workers, ...servicesByGroup.values()].map(
          (c) =>
            `--- ${c.name} (pid ${c.pid}${c.exit ? `, exited ${c.exit.signal ?? c.exit.code}` : ''}) ---\n${c.logTail()}`,
        );
        if (temporal) parts.push(`--- temporal ---\n${temporal.logTail()}`);
        return parts.join('\n');
      },
    };
    return stack;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
