import assert from 'node:assert/strict';
import { MAX_BODY_BYTES } from '../../services/shared/app';
import { snapshotTables } from './db-snapshot';
import type { httpClient, TestResponse } from './http';

export interface BadInputCase {
  name: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** false: send no Idempotency-Key header. */
  key?: string | false;
  expectStatus: number;
}

/** Inputs every mutating endpoint must refuse, whatever the service: the transport-level half of the list. */
export function transportBadInputs(path: string, validBody: unknown): BadInputCase[] {
  return [
    { name: 'malformed JSON', path, rawBody: '{"orderId": "o-1", ', expectStatus: 400 },
    {
      name: 'oversized body',
      path,
      rawBody: JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES + 1) }),
      expectStatus: 413,
    },
    { name: 'missing Idempotency-Key', path, body: validBody, key: false, expectStatus: 400 },
    { name: 'body is an array', path, body: [validBody], expectStatus: 400 },
    {
      name: 'body is not JSON (text/plain)',
      path,
      rawBody: 'hello',
      headers: { 'content-type': 'text/plain' },
      expectStatus: 400,
    },
    { name: 'unknown extra field', path, body: { ...(validBody as object), admin: true }, expectStatus: 400 },
  ];
}

/** Sends each case and proves a 4xx with a JSON error body and that not one row changed anywhere. */
export async function assertRejectedWithoutWrites(
  client: ReturnType<typeof httpClient>,
  databaseUrl: string,
  cases: BadInputCase[],
): Promise<void> {
  assert.ok(cases.length >= 10, `at least 10 kinds of bad input (got ${cases.length})`);
  const before = await snapshotTables(databaseUrl);
  for (const [i, c] of cases.entries()) {
    const res = await client.request('POST', c.path, {
      body: c.body,
      rawBody: c.rawBody,
      headers: c.headers,
      key: c.key === false ? undefined : (c.key ?? `bad-input-${i}`),
    });
    assert.equal(
      res.status,
      c.expectStatus,
      `${c.name}: expected ${c.expectStatus}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
    assert.equal(typeof res.body?.error?.code, 'string', `${c.name}: JSON error body with a code`);
    assert.ok(res.body.error.message.length > 0, `${c.name}: a message`);
  }
  assert.deepEqual(await snapshotTables(databaseUrl), before, 'bad input must not write a single row');
}

/** Sends a request and proves it was refused with this status and code, and that not one row changed. */
export async function assertRefused(
  databaseUrl: string,
  send: () => Promise<TestResponse>,
  status: number,
  code: string,
): Promise<TestResponse> {
  const before = await snapshotTables(databaseUrl);
  const res = await send();
  assert.deepEqual([res.status, res.body?.error?.code], [status, code], JSON.stringify(res.body));
  assert.ok(res.body.error.message.length > 0);
  assert.deepEqual(await snapshotTables(databaseUrl), before, `${code}: nothing written`);
  return res;
}
