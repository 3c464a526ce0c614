import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  DEFAULT_METRICS_PORTS,
  DEFAULT_SERVICE_PORTS,
  SERVICE_NAMES,
  serviceEnvName,
  type ServiceName,
} from '../../services/catalog';
import { loadServiceConfig, type ServiceConfig } from '../../services/shared/config';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { loadTemporalConfig } from '../../runtime/config';
import { loadWorkerMetricsAddress } from '../../runtime/telemetry/worker-metrics-config';
import { ensurePrivateDir, writePrivateFile } from '../files/private';
import { localPostgresPassword } from '../postgres/local-password';
import { clientTlsOf, DEFAULT_CLIENT_ROLES, makeLocalPki, SYSTEM_CLIENT, type LocalPki } from '../temporal/cluster/pki';
import type { ChildHandle } from '../processes/child';
import { reapPidFiles, reapPostmaster, writePidFile } from '../processes/orphans';
import { startPostgresProcess, type PostgresReady } from '../processes/postgres-process';
import { startServicesProcess, type ServicesReady } from '../processes/services-process';
import { startTemporalProcess, type TemporalProcessConfig, type TemporalReady } from '../processes/temporal-process';
import { startWorkerProcess } from '../processes/worker-process';
import { isPortInUse } from '../../runtime/ports';
import { Supervisor, type ChildSpec, type RestartPolicy } from '../supervisor/supervisor';
import { lockDataDir, type DataDirLock } from './data-dir-lock';

/**
 * The whole stack on one machine, on embedded defaults, as separate processes under one supervisor (this process):
 * PostgreSQL (embedded, one database per service), the Temporal dev server with its web UI (history persisted to a
 * file), the four services, and the saga worker. A child that dies is reported and restarted; when this process dies,
 * even by SIGKILL, every child goes too (each watches its IPC channel; the servers that are not node processes are
 * kept by a node keeper, infra/processes/keeper.ts). Data lives under one folder, so a restart keeps both the services'
 * rows and Temporal's history, and a restart after a crash first clears what the crash left (infra/processes/orphans.ts).
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
   * Either way one child of the supervisor (its keeper, infra/processes/temporal-process.ts).
   */
  temporal?: 'dev-server' | 'cluster';
  /** Saga worker processes on the task queue, each a child of its own. Default 1. */
  workers?: number;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Copy the children's output to stderr, each line prefixed with the child's name. Default false. */
  echo?: boolean;
  /** Restart policy of every child. Default: always, at most 5 restarts a minute. */
  restart?: RestartPolicy;
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
  /** The cluster's mTLS certificates (cluster mode only): clients of its frontend need one of them. */
  pki?: LocalPki;
  supervisor: Supervisor;
  /** The pid of each running child, and of the servers the keepers run. */
  pids(): Record<string, number>;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {}

/** Where `npm start` keeps its data unless DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = path.resolve(__dirname, '..', '..', '.data');

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

/**
 * The file in which a stack says whether its services honour the fault-injection header (`on` or `off`), for the
 * tools on this machine: the demo's fault scenarios need it on, and start a private stack when it is off.
 */
export function faultInjectionFile(dataDir: string): string {
  return path.join(dataDir, 'fault-injection');
}

/** Where a stack records the pids of its processes (orphans.ts). */
export function runDir(dataDir: string): string {
  return path.join(dataDir, 'run');
}

/** Refuses before starting anything, naming the port, what wanted it and the variable that moves it. */
async function assertPortsFree(ports: { port: number; what: string; setting: string }[]): Promise<void> {
  for (const { port, what, setting } of ports) {
    if (await isPortInUse(port)) {
      throw new PortInUseError(
        `port ${port} (${what}) is already in use: stop whatever holds it (another \`npm start\`?) or set ${setting}`,
      );
    }
  }
}

/**
 * A stack that crashed on this data folder is cleaned up after: its children that are still alive, a Temporal server
 * it left, PostgreSQL's stale lock file or orphan postmaster. Only ever called with the data folder's lock held
 * (data-dir-lock.ts): a stack still running there has refused this start before anything is touched.
 */
async function clearPreviousRun(dataDir: string, log: Logger): Promise<void> {
  for (const line of await reapPidFiles(runDir(dataDir))) log.warn(line);
  if (fs.existsSync(path.join(dataDir, 'postgres'))) {
    const line = await reapPostmaster(path.join(dataDir, 'postgres'));
    if (line) log.warn(line);
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.logger;
  // First of all, before anything of a running stack can be touched: this data folder is ours, or this start is refused.
  const lock = lockDataDir(
    options.dataDir,
    {
      Temporal: `127.0.0.1:${options.temporalPort}`,
      ...(options.temporal !== 'cluster' && { 'web UI': `http://127.0.0.1:${options.uiPort}` }),
    },
    (line) => log.warn(line),
  );
  try {
    return await startLockedStack(options, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLockedStack(options: LocalStackOptions, lock: DataDirLock): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const log = options.logger;
  const temporalConfig = loadTemporalConfig(env);
  // The data folder holds histories with street addresses, logs, databases and secrets: its owner's only.
  ensurePrivateDir(options.dataDir);
  const postgresPassword = localPostgresPassword(options.dataDir);
  const { servicePorts, externalDatabases, authToken, readToken, serviceConfigs } = serviceSettings(
    options,
    env,
    postgresPassword,
  );
  fs.mkdirSync(runDir(options.dataDir), { recursive: true });
  await clearPreviousRun(options.dataDir, log);
  await assertPortsFree(portsToCheck(options, env, servicePorts, externalDatabases));
  // 0600 even over a file an older run left with another mode (writeFileSync's mode applies to new files only).
  writePrivateFile(readTokenFile(options.dataDir), `${readToken}\n`);
  writePrivateFile(authTokenFile(options.dataDir), `${authToken}\n`);
  writePrivateFile(faultInjectionFile(options.dataDir), `${options.faultInjection ? 'on' : 'off'}\n`);

  const restart: RestartPolicy = options.restart ?? { mode: 'always' };
  const fork = { echo: options.echo ?? false };
  const temporalDir = path.join(options.dataDir, 'temporal');
  // A service port of 0 is one the kernel picks at the services' first start; it is then kept for the stack's life,
  // so a restarted services process comes back on the URLs the worker was given. Picking a port up front and
  // listening on it later loses races: another server of the stack (the Temporal dev server binds a few free ports
  // of its own) can take it in between, which CI saw once as EADDRINUSE.
  const serviceUrls = {} as Record<ServiceName, string>;
  const keepServicePorts = (ready: ServicesReady) => {
    for (const name of SERVICE_NAMES) {
      serviceUrls[name] = ready.urls[name]!;
      servicePorts[name] = Number(new URL(ready.urls[name]!).port);
    }
  };
  const extraPids: Record<string, number | undefined> = {};
  let temporalReady: TemporalReady | undefined;

  /** A child spec whose every start records the child's pid (for the next run's clean-up). */
  const spec = <R extends { type: 'ready' }>(
    name: string,
    start: () => Promise<ChildHandle<R>>,
    onReady?: (ready: R) => void,
  ): ChildSpec => ({
    name,
    restart,
    start: async () => {
      const child = await start();
      writePidFile(path.join(runDir(options.dataDir), `${name}.pid`), child.pid, `the stack's ${name} process`);
      onReady?.(child.ready);
      return child;
    },
  });

  const specs: ChildSpec[] = [];
  if (!externalDatabases) {
    specs.push(
      spec(
        'postgres',
        () =>
          startPostgresProcess(
            {
              dataDir: path.join(options.dataDir, 'postgres'),
              port: options.postgresPort,
              password: postgresPassword,
              databases: [...SERVICE_NAMES],
            },
            fork,
          ),
        (r: PostgresReady) => {
          extraPids['postgres server'] = r.postgresPid;
        },
      ),
    );
  }
  // The cluster is secured by default: mTLS on its frontend, with a CA of this data folder's own (pki.ts).
  const pki =
    options.temporal === 'cluster'
      ? makeLocalPki(path.join(options.dataDir, 'pki'), { clients: [...DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT] })
      : undefined;
  const temporalServer = temporalServerSpec(options, temporalConfig.namespace, temporalDir, postgresPassword, pki);
  specs.push(
    spec(
      'temporal',
      () =>
        startTemporalProcess(
          { server: temporalServer, pidFile: path.join(runDir(options.dataDir), 'temporal-server.pid') },
          fork,
        ),
      (r: TemporalReady) => {
        temporalReady = r;
        extraPids['temporal server'] = r.serverPid;
      },
    ),
    spec(
      'services',
      () =>
        startServicesProcess(
          {
            services: SERVICE_NAMES.map((name) => ({
              name,
              port: servicePorts[name],
              databaseUrl: serviceConfigs[name].databaseUrl,
              metricsPort: serviceConfigs[name].metricsPort,
            })),
            authToken,
            readToken,
            host: serviceConfigs.orders.host,
            faultInjection: options.faultInjection,
            seed: serviceConfigs.orders.seed,
            dbPoolSize: serviceConfigs.orders.dbPoolSize,
            logLevel: serviceConfigs.orders.logLevel,
          },
          { ...fork, name: 'services' },
        ),
      keepServicePorts,
    ),
  );
  // The saga workers, each a child of its own (sagas spread across them; one takes over what another dropped).
  const workerCount = options.workers ?? 1;
  const metricsAddress = loadWorkerMetricsAddress(env);
  const workerMetricsAddress = metricsAddress && {
    host: metricsAddress.slice(0, metricsAddress.lastIndexOf(':')),
    port: Number(metricsAddress.slice(metricsAddress.lastIndexOf(':') + 1)),
  };
  for (let i = 1; i <= workerCount; i++) {
    const name = workerCount === 1 ? 'worker' : `worker#${i}`;
    specs.push(
      spec(name, () =>
        startWorkerProcess(
          {
            address: temporalReady!.address,
            ...(pki && { tls: clientTlsOf(pki, 'worker') }),
            namespace: temporalReady!.namespace,
            taskQueue: temporalConfig.taskQueue,
            urls: { ...serviceUrls },
            authToken,
            requestTimeoutMs: 10_000,
            // GET /metrics of worker #i on WORKER_METRICS_ADDRESS's port + i - 1.
            metricsAddress: workerMetricsAddress && `${workerMetricsAddress.host}:${workerMetricsAddress.port + i - 1}`,
          },
          { ...fork, name, readyTimeoutMs: 120_000 },
        ),
      ),
    );
  }

  const supervisor = new Supervisor(specs, {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
  });
  const stop = async () => {
    await supervisor.stop();
    lock.release();
  };
  await supervisor.start().catch(async (err) => {
    await stop();
    throw err;
  });
  // The refusal of another start names where this one serves.
  lock.update({ ...(temporalReady!.uiUrl && { 'web UI': temporalReady!.uiUrl }), ...serviceUrls });
  return {
    uiUrl: temporalReady!.uiUrl,
    temporalAddress: temporalReady!.address,
    namespace: temporalReady!.namespace,
    taskQueue: temporalConfig.taskQueue,
    serviceUrls,
    readToken,
    authToken,
    pki,
    supervisor,
    pids: () => {
      const pids: Record<string, number> = { supervisor: process.pid };
      for (const s of specs) {
        const child = supervisor.child(s.name);
        if (child) pids[s.name] = child.pid;
      }
      for (const [name, pid] of Object.entries(extraPids)) if (pid) pids[name] = pid;
      return pids;
    },
    stop,
  };
}

/** Each service's port, database and settings, checked up front as each service would at its start; the tokens. */
function serviceSettings(options: LocalStackOptions, env: NodeJS.ProcessEnv, postgresPassword: string) {
  const servicePorts = Object.fromEntries(
    SERVICE_NAMES.map((n) => [n, Number(env[serviceEnvName(n, 'PORT')] ?? DEFAULT_SERVICE_PORTS[n])]),
  ) as Record<ServiceName, number>;
  const externalDatabases = SERVICE_NAMES.every((n) => env[serviceEnvName(n, 'DATABASE_URL')]);
  if (options.temporal === 'cluster' && externalDatabases)
    throw new Error('--temporal cluster runs on the embedded PostgreSQL: unset the *_DATABASE_URL variables');
  // The services and the worker share one bearer token. Unless one is given (to run more workers against this
  // stack), a fresh random one per run: nothing outside this process tree can change the services' state. The read
  // token is left in the data folder for the tools on this machine.
  const authToken = env.SERVICE_AUTH_TOKEN ?? randomBytes(32).toString('base64url');
  const readToken = env.SERVICE_READ_TOKEN ?? randomBytes(32).toString('base64url');
  const postgresUrl = (db: string) =>
    `postgresql://postgres:${encodeURIComponent(postgresPassword)}@127.0.0.1:${options.postgresPort}/${db}`;
  // Checked up front, as each service would at its start: a bad setting is one line naming the variable.
  const serviceConfigs = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      loadServiceConfig(name, {
        ...env,
        [serviceEnvName(name, 'DATABASE_URL')]: env[serviceEnvName(name, 'DATABASE_URL')] ?? postgresUrl(name),
        [serviceEnvName(name, 'PORT')]: String(servicePorts[name]),
        FAULT_INJECTION: String(options.faultInjection),
        SEED: env.SEED ?? 'true',
        LOG_LEVEL: env.LOG_LEVEL ?? 'info', // request lines are debug: info is what happened, not every call
        SERVICE_AUTH_TOKEN: authToken,
        SERVICE_READ_TOKEN: readToken,
      }),
    ]),
  ) as Record<ServiceName, ServiceConfig>;

  return { servicePorts, externalDatabases, authToken, readToken, serviceConfigs };
}

/** Every port the stack will listen on, with what wants it and the variable that moves it. */
function portsToCheck(
  options: LocalStackOptions,
  env: NodeJS.ProcessEnv,
  servicePorts: Record<ServiceName, number>,
  externalDatabases: boolean,
): { port: number; what: string; setting: string }[] {
  return [
    ...(externalDatabases
      ? []
      : [{ port: options.postgresPort, what: 'embedded PostgreSQL', setting: 'EMBEDDED_POSTGRES_PORT' }]),
    {
      port: options.temporalPort,
      what: options.temporal === 'cluster' ? 'Temporal frontend' : 'Temporal dev server',
      setting: 'TEMPORAL_PORT',
    },
    ...(options.temporal === 'cluster'
      ? []
      : [{ port: options.uiPort, what: 'Temporal web UI', setting: 'TEMPORAL_UI_PORT' }]),
    ...SERVICE_NAMES.map((n) => ({
      port: servicePorts[n],
      what: `${n} service`,
      setting: serviceEnvName(n, 'PORT'),
    })),
    ...SERVICE_NAMES.map((n) => ({
      port: Number(env[serviceEnvName(n, 'METRICS_PORT')] ?? DEFAULT_METRICS_PORTS[n]),
      what: `${n} metrics`,
      setting: serviceEnvName(n, 'METRICS_PORT'),
    })),
  ].filter((p) => p.port !== 0);
}

/** The Temporal server child's configuration: the dev server (history in a file), or the cluster on the PostgreSQL. */
function temporalServerSpec(
  options: LocalStackOptions,
  namespace: string,
  temporalDir: string,
  postgresPassword: string,
  pki: LocalPki | undefined,
): TemporalProcessConfig['server'] {
  return options.temporal === 'cluster'
    ? {
        kind: 'cluster',
        options: {
          postgres: { host: '127.0.0.1', port: options.postgresPort, user: 'postgres', password: postgresPassword },
          namespace,
          searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
          ports: { frontendGrpc: options.temporalPort },
          logDir: path.join(options.dataDir, 'temporal-cluster'),
          tls: pki,
        },
      }
    : {
        kind: 'dev-server',
        options: {
          port: options.temporalPort,
          uiPort: options.uiPort,
          namespace,
          dbFilename: path.join(temporalDir, 'temporal.db'),
          searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
          logFile: path.join(temporalDir, 'server.log'),
        },
      };
}
