import { FAULT_INJECTION_HEADER, IDEMPOTENCY_KEY_HEADER } from '../../services/shared/error-contract';
import { TEST_SERVICE_TOKEN } from './services';

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  key?: string;
  faults?: string;
  headers?: Record<string, string>;
  /** The Authorization header: by default the test services' bearer token; false sends none, a string sends it as is. */
  auth?: false | string;
}

/** A thin fetch wrapper for tests: JSON in and out, the services' bearer token, optional idempotency key and fault header. */
export function httpClient(baseUrl: string) {
  async function request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TestResponse<T>> {
    const headers: Record<string, string> = {};
    const auth = options.auth ?? `Bearer ${TEST_SERVICE_TOKEN}`;
    if (auth !== false) headers.authorization = auth;
    Object.assign(headers, options.headers);
    if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] ??= 'application/json';
    if (options.key) headers[IDEMPOTENCY_KEY_HEADER] = options.key;
    if (options.faults) headers[FAULT_INJECTION_HEADER] = options.faults;
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text so assertions can show it
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }
  return {
    get: <T = any>(path: string, options: Pick<RequestOptions, 'headers' | 'auth'> = {}) =>
      request<T>('GET', path, options),
    post: <T = any>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}) =>
      request<T>('POST', path, { ...options, body }),
    request,
  };
}
