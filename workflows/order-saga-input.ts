import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { faultSpecSchema } from '../services/shared/fault-spec';
import { destinationSchema, idSchema, itemsSchema } from '../services/shared/fields';

/**
 * The order saga's input contract, checked by the CLI before it starts a saga and again by the workflow itself
 * (a saga started some other way with bad input fails at once, non-retryably, before touching any service).
 */

/** Forward steps, in order. */
export const ORDER_SAGA_STEPS = [
  'create-order',
  'reserve-inventory',
  'schedule-shipment',
  'charge-payment',
  'confirm-reservation',
  'confirm-shipment',
  'approve-order',
] as const;
/** Compensating actions. */
export const ORDER_SAGA_COMPENSATIONS = ['reject-order', 'cancel-order', 'release-inventory', 'cancel-shipment', 'refund-payment'] as const;
export type OrderSagaActionName = (typeof ORDER_SAGA_STEPS)[number] | (typeof ORDER_SAGA_COMPENSATIONS)[number];

const durationSchema = z.union([z.number().int().positive(), z.string().regex(/^\d+(ms|s|m|h|d)$/)]);
const retrySchema = z
  .object({
    initialInterval: durationSchema.optional(),
    maximumInterval: durationSchema.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumAttempts: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  // Temporal refuses such a policy when the step is scheduled, which the saga would take for a failed step.
  .refine((r) => !r.initialInterval || !r.maximumInterval || msToNumber(r.initialInterval) <= msToNumber(r.maximumInterval), {
    message: 'initialInterval must not be longer than maximumInterval',
  });

export const orderSagaInputSchema = z
  .object({
    orderId: idSchema,
    customerId: idSchema,
    items: itemsSchema,
    destination: destinationSchema,
    /** Fault injection per action (tests and demos; ignored by services that do not enable it). */
    faults: z.partialRecord(z.enum([...ORDER_SAGA_STEPS, ...ORDER_SAGA_COMPENSATIONS]), faultSpecSchema).optional(),
    options: z
      .object({
        parallelCompensation: z.boolean().optional(),
        continueOnCompensationError: z.boolean().optional(),
        /** Retry policy of the forward steps before the pivot (after it, steps retry without limit). */
        stepRetry: retrySchema.optional(),
        /** Retry policy of the compensations. */
        compensationRetry: retrySchema.optional(),
        /** Start-to-close timeout of each activity. */
        stepTimeout: durationSchema.optional(),
        /**
         * Run the steps and compensations as local activities: executed by the worker that runs the workflow, with
         * no task queue round trip and far fewer workflow tasks (lower latency, less server work). The price: the
         * web UI shows them as markers rather than activities, and a long retry back-off is held by the worker.
         * Right for short calls like these; default false.
         */
        localActivities: z.boolean().optional(),
        /** The saga's overall deadline to reach its pivot (default 1h); past it, the saga compensates. */
        deadline: durationSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type OrderSagaInput = z.infer<typeof orderSagaInputSchema>;
