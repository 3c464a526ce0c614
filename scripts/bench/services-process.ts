/**
 * Bench child process: embedded PostgreSQL (fresh, in a temp dir) and the four services, so their CPU time can be
 * read from /proc apart from the worker's and the server's. They require the bearer token in SERVICE_AUTH_TOKEN.
 * Talks to the parent over IPC:
 *   → { type: 'ready', urls, floorUrl }       ← { type: 'stop' }
 *
 * The floor of one service call (floorUrl): the services' own app frame (request log, bearer token, JSON body,
 * error handler) with one route, POST /floor, that makes one PostgreSQL round trip through the same Prisma client
 * ($queryRaw SELECT 1) and answers a small JSON body. What a real call costs beyond it is its own work.
 *
 * Bench set-up (not part of the services): after seeding, stock and balances are topped up with SQL on the
 * services' own databases, so thousands of sagas never run out of KB-001/CB-004 or cust-alice's money. cust-broke is
 * left at 5.00 so that the compensated series is rejected at the pivot.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { makeTempDirForPostgres, startEmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../infra/ports';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { startService, type RunningService, type ServiceDb } from '../../services/shared/runtime';
import { createServiceApp } from '../../services/shared/app';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { Router } from 'express';
import { createLogger } from '../../services/shared/logger';

const TOP_UP: Partial<Record<ServiceName, string[]>> = {
  inventory: ['UPDATE products SET available = 1000000'],
  payments: ["UPDATE customers SET balance_cents = 2000000000 WHERE id = 'cust-alice'"],
};

async function main() {
  const poolSize = Number(process.env.BENCH_DB_POOL_SIZE ?? 10);
  const authToken = process.env.SERVICE_AUTH_TOKEN!; // the run's random token, shared with the worker (run.ts)
  const parent = await makeTempDirForPostgres('saga-bench-pg-');
  const pgServer = await startEmbeddedPostgres({ dataDir: path.join(parent, 'data'), port: await getFreePort() });
  const services: RunningService<ServiceDb>[] = [];
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of services) await s.close().catch(() => undefined);
    await pgServer.stop().catch(() => undefined);
    await rm(parent, { recursive: true, force: true }).catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop());
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());

  for (const name of SERVICE_NAMES) {
    await pgServer.ensureDatabase(name);
    const service = await startService(
      SERVICE_DEFINITIONS[name],
      {
        port: 0,
        host: '127.0.0.1',
        databaseUrl: pgServer.url(name),
        dbPoolSize: poolSize,
        faultInjection: process.env.BENCH_FAULT_INJECTION === 'true',
        seed: true,
        logLevel: 'warn',
        authToken,
      },
      createLogger(name, 'warn'),
    );
    services.push(service);
    for (const sql of TOP_UP[name] ?? []) {
      const client = new pg.Client({ connectionString: pgServer.url(name) });
      await client.connect();
      await client.query(sql);
      await client.end();
    }
  }
  const urls = Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>;
  const floor = await startCallFloor(services[0], authToken);
  process.send!({ type: 'ready', urls, floorUrl: floor.url, poolSize });
}

/** The floor of a service call: one route, one PostgreSQL round trip, on the services' app frame. */
async function startCallFloor(service: RunningService<ServiceDb>, authToken: string) {
  const router = Router();
  router.post('/floor', async (_req, res) => {
    await service.db.$queryRaw`SELECT 1`;
    res.status(201).json({ ok: true });
  });
  const app = createServiceApp({
    name: 'floor',
    logger: createLogger('floor', 'warn'),
    faultInjection: false,
    authToken,
    router,
    healthCheck: async () => undefined,
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

main().catch((err) => {
  console.error(`bench services process failed: ${(err as Error).stack}`);
  process.exit(1);
});
