import type { RequestHandler } from 'express';
import { z } from 'zod';
import { BadRequestError } from './errors';
import { idSchema as id } from './fields';

export { idSchema, reasonSchema, quantitySchema, centsSchema, itemsSchema, destinationSchema } from './fields';

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new BadRequestError(
      `invalid ${what}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`,
      result.error.issues,
      'validation_failed',
    );
  }
  return result.data;
}

/** The query of a return's read routes (orders, shipping, payments): filter by order or return, newest first. */
export const returnLookupQuery = z
  .object({
    orderId: id.optional(),
    returnId: id.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type ReturnLookup = z.infer<typeof returnLookupQuery>;

/** The ordering and bound of a return lookup's rows: newest first, at most `limit`. */
export function newestFirst(lookup: ReturnLookup) {
  return { orderBy: { createdAt: 'desc' as const }, take: lookup.limit };
}

/** Parses a request's query string (express 5's req.query cannot be replaced, so a read route calls this itself). */
export function parseQuery<Q>(schema: z.ZodType<Q>, query: unknown): Q {
  return parseOrThrow(schema, query, 'query');
}

/**
 * Validates req.body (and optionally req.params) before the handler runs; the parsed values replace the raw ones
 * so handlers only ever see typed, checked input.
 */
export function validate<B, P = Record<string, string>>(schemas: {
  body?: z.ZodType<B>;
  params?: z.ZodType<P>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the route's own types describe the parsed values.
}): RequestHandler<any, any, any> {
  return (req, _res, next) => {
    if (schemas.params) req.params = parseOrThrow(schemas.params, req.params, 'path parameters') as typeof req.params;
    if (schemas.body) req.body = parseOrThrow(schemas.body, req.body ?? {}, 'request body');
    next();
  };
}
