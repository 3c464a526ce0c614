import type { ErrorBody } from './error-contract';

/**
 * Domain errors: handlers throw these and never format failure responses themselves; the error middleware in
 * app.ts maps them onto the HTTP error contract (error-contract.ts).
 */
export class HttpError extends Error {
  /** Response headers the contract requires with this error (e.g. WWW-Authenticate with a 401). */
  headers?: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** 400: the request itself is malformed. */
export class BadRequestError extends HttpError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(400, code, message, details);
  }
}

/** 401: the caller is not the orchestrator (no or wrong bearer token). Nothing was read from the body or written. */
export class UnauthorizedError extends HttpError {
  override headers = { 'WWW-Authenticate': 'Bearer' };
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

/** 403: a valid credential that may not do this (the read-only token on a write). Nothing was read from the body or written. */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/** 404: the business object does not exist. */
export class NotFoundError extends HttpError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** 422: the business says no (insufficient stock, funds, undeliverable destination...). */
export class BusinessRejectionError extends HttpError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}

/**
 * The contract's answer to an error thrown while handling a request, if it is the client's fault: our own HttpErrors
 * as they are, and the 4xx errors raised by the framework (a path parameter that is not valid percent-encoding: the
 * router's URIError), the body parser (malformed JSON, oversized, corrupt gzip/deflate/br, unknown encoding or
 * charset, an aborted upload) and anything else carrying a 4xx `status`. A 5xx tells the saga "transient, retry",
 * so a request that can never succeed must never get one. Undefined: the service's own fault (a 500).
 */
export function toClientError(err: unknown, limits: { maxBodyBytes: number }): HttpError | undefined {
  if (err instanceof HttpError) return err;
  const e = err as {
    status?: unknown;
    statusCode?: unknown;
    type?: string;
    code?: unknown;
    message?: string;
    expose?: boolean;
  } | null;
  const status =
    typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499) return undefined;
  if (err instanceof URIError)
    return new HttpError(400, 'malformed_path', 'the request path is not valid percent-encoding');
  switch (e?.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_json', 'request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', `request body exceeds ${limits.maxBodyBytes} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_encoding', e.message ?? 'unsupported encoding');
    case 'request.aborted':
    case 'request.size.invalid':
      return new HttpError(400, 'incomplete_body', 'the request body ended before its announced length');
  }
  // body-parser hands on decompression failures (corrupt gzip, deflate, br) as zlib's own errors, with a 400.
  if (typeof e?.code === 'string' && /^(Z_|ERR_)/.test(e.code)) {
    return new HttpError(400, 'malformed_body', 'request body could not be decoded (corrupt Content-Encoding)');
  }
  return new HttpError(
    status,
    status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request',
    e?.expose && e.message ? e.message : 'bad request',
  );
}
