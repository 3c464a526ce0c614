import type { ServiceDefinition } from '../shared/runtime';
import { createPaymentsDb, type PaymentsDb } from './db';
import { createPaymentsRouter } from './routes';
import { seedPayments } from './seed';

export const paymentsService: ServiceDefinition<PaymentsDb> = {
  name: 'payments',
  createDb: createPaymentsDb,
  createRouter: createPaymentsRouter,
  seed: seedPayments,
};
