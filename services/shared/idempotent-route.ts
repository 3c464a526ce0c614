import type { Request, RequestHandler } from 'express';
import { IDEMPOTENCY_KEY_HEADER } from './error-contract';
import { BadRequestError } from './errors';
import { runIdempotent, type RawSql, type StoredResponse, type TransactionalDb } from './idempotency';

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Wraps a mutating handler: requires an Idempotency-Key header, runs the handler in one transaction with the key's
 * record, and answers with the stored response on a replay (marked by the Idempotent-Replayed header).
 */
export function idempotent<Tx extends RawSql, P = Record<string, string>>(
  db: TransactionalDb<Tx>,
  operation: string,
  handler: (tx: Tx, req: Request<P>) => Promise<StoredResponse>,
): RequestHandler<P> {
  return async (req, res) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (!key) throw new BadRequestError(`missing ${IDEMPOTENCY_KEY_HEADER} header`, undefined, 'missing_idempotency_key');
    if (!KEY_PATTERN.test(key)) throw new BadRequestError(`${IDEMPOTENCY_KEY_HEADER} must be 1-200 printable ASCII characters`, undefined, 'invalid_idempotency_key');
    const result = await runIdempotent(db, { key, operation, payload: { params: req.params, body: req.body } }, (tx) => handler(tx, req));
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  };
}
