import { createHash } from 'node:crypto';

/**
 * Idempotent requests, the same in every service: what a mutating request's Idempotency-Key stands for.
 *
 * Every service's schema has an `idempotency_records` table (model IdempotencyRecord): the stored answer to each
 * key, with the operation and a hash of the request it answered. A mutating request runs as one database function
 * (request-functions.ts) that:
 *   1. answers a replay from the stored record (a key reused for another operation or body is refused with 422);
 *   2. otherwise claims the key (INSERT ... ON CONFLICT DO NOTHING: a concurrent request with the same key waits on
 *      the primary key until the first commits, then finds its answer);
 *   3. does its business work and stores its response, in the same transaction, so the effect and the record commit
 *      together or not at all.
 * Only successes are stored: a rejected request (unknown id, illegal transition, business rejection) rolls back
 * whole and writes nothing at all, so repeating it simply asks again. The saga never repeats a rejected request (4xx
 * is final in the error contract), and the compensation that follows it leaves a tombstone that refuses any late copy
 * of the forward request.
 */

/** The key of one request and the hash of what it asks, as the request's database function takes them. */
export interface IdempotentCall {
  key: string;
  /** requestHash(operation, payload): detects a key reused for another request. */
  hash: string;
}

/** JSON with object keys sorted, so that the same payload always hashes the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export function requestHash(operation: string, payload: unknown): string {
  return createHash('sha256').update(canonicalJson({ operation, payload })).digest('hex');
}
