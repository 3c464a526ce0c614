import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors';
import { idempotent } from '../shared/idempotent-route';
import { centsSchema, idSchema, parseQuery, reasonSchema, returnLookupQuery, validate } from '../shared/validation';
import type { PaymentsDb } from './db';
import * as payments from './payments';
import * as refunds from './refunds';

const orderParams = z.object({ orderId: idSchema });
const chargeBody = z.object({ orderId: idSchema, customerId: idSchema, amountCents: centsSchema }).strict();
const refundBody = z.object({ reason: reasonSchema }).strict();
const returnParams = z.object({ returnId: idSchema });
const refundReturnBody = z.object({ returnId: idSchema, orderId: idSchema, reason: reasonSchema }).strict();

export function createPaymentsRouter(db: PaymentsDb): Router {
  const router = Router();

  router.get('/customers/:customerId', validate({ params: z.object({ customerId: idSchema }) }), async (req, res) => {
    const customer = await db.customer.findUnique({ where: { id: req.params.customerId } });
    if (!customer) throw new NotFoundError('unknown_customer', `unknown customer: ${req.params.customerId}`);
    res.json(customer);
  });
  router.get('/payments/:orderId', validate({ params: orderParams }), async (req, res) => {
    const payment = await db.payment.findUnique({ where: { orderId: req.params.orderId } });
    if (!payment) throw new NotFoundError('unknown_payment', `no payment for order ${req.params.orderId}`);
    res.json(payment);
  });

  router.post(
    '/payments',
    validate({ body: chargeBody }),
    idempotent('charge', (call, req) => payments.charge(db, call, req.body)),
  );
  router.post(
    '/payments/:orderId/refund',
    validate({ params: orderParams, body: refundBody }),
    idempotent('refund', (call, req) => payments.refund(db, call, req.params.orderId, req.body.reason)),
  );

  // Refunds of returned orders (see refunds.ts): written by the return saga's activities.
  router.get('/refunds', async (req, res) => {
    res.json({ refunds: await refunds.list(db, parseQuery(returnLookupQuery, req.query)) });
  });
  router.post(
    '/refunds',
    validate({ body: refundReturnBody }),
    idempotent('refund-return', (call, req) => refunds.refund(db, call, req.body)),
  );
  router.post(
    '/refunds/:returnId/void',
    validate({ params: returnParams, body: refundBody }),
    idempotent('void-refund', (call, req) => refunds.voidRefund(db, call, req.params.returnId, req.body.reason)),
  );
  return router;
}
