import { z } from 'zod';
import { idSchema, reasonSchema } from '../services/shared/fields';

/**
 * The return saga's input: business data only. Checked by the client before it starts a saga and again by the
 * workflow itself; the services check the same fields (services/shared/fields.ts).
 */
export const returnSagaInputSchema = z
  .object({
    /** The return's id: the saga's workflow id, so Temporal refuses a second saga for the same return. */
    returnId: idSchema,
    /** The approved, delivered order to return (whole). */
    orderId: idSchema,
    /** The customer's reason, kept with the return and the refund. */
    reason: reasonSchema,
  })
  .strict();
