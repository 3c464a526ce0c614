import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import { idSchema, itemsSchema, reasonSchema, validate } from '../shared/validation';
import type { OrdersDb } from './db';
import * as orders from './orders';

const orderParams = z.object({ orderId: idSchema });
const createBody = z.object({ orderId: idSchema, customerId: idSchema, items: itemsSchema }).strict();
const reasonBody = z.object({ reason: reasonSchema }).strict();

export function createOrdersRouter(db: OrdersDb): Router {
  const router = Router();

  router.get('/orders/:orderId', validate({ params: orderParams }), async (req, res) => {
    const order = await db.order.findUnique({ where: { id: req.params.orderId }, include: orders.withLines });
    if (!order) throw new NotFoundError('unknown_order', `unknown order: ${req.params.orderId}`);
    res.json(order);
  });

  router.post(
    '/orders',
    validate({ body: createBody }),
    idempotent(db, 'create', async (tx, req) => ({ status: 201, body: await orders.create(tx, req.body) })),
  );
  router.post(
    '/orders/:orderId/approve',
    validate({ params: orderParams, body: z.object({}).strict() }),
    idempotent(db, 'approve', async (tx, req) => ({ status: 200, body: await orders.approve(tx, req.params.orderId) })),
  );
  router.post(
    '/orders/:orderId/reject',
    validate({ params: orderParams, body: reasonBody }),
    idempotent(db, 'reject', async (tx, req) => {
      const { order, noop } = await orders.close(tx, req.params.orderId, 'REJECTED', req.body.reason);
      return { status: 200, body: { ...order, noop } };
    }),
  );
  router.post(
    '/orders/:orderId/cancel',
    validate({ params: orderParams, body: reasonBody }),
    idempotent(db, 'cancel', async (tx, req) => {
      const { order, noop } = await orders.close(tx, req.params.orderId, 'CANCELLED', req.body.reason);
      return { status: 200, body: { ...order, noop } };
    }),
  );
  return router;
}
