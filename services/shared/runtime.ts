import { once } from 'node:events';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { applyMigrations } from '../../runtime/migrate';
import type { ServiceName } from '../catalog';
import { createServiceApp } from './app';
import type { ServiceConfig } from './config';
import { createLogger } from './logger';
import { createServiceMetrics, serveMetrics } from './metrics';
import type { RequestFunctionDb } from './request-functions';

/** What a service provides to the shared runtime: its database client, its routes and its seed data. */
/** The part of a service's Prisma client the runtime uses. */
export interface ServiceDb extends RequestFunctionDb {
  $disconnect(): Promise<void>;
  $queryRaw: (q: TemplateStringsArray) => Promise<unknown>;
}

export interface ServiceDefinition<Db extends ServiceDb> {
  name: ServiceName;
  createDb(databaseUrl: string, poolSize: number): Db;
  createRouter(db: Db): Router;
  seed(db: Db): Promise<void>;
  /** Service-specific metrics (read at scrape time), besides the HTTP and process metrics every service has. */
  registerMetrics?(db: Db, registry: Registry): void;
}

export interface RunningService<Db> {
  name: ServiceName;
  url: string;
  port: number;
  db: Db;
  logger: Logger;
  /** GET /metrics (Prometheus), when the config gives a metrics port. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export function migrationsDir(service: ServiceName): string {
  return path.resolve(__dirname, '../../prisma', service, 'migrations');
}

/**
 * Starts one service: applies pending migrations, connects, optionally seeds, listens. The same path runs in
 * `npm start`, in docker-compose and in the tests.
 */
export async function startService<Db extends ServiceDb>(
  definition: ServiceDefinition<Db>,
  config: ServiceConfig,
  logger: Logger = createLogger(definition.name, config.logLevel),
): Promise<RunningService<Db>> {
  const report = await applyMigrations(config.databaseUrl, migrationsDir(definition.name));
  if (report.applied.length) logger.info({ applied: report.applied }, 'applied migrations');
  const db = definition.createDb(config.databaseUrl, config.dbPoolSize);
  try {
    if (config.seed) await definition.seed(db);
    const metrics = createServiceMetrics(definition.name);
    definition.registerMetrics?.(db, metrics.registry);
    const app = createServiceApp({
      name: definition.name,
      logger,
      faultInjection: config.faultInjection,
      authToken: config.authToken,
      readToken: config.readToken,
      router: definition.createRouter(db),
      metrics: metrics.httpMiddleware,
      healthCheck: async () => {
        await db.$queryRaw`SELECT 1`;
      },
    });
    const server: Server = app.listen(config.port, config.host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new Error(
              `${definition.name}: port ${config.port} is already in use; stop whatever holds it or set ${definition.name.toUpperCase()}_PORT`,
            )
          : err;
      }),
    ]);
    const port = (server.address() as { port: number }).port;
    const metricsServer =
      config.metricsPort === undefined
        ? undefined
        : await serveMetrics(metrics.registry, config.host, config.metricsPort).catch((err: Error) => {
            server.close();
            throw new Error(`${definition.name}: ${err.message}; set ${definition.name.toUpperCase()}_METRICS_PORT`);
          });
    logger.info(
      { port, metrics: metricsServer?.url, faultInjection: config.faultInjection },
      `${definition.name} service listening`,
    );
    let closing: Promise<void> | undefined;
    return {
      name: definition.name,
      url: `http://${config.host}:${port}`,
      port,
      db,
      logger,
      metricsUrl: metricsServer?.url,
      close: () =>
        (closing ??= (async () => {
          metricsServer?.server.close();
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await closeDb(db);
        })()),
    };
  } catch (err) {
    await closeDb(db);
    throw err;
  }
}

/** The Prisma client first, then the pool it shares with the request functions (Prisma leaves a pool it was given open). */
async function closeDb(db: ServiceDb): Promise<void> {
  await db.$disconnect();
  await db.requestPool.end();
}
