/**
 * `npm run bench`: prints throughput, latency, CPU and memory figures for these series (load.ts's SERIES_LABEL) —
 *   call-floor      7 HTTP round trips + one PostgreSQL round trip each, on the services' own app frame
 *   plain           the saga's 7 service calls made directly (keep-alive undici Agent, Idempotency-Key), no Temporal
 *   floor           the saga's shape with 7 no-op activities (Temporal's own cost); floor-local: as local activities
 *   plain-workflow  the saga's 7 activities in a plain workflow (no saga engine)
 *   saga            the order saga, happy path; saga-local: its steps as local activities
 *   compensated     the order saga rejected at the pivot (cust-broke): 4 steps + 3 compensations
 * Each at each concurrency level (closed loop), after a warm-up. The services (+ embedded PostgreSQL), the Temporal
 * dev server and the worker run in child processes so that /proc gives each one's CPU time; the client runs here
 * (or in the worker process with --client-in-worker / --eager).
 *
 * Output: a progress bar on stderr, a table on stdout, raw figures in bench-results/<timestamp>.json, and
 * docs/bench/latest.json + docs/bench/latest.svg (unless --no-docs).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServicesProcess, type ServicesProcess } from '../../infra/processes/services-process';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessConfig } from '../../infra/processes/worker-process';
import { topUp } from '../../infra/postgres/top-up';
import { SERVICE_NAMES } from '../../services/catalog';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import { temporal } from '@temporalio/proto';
import { writeSagaWorkflowBundle } from '../../runtime/saga-worker';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { ServiceClient } from '../../activities/service-client';
import { requireTemporalCli, REPO_ROOT } from '../../infra/temporal/binary';
import { DEFAULT_DYNAMIC_CONFIG } from '../../infra/temporal/dev-server';
import { startBenchTemporal, type BenchTemporal } from './temporal-server';
import type { ServiceName } from '../../services/catalog';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { renderChart } from './chart';
import { DIRECT_SERIES, makeOp, runBatch, SERIES, SERIES_LABEL, type BatchResult, type SeriesName } from './load';
import { evaluate, FLOOR_CALL, printVerdict, type Verdict } from './targets';
import { measureParked, type ParkedFigures } from './parked';
import { cpuSeconds, statusKb, treeCpuSeconds } from './proc';
import { askWorker, type BenchWorkerOptions } from './worker-extension';

const intList = (v: string) =>
  v.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${s}`);
    return n;
  });
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const keyValues = (v: string, prev: Record<string, string> = {}) => {
  const i = v.indexOf('=');
  if (i < 1) throw new Error(`expected key=value, got ${v}`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
};

const parseJsonValues = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, JSON.parse(v)]));

const program = new Command('bench')
  .description('Benchmark the order saga against a plain call chain and a Temporal floor; prints figures.')
  .option('--sagas <n>', 'operations per series per concurrency level', positive, 200)
  .option('--concurrency <list>', 'concurrency levels (operations in flight)', intList, [1, 4, 16, 32])
  .addOption(
    new Option('--persistence <kind>', 'dev server history store').choices(['memory', 'file']).default('memory'),
  )
  .option(
    '--sqlite-pragma <key=value>',
    'SQLite pragma for --persistence file (repeatable; merged over WAL + synchronous=NORMAL)',
    keyValues,
    {},
  )
  .option(
    '--dynamic-config <key=value>',
    'dev server dynamic config value, JSON-encoded value (repeatable)',
    keyValues,
    {},
  )
  .option(
    '--max-cached-workflows <n>',
    'worker: sticky cache size (default: sized from SAGA_WORKER_CACHE_MB)',
    positive,
  )
  .option(
    '--max-concurrent-activities <n>',
    'worker: maxConcurrentActivityTaskExecutions (SDK default if unset)',
    positive,
  )
  .option(
    '--max-concurrent-workflow-tasks <n>',
    'worker: maxConcurrentWorkflowTaskExecutions (SDK default if unset)',
    positive,
  )
  .option('--workflow-pollers <n>', 'worker: workflow task pollers, simple-maximum (SDK default if unset)', positive)
  .option('--activity-pollers <n>', 'worker: activity task pollers, simple-maximum (SDK default if unset)', positive)
  .option(
    '--worker-option <key=value>',
    'worker: any other WorkerOptions field, JSON-encoded value (repeatable), e.g. nonStickyToStickyPollRatio=1',
    keyValues,
    {},
  )
  .option('--db-pool-size <n>', 'services: connection pool size per service', positive, 10)
  .option('--series <list>', `series to run: ${SERIES.join(',')}`, (v) => v.split(',').map((s) => s.trim()), [
    ...SERIES,
  ])
  .option('--warmup <n>', 'warm-up operations per series (not measured)', (v) => Number(v), 40)
  .option(
    '--eager',
    'request eager workflow start (the client runs in the worker process, on its NativeConnection)',
    false,
  )
  .option('--client-in-worker', 'run the Temporal client in the worker process (implied by --eager)', false)
  .option(
    '--parked <n>',
    'after the series: park N sagas waiting for an operator, measure memory and idle CPU, then release them all',
    positive,
  )
  .option(
    '--heap-snapshots <dir>',
    "with --parked: write the worker's heap snapshots (before, parked) into <dir>; with --worker-option debugMode=true the workflows are in them (scripts/bench/heap-summary.ts compares two)",
  )
  .option(
    '--profile-services <dir>',
    'write a V8 CPU profile of the services process into <dir> (node --cpu-prof); summarise it with scripts/bench/profile-top.ts',
  )
  .option('--no-docs', 'do not overwrite docs/bench/latest.json and latest.svg')
  .option('--label <text>', 'a label stored with the results', '')
  .addOption(
    new Option(
      '--temporal <kind>',
      'the Temporal server: the dev server, or the cluster (the real server, 4 role processes on PostgreSQL)',
    )
      .choices(['dev-server', 'cluster'])
      .default('dev-server'),
  )
  .option(
    '--workers <n>',
    'saga worker processes on the task queue (worker CPU is their sum, peak memory their largest)',
    positive,
    1,
  );

interface SeriesLevel {
  series: SeriesName;
  concurrency: number;
  n: number;
  ok: number;
  errors: number;
  firstErrors: string[];
  wallSeconds: number;
  throughput: number;
  latencyMs: { min: number; p50: number; p95: number; p99: number; max: number; mean: number };
  cpuMsPerOp: { worker: number; server: number; services: number; client: number };
  workerPeakRssMb: number;
  workerRssMb: number;
  /** 1-minute load average before and after: this machine may be shared, and other load skews every figure. */
  loadAvg: [number, number];
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The bench's processes: services (+ their PostgreSQL), the Temporal server, the workers; and its clients. */
interface BenchWorld {
  services: ServicesProcess;
  server: BenchTemporal;
  workers: WorkerProcess[];
  taskQueue: string;
  connection: Connection;
  client: Client;
  serviceClient: ServiceClient;
  floorClient: ServiceClient;
}

type Options = ReturnType<typeof program.opts>;
type Params = Awaited<ReturnType<typeof readParams>>['params'];

async function main() {
  const { o, params, environment, runId, cliPath } = await readParams();
  process.stderr.write(
    `bench ${runId}\n  command: ${environment.command}\n  parameters: ${JSON.stringify(params)}\n  ${environment.cores} cores, Node ${environment.node}, ${environment.temporalCli}\n`,
  );
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-bench-'));
  const world: Partial<BenchWorld> = {};
  const cleanup = () => stopBench(world, tmp);
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  const startedAt = new Date();
  try {
    await startBench(o, params, runId, tmp, cliPath, world);
    const w = world as BenchWorld;
    environment.temporalServer = `${w.server.description}; ${params.workers} worker process(es)`;
    const callTimes: Record<string, number[]> = {};
    const { results, breakdowns } = await runAllSeries(w, params, runId, callTimes);
    let parked: ParkedFigures | undefined;
    if (o.parked) {
      const bar = progressBar();
      bar.start(o.parked as number, 0, { phase: 'parking', rate: '' });
      parked = await measureParked({
        progress: (phase, done) => bar.update(done, { phase }),
        client: w.client,
        taskQueue: w.taskQueue,
        worker: w.workers[0],
        server: w.server,
        n: o.parked as number,
        heapSnapshotDir: o.heapSnapshots as string | undefined,
        prefix: `bench-${runId}`,
        concurrency: Math.max(...params.concurrency),
      })
        .finally(() => bar.stop())
        .catch((err: Error) => {
          // The series' figures are still written: a failed parked measurement must not lose the whole run.
          process.stderr.write(`  parked measurement failed: ${err.stack ?? err.message}\n`);
          return undefined;
        });
    }
    if (callTimes.createOrder) breakdowns.plain = plainBreakdown(callTimes);
    const verdict = evaluate(results, params.concurrency, callTimes);
    const report = {
      runId,
      startedAt,
      finishedAt: new Date(),
      environment,
      params,
      results,
      breakdowns,
      ratios: verdict.ratios,
      perCall: verdict.perCall,
      targets: verdict.targets,
      parked,
    };
    printReport(report);
    writeOutputs(report, Boolean(o.docs));
  } finally {
    await cleanup();
  }
}

/** The command line read and checked, and what the report says about this machine. */
async function readParams() {
  program.parse();
  const o = program.opts();
  const series = (o.series as string[]).map((s) => {
    if (!(SERIES as readonly string[]).includes(s))
      throw new Error(`unknown series ${s}; choose from ${SERIES.join(',')}`);
    return s as SeriesName;
  });
  const levels = o.concurrency as number[];
  const clientInWorker = Boolean(o.eager || o.clientInWorker);
  const runId =
    new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '') + '-' + randomBytes(2).toString('hex');
  const cliPath = await requireTemporalCli();
  const temporalVersion = execFileSync(cliPath, ['--version']).toString().trim();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const environment = {
    command,
    argv: process.argv.slice(2),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    temporalCli: temporalVersion,
    /** Which server the Temporal series ran on (set once it runs). */
    temporalServer: '',
    platform: `${os.platform()} ${os.release()}`,
  };
  const params = {
    sagas: o.sagas as number,
    concurrency: levels,
    persistence: o.persistence as string,
    sqlitePragmas: o.sqlitePragma as Record<string, string>,
    // What the server runs with: the dev-server defaults (see DEFAULT_DYNAMIC_CONFIG) overridden by --dynamic-config.
    dynamicConfig: {
      ...DEFAULT_DYNAMIC_CONFIG,
      ...parseJsonValues(o.dynamicConfig as Record<string, string>),
    } as Record<string, unknown>,
    worker: {
      maxCachedWorkflows: o.maxCachedWorkflows ?? 'from SAGA_WORKER_CACHE_MB',
      maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities ?? 'sdk default',
      maxConcurrentWorkflowTaskExecutions: o.maxConcurrentWorkflowTasks ?? 'sdk default',
      workflowTaskPollers: o.workflowPollers ?? 'sdk default',
      activityTaskPollers: o.activityPollers ?? 'sdk default',
      ...parseJsonValues(o.workerOption as Record<string, string>),
    },
    dbPoolSize: o.dbPoolSize as number,
    series,
    warmup: o.warmup as number,
    eagerStart: Boolean(o.eager),
    clientInWorker,
    label: o.label as string,
    temporal: o.temporal as 'dev-server' | 'cluster',
    workers: o.workers as number,
  };
  return { o, params, environment, runId, cliPath };
}

/** 1. services + PostgreSQL, 2. the Temporal server, 3. the workers, then the clients; filled into `world` as they start. */
async function startBench(
  o: Options,
  params: Params,
  runId: string,
  tmp: string,
  cliPath: string,
  world: Partial<BenchWorld>,
): Promise<void> {
  process.stderr.write('  starting PostgreSQL and the services…\n');
  // One random bearer token per run: the services require it, the worker and the plain series send it.
  const authToken = randomBytes(32).toString('base64url');
  const profileFlags = o.profileServices
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(o.profileServices as string)}`]
    : [];
  world.services = await startServicesProcess(
    {
      services: SERVICE_NAMES.map((name) => ({ name, port: 0 })),
      ownPostgres: true,
      authToken,
      dbPoolSize: params.dbPoolSize,
      // Only the parked sagas send fault headers (to be refused a compensation); the series send none.
      faultInjection: Boolean(o.parked),
      seed: true,
      logLevel: 'warn',
      extension: { module: require.resolve('./call-floor') },
    },
    { name: 'services', nodeFlags: profileFlags, readyTimeoutMs: 120_000 },
  );
  await topUp('bench', world.services.ready.databaseUrls);
  const urls = world.services.ready.urls as Record<ServiceName, string>;
  const floorUrl = world.services.ready.extension!.floorUrl as string;

  // 2. Temporal: the dev server, or the cluster (its dynamic config is infra/temporal/cluster/dynamicconfig.yaml).
  process.stderr.write(
    params.temporal === 'cluster'
      ? '  starting the Temporal cluster (4 role processes on PostgreSQL)…\n'
      : `  starting the Temporal dev server (${params.persistence})…\n`,
  );
  const dynamicConfig = { ...params.dynamicConfig };
  if (params.eagerStart) dynamicConfig['system.enableEagerWorkflowStart'] ??= true;
  world.server = await startBenchTemporal(
    params.temporal,
    {
      cliPath,
      ui: false,
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      dbFilename: params.persistence === 'file' ? path.join(tmp, 'temporal.db') : undefined,
      sqlitePragmas: params.sqlitePragmas,
      dynamicConfig,
      logFile: path.join(tmp, 'server.log'),
    },
    tmp,
  );
  const server = world.server;

  process.stderr.write('  bundling the workflows, starting the worker…\n');
  const workflowBundlePath = await writeSagaWorkflowBundle(tmp, require.resolve('./workflows'));
  world.taskQueue = `bench-${runId}`;
  const taskQueue = world.taskQueue;
  world.workers = await startBenchWorkers(o, params, {
    address: server.address,
    namespace: server.namespace,
    taskQueue,
    urls,
    authToken,
    workflowBundlePath,
  });

  world.connection = await Connection.connect({ address: server.address });
  world.client = createSagaClient(world.connection, server.namespace);
  world.serviceClient = new ServiceClient({ urls, requestTimeoutMs: 10_000, authToken });
  const floorUrls = Object.fromEntries(Object.keys(urls).map((name) => [name, floorUrl])) as Record<
    ServiceName,
    string
  >;
  world.floorClient = new ServiceClient({ urls: floorUrls, requestTimeoutMs: 10_000, authToken });
}

/** The worker processes, each with the bench's extension (its no-op activities, memory figures, client). */
function startBenchWorkers(
  o: Options,
  params: Params,
  base: Pick<WorkerProcessConfig, 'address' | 'namespace' | 'taskQueue' | 'urls' | 'authToken' | 'workflowBundlePath'>,
): Promise<WorkerProcess[]> {
  return Promise.all(
    Array.from({ length: params.workers }, (_, i) =>
      startWorkerProcess(
        {
          ...base,
          logLevel: 'ERROR',
          worker: {
            maxCachedWorkflows: o.maxCachedWorkflows,
            maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities,
            maxConcurrentWorkflowTaskExecutions: o.maxConcurrentWorkflowTasks,
            ...(o.workflowPollers && {
              workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: o.workflowPollers as number },
            }),
            ...(o.activityPollers && {
              activityTaskPollerBehavior: { type: 'simple-maximum', maximum: o.activityPollers as number },
            }),
            // Any other WorkerOptions field (--worker-option key=json), applied last.
            ...parseJsonValues(o.workerOption as Record<string, string>),
          },
          extension: {
            module: require.resolve('./worker-extension'),
            options: { eager: params.eagerStart } satisfies BenchWorkerOptions,
          },
        },
        { name: `worker#${i + 1}`, nodeFlags: ['--expose-gc'], readyTimeoutMs: 120_000 },
      ),
    ),
  );
}

async function stopBench(world: Partial<BenchWorld>, tmp: string): Promise<void> {
  await world.serviceClient?.close();
  await world.floorClient?.close();
  await world.connection?.close();
  const stoppingWorkers = Promise.all((world.workers ?? []).map((w) => w.stop()));
  await world.server?.stop().catch(() => undefined);
  await Promise.all([stoppingWorkers, world.services?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
}

/** The bench's progress bar on stderr (redrawn on a terminal, a line every 5 s in a log). */
function progressBar() {
  return new cliProgress.SingleBar(
    {
      format: ' {bar} {percentage}% | {value}/{total} | {phase} | {rate}',
      hideCursor: true,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** Each series: a warm-up, then each concurrency level measured; a progress bar on stderr. */
async function runAllSeries(w: BenchWorld, params: Params, runId: string, callTimes: Record<string, number[]>) {
  const levels = params.concurrency;
  const bar = progressBar();
  bar.start(params.series.length * (params.warmup + levels.length * params.sagas), 0, { phase: 'warm-up', rate: '' });
  const run = batchRunner(w, params, bar, callTimes);
  const results: SeriesLevel[] = [];
  const breakdowns: Record<string, unknown> = {};
  for (const s of params.series) {
    bar.update({ phase: `${s} warm-up`, rate: '' });
    const warmIds = Array.from({ length: params.warmup }, (_, i) => `bench-${runId}-${s}-w${i}`);
    const warm = await run(s, warmIds, Math.max(...levels));
    if (warm.result.errors.length)
      throw new Error(`warm-up of ${s} failed: ${warm.result.errors.slice(0, 3).join('; ')}`);
    for (const concurrency of levels) {
      bar.update({ phase: `${s} c=${concurrency}` });
      const ids = Array.from({ length: params.sagas }, (_, i) => `bench-${runId}-${s}-c${concurrency}-${i}`);
      const { level, sorted } = await measureLevel(w, s, concurrency, ids, () =>
        run(s, ids, concurrency, DIRECT_SERIES.includes(s) && concurrency === levels[0]),
      );
      results.push(level);
      bar.update({
        rate: `${s} c=${concurrency}: ${level.throughput.toFixed(1)}/s p50 ${level.latencyMs.p50.toFixed(1)} ms`,
      });
      if (!DIRECT_SERIES.includes(s) && concurrency === levels[0]) {
        breakdowns[s] = await historyBreakdown(w.client, ids.slice(0, 20), sorted);
      }
    }
  }
  bar.stop();
  return { results, breakdowns };
}

type BatchRun = { result: BatchResult; clientCpuSeconds: number };

/** Runs a batch here, or (with --client-in-worker, for the Temporal series) in the first worker process. */
function batchRunner(w: BenchWorld, params: Params, bar: cliProgress.SingleBar, callTimes: Record<string, number[]>) {
  const runRemote = async (s: SeriesName, ids: string[], concurrency: number): Promise<BatchRun> =>
    askWorker(w.workers[0], { kind: 'run-batch', series: s, ids, concurrency }, 'batch-result', (m) => {
      if (m.kind === 'tick') bar.increment(m.n);
    });
  const runHere = async (s: SeriesName, ids: string[], concurrency: number, timeCalls: boolean): Promise<BatchRun> => {
    const op = makeOp(s, {
      client: w.client,
      taskQueue: w.taskQueue,
      eager: false,
      serviceClient: w.serviceClient,
      floorClient: w.floorClient,
      callTimes: timeCalls ? callTimes : undefined,
    });
    const cpu0 = process.cpuUsage();
    const result = await runBatch(op, ids, concurrency, () => bar.increment());
    const cpu = process.cpuUsage(cpu0);
    return { result, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
  };
  return (s: SeriesName, ids: string[], concurrency: number, timeCalls = false) =>
    params.clientInWorker && !DIRECT_SERIES.includes(s)
      ? runRemote(s, ids, concurrency)
      : runHere(s, ids, concurrency, timeCalls);
}

/** One level: the batch, with the CPU time of every process and the load average around it. */
async function measureLevel(
  w: BenchWorld,
  s: SeriesName,
  concurrency: number,
  ids: string[],
  runBatchOfLevel: () => Promise<BatchRun>,
): Promise<{ level: SeriesLevel; sorted: number[] }> {
  const workersCpu = () => w.workers.reduce((sum, x) => sum + cpuSeconds(x.pid), 0);
  const workers = w.workers;
  const server = w.server;
  const load0 = os.loadavg()[0];
  const before = {
    worker: workersCpu(),
    server: server.cpuSeconds(),
    services: treeCpuSeconds(w.services.pid),
  };
  const { result, clientCpuSeconds } = await runBatchOfLevel();
  const after = {
    worker: workersCpu(),
    server: server.cpuSeconds(),
    services: treeCpuSeconds(w.services.pid),
  };
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const ok = sorted.length;
  const per = (v: number) => (ok ? (v * 1000) / ok : NaN);
  const level: SeriesLevel = {
    series: s,
    concurrency,
    n: ids.length,
    ok,
    errors: result.errors.length,
    firstErrors: result.errors.slice(0, 5),
    wallSeconds: result.wallMs / 1000,
    throughput: ok / (result.wallMs / 1000),
    latencyMs: {
      min: sorted[0],
      p50: pct(sorted, 50),
      p95: pct(sorted, 95),
      p99: pct(sorted, 99),
      max: sorted[ok - 1],
      mean: sorted.reduce((a, b) => a + b, 0) / ok,
    },
    cpuMsPerOp: {
      worker: per(after.worker - before.worker),
      server: per(after.server - before.server),
      services: per(after.services - before.services),
      client: per(clientCpuSeconds),
    },
    workerPeakRssMb: Math.max(...workers.map((w) => statusKb(w.pid, 'VmHWM'))) / 1024,
    workerRssMb: Math.max(...workers.map((w) => statusKb(w.pid, 'VmRSS'))) / 1024,
    loadAvg: [load0, os.loadavg()[0]],
  };
  return { level, sorted };
}

/** bench-results/<run>.json, and unless --no-docs docs/bench/latest.json and latest.svg. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function writeOutputs(report: any, docs: boolean): void {
  const { runId, environment, params, results, finishedAt } = report;
  const temporalVersion: string = environment.temporalCli;
  mkdirSync(path.join(REPO_ROOT, 'bench-results'), { recursive: true });
  const file = path.join(REPO_ROOT, 'bench-results', `${runId}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  const written = [path.relative(REPO_ROOT, file)];
  if (docs) {
    mkdirSync(path.join(REPO_ROOT, 'docs/bench'), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, 'docs/bench/latest.json'), JSON.stringify(report, null, 2));
    const subtitle = `${environment.cores} cores, Node ${environment.node}, ${temporalVersion.replace(/^temporal version /, 'Temporal CLI ')}, ${params.persistence} persistence, ${params.sagas} per level — ${finishedAt.toISOString().slice(0, 16)}Z`;
    writeFileSync(
      path.join(REPO_ROOT, 'docs/bench/latest.svg'),
      renderChart(
        (results as SeriesLevel[]).map((r) => ({
          series: r.series,
          concurrency: r.concurrency,
          throughput: r.throughput,
          p50: r.latencyMs.p50,
          p95: r.latencyMs.p95,
          p99: r.latencyMs.p99,
        })),
        'Order saga on Temporal vs plain chain and Temporal floor',
        subtitle,
      ),
    );
    written.push('docs/bench/latest.json', 'docs/bench/latest.svg');
  }
  console.log(`\nwritten: ${written.join(', ')}`);
}

/** Where the time of one saga goes, from its workflow history's event timestamps (median over up to 20 sagas). */
async function historyBreakdown(client: Client, ids: string[], clientLatencies: number[]) {
  const E = temporal.api.enums.v1.EventType;
  const rows: Record<string, number>[] = [];
  // What the history holds, per event type (count and encoded bytes), summed over the sampled sagas.
  const byType: Record<string, { count: number; bytes: number }> = {};
  let historyBytes = 0;
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    historyBytes += temporal.api.history.v1.History.encode(history).finish().length;
    for (const e of events) {
      const type = String(E[e.eventType as number] ?? e.eventType).replace(/^EVENT_TYPE_/, '');
      const entry = (byType[type] ??= { count: 0, bytes: 0 });
      entry.count++;
      entry.bytes += temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
    }
    const t = (e: (typeof events)[number]) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
    const at = new Map<number, number>();
    const r = {
      wftScheduleToStart: 0,
      wftStartToComplete: 0,
      activityScheduleToStart: 0,
      activityStartToClose: 0,
      workflowTasks: 0,
      activities: 0,
      total: 0,
      other: 0,
    };
    for (const e of events) {
      const id = Number(e.eventId);
      const time = t(e);
      at.set(id, time);
      switch (e.eventType) {
        case E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
          r.wftScheduleToStart += time - at.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId))!;
          r.workflowTasks++;
          break;
        case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
          r.wftStartToComplete += time - at.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId))!;
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          r.activityScheduleToStart += time - at.get(Number(e.activityTaskStartedEventAttributes!.scheduledEventId))!;
          r.activities++;
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          r.activityStartToClose += time - at.get(Number(e.activityTaskCompletedEventAttributes!.startedEventId))!;
          break;
        case E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
          r.activityStartToClose += time - at.get(Number(e.activityTaskFailedEventAttributes!.startedEventId))!;
          break;
      }
    }
    r.total = events.length ? t(events[events.length - 1]) - t(events[0]) : 0;
    r.other =
      r.total - r.wftScheduleToStart - r.wftStartToComplete - r.activityScheduleToStart - r.activityStartToClose;
    rows.push({ ...r, events: events.length });
  }
  const median = (k: string) => {
    const v = rows.map((r) => r[k]).sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
  };
  const keys = Object.keys(rows[0] ?? {});
  const m = Object.fromEntries(keys.map((k) => [k, median(k)]));
  const clientP50 = pct(clientLatencies, 50);
  const n = rows.length || 1;
  return {
    sampled: rows.length,
    historyBytesPerRun: historyBytes / n,
    eventsPerRunByType: Object.fromEntries(
      Object.entries(byType)
        .sort((a, b) => b[1].bytes - a[1].bytes)
        .map(([k, v]) => [k, { count: v.count / n, bytes: Math.round(v.bytes / n) }]),
    ),
    medianMs: m,
    clientP50Ms: clientP50,
    // Start RPC, result long-poll and the client's own work: what the client saw beyond the history's first→last event.
    clientOverheadMs: clientP50 - m.total,
  };
}

function plainBreakdown(callTimes: Record<string, number[]>) {
  return Object.fromEntries(
    Object.entries(callTimes).map(([k, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return [k, { p50Ms: pct(s, 50), meanMs: s.reduce((a, b) => a + b, 0) / s.length }];
    }),
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function printReport(report: any) {
  const { environment: env, params, results, breakdowns } = report;
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  console.log(`\nOrder saga benchmark — ${report.runId}`);
  console.log(`command:     ${env.command}`);
  console.log(`parameters:  ${JSON.stringify(params)}`);
  console.log(`machine:     ${env.cores} cores (${env.cpuModel}), ${env.totalMemMb} MB, ${env.platform}`);
  console.log(`software:    Node ${env.node}, ${env.temporalCli}`);
  if (env.temporalServer) console.log(`temporal:    ${env.temporalServer}`);
  console.log('series:      ' + (params.series as SeriesName[]).map((s) => `${s} = ${SERIES_LABEL[s]}`).join('; '));
  console.log(
    'load1:       1-minute load average before→after each level; above the core count, other processes competed for the CPU',
  );
  const serverWhat = params.temporal === 'cluster' ? 'Temporal cluster (4 roles + their PostgreSQL)' : 'dev server';
  const workerWhat = (params.workers ?? 1) > 1 ? `worker processes (sum of ${params.workers})` : 'worker process';
  console.log(
    `CPU columns: ms of CPU per operation: ${workerWhat} | ${serverWhat} | services + PostgreSQL | client (bench process, or worker when the client runs there)\n`,
  );
  const header = [
    'series',
    'conc',
    'ok/n',
    'ops/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'cpu wrk',
    'cpu srv',
    'cpu svc',
    'cpu cli',
    'wrk peak MB',
    'load1',
  ];
  const rows: string[][] = results.map((r: SeriesLevel) => [
    r.series,
    String(r.concurrency),
    `${r.ok}/${r.n}`,
    f(r.throughput),
    f(r.latencyMs.p50),
    f(r.latencyMs.p95),
    f(r.latencyMs.p99),
    f(r.latencyMs.max),
    f(r.cpuMsPerOp.worker, 2),
    f(r.cpuMsPerOp.server, 2),
    f(r.cpuMsPerOp.services, 2),
    f(r.cpuMsPerOp.client, 2),
    f(r.workerPeakRssMb, 0),
    `${f(r.loadAvg[0])}→${f(r.loadAvg[1])}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  for (const r of results as SeriesLevel[])
    if (r.errors) console.log(`  ${r.series} c=${r.concurrency}: ${r.errors} error(s), e.g. ${r.firstErrors[0]}`);

  console.log(
    '\nWhere the time goes at the lowest concurrency (median per operation, ms, from workflow history event times):',
  );
  for (const s of SERIES.filter((x) => !DIRECT_SERIES.includes(x))) {
    const b = breakdowns[s];
    if (!b) continue;
    const m = b.medianMs;
    console.log(
      `  ${s.padEnd(12)} client p50 ${f(b.clientP50Ms)} = history first→last ${f(m.total)} + client overhead (start RPC, result poll) ${f(b.clientOverheadMs)}; ` +
        `history: ${m.workflowTasks} workflow tasks: schedule→start ${f(m.wftScheduleToStart)}, start→complete ${f(m.wftStartToComplete)}; ` +
        `${m.activities} activities: schedule→start ${f(m.activityScheduleToStart)}, start→close ${f(m.activityStartToClose)}; other ${f(m.other)} (${m.events} events)`,
    );
    const types = Object.entries(b.eventsPerRunByType as Record<string, { count: number; bytes: number }>);
    console.log(
      `  ${''.padEnd(12)} history ${f(b.historyBytesPerRun, 0)} bytes: ${types.map(([k, v]) => `${k} ${f(v.count, 1)}×/${v.bytes} B`).join(', ')}`,
    );
  }
  if (breakdowns.plain) {
    const p = breakdowns.plain as Record<string, { p50Ms: number }>;
    const calls = Object.entries(p).filter(([k]) => k !== FLOOR_CALL);
    const sum = calls.reduce((a, [, v]) => a + v.p50Ms, 0);
    console.log(
      `  plain        service calls, p50 each: ${calls.map(([k, v]) => `${k} ${f(v.p50Ms, 2)}`).join(', ')} (sum ${f(sum)})`,
    );
    if (p[FLOOR_CALL])
      console.log(`  call-floor   one HTTP round trip + one PostgreSQL round trip: p50 ${f(p[FLOOR_CALL].p50Ms, 2)}`);
  }
  printVerdict({ ratios: report.ratios, perCall: report.perCall, targets: report.targets } as Verdict);
  const p = report.parked as ParkedFigures | undefined;
  if (p) {
    console.log(
      `\nParked: ${p.sagas} sagas waiting for an operator (parked in ${f(p.startSeconds)} s). Per 1,000 parked sagas: worker heap +${f(p.workerHeapMbPerThousand)} MB, ` +
        `external +${f(p.workerExternalMbPerThousand)} MB, worker RSS +${f(p.workerRssMbPerThousand)} MB (RSS ${f(p.workerRssMbBefore, 0)} MB before, ${f(p.workerRssMbAfterRelease, 0)} MB after the release), server RSS +${f(p.serverRssMbPerThousand)} MB. While idle (${p.idleSeconds} s): worker ${f(p.idleCpuPercent.worker)} % CPU, ` +
        `server ${f(p.idleCpuPercent.server)} % CPU.`,
    );
    console.log(
      `Released all in ${f(p.releaseSeconds)} s (${f(p.releasedPerSecond)}/s), as dead-letters resolve --all --yes: ${p.releaseListed} waiting listed in ${f(p.releaseListSeconds, 2)} s (one visibility query), ` +
        `${p.releaseDecisions} decisions accepted in ${f(p.releaseDecideSeconds)} s (${f(p.decisionsPerSecond)}/s; ${p.lostDecisions} lost, ${p.duplicatedDecisions} duplicated; CPU per decision: worker ${f(p.decideCpuMsPerDecision.worker)} ms, server ${f(p.decideCpuMsPerDecision.server)} ms), then unwound in ${f(p.unwindSeconds)} s.${p.errors.length ? ` Errors: ${p.errors.join('; ')}` : ''}`,
    );
  }
}

main().catch((err) => {
  console.error(`\nbench failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
