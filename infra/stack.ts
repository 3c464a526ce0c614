import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_METRICS_PORTS, DEFAULT_SERVICE_PORTS, SERVICE_NAMES, serviceEnvName, type ServiceName } from '../services/catalog';
import { SERVICE_DEFINITIONS } from '../services/registry';
import { loadServiceConfig } from '../services/shared/config';
import { startService, type RunningService, type ServiceDb } from '../services/shared/runtime';
import { SAGA_SEARCH_ATTRIBUTES } from '../workflows/saga/search-attributes';
import { loadTemporalConfig } from './config';
import { loadWorkerMetricsAddress } from './telemetry/worker-metrics-config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './postgres/embedded';
import { isPortInUse } from './ports';
import { startWorkerProcess } from './processes/worker-process';
import { startTemporalCluster } from './temporal/cluster/cluster';
import { startDevServer } from './temporal/dev-server';

/**
 * The whole stack on one machine, on embedded defaults: PostgreSQL (embedded, one database per service), the four
 * services, the Temporal dev server with its web UI (history persisted to a file), and the saga worker. Data lives
 * under one folder, so a restart keeps both the services' rows and Temporal's history.
 */
export interface LocalStackOptions {
  dataDir: string;
  postgresPort: number;
  temporalPort: number;
  uiPort: number;
  /** Fault injection in the services, for the demo's scenarios (refused with NODE_ENV=production). */
  faultInjection: boolean;
  /**
   * 'cluster': the real Temporal server (infra/temporal/cluster: four role processes, 8 shards) on the embedded
   * PostgreSQL, instead of the dev server; no web UI then (the cluster has none of its own). Default 'dev-server'.
   */
  temporal?: 'dev-server' | 'cluster';
  /** Saga worker processes on the task queue. Default 1. */
  workers?: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

export interface LocalStack {
  uiUrl?: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  serviceUrls: Record<ServiceName, string>;
  /** The services' read-only token (SERVICE_READ_TOKEN). */
  readToken: string;
  /** The orchestrator's token (SERVICE_AUTH_TOKEN): reads and writes. */
  authToken: string;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {}

/** Where `npm start` keeps its data unless DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = path.resolve(__dirname, '..', '.data');

/** The file in which a stack leaves its read-only token for the tools on this machine (the demo), mode 0600. */
export function readTokenFile(dataDir: string): string {
  return path.join(dataDir, 'service-read-token');
}

/**
 * The file in which a stack leaves the orchestrator's token (SERVICE_AUTH_TOKEN) for the tools on this machine that
 * write as the carrier would (the demo's return reports a delivery), mode 0600 like the databases next to it.
 */
export function authTokenFile(dataDir: string): string {
  return path.join(dataDir, 'service-auth-token');
}

/** Refuses before starting anything, naming the port, what wanted it and the variable that moves it. */
async function assertPortsFree(ports: { port: number; what: string; setting: string }[]): Promise<void> {
  for (const { port, what, setting } of ports) {
    if (await isPortInUse(port)) {
      throw new PortInUseError(`port ${port} (${what}) is already in use: stop whatever holds it (another \`npm start\`?) or set ${setting}`);
    }
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const log = options.logger;
  const temporalConfig = loadTemporalConfig(env);
  const servicePorts = Object.fromEntries(
    SERVICE_NAMES.map((n) => [n, Number(env[serviceEnvName(n, 'PORT')] ?? DEFAULT_SERVICE_PORTS[n])]),
  ) as Record<ServiceName, number>;
  const externalDatabases = SERVICE_NAMES.every((n) => env[serviceEnvName(n, 'DATABASE_URL')]);
  // The services and the worker share one bearer token. Unless one is given (to run more workers against this
  // stack), a fresh random one per run: nothing outside this process can change the services' state.
  const authToken = env.SERVICE_AUTH_TOKEN ?? randomBytes(32).toString('base64url');
  const readToken = env.SERVICE_READ_TOKEN ?? randomBytes(32).toString('base64url');

  await assertPortsFree([
    ...(externalDatabases ? [] : [{ port: options.postgresPort, what: 'embedded PostgreSQL', setting: 'EMBEDDED_POSTGRES_PORT' }]),
    { port: options.temporalPort, what: options.temporal === 'cluster' ? 'Temporal frontend' : 'Temporal dev server', setting: 'TEMPORAL_PORT' },
    ...(options.temporal === 'cluster' ? [] : [{ port: options.uiPort, what: 'Temporal web UI', setting: 'TEMPORAL_UI_PORT' }]),
    ...SERVICE_NAMES.map((n) => ({ port: servicePorts[n], what: `${n} service`, setting: serviceEnvName(n, 'PORT') })),
    ...SERVICE_NAMES.map((n) => ({ port: Number(env[serviceEnvName(n, 'METRICS_PORT')] ?? DEFAULT_METRICS_PORTS[n]), what: `${n} metrics`, setting: serviceEnvName(n, 'METRICS_PORT') })),
  ].filter((p) => p.port !== 0));

  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const fn of stoppers.reverse()) await fn().catch((err: Error) => log.warn({ err }, 'error while stopping'));
  };
  try {
    await mkdir(options.dataDir, { recursive: true });
    await writeFile(readTokenFile(options.dataDir), `${readToken}\n`, { mode: 0o600 });
    await writeFile(authTokenFile(options.dataDir), `${authToken}\n`, { mode: 0o600 });
    let postgres: EmbeddedPostgres | undefined;
    if (!externalDatabases) {
      log.info({ port: options.postgresPort }, 'starting embedded PostgreSQL');
      postgres = await startEmbeddedPostgres({ dataDir: path.join(options.dataDir, 'postgres'), port: options.postgresPort });
      stoppers.push(() => postgres!.stop());
      for (const n of SERVICE_NAMES) await postgres.ensureDatabase(n);
    }

    const services: RunningService<ServiceDb>[] = [];
    for (const name of SERVICE_NAMES) {
      const config = loadServiceConfig(name, {
        ...env,
        [serviceEnvName(name, 'DATABASE_URL')]: env[serviceEnvName(name, 'DATABASE_URL')] ?? postgres!.url(name),
        [serviceEnvName(name, 'PORT')]: String(servicePorts[name]),
        FAULT_INJECTION: String(options.faultInjection),
        SEED: env.SEED ?? 'true',
        LOG_LEVEL: env.LOG_LEVEL ?? 'info', // request lines are debug: info is what happened, not every call
        SERVICE_AUTH_TOKEN: authToken,
        SERVICE_READ_TOKEN: readToken,
      });
      const service = await startService(SERVICE_DEFINITIONS[name], config, log.child({ service: name }));
      services.push(service);
      stoppers.push(() => service.close());
    }

    let temporal: { address: string; namespace: string; uiUrl?: string; stop(): Promise<void> };
    if (options.temporal === 'cluster') {
      if (!postgres) throw new Error('--temporal cluster runs on the embedded PostgreSQL: unset the *_DATABASE_URL variables');
      log.info({ port: options.temporalPort }, 'starting the Temporal cluster (four role processes on PostgreSQL; the first start builds the server)');
      temporal = await startTemporalCluster({
        postgres: { host: '127.0.0.1', port: postgres.port, user: 'postgres', password: 'postgres' },
        namespace: temporalConfig.namespace,
        searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
        ports: { frontendGrpc: options.temporalPort },
        logDir: path.join(options.dataDir, 'temporal-cluster'),
      });
    } else {
      log.info({ port: options.temporalPort, uiPort: options.uiPort }, 'starting the Temporal dev server');
      await mkdir(path.join(options.dataDir, 'temporal'), { recursive: true });
      temporal = await startDevServer({
        port: options.temporalPort,
        uiPort: options.uiPort,
        namespace: temporalConfig.namespace,
        dbFilename: path.join(options.dataDir, 'temporal', 'temporal.db'),
        searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
        logFile: path.join(options.dataDir, 'temporal', 'server.log'),
      });
    }
    stoppers.push(() => temporal.stop());

    const serviceUrls = Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>;
    const metricsAddress = loadWorkerMetricsAddress(env);
    const workerMetricsAddress = metricsAddress && { host: metricsAddress.slice(0, metricsAddress.lastIndexOf(':')), port: Number(metricsAddress.slice(metricsAddress.lastIndexOf(':') + 1)) };
    // The saga workers, each a process of its own (sagas spread across them; one takes over what another dropped).
    for (let i = 1; i <= (options.workers ?? 1); i++) {
      const worker = await startWorkerProcess(
        {
          address: temporal.address,
          namespace: temporal.namespace,
          taskQueue: temporalConfig.taskQueue,
          urls: serviceUrls,
          authToken,
          requestTimeoutMs: 10_000,
          logLevel: 'WARN',
          // GET /metrics of worker #i on WORKER_METRICS_ADDRESS's port + i - 1.
          metricsAddress: workerMetricsAddress && `${workerMetricsAddress.host}:${workerMetricsAddress.port + i - 1}`,
        },
        { name: `worker#${i}`, logFile: path.join(options.dataDir, 'workers.log'), readyTimeoutMs: 120_000 },
      );
      stoppers.push(() => worker.stop(30_000));
    }

    return { uiUrl: temporal.uiUrl, temporalAddress: temporal.address, namespace: temporal.namespace, taskQueue: temporalConfig.taskQueue, serviceUrls, readToken, authToken, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
