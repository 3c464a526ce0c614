import { z } from 'zod';
import { idSchema, textSchema } from './fields';

/**
 * The dead-letter log's record, once for everyone who touches it: the saga kit records and closes entries
 * (temporal-saga-kit), the activities carry them (activities/dead-letter-activities.ts), the orders service stores them
 * (services/orders/dead-letters.ts) and operators' tools read them. Pure zod and types, so the workflow bundle may
 * import it.
 */

/** OPEN until an operator decides; RETRIED and RESOLVED are final. */
export const DEAD_LETTER_STATUSES = ['OPEN', 'RETRIED', 'RESOLVED'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** The longest texts an entry stores; the activities cut error texts to these before sending them. */
export const DEAD_LETTER_TEXT_LIMITS = { errorType: 200, lastError: 2000 } as const;

/** What the saga records about a compensation it gave up on, before it waits for an operator. */
export const deadLetterEntrySchema = z
  .object({
    sagaId: idSchema,
    /** The compensation, e.g. "release-inventory", and the forward step it undoes. */
    step: idSchema,
    forStep: idSchema,
    /** 1 for the first failure, +1 after each operator retry that failed again. */
    round: z.number().int().positive().max(10_000),
    errorType: textSchema(DEAD_LETTER_TEXT_LIMITS.errorType),
    lastError: textSchema(DEAD_LETTER_TEXT_LIMITS.lastError),
    /** Attempts made in this round (the retry policy's). */
    attempts: z.number().int().positive().max(1_000_000),
  })
  .strict();
export type DeadLetterEntry = z.infer<typeof deadLetterEntrySchema>;

/** How an operator closed an entry: retried by the saga, or resolved by hand with the operator's reason. */
export type DeadLetterOutcome = { status: 'RETRIED' } | { status: 'RESOLVED'; resolution: string };

/** What the log answers when an entry is recorded. */
export interface DeadLetterRecord {
  id: number;
  createdAt: string;
}
