import { PrismaClient } from '../../prisma/payments/generated/client';
import { createServiceDb, type WithRequestPool } from '../shared/service-db';

export type PaymentsDb = WithRequestPool<PrismaClient>;

/**
 * The Prisma client runs on WASM with the pg driver adapter (no native engine to download), on the pool the request
 * functions share.
 */
export function createPaymentsDb(databaseUrl: string, poolSize: number): PaymentsDb {
  return createServiceDb(databaseUrl, poolSize, (adapter) => new PrismaClient({ adapter }));
}
