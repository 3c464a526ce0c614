import type { Router } from 'express';
import { z } from 'zod';
import { NotFoundError } from './errors';
import type { IdempotentCall } from './idempotency';
import { idempotent } from './idempotent-route';
import type { IdempotentResult } from './request-functions';
import { parseQuery, validate } from './validation';

/**
 * The three shapes a service's route takes, written once, so a router is a list of one-line declarations and the
 * HTTP error contract (error-contract.ts) is the same on every route: bad path parameters, query or body → 400
 * validation_failed before anything else; a mutating request without a usable Idempotency-Key → 400; an unknown
 * object → 404 (notFound). Each route hands its service function the service's database and one input object, the
 * validated path parameters and body merged.
 */
export function serviceRoutes<Db>(router: Router, db: Db) {
  return {
    /** A read by path parameters: answers what `read` returns (which calls notFound when there is nothing). */
    read<P>(path: string, params: z.ZodType<P>, read: (db: Db, params: P) => Promise<object>): void {
      router.get(path, validate({ params }), async (req, res) => {
        res.json(await read(db, req.params as P));
      });
    },

    /** A filtered list: the query string validated, the answer `{ [key]: rows }`. */
    list<Q>(path: string, key: string, query: z.ZodType<Q>, list: (db: Db, query: Q) => Promise<unknown[]>): void {
      router.get(path, async (req, res) => {
        res.json({ [key]: await list(db, parseQuery(query, req.query)) });
      });
    },

    /**
     * A mutating request, parse → call the request function → answer: path parameters and body validated (a route
     * without a body schema accepts only `{}`), the Idempotency-Key required, the request function's result the answer
     * (idempotent-route.ts). `operation` names the request in its idempotency record.
     */
    command<P extends object = object, B extends object = object>(
      path: string,
      operation: string,
      schemas: { params?: z.ZodType<P>; body?: z.ZodType<B> },
      run: (db: Db, call: IdempotentCall, input: P & B) => Promise<IdempotentResult>,
    ): void {
      router.post(
        path,
        validate({ params: schemas.params, body: schemas.body ?? (NO_BODY as z.ZodType<B>) }),
        idempotent(operation, (call, req) => run(db, call, { ...(req.params as P), ...(req.body as B) })),
      );
    },
  };
}

const NO_BODY = z.object({}).strict();

/** For a read that found nothing: `?? notFound('unknown_order', ...)` answers 404 with that code and message. */
export function notFound(code: string, message: string): never {
  throw new NotFoundError(code, message);
}
