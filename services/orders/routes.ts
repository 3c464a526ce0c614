import { Router } from 'express';
import { z } from 'zod';
import { serviceRoutes } from '../shared/routes';
import { idSchema, itemsSchema, reasonSchema, returnLookupQuery } from '../shared/validation';
import { DEAD_LETTER_STATUSES, deadLetterEntrySchema } from '../shared/dead-letters';
import type { OrdersDb } from './db';
import * as deadLetters from './dead-letters';
import * as orders from './orders';
import * as returns from './returns';

const orderParams = z.object({ orderId: idSchema });
const createBody = z.object({ orderId: idSchema, customerId: idSchema, items: itemsSchema }).strict();
const reasonBody = z.object({ reason: reasonSchema }).strict();

const returnParams = z.object({ returnId: idSchema });
const requestReturnBody = z.object({ returnId: idSchema, orderId: idSchema, reason: reasonSchema }).strict();

const deadLetterParams = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
const deadLetterQuery = z
  .object({
    status: z.enum(DEAD_LETTER_STATUSES).optional(),
    sagaId: idSchema.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export function createOrdersRouter(db: OrdersDb): Router {
  const router = Router();
  const routes = serviceRoutes(router, db);
  routes.read('/orders/:orderId', orderParams, orders.find);
  routes.command('/orders', 'create', { body: createBody }, orders.create);
  routes.command('/orders/:orderId/approve', 'approve', { params: orderParams }, orders.approve);
  routes.command('/orders/:orderId/reject', 'reject', { params: orderParams, body: reasonBody }, orders.reject);
  routes.command('/orders/:orderId/cancel', 'cancel', { params: orderParams, body: reasonBody }, orders.cancel);

  // Returns of approved orders (see returns.ts): written by the return saga's activities.
  routes.list('/returns', 'returns', returnLookupQuery, returns.list);
  routes.command('/returns', 'request-return', { body: requestReturnBody }, returns.request);
  routes.command('/returns/:returnId/complete', 'complete-return', { params: returnParams }, returns.complete);
  routes.command(
    '/returns/:returnId/cancel',
    'cancel-return',
    { params: returnParams, body: reasonBody },
    returns.cancel,
  );

  // The dead-letter log (see dead-letters.ts): written by the saga's activities, read by operators.
  routes.list('/dead-letters', 'deadLetters', deadLetterQuery, deadLetters.list);
  routes.command('/dead-letters', 'dead-letter', { body: deadLetterEntrySchema }, deadLetters.record);
  const closeParams = { params: deadLetterParams };
  routes.command('/dead-letters/:id/retried', 'dead-letter-retried', closeParams, deadLetters.retried);
  routes.command(
    '/dead-letters/:id/resolved',
    'dead-letter-resolved',
    { ...closeParams, body: reasonBody },
    deadLetters.resolved,
  );
  return router;
}
