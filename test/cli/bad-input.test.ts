import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { snapshotTables } from '../support/db-snapshot';
import { httpClient } from '../support/http';
import { parseCliJson, runCli } from '../support/cli';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/**
 * Bad input end to end. Hostile command lines are refused by the CLI with exit 64 and one clear line: no saga is
 * started (Temporal lists no workflow at all) and no service table changes. An unknown SKU is the one thing the CLI
 * cannot know (the catalogue lives in the inventory service): that saga starts, inventory says 404, and it ends
 * REJECTED with nothing left live anywhere. Hostile requests straight to the services, with a valid token, are 4xx and
 * write nothing (the per-service suites cover the usual cases; here only what they do not).
 */
const SHIP_TO = 'Ada Lovelace|1 Main Street|Berlin|10115|DE';
const TEN_KB = 'x'.repeat(10 * 1024);

async function snapshotAll(stack: SagaStack): Promise<Record<ServiceName, Record<string, unknown[]>>> {
  return Object.fromEntries(
    await Promise.all(
      SERVICE_NAMES.map(async (n) => [n, await snapshotTables(stack.services[n].databaseUrl)] as const),
    ),
  ) as Record<ServiceName, Record<string, unknown[]>>;
}

async function countWorkflows(stack: SagaStack): Promise<number> {
  let n = 0;
  for await (const _ of stack.client.workflow.list()) n++;
  return n;
}

describe('bad input end to end (CLI subprocess and services over HTTP, real stack)', function () {
  this.timeout(180_000);
  let stack: SagaStack;
  let env: NodeJS.ProcessEnv;
  const start = (
    overrides: { order?: string; customer?: string; items?: string[]; shipTo?: string } = {},
    ...extra: string[]
  ) =>
    runCli(
      [
        'start',
        ...(overrides.order === undefined ? [] : ['--order', overrides.order]),
        '--customer',
        overrides.customer ?? 'cust-alice',
        ...(overrides.items ?? ['KB-001:1']).flatMap((item) => ['--item', item]),
        '--ship-to',
        overrides.shipTo ?? SHIP_TO,
        ...extra,
      ],
      env,
    );

  before(async () => {
    stack = await startSagaStack();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
  });
  after(() => stack?.stop());

  it('hostile command lines: exit 64 with a clear message, no workflow started, no row written', async () => {
    const before = await snapshotAll(stack);
    const cases: [string, Parameters<typeof start>[0], RegExp][] = [
      [
        'huge quantity (1e12)',
        { order: 'ord-bad-1', items: ['KB-001:1000000000000'] },
        /invalid order: .*expected number to be <=10000.*items\[0\]\.quantity/,
      ],
      [
        'quantity beyond Number.MAX_SAFE_INTEGER',
        { order: 'ord-bad-2', items: ['KB-001:99999999999999999999999'] },
        /invalid order: .*items\[0\]\.quantity/,
      ],
      [
        'zero quantity',
        { order: 'ord-bad-3', items: ['KB-001:0'] },
        /--item .*expected SKU:QTY with a whole quantity of at least 1/,
      ],
      ['negative quantity', { order: 'ord-bad-4', items: ['KB-001:-5'] }, /--item .*expected SKU:QTY/],
      ['fractional quantity', { order: 'ord-bad-5', items: ['KB-001:1.5'] }, /--item .*expected SKU:QTY/],
      [
        'SQL-looking order id',
        { order: "'; DROP TABLE orders;--" },
        /invalid order: .*must contain only letters, digits.*orderId/,
      ],
      [
        'script tag as customer id',
        { order: 'ord-bad-7', customer: '<script>alert(1)</script>' },
        /invalid order: .*customerId/,
      ],
      ['SQL-looking SKU', { order: 'ord-bad-8', items: ["KB-001' OR '1'='1:1"] }, /invalid order: .*items\[0\]\.sku/],
      [
        'terminal escape in the recipient',
        { order: 'ord-bad-9', shipTo: 'Ada\u001b[2J\u0007|1 Main Street|Berlin|10115|DE' },
        /invalid order: .*must not contain control characters.*destination\.recipient/,
      ],
      [
        'C1 control (U+009B, CSI) in the recipient',
        { order: 'ord-bad-9b', shipTo: 'Ada\u009b2J|1 Main Street|Berlin|10115|DE' },
        /invalid order: .*must not contain control characters.*destination\.recipient/,
      ],
      [
        'C1 control (U+0085, NEL) in the city',
        { order: 'ord-bad-9c', shipTo: 'Ada|1 Main Street|Ber\u0085lin|10115|DE' },
        /invalid order: .*must not contain control characters.*destination\.city/,
      ],
      [
        'carriage return in the street',
        { order: 'ord-bad-10', shipTo: 'Ada|1 Main\rStreet|Berlin|10115|DE' },
        /invalid order: .*must not contain control characters.*destination\.line1/,
      ],
      [
        '10 KB order id',
        { order: `ord-${TEN_KB}` },
        /invalid order: .*expected string to have <=64 characters.*orderId/,
      ],
      ['10 KB customer id', { order: 'ord-bad-12', customer: TEN_KB }, /invalid order: .*customerId/],
      [
        '10 KB recipient',
        { order: 'ord-bad-13', shipTo: `${TEN_KB}|1 Main Street|Berlin|10115|DE` },
        /invalid order: .*destination\.recipient/,
      ],
      [
        'items as JSON (the CLI takes SKU:QTY)',
        { order: 'ord-bad-14', items: ['{"sku":"KB-001","quantity":1}'] },
        /--item .*expected SKU:QTY/,
      ],
      ['malformed JSON as an item', { order: 'ord-bad-15', items: ['[{"sku":'] }, /--item .*expected SKU:QTY/],
      [
        'too many items (51)',
        { order: 'ord-bad-16', items: Array.from({ length: 51 }, (_, i) => `SKU-${i}:1`) },
        /invalid order: .*expected array to have <=50 items.*items/,
      ],
      [
        'country that is not a code',
        { order: 'ord-bad-17', shipTo: 'Ada|1 Main Street|Berlin|10115|<b>DE</b>' },
        /invalid order: .*destination\.country/,
      ],
    ];
    for (const [label, overrides, message] of cases) {
      const r = await start(overrides);
      assert.equal(r.code, 64, `${label}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, message, label);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${label}: no stack trace`);
      assert.equal(r.stdout, '', label);
      if (overrides?.order)
        await assert.rejects(
          stack.client.workflow.getHandle(overrides.order).describe(),
          WorkflowNotFoundError,
          `${label}: nothing started`,
        );
    }
    // Injected faults: the services' own bounds (services/shared/fault-spec.ts), checked before anything connects.
    const faults: [string, RegExp][] = [
      [
        'create-order=delay:99999999',
        /--fault .*create-order: invalid fault entry "delay:99999999" .*delay:MS \(MS from 0 to 60000\)/,
      ],
      ['charge-payment=transient:1000', /--fault .*transient:N or lost-response:N \(N from 1 to 100\)/],
      ['reserve-inventory=delay:-1', /--fault .*invalid fault entry "delay:-1"/],
      ['approve-order=reject:now', /--fault .*invalid fault entry "reject:now"/],
    ];
    for (const [fault, message] of faults) {
      const r = await start({ order: 'ord-bad-fault' }, '--fault', fault);
      assert.equal(r.code, 64, `--fault ${fault}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, message, fault);
      await assert.rejects(
        stack.client.workflow.getHandle('ord-bad-fault').describe(),
        WorkflowNotFoundError,
        `${fault}: nothing started`,
      );
    }
    const json = parseCliJson(await start({ items: ['KB-001:1000000000000'] }, '--json'));
    assert.equal(json.error.kind, 'usage');
    assert.equal(json.error.exitCode, 64);

    assert.equal(await countWorkflows(stack), 0, 'Temporal must list no workflow at all');
    assert.deepEqual(await snapshotAll(stack), before, 'no service table may change');
  });

  it('an unknown SKU (a fact only the inventory service knows): the saga starts and ends REJECTED, with nothing left live', async () => {
    const inventory = httpClient(stack.services.inventory.url);
    const payments = httpClient(stack.services.payments.url);
    const stockBefore = (await inventory.get('/products')).body;
    const balanceBefore = (await payments.get('/customers/cust-alice')).body;

    const r = await start({ order: 'ord-bad-sku', items: ['KB-001:1', 'NOPE-999:1'] }, '--wait');
    assert.equal(r.code, 0, r.stderr); // a business rejection is a normal end of a saga
    assert.match(r.stdout, /REJECTED: order ord-bad-sku: reserve-inventory: .*NOPE-999/);

    const order = await httpClient(stack.services.orders.url).get('/orders/ord-bad-sku');
    assert.equal(order.body.status, 'REJECTED');
    const reservation = await inventory.get('/reservations/ord-bad-sku');
    assert.ok(
      reservation.status === 404 || reservation.body.status === 'RELEASED',
      `no live reservation: ${JSON.stringify(reservation.body)}`,
    );
    assert.deepEqual((await inventory.get('/products')).body, stockBefore, 'no stock held or sold');
    assert.equal((await payments.get('/payments/ord-bad-sku')).status, 404, 'no charge');
    assert.deepEqual((await payments.get('/customers/cust-alice')).body, balanceBefore);
    // The shipment is scheduled alongside the reservation (one parallel group): it may exist, but only cancelled.
    const shipment = await httpClient(stack.services.shipping.url).get('/shipments/ord-bad-sku');
    assert.ok(
      shipment.status === 404 || shipment.body.status === 'CANCELLED',
      `no live shipment: ${JSON.stringify(shipment.body)}`,
    );
  });

  it('hostile requests straight to the services (valid token): 4xx with a JSON error, not one row written', async () => {
    // What the per-service suites do not already send: numbers JSON can write but no column can hold, a prototype
    // key, deep nesting, a body just over the limit on every service, a 10 KB injection-looking id.
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const cases: { service: ServiceName; path: string; rawBody: string; status: number }[] = [
      {
        service: 'inventory',
        path: '/reservations',
        rawBody: '{"orderId":"h-1","items":[{"sku":"KB-001","quantity":99999999999999999999999}]}',
        status: 400,
      },
      {
        service: 'inventory',
        path: '/reservations',
        rawBody: '{"orderId":"h-1","items":[{"sku":"KB-001","quantity":1e400}]}',
        status: 400,
      },
      {
        service: 'orders',
        path: '/orders',
        rawBody: '{"orderId":"h-1","customerId":"c","items":[{"sku":"KB-001","quantity":9007199254740993}]}',
        status: 400,
      },
      {
        service: 'orders',
        path: '/orders',
        rawBody:
          '{"orderId":"h-1","customerId":"c","items":[{"sku":"KB-001","quantity":1}],"__proto__":{"admin":true}}',
        status: 400,
      },
      {
        service: 'payments',
        path: '/payments',
        rawBody: '{"orderId":"h-1","customerId":"cust-alice","amountCents":-1e400}',
        status: 400,
      },
      {
        service: 'payments',
        path: '/payments',
        rawBody: '{"orderId":"h-1","customerId":"cust-alice","amountCents":-0.0000001}',
        status: 400,
      },
      {
        service: 'payments',
        path: '/payments',
        rawBody: JSON.stringify({
          orderId: `x'; DROP TABLE payments;--${TEN_KB}`,
          customerId: 'cust-alice',
          amountCents: 100,
        }),
        status: 400,
      },
      { service: 'shipping', path: '/shipments', rawBody: nested, status: 400 },
      ...SERVICE_NAMES.map((service) => ({
        service,
        path: '/anything',
        rawBody: JSON.stringify({ pad: 'x'.repeat(16 * 1024) }),
        status: 413,
      })),
    ];
    const before = await snapshotAll(stack);
    for (const [i, c] of cases.entries()) {
      const res = await httpClient(stack.services[c.service].url).request('POST', c.path, {
        rawBody: c.rawBody,
        key: `hostile-${i}`,
      });
      assert.equal(
        res.status,
        c.status,
        `${c.service} ${c.rawBody.slice(0, 80)}: ${JSON.stringify(res.body).slice(0, 300)}`,
      );
      assert.equal(typeof res.body?.error?.code, 'string', 'a JSON error body');
      assert.ok(res.body.error.message.length > 0);
    }
    assert.deepEqual(await snapshotAll(stack), before, 'hostile input must not write a single row');
  });
});
