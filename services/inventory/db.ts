import { PrismaClient } from '../../prisma/inventory/generated/client';
import { createServiceDb, type WithRequestPool } from '../shared/service-db';

export type InventoryDb = WithRequestPool<PrismaClient>;

/**
 * The Prisma client runs on WASM with the pg driver adapter (no native engine to download), on the pool the request
 * functions share.
 */
export function createInventoryDb(databaseUrl: string, poolSize: number): InventoryDb {
  return createServiceDb(databaseUrl, poolSize, (adapter) => new PrismaClient({ adapter }));
}
