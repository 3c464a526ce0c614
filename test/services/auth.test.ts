import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { SERVICE_AUTH_FAILED, ServiceClient } from '../../activities/service-client';
import { ConfigError, loadActivityConfig } from '../../runtime/config';
import { getFreePort } from '../../runtime/ports';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { MAX_BODY_BYTES } from '../../services/shared/app';
import { loadServiceConfig } from '../../services/shared/config';
import type { RunningService, ServiceDb } from '../../services/shared/runtime';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient, type TestResponse } from '../support/http';
import { readRoutes, startTestService, TEST_READ_TOKEN, TEST_SERVICE_TOKEN } from '../support/services';

/**
 * Only the orchestrator may change state: every mutating request needs the bearer token from SERVICE_AUTH_TOKEN.
 * Without it (or with a wrong one) a service answers 401 and writes nothing — proven by comparing every table before
 * and after — and a stranger can neither make it parse a body nor trigger an injected fault. Reads need a token too:
 * the orchestrator's or the read-only SERVICE_READ_TOKEN, which cannot write (403).
 */
const REPO = path.resolve(__dirname, '../..');
const WRONG_TOKEN = 'wrong-token-0123456789abcdef-xyz';

/** The id to read per path prefix, where it is not the order id 'auth-1'. */
const READ_IDS: Record<ServiceName, Record<string, string>> = {
  orders: {},
  inventory: { products: 'KB-001' },
  payments: { customers: 'cust-alice' },
  shipping: {},
};

/** One valid mutating request per service: with the right token it writes. */
const MUTATIONS: Record<ServiceName, { path: string; body: unknown; read: string }> = {
  orders: {
    path: '/orders',
    body: { orderId: 'auth-1', customerId: 'cust-alice', items: [{ sku: 'KB-001', quantity: 1 }] },
    read: '/orders/auth-1',
  },
  inventory: {
    path: '/reservations',
    body: { orderId: 'auth-1', items: [{ sku: 'KB-001', quantity: 1 }] },
    read: '/products',
  },
  payments: {
    path: '/payments',
    body: { orderId: 'auth-1', customerId: 'cust-alice', amountCents: 100 },
    read: '/customers/cust-alice',
  },
  shipping: {
    path: '/shipments',
    body: {
      orderId: 'auth-1',
      destination: {
        recipient: 'Ada Lovelace',
        line1: '1 Main Street',
        city: 'Berlin',
        postalCode: '10115',
        country: 'DE',
      },
    },
    read: '/service-areas',
  },
};

function assertUnauthorized(res: TestResponse, message: RegExp, what: string): void {
  assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer', `${what}: WWW-Authenticate`);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, what);
  assert.equal(res.body?.error?.code, 'unauthorized', what);
  assert.match(res.body.error.message, message, what);
}

describe('services: only the orchestrator may change state (SERVICE_AUTH_TOKEN)', function () {
  this.timeout(120_000);
  const services = {} as Record<ServiceName, RunningService<ServiceDb> & { databaseUrl: string }>;
  let logged = '';

  before(async () => {
    // Fault injection on, so that the tests show a stranger cannot trigger it; one service logs at info to a buffer,
    // so that the tests can show the token never reaches the log.
    const sink = new Writable({ write: (chunk, _enc, done) => ((logged += chunk), done()) });
    for (const name of SERVICE_NAMES) {
      // Request lines are debug (info shows what happened, not every call): log at debug to see every request.
      const logger = name === 'orders' ? pino({ level: 'debug' }, sink) : undefined;
      services[name] = await startTestService(SERVICE_DEFINITIONS[name], { faultInjection: true, logger });
    }
  });
  after(() => Promise.all(Object.values(services).map((s) => s.close())));

  for (const name of SERVICE_NAMES) {
    describe(name, () => {
      const { path: route, body } = MUTATIONS[name];
      const api = () => httpClient(services[name].url);

      it('no token, a wrong token, another scheme: 401 unauthorized with WWW-Authenticate, and not one row written', async () => {
        const before = await snapshotTables(services[name].databaseUrl);
        const attempts: [string, false | string, RegExp][] = [
          ['no Authorization header', false, /^missing bearer token/],
          ['a wrong token', `Bearer ${WRONG_TOKEN}`, /^invalid bearer token$/],
          ['the right token with a suffix', `Bearer ${TEST_SERVICE_TOKEN}x`, /^invalid bearer token$/],
          ['a prefix of the right token', `Bearer ${TEST_SERVICE_TOKEN.slice(0, -1)}`, /^invalid bearer token$/],
          ['an empty bearer token', 'Bearer ', /^missing bearer token/],
          ['the token without the Bearer scheme', TEST_SERVICE_TOKEN, /^missing bearer token/],
          [
            'Basic credentials',
            `Basic ${Buffer.from(`worker:${TEST_SERVICE_TOKEN}`).toString('base64')}`,
            /^missing bearer token/,
          ],
        ];
        for (const [what, auth, message] of attempts) {
          assertUnauthorized(await api().post(route, body, { key: `auth-${what}`, auth }), message, what);
        }
        // Any method but GET/HEAD, on any path (routes added later included): refused before routing.
        for (const method of ['PUT', 'PATCH', 'DELETE']) {
          assertUnauthorized(
            await api().request(method, `${route}/auth-1`, { auth: false }),
            /^missing bearer token/,
            method,
          );
        }
        assertUnauthorized(
          await api().post('/dead-letters/auth-1/retry', {}, { auth: false }),
          /^missing bearer token/,
          'an admin-looking route',
        );
        assert.deepEqual(
          await snapshotTables(services[name].databaseUrl),
          before,
          'a request without the right token must not write a single row',
        );
      });

      it("a stranger's body is never parsed: malformed or oversized bodies get 401, not 400 or 413", async () => {
        const before = await snapshotTables(services[name].databaseUrl);
        assertUnauthorized(
          await api().request('POST', route, { rawBody: '{"orderId": ', key: 'auth-malformed', auth: false }),
          /missing/,
          'malformed JSON',
        );
        const huge = JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES * 4) });
        assertUnauthorized(
          await api().request('POST', route, { rawBody: huge, key: 'auth-huge', auth: `Bearer ${WRONG_TOKEN}` }),
          /invalid/,
          'oversized body',
        );
        assert.deepEqual(await snapshotTables(services[name].databaseUrl), before);
      });

      it('a stranger cannot trigger fault injection: reject, delay and lost-response are not honoured without the token', async () => {
        const before = await snapshotTables(services[name].databaseUrl);
        const started = Date.now();
        for (const faults of ['reject', 'delay:5000', 'lost-response:1', 'transient:1']) {
          assertUnauthorized(
            await api().post(route, body, { key: `auth-fault-${faults}`, faults, auth: false }),
            /missing/,
            faults,
          );
        }
        assert.ok(Date.now() - started < 3_000, 'the injected delay must not run for a stranger');
        assert.deepEqual(
          await snapshotTables(services[name].databaseUrl),
          before,
          'lost-response does the work: it must not have run',
        );
      });

      it('GET /health is open; every read endpoint answers 401 without a token and 200 with the read token; a write with the read token is 403 and writes nothing', async () => {
        assert.equal((await api().get('/health', { auth: false })).status, 200);
        const before = await snapshotTables(services[name].databaseUrl);
        const forbidden = await api().post(route, body, {
          key: `auth-read:${name}`,
          auth: `Bearer ${TEST_READ_TOKEN}`,
        });
        assert.equal(forbidden.status, 403, JSON.stringify(forbidden.body));
        assert.equal(forbidden.body.error.code, 'forbidden');
        assert.match(forbidden.body.error.message, /read-only token .* cannot change state/);
        assert.deepEqual(await snapshotTables(services[name].databaseUrl), before, 'the read token wrote');

        const created = await api().post(route, body, { key: `auth-1:${name}` });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.notDeepEqual(await snapshotTables(services[name].databaseUrl), before, 'the authorised request wrote');

        // Every GET route the service declares, with the object just created where it takes an id.
        const reads = readRoutes(name, services[name].db).map((pattern) =>
          pattern.replace(/:[A-Za-z]+/, READ_IDS[name][pattern.split('/')[1]] ?? 'auth-1'),
        );
        assert.ok(reads.length >= 2, `${name}: its read endpoints`);
        for (const read of reads) {
          assertUnauthorized(
            await api().get(read, { auth: false }),
            /^missing bearer token/,
            `GET ${read} without a token`,
          );
          assertUnauthorized(
            await api().get(read, { auth: `Bearer ${WRONG_TOKEN}` }),
            /^invalid bearer token$/,
            `GET ${read} with a wrong token`,
          );
          const ok = await api().get(read, { auth: `Bearer ${TEST_READ_TOKEN}` });
          assert.equal(ok.status, 200, `GET ${read} with the read token: ${JSON.stringify(ok.body)}`);
          assert.equal((await api().get(read)).status, 200, `GET ${read} with the orchestrator's token`);
        }
      });
    });
  }

  it('the token never reaches the log, right or wrong (the Authorization header is redacted)', async () => {
    const api = httpClient(services.orders.url);
    await api.post('/orders/auth-1/approve', {}, { key: 'auth-log-wrong', auth: `Bearer ${WRONG_TOKEN}` });
    await api.post('/orders/auth-log/approve', {}, { key: 'auth-log-right' });
    assert.match(logged, /"statusCode":401/, 'the refused request is logged');
    assert.match(logged, /\[redacted\]/);
    assert.ok(!logged.includes(TEST_SERVICE_TOKEN), 'the right token is in the log');
    assert.ok(!logged.includes(WRONG_TOKEN), 'the presented token is in the log');
  });

  describe('the worker side (activities/service-client.ts)', () => {
    const urls = () =>
      Object.fromEntries(SERVICE_NAMES.map((n) => [n, services[n].url])) as Record<ServiceName, string>;

    it('a wrong token is a retryable ServiceAuthFailed, not a business rejection: the saga retries instead of compensating', async () => {
      const client = new ServiceClient({ urls: urls(), requestTimeoutMs: 5_000, authToken: WRONG_TOKEN });
      try {
        const before = await snapshotTables(services.payments.databaseUrl);
        const failure = await client
          .call(
            'payments',
            'POST',
            '/payments',
            { orderId: 'auth-worker', customerId: 'cust-alice', amountCents: 100 },
            { idempotencyKey: 'auth-worker:charge' },
          )
          .then(
            () => assert.fail('a wrong token must not be accepted'),
            (err: unknown) => err,
          );
        assert.ok(failure instanceof ApplicationFailure, String(failure));
        assert.equal(failure.type, SERVICE_AUTH_FAILED);
        assert.equal(failure.nonRetryable, false, 'retryable: the business did not say no');
        assert.match(
          failure.message,
          /payments refused the worker's credential \(401 .*check SERVICE_AUTH_TOKEN on worker and services/,
        );
        assert.ok(!failure.message.includes(WRONG_TOKEN), 'the token is not in the failure');
        assert.deepEqual(await snapshotTables(services.payments.databaseUrl), before);
      } finally {
        await client.close();
      }
    });

    it('the right token goes through', async () => {
      const client = new ServiceClient({ urls: urls(), requestTimeoutMs: 5_000, authToken: TEST_SERVICE_TOKEN });
      try {
        const charged = await client.call<{ status: string }>(
          'payments',
          'POST',
          '/payments',
          { orderId: 'auth-worker-ok', customerId: 'cust-alice', amountCents: 100 },
          { idempotencyKey: 'auth-worker-ok:charge' },
        );
        assert.equal(charged.status, 'CHARGED');
      } finally {
        await client.close();
      }
    });
  });
});

describe('services: configuration of the credential and of fault injection', () => {
  const base = {
    ORDERS_DATABASE_URL: 'postgresql://saga@127.0.0.1:5432/orders',
    SERVICE_AUTH_TOKEN: TEST_SERVICE_TOKEN,
  };

  it('a service without SERVICE_AUTH_TOKEN does not start: a ConfigError naming it, saying the worker needs the same value', () => {
    const { SERVICE_AUTH_TOKEN: _unset, ...env } = base;
    assert.throws(
      () => loadServiceConfig('orders', env),
      (err: Error) =>
        err instanceof ConfigError &&
        /SERVICE_AUTH_TOKEN is required.*the worker needs the same value/.test(err.message),
    );
  });

  it('a short, blank or spaced token is refused, naming the variable and never echoing the value', () => {
    for (const token of ['', 'short-token', 'has a space in the middle!!', 'tab\tinside-0123456789']) {
      assert.throws(
        () => loadServiceConfig('orders', { ...base, SERVICE_AUTH_TOKEN: token }),
        (err: Error) =>
          err instanceof ConfigError &&
          /SERVICE_AUTH_TOKEN must be at least 16 printable/.test(err.message) &&
          (token === '' || !err.message.includes(token)),
        JSON.stringify(token),
      );
    }
    assert.equal(loadServiceConfig('orders', base).authToken, TEST_SERVICE_TOKEN);
  });

  it('the worker without SERVICE_AUTH_TOKEN is refused too (it could change nothing)', () => {
    assert.throws(
      () => loadActivityConfig({}),
      (err: Error) =>
        err instanceof ConfigError &&
        /SERVICE_AUTH_TOKEN is required.*every service needs the same value/.test(err.message),
    );
    assert.equal(loadActivityConfig({ SERVICE_AUTH_TOKEN: TEST_SERVICE_TOKEN }).authToken, TEST_SERVICE_TOKEN);
  });

  it('fault injection is off unless enabled, and refused with NODE_ENV=production', () => {
    assert.equal(loadServiceConfig('orders', base).faultInjection, false);
    assert.equal(loadServiceConfig('orders', { ...base, NODE_ENV: 'production' }).faultInjection, false);
    assert.equal(loadServiceConfig('orders', { ...base, FAULT_INJECTION: 'true' }).faultInjection, true);
    assert.throws(
      () => loadServiceConfig('orders', { ...base, FAULT_INJECTION: 'true', NODE_ENV: 'production' }),
      /FAULT_INJECTION cannot be enabled when NODE_ENV=production/,
    );
  });

  it('services/orders/main.ts without the token exits 1 naming SERVICE_AUTH_TOKEN, before it touches a database', async function () {
    this.timeout(60_000);
    const unusedPort = await getFreePort();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'services/orders/main.ts'], {
        cwd: REPO,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ORDERS_DATABASE_URL: `postgresql://saga@127.0.0.1:${unusedPort}/orders`,
          ORDERS_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve({ code: exitCode, output }));
    });
    assert.equal(code, 1, output);
    assert.match(output, /SERVICE_AUTH_TOKEN is required/);
    assert.doesNotMatch(output, /ECONNREFUSED|migrat/i, 'refused before connecting to the database');
  });
});
