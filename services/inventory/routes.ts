import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import { idSchema, itemsSchema, reasonSchema, validate } from '../shared/validation';
import type { InventoryDb } from './db';
import * as inventory from './inventory';

const orderParams = z.object({ orderId: idSchema });
const reserveBody = z.object({ orderId: idSchema, items: itemsSchema }).strict();
const releaseBody = z.object({ reason: reasonSchema }).strict();
const restockBody = z.object({ returnId: idSchema }).strict();

export function createInventoryRouter(db: InventoryDb): Router {
  const router = Router();

  router.get('/products', async (_req, res) => {
    res.json(await db.product.findMany({ orderBy: { sku: 'asc' } }));
  });
  router.get('/products/:sku', validate({ params: z.object({ sku: idSchema }) }), async (req, res) => {
    const product = await db.product.findUnique({ where: { sku: req.params.sku } });
    if (!product) throw new NotFoundError('unknown_sku', `unknown SKU: ${req.params.sku}`);
    res.json(product);
  });
  router.get('/reservations/:orderId', validate({ params: orderParams }), async (req, res) => {
    const reservation = await db.reservation.findUnique({
      where: { orderId: req.params.orderId },
      include: { lines: true },
    });
    if (!reservation) throw new NotFoundError('unknown_reservation', `no reservation for order ${req.params.orderId}`);
    res.json(reservation);
  });

  router.post(
    '/reservations',
    validate({ body: reserveBody }),
    idempotent('reserve', (call, req) => inventory.reserve(db, call, req.body)),
  );
  router.post(
    '/reservations/:orderId/confirm',
    validate({ params: orderParams, body: z.object({}).strict() }),
    idempotent('confirm', (call, req) => inventory.confirm(db, call, req.params.orderId)),
  );
  router.post(
    '/reservations/:orderId/release',
    validate({ params: orderParams, body: releaseBody }),
    idempotent('release', (call, req) => inventory.release(db, call, req.params.orderId, req.body.reason)),
  );
  // The return saga: a returned order's units go back on the shelf.
  router.post(
    '/reservations/:orderId/restock',
    validate({ params: orderParams, body: restockBody }),
    idempotent('restock', (call, req) => inventory.restock(db, call, req.params.orderId, req.body.returnId)),
  );
  return router;
}
