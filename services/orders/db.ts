import { PrismaClient } from '../../prisma/orders/generated/client';
import { createServiceDb, type WithRequestPool } from '../shared/service-db';

export type OrdersDb = WithRequestPool<PrismaClient>;

/**
 * The Prisma client runs on WASM with the pg driver adapter (no native engine to download), on the pool the request
 * functions share.
 */
export function createOrdersDb(databaseUrl: string, poolSize: number): OrdersDb {
  return createServiceDb(databaseUrl, poolSize, (adapter) => new PrismaClient({ adapter }));
}
