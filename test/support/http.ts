import { FAULT_INJECTION_HEADER, IDEMPOTENCY_KEY_HEADER } from '../../services/shared/error-contract';

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin fetch wrapper for tests: JSON in and out, optional idempotency key and fault header. */
export function httpClient(baseUrl: string) {
  async function request<T = any>(method: string, path: string, options: { body?: unknown; rawBody?: string; key?: string; faults?: string; headers?: Record<string, string> } = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
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
    get: <T = any>(path: string) => request<T>('GET', path),
    post: <T = any>(path: string, body?: unknown, options: { key?: string; faults?: string; headers?: Record<string, string>; rawBody?: string } = {}) =>
      request<T>('POST', path, { ...options, body }),
    request,
  };
}
