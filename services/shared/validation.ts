import type { RequestHandler } from 'express';
import { z } from 'zod';
import { BadRequestError } from './errors';

/** Identifiers that travel in URLs and keys: short, printable, no whitespace or control characters. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must contain only letters, digits, ".", "_", ":" or "-"');

/** A free-text reason for a cancellation or rejection: bounded, never empty. */
export const reasonSchema = z.string().trim().min(1).max(500);

/** Quantities are whole units, bounded so that a hostile value cannot overflow a 32-bit column. */
export const quantitySchema = z.number().int().positive().max(10_000);

/** Money is integer cents, bounded to the 32-bit column it is stored in. */
export const centsSchema = z.number().int().positive().max(100_000_000);

/** Order lines: at least one, at most 50, each SKU once (a duplicate SKU is ambiguous, so it is rejected). */
export const itemsSchema = z
  .array(z.object({ sku: idSchema, quantity: quantitySchema }).strict())
  .min(1)
  .max(50)
  .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku may appear only once');

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new BadRequestError(`invalid ${what}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`, result.error.issues, 'validation_failed');
  }
  return result.data;
}

/**
 * Validates req.body (and optionally req.params) before the handler runs; the parsed values replace the raw ones
 * so handlers only ever see typed, checked input.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the route's own types describe the parsed values.
export function validate<B, P = Record<string, string>>(schemas: { body?: z.ZodType<B>; params?: z.ZodType<P> }): RequestHandler<any, any, any> {
  return (req, _res, next) => {
    if (schemas.params) req.params = parseOrThrow(schemas.params, req.params, 'path parameters') as typeof req.params;
    if (schemas.body) req.body = parseOrThrow(schemas.body, req.body ?? {}, 'request body');
    next();
  };
}
