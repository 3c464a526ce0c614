import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { UnauthorizedError } from './errors';

/**
 * Only the orchestrator may change state: every request that is not a read (anything but GET and HEAD, so every
 * route added later too) must carry `Authorization: Bearer <SERVICE_AUTH_TOKEN>`. Reads and /health stay open.
 *
 * Mounted before the body parser and fault injection: a stranger's body is never parsed and a stranger cannot
 * trigger a fault. The token is compared by SHA-256 digest with timingSafeEqual, so neither the content nor the
 * length of the expected token leaks through response timing.
 */
export function requireBearerToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const presented = /^Bearer +(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (presented === undefined) throw new UnauthorizedError('missing bearer token: mutating requests need "Authorization: Bearer <SERVICE_AUTH_TOKEN>"');
    if (!timingSafeEqual(digest(presented), expected)) throw new UnauthorizedError('invalid bearer token');
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
