/**
 * The error contract between the services and the saga's activities. It is written down once, here, and both
 * sides import it.
 *
 *   2xx             success. A replay of the same Idempotency-Key returns the first response (the same JSON value).
 *   400             bad input (validation, malformed JSON). Nothing was written. Do not retry.
 *   401, 403        missing or wrong credential (SERVICE_AUTH_TOKEN). Nothing was written. NOT a business answer:
 *                   the caller's configuration is wrong, so the caller retries until an operator fixes it, and the
 *                   saga never compensates because of it.
 *   404             unknown business object (order, SKU, customer). Do not retry.
 *   409             illegal state transition (e.g. refund after approval). Do not retry.
 *   413             body too large. Do not retry.
 *   422             business rejection (insufficient stock or funds, undeliverable destination) or an
 *                   Idempotency-Key reused with a different request. Do not retry.
 *   408, 429        the service asks the caller to come back later: transient, retry with back-off.
 *   5xx             transient failure (database down, injected fault, crash): retry with back-off.
 *   no response     connection refused / reset / timeout: transient, retry. The request may or may not have
 *                   taken effect; the Idempotency-Key makes the retry safe.
 *
 * Every error body has the same JSON shape: ErrorBody below.
 */
export interface ErrorBody {
  error: {
    /** Machine-readable code, e.g. "insufficient_stock"; the activity turns it into the failure's type. */
    code: string;
    /** Human-readable explanation, shown in the saga's final state and the web UI. */
    message: string;
    /** Optional structured details (validation issues, the conflicting state...). */
    details?: unknown;
  };
}

/** Statuses the caller must retry: the request did not (or may not) have taken effect in a final way. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Statuses that say the caller's credential is missing or wrong: a configuration problem, not the business. */
export function isAuthFailureStatus(status: number): boolean {
  return status === 401 || status === 403;
}

/** Statuses that are a final answer from the business: retrying the same request gets the same answer. */
export function isBusinessRejectionStatus(status: number): boolean {
  return status >= 400 && status < 500 && !isTransientStatus(status) && !isAuthFailureStatus(status);
}

/** The header that carries the idempotency key on every mutating request. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** The header that asks a service (with fault injection enabled) to misbehave; see faults.ts. */
export const FAULT_INJECTION_HEADER = 'x-fault-injection';

/**
 * The kind of detail an activity attaches to the failure it raises for a business rejection (a 4xx above that is not
 * an auth failure): the service's final "no", which wrote nothing. A saga that calls these services can take such a
 * failure as proof that the step had no effect (see workflows/order-saga.ts, options.wroteNothing).
 */
export const BUSINESS_REJECTION_DETAIL = 'business_rejection';

export function isBusinessRejectionDetail(detail: unknown): boolean {
  return (
    typeof detail === 'object' && detail !== null && (detail as { kind?: unknown }).kind === BUSINESS_REJECTION_DETAIL
  );
}
