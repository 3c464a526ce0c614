import type { Request, RequestHandler } from 'express';
import { IDEMPOTENCY_KEY_HEADER } from './error-contract';
import { BadRequestError } from './errors';
import { requestHash, type IdempotentCall } from './idempotency';
import type { IdempotentResult } from './request-functions';

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Wraps a mutating handler: requires an Idempotency-Key header, hands the handler the key and the request's hash for
 * its request function (request-functions.ts), and answers with its response, marking a replay with the
 * Idempotent-Replayed header.
 */
export function idempotent<P = Record<string, string>>(
  operation: string,
  handler: (call: IdempotentCall, req: Request<P>) => Promise<IdempotentResult>,
): RequestHandler<P> {
  return async (req, res) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (!key)
      throw new BadRequestError(`missing ${IDEMPOTENCY_KEY_HEADER} header`, undefined, 'missing_idempotency_key');
    if (!KEY_PATTERN.test(key))
      throw new BadRequestError(
        `${IDEMPOTENCY_KEY_HEADER} must be 1-200 printable ASCII characters`,
        undefined,
        'invalid_idempotency_key',
      );
    const result = await handler({ key, hash: requestHash(operation, { params: req.params, body: req.body }) }, req);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  };
}
