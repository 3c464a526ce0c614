/**
 * The chaos run's world on the Temporal dev server (the default): PostgreSQL (embedded, in this process: never killed
 * here), the four services in one child process on fixed ports, and the dev server on a fixed port and a SQLite file,
 * so that the services' process and the server can each be SIGKILLed and come back on the same address with their
 * data (`--kill worker,services,server`). The same shape as cluster-environment.ts.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDirForPostgres, startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../infra/ports';
import {
  startServicesProcess,
  type ServicesProcess,
  type ServicesProcessConfig,
} from '../../infra/processes/services-process';
import { startDevServer, type DevServer, type DevServerOptions } from '../../infra/temporal/dev-server';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../workflows/saga/search-attributes';
import type { ClusterEnvironmentOptions } from './cluster-environment';
import { topUp } from './top-up';

export const DEV_SERVER_KILL_KINDS = ['worker', 'services', 'server'] as const;
export type DevServerKillKind = (typeof DEV_SERVER_KILL_KINDS)[number];

export interface DevServerEnvironment {
  address: string;
  namespace: string;
  urls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
  /** SIGKILLs the services' process or the dev server and starts it again; resolves with the ms until it was back. */
  inject(kind: Exclude<DevServerKillKind, 'worker'>): Promise<number>;
  logTail(): string;
  stop(): Promise<void>;
}

export async function startDevServerEnvironment(o: ClusterEnvironmentOptions): Promise<DevServerEnvironment> {
  const pgParent = await makeTempDirForPostgres('saga-chaos-pg-');
  let postgres: EmbeddedPostgres | undefined;
  let services: ServicesProcess | undefined;
  let server: DevServer | undefined;
  const stop = async () => {
    await services?.stop(10_000).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
  };
  try {
    o.log('starting PostgreSQL, the services (fault injection on), the Temporal dev server (SQLite file)…');
    postgres = await startEmbeddedPostgres({ dataDir: path.join(pgParent, 'data'), port: await getFreePort() });
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
    const serverOptions: DevServerOptions = {
      ui: false,
      port: await getFreePort(),
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      dbFilename: path.join(o.dir, 'temporal.db'),
      logFile: path.join(o.dir, 'server.log'),
      // If this run dies, the server goes too.
      parentDeathSignal: 'SIGKILL',
    };
    [services, server] = await Promise.all([startServices(), startDevServer(serverOptions)]);
    if (o.topUp) for (const name of SERVICE_NAMES) await topUp(name, databaseUrls[name]);

    const timed = async (fn: () => Promise<void>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const inject = async (kind: Exclude<DevServerKillKind, 'worker'>): Promise<number> => {
      if (kind === 'services') {
        await services!.kill('SIGKILL');
        return timed(async () => {
          await sleep(o.restartDelayMs);
          services = await startServices();
        });
      }
      process.kill(server!.pid, 'SIGKILL');
      await server!.exited;
      await server!.stop(); // closes its log
      return timed(async () => {
        await sleep(o.restartDelayMs);
        server = await startDevServer(serverOptions);
      });
    };
    return {
      address: server.address,
      namespace: server.namespace,
      urls: Object.fromEntries(SERVICE_NAMES.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<
        ServiceName,
        string
      >,
      databaseUrls,
      inject,
      logTail: () => `${server!.logTail()}\n--- services ---\n${services!.logTail()}`,
      stop: async () => {
        await stop();
        const { rm } = await import('node:fs/promises');
        await rm(pgParent, { recursive: true, force: true }).catch(() => undefined);
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
