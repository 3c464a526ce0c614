import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/shipping/generated/client';

export type ShippingDb = PrismaClient;

/** The Prisma client runs on WASM with the pg driver adapter: no native engine to download. */
export function createShippingDb(databaseUrl: string, poolSize: number): ShippingDb {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
