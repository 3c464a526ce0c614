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
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
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

/** 404: the business object does not exist. */
export class NotFoundError extends HttpError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** 409: the object exists but is in a state that does not allow this operation. */
export class IllegalTransitionError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(409, 'illegal_transition', message, details);
  }
}

/** 422: the business says no (insufficient stock, funds, undeliverable destination...). */
export class BusinessRejectionError extends HttpError {
  constructor(code: string, message: string, details?: unknown) {
    super(422, code, message, details);
  }
}
