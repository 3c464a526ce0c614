import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort } from '../../runtime/ports';
import { runCli, waitFor, type CliRun } from '../support/cli';
import { renderTrace, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startProcessStack, type ProcessStack } from '../support/processes';
import { metricValue, scrape, type Sample } from '../support/prometheus-text';

/**
 * Operating the saga: tracing and metrics, on real processes. The worker and the services run in child processes
 * with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP receiver in this process, the CLI starts the sagas as a user
 * would (a subprocess, traced too), and every /metrics endpoint is scraped over HTTP.
 */
const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const;
const SHIP_TO = 'Bo Example|2 Side St|Paris|75001|FR';
/** cust-broke cannot pay: three steps done, rejected at the pivot, three compensations. */
const FORWARD = ['createOrder', 'reserveInventory', 'scheduleShipment', 'chargePayment'];
const COMPENSATIONS = ['cancelShipment', 'releaseInventory', 'rejectOrder'];
const DEPLOY = path.resolve(__dirname, '../../deploy');

/** Debian's prometheus package (scripts/install-test-tools.sh installs it). */
function promTool(name: 'prometheus' | 'promtool'): string {
  const found = ['/usr/bin', '/usr/local/bin'].map((d) => path.join(d, name)).find((p) => fs.existsSync(p));
  assert.ok(found, `${name} is not installed: run scripts/install-test-tools.sh (Debian package prometheus)`);
  return found;
}

function promtool(...args: string[]): string {
  const r = spawnSync(promTool('promtool'), args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Every metric a dashboard expression reads (the names are ours or the SDK's: saga_*, temporal_*, http_*). */
function dashboardMetrics(dashboard: { panels: { targets?: { expr: string }[] }[] }): {
  exprs: string[];
  names: Set<string>;
} {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  return { exprs, names: new Set(exprs.flatMap((e) => e.match(/\b(?:saga|temporal|http)_[a-z0-9_]+/g) ?? [])) };
}

describe('operate: one trace per saga and metrics on /metrics (real processes)', function () {
  this.timeout(300_000);
  let receiver: OtlpReceiver;
  let stack: ProcessStack;
  let env: NodeJS.ProcessEnv;
  const suffix = randomBytes(3).toString('hex');
  const compensatedId = `ord-traced-${suffix}`;
  const deadLetteredId = `ord-dead-${suffix}`;
  const cli = (...args: string[]) => runCli(args, env);
  const ok = (run: CliRun) => assert.ok(run.code === 0, `exit ${run.code}\n${run.stdout}\n${run.stderr}`);

  before(async () => {
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
    stack = await startProcessStack({ env: otel, bundleInWorker: true, metrics: true });
    await stack.startWorker();
    env = {
      ...process.env,
      ...otel,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
    const rejected = await cli(
      'start',
      '--order',
      compensatedId,
      '--customer',
      'cust-broke',
      '--item',
      'KB-001:1',
      '--ship-to',
      SHIP_TO,
      '--wait',
    );
    ok(rejected);
    assert.match(rejected.stdout, /REJECTED/);
  });
  after(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it('one saga is one trace: client start → workflow → every step and compensation → the service request → its SQL', async () => {
    const trace = await waitFor(
      'the whole trace of the compensated saga',
      async () => {
        const root = receiver.spans.find((s) => s.name === 'StartWorkflow:orderSaga' && s.service === 'client');
        if (!root) return [];
        return receiver.spans.filter((s) => s.traceId === root.traceId);
      },
      (spans) =>
        [...FORWARD, ...COMPENSATIONS].every((a) => spans.some((s) => s.name === `RunActivity:${a}`)) &&
        spans.some((s) => s.name === 'RunWorkflow:orderSaga') &&
        spans.filter((s) => s.kind === SPAN_KIND.SERVER && s.service === 'services').length >=
          FORWARD.length + COMPENSATIONS.length,
      60_000,
    );
    console.log(
      `      trace ${trace[0].traceId} (${trace.length} spans):\n${renderTrace(trace).replace(/^/gm, '        ')}`,
    );

    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const parent = (s: ReceivedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const ancestors = (s: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let p = parent(s); p; p = parent(p)) chain.push(p);
      return chain;
    };
    const children = (s: ReceivedSpan) => trace.filter((c) => c.parentSpanId === s.spanId);
    const descendants = (s: ReceivedSpan): ReceivedSpan[] => children(s).flatMap((c) => [c, ...descendants(c)]);

    // One root, the client's start; every other span's parent is in the same trace.
    const roots = trace.filter((s) => !s.parentSpanId);
    assert.deepEqual(
      roots.map((s) => `${s.service}:${s.name}`),
      ['client:StartWorkflow:orderSaga'],
    );
    const orphans = trace.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId));
    assert.deepEqual(
      orphans.map((s) => s.name),
      [],
      'spans whose parent is missing',
    );
    assert.deepEqual(new Set(trace.map((s) => s.service)), new Set(['client', 'worker', 'services']));

    const run = trace.find((s) => s.name === 'RunWorkflow:orderSaga')!;
    assert.equal(parent(run)?.name, 'StartWorkflow:orderSaga');
    for (const activity of [...FORWARD, ...COMPENSATIONS]) {
      const span = trace.find((s) => s.name === `RunActivity:${activity}`)!;
      assert.equal(span.service, 'worker');
      assert.equal(parent(span)?.name, `StartActivity:${activity}`, `${activity} is started by the workflow`);
      assert.ok(ancestors(span).includes(run), `${activity} is under the workflow's run`);
      // The activity's HTTP call, its server side in the service, and SQL under that.
      const call = children(span).find((c) => c.kind === SPAN_KIND.CLIENT);
      assert.ok(call, `${activity} made an HTTP call (children: ${children(span).map((c) => c.name)})`);
      const handled = children(call).find((c) => c.kind === SPAN_KIND.SERVER && c.service === 'services');
      assert.ok(handled, `the service handled ${activity}'s request`);
      const sql = descendants(handled).filter((d) => d.name.startsWith('pg.query'));
      assert.ok(sql.length > 0, `${activity}'s request ran SQL (under it: ${descendants(handled).map((d) => d.name)})`);
      assert.ok(
        descendants(handled).some((d) => d.name.startsWith('request handler')),
        `express's handler span for ${activity}`,
      );
    }
  });

  it("the worker's and the services' /metrics count the sagas, their steps, compensations and requests", async () => {
    // A second saga whose release-inventory is refused: dead-lettered, seen waiting, then resolved by an operator.
    ok(
      await cli(
        'start',
        '--order',
        deadLetteredId,
        '--customer',
        'cust-broke',
        '--item',
        'KB-001:1',
        '--ship-to',
        SHIP_TO,
        '--fault',
        'release-inventory=reject',
      ),
    );
    const waiting = await waitFor(
      'a dead letter waiting',
      () => scrape(stack.metricsUrls.orders!),
      (m) => metricValue(m, 'saga_dead_letters_waiting') === 1,
      60_000,
    );
    assert.ok(metricValue(waiting, 'saga_dead_letters_oldest_waiting_seconds') >= 0);
    ok(await cli('dead-letters', 'resolve', deadLetteredId, '--reason', 'released by hand in the test'));
    const result = await cli('result', deadLetteredId);
    ok(result);

    const worker = await waitFor(
      'the saga metrics of both sagas',
      () => scrape(stack.metricsUrls.worker!),
      (m) => metricValue(m, 'saga_ended') === 2,
    );
    const w = (name: string, labels: Record<string, string> = {}) => metricValue(worker, name, labels);
    assert.equal(w('saga_started'), 2);
    assert.equal(w('saga_ended', { outcome: 'compensated', workflowType: 'orderSaga' }), 2);
    assert.equal(w('saga_ended', { outcome: 'completed' }), 0);
    assert.equal(w('saga_dead_lettered', { compensation: 'release-inventory' }), 1);
    assert.equal(w('saga_operator_decisions', { compensation: 'release-inventory', action: 'resolve' }), 1);
    // Step latency by step: each saga ran charge-payment once (failed) and create-order once (completed).
    assert.equal(w('saga_step_duration_count', { step: 'charge-payment', outcome: 'failed', kind: 'pivot' }), 2);
    assert.equal(w('saga_step_duration_count', { step: 'create-order', outcome: 'completed' }), 2);
    assert.ok(w('saga_step_duration_sum', { step: 'create-order' }) > 0);
    assert.equal(w('saga_compensation_duration_count', { compensation: 'cancel-shipment', outcome: 'completed' }), 2);
    assert.equal(
      w('saga_compensation_duration_count', { compensation: 'release-inventory', outcome: 'dead_lettered' }),
      1,
    );
    assert.equal(w('saga_compensation_duration_count', { compensation: 'release-inventory', outcome: 'completed' }), 1);
    // The SDK's own worker metrics, from the same endpoint.
    assert.equal(w('temporal_workflow_completed', { workflow_type: 'orderSaga' }), 2);
    assert.ok(w('temporal_activity_execution_latency_count', { activity_type: 'chargePayment' }) >= 2);

    const s = async (service: 'orders' | 'inventory' | 'payments' | 'shipping') => scrape(stack.metricsUrls[service]!);
    const payments = await s('payments');
    const count = (m: Sample[], labels: Record<string, string>) =>
      metricValue(m, 'http_server_request_duration_seconds_count', labels);
    assert.equal(count(payments, { method: 'POST', route: '/payments', status_code: '422', service: 'payments' }), 2);
    const inventory = await s('inventory');
    assert.equal(
      count(inventory, { method: 'POST', route: '/reservations', status_code: '201' }) +
        count(inventory, { method: 'POST', route: '/reservations', status_code: '200' }),
      2,
    );
    assert.equal(count(inventory, { method: 'POST', route: '/reservations/:orderId/release', status_code: '200' }), 1);
    // The injected refusal answers before any route runs: counted, under no route.
    assert.equal(count(inventory, { method: 'POST', route: 'unmatched', status_code: '422' }), 1);
    const orders = await s('orders');
    assert.equal(metricValue(orders, 'saga_dead_letters_waiting'), 0);
    assert.ok(metricValue(orders, 'process_cpu_seconds_total') > 0);
  });

  it('a real Prometheus with the committed config scrapes them; the alert rule and the Grafana dashboard check out', async () => {
    const committed = path.join(DEPLOY, 'prometheus');
    assert.match(
      promtool('check', 'config', path.join(committed, 'prometheus.yml')),
      /SUCCESS: .*prometheus.yml is valid/,
    );
    assert.match(promtool('check', 'rules', path.join(committed, 'alerts.yml')), /SUCCESS: 1 rules found/);
    assert.match(promtool('test', 'rules', path.join(committed, 'alerts.test.yml')), /SUCCESS/);

    // The committed config as is; only the target lists (compose's host names) are this stack's.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-prometheus-'));
    fs.cpSync(committed, dir, { recursive: true });
    const hostPort = (url: string) => new URL(url).host;
    fs.writeFileSync(
      path.join(dir, 'targets/workers.json'),
      JSON.stringify([{ targets: [hostPort(stack.metricsUrls.worker!)] }]),
    );
    const services = (['orders', 'inventory', 'payments', 'shipping'] as const).map((name) => ({
      targets: [hostPort(stack.metricsUrls[name]!)],
      labels: { service: name },
    }));
    fs.writeFileSync(path.join(dir, 'targets/services.json'), JSON.stringify(services));
    const port = await getFreePort();
    const prometheus = spawn(
      promTool('prometheus'),
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    prometheus.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
    const api = async (query: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/${query}`);
      const body = (await res.json()) as { status: string; data: any; error?: string };
      assert.equal(body.status, 'success', `${query}: ${body.error}`);
      return body.data;
    };
    const value = async (promql: string) => {
      const data = await api(`query?query=${encodeURIComponent(promql)}`);
      return data.result.length ? Number(data.result[0].value[1]) : undefined;
    };
    try {
      const targets = await waitFor(
        'Prometheus to scrape the worker and the four services',
        () => api('targets?state=active'),
        (d: { activeTargets: { health: string; labels: { job: string } }[] }) =>
          d.activeTargets.length === 5 && d.activeTargets.every((t) => t.health === 'up'),
        60_000,
      ).catch((err: Error) => assert.fail(`${err.message}\n${log}`));
      assert.deepEqual(
        new Set(targets.activeTargets.map((t) => t.labels.job)),
        new Set(['saga-worker', 'saga-services']),
      );

      // The saga counters, read back through Prometheus's query API.
      assert.equal(await value('sum(saga_started)'), 2);
      assert.equal(await value('sum(saga_ended{outcome="compensated"})'), 2);
      assert.equal(await value('sum(saga_dead_lettered{compensation="release-inventory"})'), 1);
      assert.equal(await value('sum(saga_operator_decisions{action="resolve"})'), 1);
      assert.equal(await value('max(saga_dead_letters_waiting)'), 0);
      assert.equal(await value('sum(saga_step_duration_count{step="charge-payment"})'), 2);
      assert.equal(
        await value(
          'sum(http_server_request_duration_seconds_count{service="payments", route="/payments", status_code="422"})',
        ),
        2,
      );

      // The alert rule is loaded, and quiet: nothing waits.
      const rules = await api('rules');
      const alert = rules.groups
        .flatMap((g: { rules: { name: string; health: string; state: string }[] }) => g.rules)
        .find((r: { name: string }) => r.name === 'SagaDeadLettersWaiting');
      assert.ok(alert, 'the dead-letter alert is loaded');
      assert.equal(alert.health, 'ok');
      assert.equal(alert.state, 'inactive');

      // The dashboard reads only metrics this scrape found, and every one of its queries runs.
      const dashboard = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana/dashboards/order-saga.json'), 'utf8'));
      const { exprs, names } = dashboardMetrics(dashboard);
      const scraped = new Set<string>(await api('label/__name__/values'));
      assert.deepEqual(
        [...names].filter((n) => !scraped.has(n)),
        [],
        'dashboard metrics that Prometheus did not scrape',
      );
      assert.ok(names.size >= 10, `the dashboard reads ${[...names]}`);
      for (const expr of exprs) await api(`query?query=${encodeURIComponent(expr)}`);
      assert.ok(
        exprs.some((e) => e.includes('saga_dead_letters_waiting')) &&
          exprs.some((e) => e.includes('saga_step_duration_bucket')) &&
          exprs.some((e) => e.includes('saga_ended')),
      );
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((resolve) => prometheus.once('exit', resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('operate: tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) costs nothing', () => {
  /** Loads the worker, a service and the CLI's client in a fresh process and lists the OpenTelemetry modules loaded. */
  const loaded = (env: NodeJS.ProcessEnv) => {
    const script =
      "require('./runtime/telemetry/register'); require('./worker'); require('./services/shared/runtime'); require('./cli/saga-client');" +
      "console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes('/@opentelemetry/') || k.includes('interceptors-opentelemetry')).map((k) => k.split('node_modules/')[1].split('/').slice(0, 2).join('/'))))";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return new Set<string>(JSON.parse(r.stdout));
  };

  it('no SDK, exporter, instrumentation or Temporal interceptor is loaded; with the endpoint set, they are', () => {
    const off = loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' });
    // Only the no-op API (prom-client imports it for exemplars).
    assert.deepEqual(
      [...off].filter((m) => m !== '@opentelemetry/api'),
      [],
    );
    const on = loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
    for (const m of [
      '@opentelemetry/sdk-trace-node',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/instrumentation-pg',
      '@opentelemetry/instrumentation-express',
    ])
      assert.ok(on.has(m), `${m} loaded when on`);
  });
});
