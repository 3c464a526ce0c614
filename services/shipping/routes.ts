import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import {
  destinationSchema,
  idSchema,
  parseQuery,
  reasonSchema,
  returnLookupQuery,
  validate,
} from '../shared/validation';
import type { ShippingDb } from './db';
import * as returnPickups from './return-pickups';
import * as shipping from './shipping';

// The address and reason schemas are shared with the saga's input contract (services/shared/fields.ts), including
// the refusal of control characters, so the two cannot drift.
const orderParams = z.object({ orderId: idSchema });
const scheduleBody = z.object({ orderId: idSchema, destination: destinationSchema }).strict();
const cancelBody = z.object({ reason: reasonSchema }).strict();
/** When the carrier delivered: an ISO 8601 time with its offset, not in the future (a minute of clock skew allowed). */
const deliverBody = z
  .object({
    deliveredAt: z.iso
      .datetime({ offset: true })
      .refine((at) => Date.parse(at) <= Date.now() + 60_000, 'must not be in the future')
      .optional(),
  })
  .strict();
const returnParams = z.object({ returnId: idSchema });
const bookPickupBody = z.object({ returnId: idSchema, orderId: idSchema }).strict();

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
    idempotent('schedule', (call, req) => shipping.schedule(db, call, req.body)),
  );
  router.post(
    '/shipments/:orderId/confirm',
    validate({ params: orderParams, body: z.object({}).strict() }),
    idempotent('confirm', (call, req) => shipping.confirm(db, call, req.params.orderId)),
  );
  router.post(
    '/shipments/:orderId/cancel',
    validate({ params: orderParams, body: cancelBody }),
    idempotent('cancel', (call, req) => shipping.cancel(db, call, req.params.orderId, req.body.reason)),
  );
  router.post(
    '/shipments/:orderId/deliver',
    validate({ params: orderParams, body: deliverBody }),
    idempotent('deliver', (call, req) => shipping.deliver(db, call, req.params.orderId, req.body.deliveredAt)),
  );

  // Return pickups (see return-pickups.ts): written by the return saga's activities.
  router.get('/return-pickups', async (req, res) => {
    res.json({ returnPickups: await returnPickups.list(db, parseQuery(returnLookupQuery, req.query)) });
  });
  router.post(
    '/return-pickups',
    validate({ body: bookPickupBody }),
    idempotent('book-return-pickup', (call, req) => returnPickups.book(db, call, req.body)),
  );
  router.post(
    '/return-pickups/:returnId/cancel',
    validate({ params: returnParams, body: cancelBody }),
    idempotent('cancel-return-pickup', (call, req) =>
      returnPickups.cancel(db, call, req.params.returnId, req.body.reason),
    ),
  );
  return router;
}
