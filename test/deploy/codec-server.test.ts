import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultPayloadConverter } from '@temporalio/common';
import { createCodecServerApp } from '../../runtime/codec-server';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, parsePayloadKeys } from '../../runtime/payload-codec';

/**
 * The codec server (Temporal's documented /encode and /decode) on a real HTTP server: what the worker encrypted, it
 * decodes for a caller with the token; CORS admits the web UI's origin only; nothing without the token.
 */
const TOKEN = randomBytes(24).toString('hex');
const UI_ORIGIN = 'http://127.0.0.1:8233';
const keys = `k2=${randomBytes(32).toString('base64')},k1=${randomBytes(32).toString('base64')}`;
const workerCodec = new AesGcmPayloadCodec(parsePayloadKeys(keys));

const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

describe('deploy: the codec server (POST /encode, /decode)', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createCodecServerApp({ codec: workerCodec, token: TOKEN, allowedOrigins: [UI_ORIGIN] }).listen(
      0,
      '127.0.0.1',
    );
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN, ...headers },
      body: JSON.stringify(body),
    });

  it('decodes what the worker encrypted, for a caller with the token, with CORS for the web UI', async () => {
    const input = { recipient: 'Zenobia Quartermaine', line1: '42 Wisteria Crescent', totalCents: 8900 };
    const encrypted = await workerCodec.encode([defaultPayloadConverter.toPayload(input)]);
    const response = await post('/decode', { payloads: encrypted.map(toJson) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), UI_ORIGIN);
    const { payloads } = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(payloads[0].metadata.encoding, 'base64').toString(), 'json/plain');
    assert.deepEqual(JSON.parse(Buffer.from(payloads[0].data, 'base64').toString()), input);
  });

  it('encodes with the current key, and what it encodes the worker decodes', async () => {
    const plain = toJson(defaultPayloadConverter.toPayload({ reason: 'refund by hand' }));
    const response = await post('/encode', { payloads: [plain] });
    assert.equal(response.status, 200);
    const { payloads } = (await response.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(payloads[0].metadata.encoding, 'base64').toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(payloads[0].metadata['encryption-key-id'], 'base64').toString(), 'k2');
    const [decoded] = await workerCodec.decode([
      {
        metadata: Object.fromEntries(
          Object.entries(payloads[0].metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
        ),
        data: Buffer.from(payloads[0].data, 'base64'),
      },
    ]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded), { reason: 'refund by hand' });
  });

  it('refuses without the token or with a wrong one (401), and never decodes then', async () => {
    const encrypted = await workerCodec.encode([defaultPayloadConverter.toPayload({ secret: 'x' })]);
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Record<string, string>[]) {
      const response = await post('/decode', { payloads: encrypted.map(toJson) }, headers);
      assert.equal(response.status, 401);
      assert.doesNotMatch(await response.text(), /secret/);
    }
  });

  it('CORS: a preflight from the web UI is allowed; from another origin it is refused, with no allow-origin', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const allowed = await preflight(UI_ORIGIN);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const other = await preflight('http://evil.example');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  it('a payload under an unknown key is a 422 naming the key; a malformed body a 400', async () => {
    const stranger = new AesGcmPayloadCodec(parsePayloadKeys(`k9=${randomBytes(32).toString('base64')}`));
    const foreign = await stranger.encode([defaultPayloadConverter.toPayload(1)]);
    const response = await post('/decode', { payloads: foreign.map(toJson) });
    assert.equal(response.status, 422);
    assert.match(await response.text(), /k9/);
    assert.equal((await post('/decode', { payloads: [{ data: 'not base64!' }] })).status, 400);
    assert.equal((await post('/decode', { nope: 1 })).status, 400);
  });
});
