import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from './errors';

/**
 * Every endpoint but /health needs a bearer token, in one of two scopes:
 *   write  SERVICE_AUTH_TOKEN, the orchestrator's (the worker's): reads and changes state;
 *   read   SERVICE_READ_TOKEN (optional), for dashboards and tools: GET and HEAD only.
 * No token or an unknown one: 401. The read token on anything but a read: 403 (a request with a valid credential
 * that may not do this), so a tool cannot change state by mistake.
 *
 * Mounted before the body parser and fault injection: a stranger's body is never parsed and a stranger cannot
 * trigger a fault. Tokens are compared by SHA-256 digest with timingSafeEqual, so neither the content nor the length
 * of an expected token leaks through response timing; both are always compared, so neither does which one matched.
 */
export interface BearerTokens {
  write: string;
  read?: string;
}

export function requireBearerToken(tokens: BearerTokens): RequestHandler {
  const write = digest(tokens.write);
  // Without a read token, compare against a random one nobody holds (same timing, never a match).
  const read =
    tokens.read === undefined
      ? digest(createHash('sha256').update(`${Math.random()}${Date.now()}`).digest('hex'))
      : digest(tokens.read);
  return (req, _res, next) => {
    const presented = /^Bearer +(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    if (presented === undefined)
      throw new UnauthorizedError(
        'missing bearer token: send "Authorization: Bearer <token>" (SERVICE_AUTH_TOKEN, or SERVICE_READ_TOKEN to read)',
      );
    const p = digest(presented);
    const isWrite = timingSafeEqual(p, write);
    const isRead = timingSafeEqual(p, read);
    if (!isWrite && !isRead) throw new UnauthorizedError('invalid bearer token');
    if (!isWrite && req.method !== 'GET' && req.method !== 'HEAD') {
      throw new ForbiddenError(
        'the read-only token (SERVICE_READ_TOKEN) cannot change state: only the orchestrator (SERVICE_AUTH_TOKEN) may',
      );
    }
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
