import { z } from 'zod';
import { reasonRule } from 'temporal-saga-kit/workflow';

/**
 * Field schemas shared by the services (request validation) and the saga's input contract. Pure zod, no I/O, so
 * the workflow bundle can use them too.
 */

/** Identifiers that travel in URLs and keys: short, printable, no whitespace or control characters. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must contain only letters, digits, ".", "_", ":" or "-"');

// The reason rule (and the control characters it refuses) is the saga kit's: the services are its participants, and
// must accept every reason the kit hands a compensation.
export const CONTROL_CHARACTER = reasonRule.controlCharacter;
export const MAX_REASON_LENGTH = reasonRule.maxLength;
export const parseReason = reasonRule.parse;
export const withoutControlCharacters = reasonRule.withoutControlCharacters;

function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/**
 * Free text that is stored and printed: no control characters. PostgreSQL cannot store a NUL byte in TEXT, and a
 * database error would be a 5xx, which the error contract calls transient: the saga would retry it forever.
 */
export function textSchema(maxLength: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(maxLength)
    .refine((value) => !hasControlCharacters(value), 'must not contain control characters');
}

/**
 * A free-text reason — for a cancellation, a rejection, a return, or an operator's resolution of a dead letter:
 * trimmed, never empty, bounded, no control characters. The saga kit's reason rule (reasonRule, temporal-saga-kit/workflow) as the
 * services' request bodies and the saga's input contract check it.
 */
export const reasonSchema = textSchema(MAX_REASON_LENGTH);

/** The most units of one SKU in one order line. */
export const MAX_QUANTITY = 10_000;

/**
 * Quantities are whole units, bounded so that a hostile value cannot overflow the 32-bit columns. The databases back
 * this with CHECK constraints (a line's quantity > 0, stock counters >= 0), so no path can store a negative count.
 */
export const quantitySchema = z.number().int().positive().max(MAX_QUANTITY);

/** The largest amount of money one request moves (a charge, an order's total): 1,000,000.00. */
export const MAX_CENTS = 100_000_000;

/**
 * Money is integer cents, positive, at most MAX_CENTS: it fits the 32-bit columns it is stored in (CHECK constraints
 * there refuse amounts <= 0). An order's total, sum(quantity × price) computed in 64 bits by inventory, is held to the
 * same bound at its reservation (422 amount_too_large), so the saga never carries a total that payments cannot charge.
 */
export const centsSchema = z.number().int().positive().max(MAX_CENTS);

/** Order lines: at least one, at most 50, each SKU once (a duplicate SKU is ambiguous, so it is rejected). */
export const itemsSchema = z
  .array(z.object({ sku: idSchema, quantity: quantitySchema }).strict())
  .min(1)
  .max(50)
  .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku may appear only once');

/** A postal address; the country is an ISO 3166-1 alpha-2 code. */
export const destinationSchema = z
  .object({
    recipient: textSchema(100),
    line1: textSchema(200),
    city: textSchema(100),
    postalCode: textSchema(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "DE"'),
  })
  .strict();

export type Item = z.infer<typeof itemsSchema>[number];
export type Destination = z.infer<typeof destinationSchema>;
