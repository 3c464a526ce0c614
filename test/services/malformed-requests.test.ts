import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { MAX_BODY_BYTES } from '../../services/shared/app';
import type { RunningService, ServiceDb } from '../../services/shared/runtime';
import { snapshotTables } from '../support/db-snapshot';
import { serviceRoutes, startTestService, TEST_READ_TOKEN, TEST_SERVICE_TOKEN } from '../support/services';

/**
 * Property: whatever a client sends — a broken path, credentials, headers, encodings or bodies — a service answers
 * with a 4xx in the JSON error contract, never a 5xx (which would tell the saga "transient, retry" for a request that
 * can never succeed), never hangs, and writes nothing. fast-check generates the requests; every route of every
 * service is read from the services' own routers, so a route added later is covered too.
 *
 * Each request carries at least one defect chosen first (so none of them can be valid and write), plus random noise
 * in every other dimension. FC_SEED=<n> replays a run; FC_RUNS=<n> changes the count (default 1,000).
 */
const RUNS = Number(process.env.FC_RUNS ?? 1_000);
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REQUEST_TIMEOUT_MS = 5_000;

interface Route {
  service: ServiceName;
  method: string;
  /** Express path pattern, e.g. /orders/:orderId/approve */
  pattern: string;
}

/** Every route the service's router declares, plus the frame's /health. */
function routesOf(service: ServiceName, db: ServiceDb): Route[] {
  return [
    ...serviceRoutes(SERVICE_DEFINITIONS[service], db).map((r) => ({ service, ...r })),
    { service, method: 'GET', pattern: '/health' },
  ];
}

type Defect = 'path' | 'auth' | 'key' | 'encoding' | 'body' | 'fault' | 'method';

/** Path parameters that can never be valid ids: broken percent-encoding, control characters (C0, DEL, C1), too long, … */
const badParam = fc.oneof(
  fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%FF', '%C0%80', '%ED%A0%80', 'a%2', '..%2F..%2Fetc', '%2e%2e'),
  fc
    .integer({ min: 0, max: 0x9f })
    .filter((c) => c < 0x20 || c >= 0x7f)
    .map((c) => `ord${encodeURIComponent(String.fromCharCode(c))}1`),
  fc.integer({ min: 65, max: 400 }).map((n) => 'a'.repeat(n)),
  fc
    .string({ unit: 'binary', minLength: 1, maxLength: 30 })
    .filter((s) => !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(s))
    .map(encodeURIComponent),
);
const goodParam = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);

/** Bodies no route accepts: malformed JSON, not an object, an unknown field (every body schema is strict), too big. */
const badBody = fc.oneof(
  fc.constantFrom('{', '{"orderId": ', 'nul', '{"a":1}}', '\u0000', '\uFEFF{}', '{"reason": "x"\u0000}', '[', '"'),
  fc
    .oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.integer(), fc.string(), fc.constant(null), fc.boolean())
    .map((v) => JSON.stringify(v)),
  fc
    .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((o) => JSON.stringify({ ...o, __unknown_field__: 1 })),
  fc
    .record({
      orderId: fc.jsonValue({ maxDepth: 1 }),
      items: fc.jsonValue({ maxDepth: 2 }),
      reason: fc.jsonValue({ maxDepth: 1 }),
      extra: fc.constant(true),
    })
    .map((o) => JSON.stringify(o)),
  fc
    .integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 3 })
    .map((n) => JSON.stringify({ padding: 'x'.repeat(n) })),
);
/** Bodies that are harmless noise when another defect is the point. */
const anyBody = fc.oneof(badBody, fc.constant(''), fc.constant('{}'), fc.constant('{"reason":"noise"}'));

const badAuth = fc.constantFrom<string | undefined>(
  undefined,
  'Bearer wrong-token-0123456789abcdef',
  'Bearer ',
  `Basic ${Buffer.from('a:b').toString('base64')}`,
  TEST_SERVICE_TOKEN,
  `Bearer ${TEST_SERVICE_TOKEN}x`,
  'Bearer ü',
);
const badKey = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  fc.constant('k'.repeat(201)),
  fc.constantFrom('has space', 'tab\there', 'é-latin1', '\u00a0nbsp'),
);
const goodKey = fc.stringMatching(/^[a-z0-9:-]{1,40}$/).map((k) => `fc-${k}`);

type Encoding = { name?: string; corrupt: boolean };
const badEncoding = fc.oneof(
  fc.constantFrom<Encoding>(
    { name: 'gzip', corrupt: true },
    { name: 'deflate', corrupt: true },
    { name: 'br', corrupt: true },
    { name: 'x-unknown', corrupt: false },
    { name: 'gzip, gzip', corrupt: true },
    { name: 'compress', corrupt: false },
  ),
);
const anyEncoding = fc.oneof(
  badEncoding,
  fc.constantFrom<Encoding>({ corrupt: false }, { name: 'identity', corrupt: false }, { name: 'gzip', corrupt: false }),
);
const anyContentType = fc.constantFrom<string | undefined>(
  'application/json',
  'application/json; charset=utf-8',
  undefined,
  'text/plain',
  'application/json; charset=koi8-r',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
);
/** Injected-fault specs the services must refuse (a valid transient or lost-response spec answers 503 on purpose). */
const badFault = fc.constantFrom(
  'delay:99999999',
  'delay:-1',
  'delay:1.5',
  'transient:0',
  'transient:1000',
  'lost-response:x',
  'bogus',
  'reject:1',
  ',,,delay',
  'delay:60001',
  'reject',
);
const anyFault = fc.oneof(fc.constant(undefined), badFault);
const badMethod = fc.constantFrom('PUT', 'PATCH', 'DELETE');

interface Generated {
  route: Route;
  defect: Defect;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function generator(routes: Route[]) {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      defect: fc.constantFrom<Defect>('path', 'auth', 'key', 'encoding', 'body', 'fault', 'method'),
      goodParam,
      badParam,
      auth: fc.oneof(badAuth, fc.constant(`Bearer ${TEST_SERVICE_TOKEN}`), fc.constant(`Bearer ${TEST_READ_TOKEN}`)),
      badAuth,
      key: fc.oneof(goodKey, badKey),
      badKey,
      encoding: anyEncoding,
      badEncoding,
      contentType: anyContentType,
      body: anyBody,
      badBody,
      fault: anyFault,
      badFault,
      badMethod,
      query: fc.oneof(
        fc.constant(''),
        fc.constantFrom(
          '?limit=0',
          '?limit=abc',
          '?sagaId=%ZZ',
          '?sagaId=a&sagaId=b',
          '?status=NOPE',
          '?x=1',
          '?limit[a]=1',
          '?%ZZ=1',
        ),
      ),
    })
    .map((g): Generated => {
      const d = g.defect;
      const isRead = g.route.method === 'GET';
      const hasParam = g.route.pattern.includes(':');
      // A read has no body, key or faults to break: its defect is the path (if any), its credentials or its method.
      const defect: Defect =
        isRead && !['auth', 'method'].includes(d)
          ? hasParam
            ? 'path'
            : 'auth'
          : d === 'path' && !hasParam
            ? 'body'
            : d;
      const param = defect === 'path' ? g.badParam : g.goodParam;
      const path = g.route.pattern.replace(/:[A-Za-z]+/g, param) + g.query;
      const headers: Record<string, string> = { accept: 'application/json' };
      const auth = defect === 'auth' ? g.badAuth : g.auth;
      if (auth !== undefined) headers.authorization = auth;
      if (isRead && g.route.pattern !== '/health') {
        return {
          route: g.route,
          defect,
          method: defect === 'method' ? g.badMethod : 'GET',
          path,
          headers,
          body: Buffer.alloc(0),
        };
      }
      const key = defect === 'key' ? g.badKey : g.key;
      if (key !== undefined) headers['idempotency-key'] = key;
      const fault = defect === 'fault' ? g.badFault : g.fault;
      if (fault !== undefined) headers['x-fault-injection'] = fault;
      // A body defect only counts when the body parser reads it: then the type is JSON.
      const contentType = defect === 'body' ? 'application/json' : g.contentType;
      if (contentType) headers['content-type'] = contentType;
      const encoding = defect === 'encoding' ? g.badEncoding : g.encoding;
      let body = Buffer.from(defect === 'body' ? g.badBody : g.body);
      if (encoding.name) {
        headers['content-encoding'] = encoding.name;
        if (encoding.corrupt) body = Buffer.concat([Buffer.from('not-compressed'), body]);
        else if (encoding.name === 'gzip') body = zlib.gzipSync(body);
      }
      return {
        route: g.route,
        defect,
        method: defect === 'method' ? g.badMethod : g.route.method,
        path,
        headers,
        body,
      };
    });
}

type RawRequest = Pick<Generated, 'method' | 'path' | 'headers' | 'body'>;

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP request (node:http: no client-side normalisation of the path), with a deadline. */
function send(baseUrl: string, r: RawRequest, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers: { ...r.headers, 'content-length': String(r.body.length) },
        agent,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (a hang)`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

describe('services: generated malformed requests (property-based, fast-check)', function () {
  this.timeout(600_000);
  const services = {} as Record<ServiceName, RunningService<ServiceDb> & { databaseUrl: string }>;

  before(async () => {
    for (const name of SERVICE_NAMES)
      services[name] = await startTestService(SERVICE_DEFINITIONS[name], { faultInjection: true });
  });
  after(() => Promise.all(Object.values(services).map((s) => s.close())));

  it('the three requests of issue 17 (broken percent-encoding in a path, a corrupt gzip body) answer 400 in the error contract', async () => {
    const agent = new http.Agent();
    const write = { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'content-type': 'application/json' };
    const cases: [RawRequest, string][] = [
      [
        {
          method: 'POST',
          path: '/orders/%ZZ/approve',
          headers: { ...write, 'idempotency-key': 'k1' },
          body: Buffer.from('{}'),
        },
        'malformed_path',
      ],
      [
        {
          method: 'POST',
          path: '/orders',
          headers: { ...write, 'idempotency-key': 'k2', 'content-encoding': 'gzip' },
          body: Buffer.from('not gzip'),
        },
        'malformed_body',
      ],
      [
        {
          method: 'GET',
          path: '/orders/%ZZ',
          headers: { authorization: `Bearer ${TEST_READ_TOKEN}` },
          body: Buffer.alloc(0),
        },
        'malformed_path',
      ],
      [
        {
          method: 'POST',
          path: '/orders',
          headers: { ...write, 'idempotency-key': 'k3', 'content-encoding': 'deflate' },
          body: Buffer.from('not deflate'),
        },
        'malformed_body',
      ],
    ];
    const before = await snapshotTables(services.orders.databaseUrl);
    for (const [request, code] of cases) {
      const res = await send(services.orders.url, request, agent);
      assert.equal(res.status, 400, `${request.method} ${request.path}: ${res.text}`);
      assert.equal((JSON.parse(res.text) as { error: { code: string } }).error.code, code);
    }
    agent.destroy();
    assert.deepEqual(await snapshotTables(services.orders.databaseUrl), before);
  });

  it('one rule for control characters (C0, DEL and C1) and one for injected-fault bounds: the services refuse what the CLI refuses', async () => {
    const agent = new http.Agent();
    const write = { authorization: `Bearer ${TEST_SERVICE_TOKEN}`, 'content-type': 'application/json' };
    const before = await snapshotTables(services.orders.databaseUrl);
    for (const [i, control] of ['\u0007', '\u007f', '\u0085', '\u009b'].entries()) {
      const res = await send(
        services.orders.url,
        {
          method: 'POST',
          path: '/orders/ctl-1/reject',
          headers: { ...write, 'idempotency-key': `ctl-${i}` },
          body: Buffer.from(JSON.stringify({ reason: `out of${control}stock` })),
        },
        agent,
      );
      assert.equal(res.status, 400, `U+${control.charCodeAt(0).toString(16)}: ${res.text}`);
      assert.match(res.text, /must not contain control characters/);
    }
    for (const spec of ['delay:99999999', 'delay:60001', 'transient:101']) {
      const res = await send(
        services.orders.url,
        {
          method: 'POST',
          path: '/orders/ctl-1/approve',
          headers: { ...write, 'idempotency-key': `fault-${spec}`, 'x-fault-injection': spec },
          body: Buffer.from('{}'),
        },
        agent,
      );
      assert.equal(res.status, 400, `${spec}: ${res.text}`);
      assert.match(res.text, /(delay:MS \(MS from 0 to 60000\)|N from 1 to 100)/);
    }
    agent.destroy();
    assert.deepEqual(await snapshotTables(services.orders.databaseUrl), before);
  });

  it(`${RUNS} generated malformed requests at every route of every service: always a 4xx in the JSON error contract, never a 5xx or a hang, no table changed`, async () => {
    const routes = SERVICE_NAMES.flatMap((name) => routesOf(name, services[name].db));
    assert.ok(routes.length >= 25, `every route of the four services (found ${routes.length})`);
    const before = await Promise.all(SERVICE_NAMES.map((n) => snapshotTables(services[n].databaseUrl)));
    const agent = new http.Agent({ keepAlive: true });
    const seen = new Map<string, number>();
    let sent = 0;
    try {
      await fc.assert(
        fc.asyncProperty(generator(routes), async (r) => {
          const res = await send(services[r.route.service].url, r, agent);
          sent++;
          const what = `${r.method} ${r.path} (${r.route.service}, defect: ${r.defect}, headers ${JSON.stringify(r.headers)}, body ${JSON.stringify(r.body.subarray(0, 120).toString('latin1'))}) → ${res.status} ${res.text.slice(0, 300)}`;
          seen.set(
            `${r.route.service} ${r.route.method} ${r.route.pattern}`,
            (seen.get(`${r.route.service} ${r.route.method} ${r.route.pattern}`) ?? 0) + 1,
          );
          if (r.route.pattern === '/health' && r.method === 'GET') {
            assert.equal(res.status, 200, what);
            return;
          }
          assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx: ${what}`);
          assert.match(res.contentType, /application\/json/, what);
          const body = JSON.parse(res.text) as { error?: { code?: unknown; message?: unknown } };
          assert.equal(typeof body.error?.code, 'string', `error.code: ${what}`);
          assert.ok(typeof body.error?.message === 'string' && body.error.message.length > 0, `error.message: ${what}`);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    } finally {
      agent.destroy();
      console.log(
        `      fast-check: ${sent} generated requests, seed ${SEED} (replay: FC_SEED=${SEED}), ${seen.size} of ${routes.length} routes hit`,
      );
    }
    assert.ok(sent >= RUNS, `${sent} requests sent`);
    assert.equal(seen.size, routes.length, 'every route was tried');
    const after = await Promise.all(SERVICE_NAMES.map((n) => snapshotTables(services[n].databaseUrl)));
    for (const [i, name] of SERVICE_NAMES.entries())
      assert.deepEqual(after[i], before[i], `${name}: not one row may change`);
  });
});
