import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/payments/generated/client';

export type PaymentsDb = PrismaClient;

/** The Prisma client runs on WASM with the pg driver adapter: no native engine to download. */
export function createPaymentsDb(databaseUrl: string, poolSize: number): PaymentsDb {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
