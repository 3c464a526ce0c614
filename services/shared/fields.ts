import { z } from 'zod';

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

/**
 * Control characters, C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F): the one rule the services, the saga's
 * input contract and the CLI apply to text that is stored or printed. C1 includes terminal controls (U+009B is CSI),
 * so a name that passed would still rewrite an operator's screen when printed.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this rule's whole purpose
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** The text with every run of control characters replaced by one space (for error texts that are stored). */
export function withoutControlCharacters(text: string): string {
  return text.replace(new RegExp(`${CONTROL_CHARACTER.source}+`, 'g'), ' ');
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

/** The longest reason the services store and an operator may give. */
export const MAX_REASON_LENGTH = 500;

/**
 * A free-text reason — for a cancellation, a rejection, a return, or an operator's resolution of a dead letter:
 * trimmed, never empty, bounded, no control characters. The one rule for the services' request bodies, the saga's
 * input contract, the saga kit's operator update and the CLI's `--reason`.
 */
export const reasonSchema = textSchema(MAX_REASON_LENGTH);

/**
 * The reason, trimmed, or why it is refused, worded to follow its name ("--reason …", "the reason …"). Applies
 * reasonSchema (no I/O, deterministic: the saga's update validator calls it too).
 */
export function parseReason(value: unknown): { reason: string } | { problem: string } {
  const result = reasonSchema.safeParse(value);
  if (result.success) return { reason: result.data };
  const issue = result.error.issues[0];
  if (issue.code === 'too_big')
    return { problem: `is ${String(value).trim().length} characters long; at most ${MAX_REASON_LENGTH}` };
  if (issue.code === 'custom')
    return { problem: 'must not contain control characters (newlines, tabs, ...): one line of text' };
  return { problem: 'must not be empty: a resolution needs a reason (what was done by hand)' };
}

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
