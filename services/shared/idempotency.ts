import { createHash } from 'node:crypto';
import { BusinessRejectionError } from './errors';

/**
 * Idempotent request execution, the same in every service.
 *
 * Every service's schema has an `idempotency_records` table (model IdempotencyRecord). A mutating request:
 *   1. claims its key inside the business transaction (INSERT ... ON CONFLICT DO NOTHING). A concurrent request
 *      with the same key blocks on the unique index until the first commits, then finds the key taken;
 *   2. does its business work in the same transaction;
 *   3. stores its response in the same transaction, so the effect and the record commit together or not at all.
 * A replay returns the stored response. Only successes are stored: a rejected request (bad input, unknown id,
 * business rejection) rolls back whole and writes nothing at all, so repeating it simply asks again. The saga never
 * repeats a rejected request (4xx is final in the error contract), and the compensation that follows it leaves a
 * tombstone that refuses any late copy of the forward request.
 */

/** The part of a Prisma client (or interactive-transaction client) this module needs. */
export interface RawSql {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
}
export interface TransactionalDb<Tx extends RawSql> extends RawSql {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

export interface IdempotentRequest {
  key: string;
  /** Names the operation, e.g. "reserve"; a key reused for another operation is rejected. */
  operation: string;
  /** What identifies the request's meaning (params + body); hashed to detect a key reused with another body. */
  payload: unknown;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotentResult extends StoredResponse {
  /** True when this is the stored answer to an earlier request with the same key. */
  replayed: boolean;
}

/** Transaction limits: generous enough for a slow database, short enough to surface a stuck one as a 5xx. */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

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

interface RecordRow {
  operation: string;
  request_hash: string;
  status_code: number;
  response_body: unknown;
}

async function findRecord(db: RawSql, key: string): Promise<RecordRow | undefined> {
  const rows = await db.$queryRaw<RecordRow[]>`
    SELECT operation, request_hash, status_code, response_body FROM idempotency_records WHERE key = ${key}`;
  return rows[0];
}

function replay(record: RecordRow, operation: string, hash: string): IdempotentResult {
  if (record.operation !== operation || record.request_hash !== hash) {
    throw new BusinessRejectionError(
      'idempotency_key_reused',
      `Idempotency-Key was already used for a different request (${record.operation}); use a new key for a new request`,
    );
  }
  return { status: record.status_code, body: record.response_body, replayed: true };
}

/** Thrown inside the transaction to roll it back when a concurrent request committed the same key first. */
class KeyTakenConcurrently extends Error {}

export async function runIdempotent<Tx extends RawSql>(
  db: TransactionalDb<Tx>,
  request: IdempotentRequest,
  work: (tx: Tx) => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  const { key, operation } = request;
  const hash = requestHash(operation, request.payload);

  const earlier = await findRecord(db, key);
  if (earlier) return replay(earlier, operation, hash);

  try {
    const response = await db.$transaction(async (tx) => {
      const claimed = await tx.$executeRaw`
        INSERT INTO idempotency_records (key, operation, request_hash, status_code, response_body)
        VALUES (${key}, ${operation}, ${hash}, 0, 'null'::jsonb)
        ON CONFLICT (key) DO NOTHING`;
      if (claimed === 0) throw new KeyTakenConcurrently();
      const result = await work(tx);
      await tx.$executeRaw`
        UPDATE idempotency_records
        SET status_code = ${result.status}, response_body = ${JSON.stringify(result.body)}::jsonb
        WHERE key = ${key}`;
      return result;
    }, TRANSACTION_OPTIONS);
    return { ...response, replayed: false };
  } catch (err) {
    if (err instanceof KeyTakenConcurrently) {
      const winner = await findRecord(db, key);
      if (winner) return replay(winner, operation, hash);
      throw err;
    }
    throw err;
  }
}
