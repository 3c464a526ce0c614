import type { OrdersDb } from './db';

/** Nothing to seed: every order is created by its saga. Kept so the service has the same shape as the others. */
export async function seedOrders(_db: OrdersDb): Promise<void> {}
