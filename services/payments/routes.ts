import { Router } from 'express';
import { z } from 'zod';
import { serviceRoutes } from '../shared/routes';
import { centsSchema, idSchema, reasonSchema, returnLookupQuery } from '../shared/validation';
import type { PaymentsDb } from './db';
import * as payments from './payments';
import * as refunds from './refunds';

const customerParams = z.object({ customerId: idSchema });
const orderParams = z.object({ orderId: idSchema });
const chargeBody = z.object({ orderId: idSchema, customerId: idSchema, amountCents: centsSchema }).strict();
const refundBody = z.object({ reason: reasonSchema }).strict();
const returnParams = z.object({ returnId: idSchema });
const refundReturnBody = z.object({ returnId: idSchema, orderId: idSchema, reason: reasonSchema }).strict();

export function createPaymentsRouter(db: PaymentsDb): Router {
  const router = Router();
  const routes = serviceRoutes(router, db);
  routes.read('/customers/:customerId', customerParams, payments.findCustomer);
  routes.read('/payments/:orderId', orderParams, payments.find);
  routes.command('/payments', 'charge', { body: chargeBody }, payments.charge);
  routes.command('/payments/:orderId/refund', 'refund', { params: orderParams, body: refundBody }, payments.refund);

  // Refunds of returned orders (see refunds.ts): written by the return saga's activities.
  routes.list('/refunds', 'refunds', returnLookupQuery, refunds.list);
  routes.command('/refunds', 'refund-return', { body: refundReturnBody }, refunds.refund);
  routes.command(
    '/refunds/:returnId/void',
    'void-refund',
    { params: returnParams, body: refundBody },
    refunds.voidRefund,
  );
  return router;
}
