import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/inventory/generated/client';

export type InventoryDb = PrismaClient;

/** The Prisma client runs on WASM with the pg driver adapter: no native engine to download. */
export function createInventoryDb(databaseUrl: string, poolSize: number): InventoryDb {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
