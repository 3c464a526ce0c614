import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import { idSchema, itemsSchema, parseQuery, reasonSchema, returnLookupQuery, validate } from '../shared/validation';
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

  router.get('/orders/:orderId', validate({ params: orderParams }), async (req, res) => {
    const order = await db.order.findUnique({ where: { id: req.params.orderId }, include: orders.withLines });
    if (!order) throw new NotFoundError('unknown_order', `unknown order: ${req.params.orderId}`);
    res.json(order);
  });

  router.post(
    '/orders',
    validate({ body: createBody }),
    idempotent('create', (call, req) => orders.create(db, call, req.body)),
  );
  router.post(
    '/orders/:orderId/approve',
    validate({ params: orderParams, body: z.object({}).strict() }),
    idempotent('approve', (call, req) => orders.approve(db, call, req.params.orderId)),
  );
  router.post(
    '/orders/:orderId/reject',
    validate({ params: orderParams, body: reasonBody }),
    idempotent('reject', (call, req) =>
      orders.close(db, call, 'reject', req.params.orderId, 'REJECTED', req.body.reason),
    ),
  );
  router.post(
    '/orders/:orderId/cancel',
    validate({ params: orderParams, body: reasonBody }),
    idempotent('cancel', (call, req) =>
      orders.close(db, call, 'cancel', req.params.orderId, 'CANCELLED', req.body.reason),
    ),
  );

  // Returns of approved orders (see returns.ts): written by the return saga's activities.
  router.get('/returns', async (req, res) => {
    res.json({ returns: await returns.list(db, parseQuery(returnLookupQuery, req.query)) });
  });
  router.post(
    '/returns',
    validate({ body: requestReturnBody }),
    idempotent('request-return', (call, req) => returns.request(db, call, req.body)),
  );
  router.post(
    '/returns/:returnId/complete',
    validate({ params: returnParams, body: z.object({}).strict() }),
    idempotent('complete-return', (call, req) => returns.complete(db, call, req.params.returnId)),
  );
  router.post(
    '/returns/:returnId/cancel',
    validate({ params: returnParams, body: reasonBody }),
    idempotent('cancel-return', (call, req) => returns.cancel(db, call, req.params.returnId, req.body.reason)),
  );

  // The dead-letter log (see dead-letters.ts): written by the saga's activities, read by operators.
  router.get('/dead-letters', async (req, res) => {
    res.json({ deadLetters: await deadLetters.list(db, parseQuery(deadLetterQuery, req.query)) });
  });
  router.post(
    '/dead-letters',
    validate({ body: deadLetterEntrySchema }),
    idempotent('dead-letter', (call, req) => deadLetters.record(db, call, req.body)),
  );
  router.post(
    '/dead-letters/:id/retried',
    validate({ params: deadLetterParams, body: z.object({}).strict() }),
    idempotent('dead-letter-retried', (call, req) =>
      deadLetters.close(db, call, 'dead-letter-retried', Number(req.params.id), { status: 'RETRIED' }),
    ),
  );
  router.post(
    '/dead-letters/:id/resolved',
    validate({ params: deadLetterParams, body: reasonBody }),
    idempotent('dead-letter-resolved', (call, req) =>
      deadLetters.close(db, call, 'dead-letter-resolved', Number(req.params.id), {
        status: 'RESOLVED',
        resolution: req.body.reason,
      }),
    ),
  );
  return router;
}
