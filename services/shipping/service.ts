import type { ServiceDefinition } from '../shared/runtime';
import { createShippingDb, type ShippingDb } from './db';
import { createShippingRouter } from './routes';
import { seedShipping } from './seed';

export const shippingService: ServiceDefinition<ShippingDb> = {
  name: 'shipping',
  createDb: createShippingDb,
  createRouter: createShippingRouter,
  seed: seedShipping,
};
