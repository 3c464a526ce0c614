import { PrismaClient } from '../../prisma/shipping/generated/client';
import { createServiceDb, type WithRequestPool } from '../shared/service-db';

export type ShippingDb = WithRequestPool<PrismaClient>;

/**
 * The Prisma client runs on WASM with the pg driver adapter (no native engine to download), on the pool the request
 * functions share.
 */
export function createShippingDb(databaseUrl: string, poolSize: number): ShippingDb {
  return createServiceDb(databaseUrl, poolSize, (adapter) => new PrismaClient({ adapter }));
}
