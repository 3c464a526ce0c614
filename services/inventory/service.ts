import type { ServiceDefinition } from '../shared/runtime';
import { createInventoryDb, type InventoryDb } from './db';
import { createInventoryRouter } from './routes';
import { seedInventory } from './seed';

export const inventoryService: ServiceDefinition<InventoryDb> = {
  name: 'inventory',
  createDb: createInventoryDb,
  createRouter: createInventoryRouter,
  seed: seedInventory,
};
