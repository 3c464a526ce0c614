import type { ServiceDefinition } from '../shared/runtime';
import { createOrdersDb, type OrdersDb } from './db';
import { registerDeadLetterMetrics } from './metrics';
import { createOrdersRouter } from './routes';
import { seedOrders } from './seed';

export const ordersService: ServiceDefinition<OrdersDb> = {
  name: 'orders',
  createDb: createOrdersDb,
  createRouter: createOrdersRouter,
  seed: seedOrders,
  registerMetrics: registerDeadLetterMetrics,
};
