import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import { destinationSchema, idSchema, reasonSchema, validate } from '../shared/validation';
import type { ShippingDb } from './db';
import * as shipping from './shipping';

// The address and reason schemas are shared with the saga's input contract (services/shared/fields.ts), including
// the refusal of control characters, so the two cannot drift.
const orderParams = z.object({ orderId: idSchema });
const scheduleBody = z.object({ orderId: idSchema, destination: destinationSchema }).strict();
const cancelBody = z.object({ reason: reasonSchema }).strict();

export function createShippingRouter(db: ShippingDb): Router {
  const router = Router();

  router.get('/service-areas', async (_req, res) => {
    res.json(await db.serviceArea.findMany({ orderBy: { country: 'asc' } }));
  });
  router.get('/shipments/:orderId', validate({ params: orderParams }), async (req, res) => {
    const shipment = await db.shipment.findUnique({ where: { orderId: req.params.orderId } });
    if (!shipment) throw new NotFoundError('unknown_shipment', `no shipment for order ${req.params.orderId}`);
    res.json(shipment);
  });

  router.post(
    '/shipments',
    validate({ body: scheduleBody }),
    idempotent(db, 'schedule', async (tx, req) => ({ status: 201, body: await shipping.schedule(tx, req.body) })),
  );
  router.post(
    '/shipments/:orderId/confirm',
    validate({ params: orderParams, body: z.object({}).strict() }),
    idempotent(db, 'confirm', async (tx, req) => ({ status: 200, body: await shipping.confirm(tx, req.params.orderId) })),
  );
  router.post(
    '/shipments/:orderId/cancel',
    validate({ params: orderParams, body: cancelBody }),
    idempotent(db, 'cancel', async (tx, req) => {
      const { shipment, noop } = await shipping.cancel(tx, req.params.orderId, req.body.reason);
      return { status: 200, body: { ...shipment, noop } };
    }),
  );
  return router;
}
