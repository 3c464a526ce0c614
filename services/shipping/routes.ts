import { Router } from 'express';
import { z } from 'zod';
import { serviceRoutes } from '../shared/routes';
import { destinationSchema, idSchema, reasonSchema, returnLookupQuery } from '../shared/validation';
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
  const routes = serviceRoutes(router, db);
  router.get('/service-areas', async (_req, res) => {
    res.json(await db.serviceArea.findMany({ orderBy: { country: 'asc' } }));
  });
  routes.read('/shipments/:orderId', orderParams, shipping.find);
  routes.command('/shipments', 'schedule', { body: scheduleBody }, shipping.schedule);
  routes.command('/shipments/:orderId/confirm', 'confirm', { params: orderParams }, shipping.confirm);
  routes.command('/shipments/:orderId/cancel', 'cancel', { params: orderParams, body: cancelBody }, shipping.cancel);
  routes.command(
    '/shipments/:orderId/deliver',
    'deliver',
    { params: orderParams, body: deliverBody },
    shipping.deliver,
  );

  // Return pickups (see return-pickups.ts): written by the return saga's activities.
  routes.list('/return-pickups', 'returnPickups', returnLookupQuery, returnPickups.list);
  routes.command('/return-pickups', 'book-return-pickup', { body: bookPickupBody }, returnPickups.book);
  const cancelPickup = { params: returnParams, body: cancelBody };
  routes.command('/return-pickups/:returnId/cancel', 'cancel-return-pickup', cancelPickup, returnPickups.cancel);
  return router;
}
