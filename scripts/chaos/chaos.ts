/**
 * A chaos run: many order sagas with random customers, items, destinations and injected faults, a client that
 * cancels some of them, and processes that are SIGKILLed and restarted while they run: the worker, and with `--kill`
 * the services' process and the Temporal dev server too (dev-server-environment.ts), or on the cluster every kind of
 * process (cluster-environment.ts). Then the invariant checker
 * (invariants.ts) reads every service's database and proves that nothing leaked, doubled or got lost. A second phase
 * returns some of the approved orders (return-phase.ts) under the same kinds of faults, each return checked with the
 * return saga's invariants, and stock and money checked again across the returns.
 *
 * Processes, as in the bench (scripts/bench/run.ts): PostgreSQL + the four services (fault injection on) in one child,
 * the Temporal dev server in another, the worker in a third (the one that gets killed); the client runs here.
 * `npm run chaos` (run.ts) is the command line; the test (test/chaos/chaos.test.ts) calls runChaos directly.
 */
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkTsScript, nextMessage } from '../../infra/processes/child';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import { temporal } from '@temporalio/proto';
import cliProgress from 'cli-progress';
import { REPO_ROOT } from '../../infra/temporal/binary';
import { bundleSagaWorkflows } from '../../infra/temporal/saga-worker';
import { actionOfScheduledActivity, checkSagaRequest, SagaAlreadyStartedError, startSaga } from '../../cli/saga-client';
import { orderSaga, type OrderSagaResult } from '../../workflows/order-saga';
import type { SagaRunOptions } from '../../workflows/saga';
import { SAGA_STATUS } from '../../workflows/saga/search-attributes';
import { runBatch } from '../bench/load';
import { listDeadLetters } from '../../cli/saga-client';
import {
  checkInvariants,
  checkMoney,
  checkStock,
  countViolations,
  isDeadLettered,
  type CheckResult,
  type SagaOutcome,
  type SagaOutcomeKind,
} from './invariants';
import { FAULT_KINDS, faultKinds, killPoints, planSagas, prng, type FaultKind, type SagaPlan } from './plan';
import { runReturnPhase, type ReturnRecord } from './return-phase';
import {
  DEV_SERVER_KILL_KINDS,
  startDevServerEnvironment,
  type DevServerEnvironment,
  type DevServerKillKind,
} from './dev-server-environment';
import { readSnapshot } from './snapshot';
import type { ChaosWorkerConfig } from './worker-process';
import {
  CLUSTER_FAULT_KINDS,
  startClusterEnvironment,
  type ClusterEnvironment,
  type ClusterFaultKind,
} from './cluster-environment';
import { silentSdkLogger as quiet } from '../../infra/telemetry/worker-runtime';

export interface ChaosOptions {
  sagas: number;
  concurrency: number;
  seed: number;
  /** Worker SIGKILLs, spread over the run. */
  kills: number;
  /** Pause between a kill and the new worker's start. */
  restartDelayMs: number;
  /** Share of sagas the client cancels at a random moment (0..1). */
  cancelRatio: number;
  /** Activity start-to-close timeout: how long an activity lost with a killed worker takes to be retried. */
  stepTimeout: string;
  /** A saga not ended by then counts as not terminal (and the run goes on). */
  sagaTimeoutMs: number;
  /** Top up cust-alice and the plentiful SKUs after seeding (see top-up.ts). */
  topUp: boolean;
  /** Progress bar and phase lines on stderr. */
  progress: boolean;
  /** Where to write the JSON report; false: not written. */
  reportDir: string | false;
  /** The command line, stored in the report. */
  command?: string;
  /** Aborting stops the children and the dev server. */
  signal?: AbortSignal;
  /**
   * 'cluster': the real Temporal server (four role processes on PostgreSQL, see cluster-environment.ts); `kills` is
   * then per process kind (worker, services, history, matching), plus `postgresRestarts`. Default 'dev-server'.
   */
  temporal: 'dev-server' | 'cluster';
  /** Saga worker processes; a worker kill hits one of them. Default 1 (2 on the cluster). */
  workers?: number;
  /** Cluster only: PostgreSQL restarts (fast shutdown, same data directory). */
  postgresRestarts: number;
  /** Share of the approved orders returned in the second phase (return sagas); 0: no return phase. */
  returnRatio: number;
  /**
   * Dev server only: which processes the `kills` hit, taking turns in this order: the worker, the services' process,
   * the Temporal dev server (SQLite file: it comes back with its history). Default worker only.
   */
  kill: DevServerKillKind[];
}

/** What a kill point hits. */
export type ProcessFaultKind = ClusterFaultKind | DevServerKillKind;
export { DEV_SERVER_KILL_KINDS, type DevServerKillKind };

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  sagas: 200,
  concurrency: 20,
  seed: 1,
  kills: 3,
  restartDelayMs: 1000,
  cancelRatio: 0.05,
  stepTimeout: '4s',
  sagaTimeoutMs: 180_000,
  topUp: true,
  progress: true,
  reportDir: path.join(REPO_ROOT, 'chaos-results'),
  temporal: 'dev-server',
  postgresRestarts: 1,
  returnRatio: 0.5,
  kill: ['worker'],
};

/** Short retries, so transient faults are absorbed quickly; enough attempts that they always are. */
export const CHAOS_SAGA_OPTIONS: SagaRunOptions = {
  stepRetry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 10 },
  compensationRetry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 30 },
};

export interface KillRecord {
  /** What was killed. */
  kind: ProcessFaultKind;
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
  worker: { kills: number; restarts: number; unexpectedExits: number; killLog: KillRecord[] };
  /** Cluster only: faults per process kind, and the restarts the cluster's roles did by themselves. */
  processes?: { kills: Record<string, number>; roleRestarts: Record<string, number> };
  checks: CheckResult[];
  violations: number;
  sagas: SagaRecord[];
  /** The return phase: its outcomes and each return saga. */
  returns?: { outcomes: Record<string, number>; sagas: ReturnRecord[] };
  reportFile?: string;
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

/** Graceful stop over IPC, SIGKILL if it does not exit in time. */
export async function stopChild(c: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  if (c.connected) c.send({ type: 'stop' });
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited(c);
  clearTimeout(timer);
}

/** The worker child: started, SIGKILLed and started again; an exit it did not cause is counted and recovered too. */
export class WorkerSupervisor {
  child?: ChildProcess;
  kills = 0;
  restarts = 0;
  unexpectedExits = 0;
  private expecting = false;
  private stopped = false;
  private restarting?: Promise<void>;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly restartDelayMs: number,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const child = forkTsScript(path.join(__dirname, 'worker-process.ts'), this.env);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.expecting || this.stopped) return;
      this.unexpectedExits++;
      this.log(`worker exited on its own (${signal ?? `code ${code}`}); restarting`);
      this.restarting = sleep(this.restartDelayMs)
        .then(() => this.start())
        .then(() => void this.restarts++);
    });
    await nextMessage(child, 'ready', 'worker process');
  }

  /** SIGKILL, pause, start a new one; resolves when it is ready. */
  async killAndRestart(): Promise<number> {
    await this.restarting;
    const child = this.child!;
    this.expecting = true;
    child.kill('SIGKILL');
    await exited(child);
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
    await stopChild(this.child, 10_000);
  }
}

type Classified = { outcome: SagaOutcomeKind; detail?: string };

/** How a saga's workflow ended, from its result. */
export async function awaitOutcome(client: Client, handle: WorkflowHandle, signal: AbortSignal): Promise<Classified> {
  for (;;) {
    try {
      // Abortable: a parked saga's result never comes, and a long poll left running outlives the connection.
      const result = (await client.withAbortSignal(signal, () => handle.result())) as OrderSagaResult;
      return { outcome: result.status, detail: 'reason' in result ? result.reason : undefined };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) {
        // Not the saga's ending but the server's (a killed frontend or history, PostgreSQL restarting): ask again.
        if (signal.aborted) return { outcome: 'FAILED', detail: (err as Error).message };
        await sleep(1000);
        continue;
      }
      const cause = (err as { cause?: { name?: string; message?: string } }).cause;
      if (cause?.name === 'CancelledFailure') return { outcome: 'CANCELLED' };
      return { outcome: 'FAILED', detail: cause?.message ?? (err as Error).message };
    }
  }
}

/** A read the run needs, asked again (up to 10 times, a second apart) while the server cannot answer. */
async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(1000);
    }
  }
}

/** Starts the saga, asking again while the server cannot answer; a start that did land the first time is found. */
export async function startWithRetry(
  client: Client,
  workflowId: string,
  start: () => Promise<WorkflowHandle>,
): Promise<WorkflowHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (err instanceof SagaAlreadyStartedError && attempt > 1) return client.workflow.getHandle(workflowId);
      if (attempt >= 60 || err instanceof SagaAlreadyStartedError) throw err;
      await sleep(1000);
    }
  }
}

/**
 * A saga parked for an operator keeps running, so its result never comes: watch its SagaStatus search attribute
 * (a describe, answered by the server alone, not by the worker) for NEEDS_ATTENTION.
 */
export async function watchNeedsAttention(
  handle: WorkflowHandle,
  done: { value: boolean },
  everyMs: number,
): Promise<Classified> {
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
      const history = await withRetries(() => client.workflow.getHandle(plan.input.orderId).fetchHistory());
      // The actions whose activity ran: the kit names each scheduled activity's step or compensation in a header.
      const ran = new Set<string>();
      for (const e of history.events ?? []) {
        if (e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
          activities.scheduled++;
          const action = actionOfScheduledActivity(e);
          if (action) ran.add(action);
        } else if (e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
          activities.retries += Math.max(0, (e.activityTaskStartedEventAttributes!.attempt ?? 1) - 1);
        } else if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) {
          activities.workflowTaskTimeouts++;
        } else if (e.eventType === E.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
          activities.workflowTaskFailures++;
        }
      }
      for (const [action, spec] of Object.entries(plan.input.faults ?? {})) {
        if (!ran.has(action)) continue;
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
  const runId =
    new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '') + '-' + randomBytes(2).toString('hex');
  // One token for the services and the worker (the services refuse mutating requests without it).
  const authToken = randomBytes(24).toString('hex');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-chaos-'));
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAvgBefore = os.loadavg()[0];

  let devEnvironment: DevServerEnvironment | undefined;
  let cluster: ClusterEnvironment | undefined;
  let workerPool: WorkerSupervisor[] = [];
  let connection: Connection | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(workerPool.map((w) => w.stop().catch(() => undefined)));
      await connection?.close().catch(() => undefined);
      await devEnvironment?.stop().catch(() => undefined);
      await cluster?.stop().catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    })());
  const onAbort = () => void cleanup().finally(() => process.exit(130));
  o.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    // 1. Services + PostgreSQL, the Temporal server (dev server or cluster) and the workflow bundle, side by side.
    const bundling = bundleSagaWorkflows({ logger: quiet });
    let ready: Pick<ClusterEnvironment, 'urls' | 'databaseUrls'>;
    let frontend: { address: string; namespace: string }; // the dev server, or the cluster's frontend
    if (o.temporal === 'cluster') {
      cluster = await startClusterEnvironment({
        authToken,
        topUp: o.topUp,
        restartDelayMs: o.restartDelayMs,
        dir: tmp,
        log,
      });
      ready = cluster;
      frontend = cluster;
    } else {
      devEnvironment = await startDevServerEnvironment({
        authToken,
        topUp: o.topUp,
        restartDelayMs: o.restartDelayMs,
        dir: tmp,
        log,
      });
      ready = devEnvironment;
      frontend = devEnvironment;
    }
    const bundle = await bundling;
    const workflowBundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, bundle.code);

    // 2. The worker.
    const taskQueue = `chaos-${runId}`;
    const workerConfig: ChaosWorkerConfig = {
      address: frontend.address,
      namespace: frontend.namespace,
      taskQueue,
      urls: ready.urls,
      authToken,
      requestTimeoutMs: 3000,
      workflowBundlePath,
      stickyQueueScheduleToStartTimeout: '2s',
    };
    const workerCount = o.workers ?? (o.temporal === 'cluster' ? 2 : 1);
    workerPool = Array.from(
      { length: workerCount },
      () =>
        new WorkerSupervisor(
          { CHAOS_WORKER_CONFIG: JSON.stringify(workerConfig), SERVICE_AUTH_TOKEN: authToken },
          o.restartDelayMs,
          log,
        ),
    );
    log(`starting ${workerCount} worker(s)…`);
    await Promise.all(workerPool.map((w) => w.start()));

    // 3. The plan, and the databases before the first saga.
    const plans = planSagas({
      seed: o.seed,
      sagas: o.sagas,
      cancelRatio: o.cancelRatio,
      idPrefix: `chaos-${runId}`,
      options: { ...CHAOS_SAGA_OPTIONS, stepTimeout: o.stepTimeout },
    });
    const faultPlan = planProcessFaults(o);
    const points = killPoints(o.seed, o.sagas, faultPlan.length);
    const initial = await readSnapshot(ready.databaseUrls);
    // On the cluster, no gRPC retry interceptor: the SDK's retries run on timers that outlive connection.close()
    // and then throw "Channel has been shut down" from a timer (seen at the end of a run with killed roles). This
    // script retries by itself instead (startWithRetry, awaitOutcome, withRetries).
    connection = await Connection.connect({ address: frontend.address, ...(cluster && { interceptors: [] }) });
    const client = createSagaClient(connection, frontend.namespace);

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
    const outcomesText = () =>
      Object.entries(counts)
        .map(([k, n]) => `${k.toLowerCase()} ${n}`)
        .join(', ') || '…';
    if (o.progress) bar.start(o.sagas, 0, { outcomes: outcomesText(), kills: 0 });
    const killLog: KillRecord[] = [];
    const runStart = performance.now();
    let allEnded = false;
    const killer = (async () => {
      const rng = prng(o.seed ^ 0x5bd1e995);
      for (const [i, point] of points.entries()) {
        while (!allEnded && ended < point) await sleep(50);
        if (allEnded) return;
        await sleep(Math.floor(rng() * 300));
        if (allEnded) return;
        const kind = faultPlan[i];
        const record: KillRecord = { kind, atMs: Math.round(performance.now() - runStart), ended, inFlight };
        killLog.push(record);
        if (kind === 'worker')
          record.restartedAfterMs = Math.round(
            await workerPool[Math.floor(rng() * workerPool.length)].killAndRestart(),
          );
        else if (cluster)
          record.restartedAfterMs = Math.round(await cluster.inject(kind as Exclude<ClusterFaultKind, 'worker'>));
        else
          record.restartedAfterMs = Math.round(
            await devEnvironment!.inject(kind as Exclude<DevServerKillKind, 'worker'>),
          );
        if (o.progress) bar.update({ kills: killLog.length });
      }
    })();

    const byId = new Map(plans.map((p) => [p.input.orderId, p]));
    const watchEveryMs = 3000;
    await runBatch(
      async (orderId) => {
        const plan = byId.get(orderId)!;
        const { input } = checkSagaRequest(orderSaga, plan.input);
        const started = performance.now();
        inFlight++;
        // A short workflow task timeout: a task lost with a killed worker is retried after it (the default is 10 s).
        const handle = await startWithRetry(client, input.orderId, () =>
          startSaga(client, taskQueue, orderSaga, plan.input, {
            staticSummary: `Chaos order ${input.orderId} for ${input.customerId}, shipping to ${input.destination.country}`,
            workflowTaskTimeout: '3s',
          }),
        );
        let cancelRequested = false;
        const cancelTimer =
          plan.cancelAfterMs === undefined
            ? undefined
            : setTimeout(() => {
                cancelRequested = true;
                handle.cancel().then(
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
          new Promise<Classified>(
            (resolve) =>
              (timer = setTimeout(
                () => resolve({ outcome: 'TIMED_OUT', detail: `not ended after ${o.sagaTimeoutMs} ms` }),
                o.sagaTimeoutMs,
              )),
          ),
        ]);
        done.value = true;
        stopWaiting.abort();
        clearTimeout(timer);
        clearTimeout(cancelTimer);
        inFlight--;
        ended++;
        records.push({
          orderId,
          customerId: input.customerId,
          ...outcome,
          cancelRequested,
          durationMs: Math.round(performance.now() - started),
          faults: plan.input.faults,
        });
        counts[outcome.outcome] = (counts[outcome.outcome] ?? 0) + 1;
        if (o.progress) bar.update({ outcomes: outcomesText() });
      },
      plans.map((p) => p.input.orderId),
      o.concurrency,
      () => o.progress && bar.increment(),
    ).then((r) => {
      if (r.errors.length)
        throw new Error(`${r.errors.length} saga(s) could not be run: ${r.errors.slice(0, 3).join('; ')}`);
    });
    allEnded = true;
    await killer;
    const runSeconds = (performance.now() - runStart) / 1000;
    if (o.progress) bar.stop();

    // 5. Figures from the histories; the databases after; the invariants.
    log('reading workflow histories and the four databases…');
    const stats = await historyStats(client, plans);
    const final = await readSnapshot(ready.databaseUrls);
    // What an operator sees: the CLI's `dead-letters list` (sagas found by SagaStatus, details by query).
    const listedDeadLetters = [
      ...new Set(
        (await withRetries(() => listDeadLetters(client, { saga: orderSaga, limit: 1000 }))).map((d) => d.sagaId),
      ),
    ];
    records.sort((a, b) => a.orderId.localeCompare(b.orderId));
    const checks = checkInvariants({ sagas: records, initial, final, listedDeadLetters });

    // 6. Returns of the approved orders, then their invariants, and stock and money again across the returns.
    let returns: ChaosReport['returns'];
    if (o.returnRatio > 0) {
      log('returning some of the approved orders…');
      const phase = await runReturnPhase(
        {
          client,
          taskQueue,
          serviceUrls: ready.urls,
          databaseUrls: ready.databaseUrls,
          authToken,
          seed: o.seed,
          ratio: o.returnRatio,
          cancelRatio: o.cancelRatio,
          concurrency: o.concurrency,
          sagaTimeoutMs: o.sagaTimeoutMs,
          options: { ...CHAOS_SAGA_OPTIONS, stepTimeout: o.stepTimeout },
          kill: o.kills > 0 ? () => workerPool[0].killAndRestart() : undefined,
        },
        records.filter((r) => r.outcome === 'APPROVED').map((r) => r.orderId),
      );
      const afterReturns = await readSnapshot(ready.databaseUrls);
      const across = { sagas: [], initial: final, final: afterReturns, listedDeadLetters: [] };
      checks.push(
        phase.check,
        { ...checkStock(across), id: 7, name: 'stock conserved per SKU across the returns' },
        { ...checkMoney(across), id: 8, name: 'money conserved per customer across the returns' },
      );
      returns = { outcomes: phase.outcomes, sagas: phase.records };
    }

    const planned = emptyKinds();
    for (const p of plans)
      for (const spec of Object.values(p.input.faults ?? {})) for (const k of faultKinds(spec!)) planned[k]++;
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
      cancellations: {
        requested: records.filter((r) => r.cancelRequested).length,
        accepted: cancelAccepted,
        endedCancelled: outcomes.CANCELLED,
      },
      worker: {
        kills: workerPool.reduce((n, w) => n + w.kills, 0),
        restarts: workerPool.reduce((n, w) => n + w.restarts, 0),
        unexpectedExits: workerPool.reduce((n, w) => n + w.unexpectedExits, 0),
        killLog,
      },
      ...((cluster || o.kill.some((k) => k !== 'worker')) && {
        processes: {
          kills: Object.fromEntries(
            (cluster ? CLUSTER_FAULT_KINDS : o.kill).map((k) => [k, killLog.filter((r) => r.kind === k).length]),
          ),
          roleRestarts: cluster?.roleRestarts() ?? {},
        },
      }),
      checks,
      violations: countViolations(checks),
      sagas: records,
      ...(returns && { returns }),
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
  const kinds = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const lines = [
    `chaos run ${r.runId}   seed ${r.seed}   (replay: --seed ${r.seed})`,
    `  sagas          ${r.sagas.length} at concurrency ${r.options.concurrency}: ${kinds(r.outcomes)}`,
    `  faults         injected ${kinds(r.faults.injected)} (planned ${kinds(r.faults.planned)}; ${r.faults.transientFailures} transient failures)`,
    `  activities     ${r.activities.scheduled} scheduled, ${r.activities.retries} retries; workflow tasks: ${r.activities.workflowTaskTimeouts} timed out, ${r.activities.workflowTaskFailures} failed`,
    ...(r.returns
      ? [`  returns        ${r.returns.sagas.length} of the approved orders: ${kinds(r.returns.outcomes)}`]
      : []),
    `  cancellations  ${r.cancellations.requested} requested, ${r.cancellations.accepted} accepted by the server, ${r.cancellations.endedCancelled} ended CANCELLED`,
    `  worker         ${r.worker.kills} kills (SIGKILL), ${r.worker.restarts} restarts, ${r.worker.unexpectedExits} unexpected exits` +
      (r.worker.killLog.length && !r.processes
        ? `; at ${r.worker.killLog.map((k) => `${(k.atMs / 1000).toFixed(1)} s (${k.inFlight} in flight)`).join(', ')}`
        : ''),
    ...(r.processes
      ? [
          `  processes      ${kinds(r.processes.kills)} (SIGKILL + restart${r.options.temporal === 'cluster' ? `; postgres: fast shutdown + restart on the same data); cluster roles restarted by themselves: ${kinds(r.processes.roleRestarts)}` : ')'}`,
          `  fault times    ${r.worker.killLog.map((k) => `${k.kind} ${(k.atMs / 1000).toFixed(1)} s (${k.inFlight} in flight, back after ${((k.restartedAfterMs ?? 0) / 1000).toFixed(1)} s)`).join(', ')}`,
        ]
      : []),
    `  wall time      ${r.wallSeconds.toFixed(1)} s (sagas ${r.runSeconds.toFixed(1)} s); load average ${r.environment.loadAvgBefore.toFixed(2)} → ${r.environment.loadAvgAfter.toFixed(2)} on ${r.environment.cores} cores`,
    '',
    'invariants',
  ];
  for (const c of r.checks) {
    lines.push(
      `  ${c.violations.length ? '✘' : '✔'} ${c.id} ${c.name}: ${c.summary}${c.violations.length ? ` — ${c.violations.length} violation(s)` : ''}`,
    );
    for (const n of c.notes ?? []) lines.push(`      · ${n}`);
    for (const v of c.violations.slice(0, maxViolations)) lines.push(`      ✘ ${v}`);
    if (c.violations.length > maxViolations)
      lines.push(`      … and ${c.violations.length - maxViolations} more (see the JSON report)`);
  }
  lines.push(
    '',
    `violations: ${r.violations}${r.reportFile ? `   report: ${path.relative(process.cwd(), r.reportFile)}` : ''}`,
  );
  return lines.join('\n');
}

/**
 * Which process dies at each kill point: on the dev server the `kill` kinds in turn; on the cluster `kills` of each kind
 * (worker, services, history, matching) plus the PostgreSQL restarts, in an order drawn from the seed.
 */
export function planProcessFaults(
  o: Pick<ChaosOptions, 'temporal' | 'kills' | 'postgresRestarts' | 'seed'> & Partial<Pick<ChaosOptions, 'kill'>>,
): ProcessFaultKind[] {
  // On the dev server the kinds take turns, in the order given: --kill worker,services,server --kills 9 hits each three times.
  const turns = o.kill ?? DEFAULT_CHAOS_OPTIONS.kill;
  if (o.temporal !== 'cluster') return Array.from({ length: o.kills }, (_, i) => turns[i % turns.length]);
  const kinds: ClusterFaultKind[] = [
    ...CLUSTER_FAULT_KINDS.filter((k) => k !== 'postgres').flatMap((k) => Array.from({ length: o.kills }, () => k)),
    ...Array.from({ length: o.postgresRestarts }, () => 'postgres' as const),
  ];
  const rng = prng(o.seed ^ 0x2545f491);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds;
}
