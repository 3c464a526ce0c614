import { z } from 'zod';
import { destinationSchema, idSchema, itemsSchema } from '../services/shared/fields';

/**
 * The order saga's input: business data only (how a run executes is its SagaRunOptions; fault injection travels in
 * a Temporal header). Checked by the client before it starts a saga and again by the workflow itself.
 */
export const orderSagaInputSchema = z
  .object({
    orderId: idSchema,
    customerId: idSchema,
    items: itemsSchema,
    destination: destinationSchema,
  })
  .strict();

export type OrderSagaInput = z.infer<typeof orderSagaInputSchema>;
