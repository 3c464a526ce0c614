import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/orders/generated/client';

export type OrdersDb = PrismaClient;

/** The Prisma client runs on WASM with the pg driver adapter: no native engine to download. */
export function createOrdersDb(databaseUrl: string, poolSize: number): OrdersDb {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}
