import { Router } from 'express';
import { z } from 'zod';
import { serviceRoutes } from '../shared/routes';
import { idSchema, itemsSchema, reasonSchema } from '../shared/validation';
import type { InventoryDb } from './db';
import * as inventory from './inventory';

const skuParams = z.object({ sku: idSchema });
const orderParams = z.object({ orderId: idSchema });
const reserveBody = z.object({ orderId: idSchema, items: itemsSchema }).strict();
const releaseBody = z.object({ reason: reasonSchema }).strict();
const restockBody = z.object({ returnId: idSchema }).strict();

export function createInventoryRouter(db: InventoryDb): Router {
  const router = Router();
  const routes = serviceRoutes(router, db);
  router.get('/products', async (_req, res) => {
    res.json(await db.product.findMany({ orderBy: { sku: 'asc' } }));
  });
  routes.read('/products/:sku', skuParams, inventory.findProduct);
  routes.read('/reservations/:orderId', orderParams, inventory.find);
  routes.command('/reservations', 'reserve', { body: reserveBody }, inventory.reserve);
  routes.command('/reservations/:orderId/confirm', 'confirm', { params: orderParams }, inventory.confirm);
  routes.command(
    '/reservations/:orderId/release',
    'release',
    { params: orderParams, body: releaseBody },
    inventory.release,
  );
  // The return saga: a returned order's units go back on the shelf.
  routes.command(
    '/reservations/:orderId/restock',
    'restock',
    { params: orderParams, body: restockBody },
    inventory.restock,
  );
  return router;
}
