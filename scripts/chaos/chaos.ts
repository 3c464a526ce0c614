/**
 * A chaos run: many order sagas with random customers, items, destinations and injected faults, a client that
 * cancels some of them, and processes that are SIGKILLed and restarted while they run: the worker, the services'
 * process, the Temporal dev server (file persistence), as `--kill` says. Then the invariant checker (invariants.ts)
 * reads every service's database and proves that nothing leaked, doubled or got lost.
 *
 * Processes: PostgreSQL (a keeper child, infra/processes/postgres-process.ts), the four services (fault injection on)
 * in one child on fixed ports, the Temporal dev server on a fixed port and a SQLite file, the worker in a child of its
 * own; the client runs here.
 * `npm run chaos` (run.ts) is the command line; the test (test/chaos/chaos.test.ts) calls runChaos directly.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkTsScript, nextMessage } from '../../infra/processes/child';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, isGrpcServiceError, ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import cliProgress from 'cli-progress';
import { REPO_ROOT } from '../../infra/temporal/binary';
import { startDevServer, type DevServer, type DevServerOptions } from '../../infra/temporal/dev-server';
import { getFreePort } from '../../infra/ports';
import { makeTempDirForPostgres } from '../../infra/postgres/embedded';
import { startPostgresProcess, type PostgresProcess } from '../../infra/processes/postgres-process';
import { startServicesProcess, type ServicesProcessConfig } from '../../infra/processes/services-process';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import pg from 'pg';
import { parseOrderSagaInput } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import type { OrderSagaInput } from '../../workflows/order-saga-input';
import { SAGA_SEARCH_ATTRIBUTES, SAGA_STATUS } from '../../workflows/search-attributes';
import { runBatch } from '../bench/load';
import { listDeadLetters } from '../../cli/saga-client';
import { checkInvariants, countViolations, isDeadLettered, type CheckResult, type SagaOutcome, type SagaOutcomeKind } from './invariants';
import { activityTypeOf, FAULT_KINDS, faultKinds, killPoints, planSagas, prng, type FaultKind, type SagaPlan } from './plan';
import { readSnapshot } from './snapshot';
import type { ChaosWorkerConfig } from './worker-process';

export interface ChaosOptions {
  sagas: number;
  concurrency: number;
  seed: number;
  /** SIGKILLs, spread over the run, taking turns among the `kill` kinds. */
  kills: number;
  /** Which processes get killed (and restarted): the worker, the services' process, the Temporal dev server. */
  kill: KillKind[];
  /** Pause between a kill and the new worker's start. */
  restartDelayMs: number;
  /** Share of sagas the client cancels at a random moment (0..1). */
  cancelRatio: number;
  /** Activity start-to-close timeout: how long an activity lost with a killed worker takes to be retried. */
  stepTimeout: string;
  /** A saga not ended by then counts as not terminal (and the run goes on). */
  sagaTimeoutMs: number;
  /** Top up cust-alice and the plentiful SKUs after seeding (see services-process.ts). */
  topUp: boolean;
  /** Progress bar and phase lines on stderr. */
  progress: boolean;
  /** Where to write the JSON report; false: not written. */
  reportDir: string | false;
  /** The command line, stored in the report. */
  command?: string;
  /** Aborting stops the children and the dev server. */
  signal?: AbortSignal;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  sagas: 200,
  concurrency: 20,
  seed: 1,
  kills: 3,
  kill: ['worker'],
  restartDelayMs: 1000,
  cancelRatio: 0.05,
  stepTimeout: '4s',
  sagaTimeoutMs: 180_000,
  topUp: true,
  progress: true,
  reportDir: path.join(REPO_ROOT, 'chaos-results'),
};

/** Short retries, so transient faults are absorbed quickly; enough attempts that they always are. */
export const CHAOS_SAGA_OPTIONS: OrderSagaInput['options'] = {
  stepRetry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 10 },
  compensationRetry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 30 },
};

export const KILL_KINDS = ['worker', 'services', 'server'] as const;
export type KillKind = (typeof KILL_KINDS)[number];

export interface KillRecord {
  kind: KillKind;
  atMs: number;
  /** Sagas ended when it happened, and in flight. */
  ended: number;
  inFlight: number;
  restartedAfterMs?: number;
}

export interface SagaRecord extends SagaOutcome {
  cancelRequested: boolean;
  durationMs: number;
  faults?: Record<string, string>;
}

export interface ChaosReport {
  runId: string;
  seed: number;
  command?: string;
  options: Omit<ChaosOptions, 'signal' | 'progress' | 'reportDir'>;
  environment: { cores: number; node: string; loadAvgBefore: number; loadAvgAfter: number };
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  /** Seconds from the first saga's start to the last one's end. */
  runSeconds: number;
  outcomes: Record<string, number>;
  faults: {
    /** Fault specs per kind in the sagas' inputs. */
    planned: Record<FaultKind, number>;
    /** Of those, on an action whose activity actually ran (from the workflow histories). */
    injected: Record<FaultKind, number>;
    /** Sum of N of the injected transient:N. */
    transientFailures: number;
  };
  activities: { scheduled: number; retries: number; workflowTaskTimeouts: number; workflowTaskFailures: number };
  cancellations: { requested: number; accepted: number; endedCancelled: number };
  /** Per kind of process: SIGKILLs, restarts, exits nobody caused. */
  processes: Record<KillKind, { kills: number; restarts: number; unexpectedExits: number }>;
  killLog: KillRecord[];
  checks: CheckResult[];
  violations: number;
  sagas: SagaRecord[];
  reportFile?: string;
}

/**
 * cust-alice and the plentiful SKUs are topped up with SQL after seeding (as the bench does), so a long run is not all
 * "insufficient funds"; MN-003 (25) and LT-005 (1) and the poorer customers keep their seed values, so running out
 * still happens.
 */
const TOP_UP: Partial<Record<ServiceName, string[]>> = {
  inventory: ["UPDATE products SET available = 100000 WHERE sku IN ('KB-001', 'MS-002', 'CB-004')"],
  payments: ["UPDATE customers SET balance_cents = 50000000 WHERE id = 'cust-alice'"],
};

async function topUpForChaos(databaseUrls: Record<ServiceName, string>, topUp: boolean): Promise<void> {
  if (!topUp) return;
  for (const [name, statements] of Object.entries(TOP_UP) as [ServiceName, string[]][]) {
    const client = new pg.Client({ connectionString: databaseUrls[name] });
    await client.connect();
    for (const sql of statements) await client.query(sql);
    await client.end();
  }
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));

/** Graceful stop over IPC, SIGKILL if it does not exit in time. */
async function stopChild(c: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  if (c.connected) c.send({ type: 'stop' });
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited(c);
  clearTimeout(timer);
}

/** A process the run kills: what it needs to be killed for real and waited for. */
interface Killable {
  pid: number;
  exited: Promise<unknown>;
  stop(): Promise<unknown>;
}

/** One kind of process: started, SIGKILLed and started again; an exit it did not cause is counted and recovered too. */
class Restartable {
  current?: Killable;
  kills = 0;
  restarts = 0;
  unexpectedExits = 0;
  private expecting = false;
  private stopped = false;
  private restarting?: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly launch: () => Promise<Killable>,
    private readonly restartDelayMs: number,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const child = await this.launch();
    this.current = child;
    void child.exited.then(() => {
      if (this.current !== child || this.expecting || this.stopped) return;
      this.unexpectedExits++;
      this.log(`${this.name} exited on its own; restarting`);
      this.restarting = sleep(this.restartDelayMs).then(() => this.start()).then(() => void this.restarts++);
    });
  }

  /** SIGKILL, pause, start a new one; resolves when it is ready, with the time it was gone. */
  async killAndRestart(): Promise<number> {
    await this.restarting;
    const child = this.current!;
    this.expecting = true;
    process.kill(child.pid, 'SIGKILL');
    await child.exited;
    this.expecting = false;
    this.kills++;
    const t0 = performance.now();
    await sleep(this.restartDelayMs);
    if (this.stopped) return 0;
    await this.start();
    this.restarts++;
    return performance.now() - t0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting?.catch(() => undefined);
    await this.current?.stop();
  }
}

/** The worker script as a Killable (ready once it polls). */
async function launchWorker(env: NodeJS.ProcessEnv): Promise<Killable> {
  const child = forkTsScript(path.join(__dirname, 'worker-process.ts'), env);
  const gone = exited(child);
  await nextMessage(child, 'ready', 'worker process');
  return { pid: child.pid!, exited: gone, stop: () => stopChild(child, 10_000) };
}

/** Calls the Temporal server, waiting out an outage (the chaos run kills it): retried while it is unreachable. */
async function throughOutages<T>(call: () => Promise<T>, signal?: AbortSignal, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (signal?.aborted || Date.now() > deadline || !isUnreachable(err)) throw err;
      await sleep(250);
    }
  }
}

/** The server is down or restarting (gRPC UNAVAILABLE, a reset connection, a deadline during the outage). */
function isUnreachable(err: unknown): boolean {
  // gRPC status codes: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 2 UNKNOWN (a stream cut by the server's death).
  if (isGrpcServiceError(err)) return [14, 4, 2].includes(err.code);
  if (err instanceof ServiceError) return err.cause === undefined || isUnreachable(err.cause);
  return false;
}

type Classified = { outcome: SagaOutcomeKind; detail?: string };

/** How a saga's workflow ended, from its result. */
async function awaitOutcome(client: Client, handle: WorkflowHandle<typeof orderSaga>, signal: AbortSignal): Promise<Classified> {
  try {
    // Abortable: a parked saga's result never comes, and a long poll left running outlives the connection.
    const result = await throughOutages(() => client.withAbortSignal(signal, () => handle.result()), signal, 600_000);
    return { outcome: result.status, detail: result.reason };
  } catch (err) {
    const cause = (err as { cause?: { name?: string; message?: string } }).cause;
    if (cause?.name === 'CancelledFailure') return { outcome: 'CANCELLED' };
    return { outcome: 'FAILED', detail: cause?.message ?? (err as Error).message };
  }
}

/**
 * A saga parked for an operator keeps running, so its result never comes: watch its SagaStatus search attribute
 * (a describe, answered by the server alone, not by the worker) for NEEDS_ATTENTION.
 */
async function watchNeedsAttention(handle: WorkflowHandle, done: { value: boolean }, everyMs: number): Promise<Classified> {
  for (;;) {
    await sleep(everyMs);
    if (done.value) return new Promise<never>(() => undefined);
    const status = await handle
      .describe()
      .then((d) => d.typedSearchAttributes.get(SAGA_STATUS))
      .catch(() => undefined);
    if (status === 'NEEDS_ATTENTION') return { outcome: 'NEEDS_ATTENTION', detail: 'parked for an operator' };
  }
}

function emptyKinds(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

/** Fault and retry figures from the workflow histories (which activities ran, in how many attempts). */
async function historyStats(client: Client, plans: SagaPlan[]) {
  const E = temporal.api.enums.v1.EventType;
  const injected = emptyKinds();
  let transientFailures = 0;
  const activities = { scheduled: 0, retries: 0, workflowTaskTimeouts: 0, workflowTaskFailures: 0 };
  await runBatch(
    async (i) => {
      const plan = plans[Number(i)];
      const history = await client.workflow.getHandle(plan.input.orderId).fetchHistory();
      const ran = new Set<string>();
      for (const e of history.events ?? []) {
        if (e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
          activities.scheduled++;
          ran.add(e.activityTaskScheduledEventAttributes!.activityType!.name!);
        } else if (e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
          activities.retries += Math.max(0, (e.activityTaskStartedEventAttributes!.attempt ?? 1) - 1);
        } else if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) {
          activities.workflowTaskTimeouts++;
        } else if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
          activities.workflowTaskFailures++;
        }
      }
      for (const [action, spec] of Object.entries(plan.input.faults ?? {})) {
        if (!ran.has(activityTypeOf(action))) continue;
        for (const kind of faultKinds(spec!)) injected[kind]++;
        transientFailures += Number(/transient:(\d+)/.exec(spec!)?.[1] ?? 0);
      }
    },
    plans.map((_, i) => String(i)),
    8,
  ).then((r) => {
    if (r.errors.length) throw new Error(`could not read ${r.errors.length} workflow histories: ${r.errors[0]}`);
  });
  return { injected, transientFailures, activities };
}

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...options };
  const log = (line: string) => o.progress && process.stderr.write(`  ${line}\n`);
  const runId = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '') + '-' + randomBytes(2).toString('hex');
  // One token for the services and the worker (the services refuse mutating requests without it).
  const authToken = randomBytes(24).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-chaos-'));
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAvgBefore = os.loadavg()[0];

  let postgres: PostgresProcess | undefined;
  const processes: Partial<Record<KillKind, Restartable>> = {};
  let connection: Connection | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await processes.worker?.stop().catch(() => undefined);
      await connection?.close().catch(() => undefined);
      await processes.server?.stop().catch(() => undefined);
      await processes.services?.stop().catch(() => undefined);
      await postgres?.stop(20_000).catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
      if (pgDir) rmSync(pgDir, { recursive: true, force: true });
    })());
  const onAbort = () => void cleanup().finally(() => process.exit(130));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let pgDir: string | undefined;

  try {
    // 1. PostgreSQL, then the services (fault injection on) and the Temporal dev server (a SQLite file, so that it
    //    can be killed and come back with its history) side by side, and the workflow bundle. Fixed ports: a
    //    restarted process comes back on the same address.
    log('starting PostgreSQL, the services (fault injection on), the Temporal dev server; bundling the workflows…');
    pgDir = await makeTempDirForPostgres('saga-chaos-pg-');
    postgres = await startPostgresProcess({ dataDir: path.join(pgDir, 'data'), port: await getFreePort(), databases: [...SERVICE_NAMES] });
    const databaseUrls = postgres.ready.urls as Record<ServiceName, string>;
    const servicePorts = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (n) => [n, await getFreePort()] as const))) as Record<ServiceName, number>;
    const urls = Object.fromEntries(SERVICE_NAMES.map((n) => [n, `http://127.0.0.1:${servicePorts[n]}`])) as Record<ServiceName, string>;
    const servicesConfig: ServicesProcessConfig = {
      services: SERVICE_NAMES.map((name) => ({ name, port: servicePorts[name], databaseUrl: databaseUrls[name] })),
      authToken,
      faultInjection: true,
      seed: true,
      logLevel: 'silent',
    };
    processes.services = new Restartable('services', () => startServicesProcess(servicesConfig, { name: 'services' }), o.restartDelayMs, log);
    const serverOptions: DevServerOptions = {
      ui: false,
      port: await getFreePort(),
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      dbFilename: path.join(tmp, 'temporal.db'),
      logFile: path.join(tmp, 'server.log'),
      parentDeathSignal: 'SIGKILL',
    };
    let devServer: DevServer | undefined;
    processes.server = new Restartable('the Temporal dev server', async () => (devServer = await startDevServer(serverOptions)), o.restartDelayMs, log);
    const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
    const [, , bundle] = await Promise.all([
      processes.services.start().then(() => topUpForChaos(databaseUrls, o.topUp)),
      processes.server.start(),
      bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quiet as never }),
    ]);
    const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, bundle.code);

    // 2. The worker.
    const taskQueue = `chaos-${runId}`;
    const workerConfig: ChaosWorkerConfig = {
      address: devServer!.address,
      namespace: devServer!.namespace,
      taskQueue,
      urls,
      authToken,
      requestTimeoutMs: 3000,
      workflowBundlePath,
      stickyQueueScheduleToStartTimeout: '2s',
    };
    const workerEnv = { CHAOS_WORKER_CONFIG: JSON.stringify(workerConfig), SERVICE_AUTH_TOKEN: authToken };
    processes.worker = new Restartable('worker', () => launchWorker(workerEnv), o.restartDelayMs, log);
    log('starting the worker…');
    await processes.worker.start();
    const namespace = devServer!.namespace;

    // 3. The plan, and the databases before the first saga.
    const plans = planSagas({ seed: o.seed, sagas: o.sagas, cancelRatio: o.cancelRatio, idPrefix: `chaos-${runId}`, options: { ...CHAOS_SAGA_OPTIONS, stepTimeout: o.stepTimeout } });
    const points = killPoints(o.seed, o.sagas, o.kills);
    const initial = await readSnapshot(databaseUrls);
    connection = await Connection.connect({ address: devServer!.address });
    const client = new Client({ connection, namespace });

    // 4. The sagas, and the killer alongside.
    const records: SagaRecord[] = [];
    const counts: Record<string, number> = {};
    let ended = 0;
    let inFlight = 0;
    let cancelAccepted = 0;
    const bar = new cliProgress.SingleBar(
      {
        format: '  {bar} {value}/{total} sagas | {outcomes} | kills {kills}',
        hideCursor: true,
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    const outcomesText = () => Object.entries(counts).map(([k, n]) => `${k.toLowerCase()} ${n}`).join(', ') || '…';
    if (o.progress) bar.start(o.sagas, 0, { outcomes: outcomesText(), kills: 0 });
    const killLog: KillRecord[] = [];
    const runStart = performance.now();
    let allEnded = false;
    const killer = (async () => {
      const rng = prng(o.seed ^ 0x5bd1e995);
      for (const point of points) {
        // Kinds take turns, in the order given: --kill worker,services,server --kills 9 kills each three times.
        while (!allEnded && ended < point) await sleep(50);
        if (allEnded) return;
        await sleep(Math.floor(rng() * 300));
        if (allEnded) return;
        const kind = o.kill[killLog.length % o.kill.length];
        const record: KillRecord = { kind, atMs: Math.round(performance.now() - runStart), ended, inFlight };
        killLog.push(record);
        record.restartedAfterMs = Math.round(await processes[kind]!.killAndRestart());
        if (o.progress) bar.update({ kills: killLog.length });
      }
    })();

    const byId = new Map(plans.map((p) => [p.input.orderId, p]));
    const watchEveryMs = 3000;
    await runBatch(
      async (orderId) => {
        const plan = byId.get(orderId)!;
        const input = parseOrderSagaInput(plan.input);
        const started = performance.now();
        inFlight++;
        // startOrderSaga's options, plus a short workflow task timeout: a task lost with a killed worker is
        // retried after it (the default is 10 s).
        // Retried through a server outage; a retry that finds the saga started (the first try got through, its
        // answer did not) takes it as started.
        let tries = 0;
        const handle = await throughOutages(() =>
          client.workflow
            .start(orderSaga, {
              taskQueue,
              workflowId: input.orderId,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
              args: [input],
              typedSearchAttributes: [{ key: SAGA_STATUS, value: 'RUNNING' }],
              staticSummary: `Chaos order ${input.orderId} for ${input.customerId}, shipping to ${input.destination.country}`,
              workflowTaskTimeout: '3s',
            })
            .catch((err: unknown) => {
              if (++tries > 1 && err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle<typeof orderSaga>(input.orderId);
              throw err;
            }),
        );
        let cancelRequested = false;
        const cancelTimer =
          plan.cancelAfterMs === undefined
            ? undefined
            : setTimeout(() => {
                cancelRequested = true;
                throughOutages(() => handle.cancel()).then(
                  () => void cancelAccepted++,
                  () => undefined, // already ended
                );
              }, plan.cancelAfterMs);
        const done = { value: false };
        const stopWaiting = new AbortController();
        const result = awaitOutcome(client, handle, stopWaiting.signal);
        result.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          result,
          watchNeedsAttention(handle, done, watchEveryMs),
          new Promise<Classified>((resolve) => (timer = setTimeout(() => resolve({ outcome: 'TIMED_OUT', detail: `not ended after ${o.sagaTimeoutMs} ms` }), o.sagaTimeoutMs))),
        ]);
        done.value = true;
        stopWaiting.abort();
        clearTimeout(timer);
        clearTimeout(cancelTimer);
        inFlight--;
        ended++;
        records.push({ orderId, customerId: input.customerId, ...outcome, cancelRequested, durationMs: Math.round(performance.now() - started), faults: input.faults });
        counts[outcome.outcome] = (counts[outcome.outcome] ?? 0) + 1;
        if (o.progress) bar.update({ outcomes: outcomesText() });
      },
      plans.map((p) => p.input.orderId),
      o.concurrency,
      () => o.progress && bar.increment(),
    ).then((r) => {
      if (r.errors.length) throw new Error(`${r.errors.length} saga(s) could not be run: ${r.errors.slice(0, 3).join('; ')}`);
    });
    allEnded = true;
    await killer;
    const runSeconds = (performance.now() - runStart) / 1000;
    if (o.progress) bar.stop();

    // 5. Figures from the histories; the databases after; the invariants.
    log('reading workflow histories and the four databases…');
    const stats = await throughOutages(() => historyStats(client, plans));
    const final = await readSnapshot(databaseUrls);
    // What an operator sees: the CLI's `dead-letters list` (sagas found by SagaStatus, details by query).
    const listedDeadLetters = [...new Set((await listDeadLetters(client, { limit: 1000 })).map((d) => d.orderId))];
    records.sort((a, b) => a.orderId.localeCompare(b.orderId));
    const checks = checkInvariants({ sagas: records, initial, final, listedDeadLetters });

    const planned = emptyKinds();
    for (const p of plans) for (const spec of Object.values(p.input.faults ?? {})) for (const k of faultKinds(spec!)) planned[k]++;
    const outcomes: Record<string, number> = { APPROVED: 0, REJECTED: 0, CANCELLED: 0, 'dead-lettered': 0 };
    for (const r of records) {
      const kind = isDeadLettered(r, final.deadLetters, listedDeadLetters) ? 'dead-lettered' : r.outcome;
      outcomes[kind] = (outcomes[kind] ?? 0) + 1;
    }
    const finishedAt = new Date();
    const { signal: _s, progress: _p, reportDir: _r, ...reportedOptions } = o;
    const report: ChaosReport = {
      runId,
      seed: o.seed,
      command: o.command,
      options: reportedOptions,
      environment: { cores: os.cpus().length, node: process.version, loadAvgBefore, loadAvgAfter: os.loadavg()[0] },
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds: (performance.now() - t0) / 1000,
      runSeconds,
      outcomes,
      faults: { planned, injected: stats.injected, transientFailures: stats.transientFailures },
      activities: stats.activities,
      cancellations: { requested: records.filter((r) => r.cancelRequested).length, accepted: cancelAccepted, endedCancelled: outcomes.CANCELLED },
      processes: Object.fromEntries(
        KILL_KINDS.map((k) => [k, { kills: processes[k]?.kills ?? 0, restarts: processes[k]?.restarts ?? 0, unexpectedExits: processes[k]?.unexpectedExits ?? 0 }]),
      ) as ChaosReport['processes'],
      killLog,
      checks,
      violations: countViolations(checks),
      sagas: records,
    };
    if (o.reportDir) {
      mkdirSync(o.reportDir, { recursive: true });
      report.reportFile = path.join(o.reportDir, `${runId}.json`);
      writeFileSync(report.reportFile, JSON.stringify(report, null, 2));
    }
    return report;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await cleanup();
  }
}

/** The report as text: figures, then each invariant with its counts and its first violations. */
export function formatReport(r: ChaosReport, maxViolations = 5): string {
  const kinds = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${k} ${n}`).join(', ');
  const lines = [
    `chaos run ${r.runId}   seed ${r.seed}   (replay: --seed ${r.seed})`,
    `  sagas          ${r.sagas.length} at concurrency ${r.options.concurrency}: ${kinds(r.outcomes)}`,
    `  faults         injected ${kinds(r.faults.injected)} (planned ${kinds(r.faults.planned)}; ${r.faults.transientFailures} transient failures)`,
    `  activities     ${r.activities.scheduled} scheduled, ${r.activities.retries} retries; workflow tasks: ${r.activities.workflowTaskTimeouts} timed out, ${r.activities.workflowTaskFailures} failed`,
    `  cancellations  ${r.cancellations.requested} requested, ${r.cancellations.accepted} accepted by the server, ${r.cancellations.endedCancelled} ended CANCELLED`,
    ...KILL_KINDS.filter((k) => r.options.kill.includes(k) || r.processes[k].unexpectedExits).map(
      (k) =>
        `  ${k.padEnd(14)} ${r.processes[k].kills} kills (SIGKILL), ${r.processes[k].restarts} restarts, ${r.processes[k].unexpectedExits} unexpected exits` +
        (r.killLog.some((x) => x.kind === k)
          ? `; at ${r.killLog
              .filter((x) => x.kind === k)
              .map((x) => `${(x.atMs / 1000).toFixed(1)} s (${x.inFlight} in flight, back after ${((x.restartedAfterMs ?? 0) / 1000).toFixed(1)} s)`)
              .join(', ')}`
          : ''),
    ),
    `  wall time      ${r.wallSeconds.toFixed(1)} s (sagas ${r.runSeconds.toFixed(1)} s); load average ${r.environment.loadAvgBefore.toFixed(2)} → ${r.environment.loadAvgAfter.toFixed(2)} on ${r.environment.cores} cores`,
    '',
    'invariants',
  ];
  for (const c of r.checks) {
    lines.push(`  ${c.violations.length ? '✘' : '✔'} ${c.id} ${c.name}: ${c.summary}${c.violations.length ? ` — ${c.violations.length} violation(s)` : ''}`);
    for (const n of c.notes ?? []) lines.push(`      · ${n}`);
    for (const v of c.violations.slice(0, maxViolations)) lines.push(`      ✘ ${v}`);
    if (c.violations.length > maxViolations) lines.push(`      … and ${c.violations.length - maxViolations} more (see the JSON report)`);
  }
  lines.push('', `violations: ${r.violations}${r.reportFile ? `   report: ${path.relative(process.cwd(), r.reportFile)}` : ''}`);
  return lines.join('\n');
}
