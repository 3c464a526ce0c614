import { ApplicationFailure, Context } from '@temporalio/activity';
import { Agent, request } from 'undici';
import type { ServiceName } from '../services/catalog';
import {
  BUSINESS_REJECTION_DETAIL,
  FAULT_INJECTION_HEADER,
  IDEMPOTENCY_KEY_HEADER,
  isAuthFailureStatus,
  isBusinessRejectionStatus,
  type ErrorBody,
} from '../services/shared/error-contract';

/**
 * Calls one service over HTTP and maps its answer onto Temporal's failure model, per the error contract in
 * services/shared/error-contract.ts:
 *   2xx                    → the parsed JSON body
 *   401, 403               → retryable ApplicationFailure of type ServiceAuthFailed: the worker's credential is
 *                            wrong, which says nothing about the business; retried until SERVICE_AUTH_TOKEN is fixed
 *   other 4xx but 408/429  → non-retryable ApplicationFailure whose type is the service's error code
 *                            (e.g. "insufficient_stock"): a business rejection, the saga compensates at once
 *   408, 429, 5xx, network → retryable ApplicationFailure: Temporal retries with back-off, and the saga
 *                            compensates only when the step's retry policy or timeout is exhausted
 */
export interface ServiceClientConfig {
  urls: Record<ServiceName, string>;
  /**
   * Timeout of a request made outside an activity (scripts, tests). Inside an activity a request gets what is left of
   * the attempt's start-to-close timeout (and schedule-to-close, if set) instead: see attemptTimeoutMs.
   */
  requestTimeoutMs: number;
  /** SERVICE_AUTH_TOKEN: the bearer token the services require on mutating requests. Never log it. */
  authToken: string;
}

export interface CallOptions {
  idempotencyKey?: string;
  /** Passed through to services that have fault injection enabled (tests and demos). */
  faults?: string;
  /** Aborts the request when the activity is cancelled. */
  signal?: AbortSignal;
}

/** Failure type of a 401/403: the worker and the services disagree on SERVICE_AUTH_TOKEN. */
export const SERVICE_AUTH_FAILED = 'ServiceAuthFailed';

export class ServiceClient {
  // Keep-alive connections: a saga makes several calls to the same services in quick succession.
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

  constructor(private readonly config: ServiceClientConfig) {}

  async call<T>(
    service: ServiceName,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: CallOptions = {},
  ): Promise<T> {
    const url = this.config.urls[service] + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers[IDEMPOTENCY_KEY_HEADER] = options.idempotencyKey;
    if (options.faults) headers[FAULT_INJECTION_HEADER] = options.faults;
    headers.authorization = `Bearer ${this.config.authToken}`;
    const timeoutMs = attemptTimeoutMs() ?? this.config.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

    let status: number;
    let text: string;
    try {
      const res = await request(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        dispatcher: this.agent,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      throw ApplicationFailure.retryable(`${service} unreachable (${method} ${path}): ${reason}`, 'ServiceUnreachable');
    }

    const parsed = parseJson(text);
    if (status >= 200 && status < 300) return parsed as T;
    const error = (parsed as ErrorBody | undefined)?.error;
    const message = `${service} answered ${status} to ${method} ${path}: ${error?.message ?? text.slice(0, 200)}`;
    if (isAuthFailureStatus(status)) {
      // Retryable on purpose: a misconfigured worker must not make the saga believe the business said no.
      throw ApplicationFailure.retryable(
        `${service} refused the worker's credential (${status} to ${method} ${path}): check SERVICE_AUTH_TOKEN on worker and services`,
        SERVICE_AUTH_FAILED,
      );
    }
    if (isBusinessRejectionStatus(status)) {
      throw ApplicationFailure.create({
        type: error?.code ?? `http_${status}`,
        message: error?.message ?? message,
        nonRetryable: true,
        details: [{ kind: BUSINESS_REJECTION_DETAIL, service, status, code: error?.code, details: error?.details }],
      });
    }
    throw ApplicationFailure.retryable(message, 'ServiceUnavailable');
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** When each activity attempt began, as this worker saw it: the first call's time (activities call right away). */
const attemptStarts = new WeakMap<Context, number>();

/**
 * How long a request made now may take: what is left of the current activity attempt, so that a participant that
 * answers within the step's timeout succeeds on that attempt (a fixed request timeout shorter than the step's would
 * cut it off and retry it forever), less a margin to report a real timeout as our own failure, with its reason,
 * before Temporal times the attempt out. Undefined outside an activity, or when no timeout is set.
 */
function attemptTimeoutMs(now = Date.now()): number | undefined {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return undefined; // not in an activity
  }
  const { startToCloseTimeoutMs, scheduleToCloseTimeoutMs, scheduledTimestampMs } = context.info;
  if (!attemptStarts.has(context)) attemptStarts.set(context, now);
  const limits: number[] = [];
  if (startToCloseTimeoutMs > 0) limits.push(attemptStarts.get(context)! + startToCloseTimeoutMs - now);
  if (scheduleToCloseTimeoutMs && scheduleToCloseTimeoutMs > 0)
    limits.push(scheduledTimestampMs + scheduleToCloseTimeoutMs - now);
  if (!limits.length) return undefined;
  const remaining = Math.min(...limits);
  const margin = Math.min(2_000, Math.max(200, remaining * 0.1));
  return Math.max(100, Math.floor(remaining - margin));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
