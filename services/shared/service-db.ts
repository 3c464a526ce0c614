import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

/**
 * A service's database: its Prisma client (reads, seeds, the health probe; the schema and migrations stay Prisma's),
 * and `requestPool`, the same connection pool, on which the request functions run with the pg driver directly
 * (request-functions.ts). WHY: a mutating request is one statement, and Prisma's $queryRaw cost about as much CPU in
 * the client (its query interpreter, parameter and result mapping) as the driver's whole round trip.
 */
export type WithRequestPool<Client extends object> = Client & { requestPool: pg.Pool };

export function createServiceDb<Client extends object>(
  databaseUrl: string,
  poolSize: number,
  createClient: (adapter: PrismaPg) => Client,
): WithRequestPool<Client> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle connection that breaks (the database restarted) is dropped by the pool and the next request opens a new
  // one; without a listener, pg would raise it as an uncaught error and end the process.
  pool.on('error', () => undefined);
  return Object.assign(createClient(new PrismaPg(pool)), { requestPool: pool });
}
