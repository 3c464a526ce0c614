/**
 * A chaos run: many order sagas with random customers, items, destinations and injected faults, a client that
 * cancels some of them, and processes that are SIGKILLed and restarted while they run: the worker, and with `--kill`
 * the services' process and the Temporal dev server too, or on the cluster every kind of process (the stack and its
 * faults: infra/stack/killable.ts). Then the invariant checker
 * (invariants.ts) reads every service's database and proves that nothing leaked, doubled or got lost. A second phase
 * returns some of the approved orders (return-phase.ts) under the same kinds of faults, each return checked with the
 * return saga's invariants, and stock and money checked again across the returns.
 *
 * Processes: PostgreSQL (embedded), the four services (fault injection on) in one child, the Temporal server, and the
 * workers, each a child of its own (infra/processes/restarting-worker.ts); the client runs here.
 * `npm run chaos` (run.ts) is the command line; the test (test/chaos/chaos.test.ts) calls runChaos directly.
 * runChaos reads as its steps: startWorld, runSagas (with runKiller alongside), historyStats, checkSagas, runReturns,
 * buildReport.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import cliProgress from 'cli-progress';
import {
  actionOfScheduledActivity,
  checkSagaRequest,
  createSagaClient,
  getSagaState,
  listDeadLetters,
  recoverSagas,
  startSaga,
} from '../../cli/saga-client';
import { RestartingWorker } from '../../infra/processes/restarting-worker';
import { startKillableStack, type KillableStack } from '../../infra/stack';
import { REPO_ROOT } from '../../infra/temporal/binary';
import { clusterTlsOptions } from '../../infra/temporal/cluster/cluster';
import { clientTlsOf } from '../../infra/temporal/cluster/pki';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  newPayloadKeyEntry,
  parsePayloadKeys,
  payloadDataConverter,
} from '../../runtime/payload-codec';
import { writeSagaWorkflowBundle } from '../../runtime/saga-worker';
import { orderSaga } from '../../workflows/order-saga';
import type { SagaRunOptions, SagaView } from 'temporal-saga-kit/workflow';
import { runBatch } from '../bench/load';
import {
  checkInvariants,
  checkMoney,
  checkStock,
  countViolations,
  isDeadLettered,
  type CheckResult,
  type DbSnapshot,
  type SagaOutcome,
} from './invariants';
import {
  FAULT_KINDS,
  faultKinds,
  killPoints,
  planSagas,
  prng,
  type FaultKind,
  type SagaPlan,
  type TerminateAt,
} from './plan';
import { runReturnPhase, type ReturnRecord } from './return-phase';
import { awaitOutcome, startWithRetry, watchNeedsAttention, withRetries, type Classified } from './saga-watch';
import { readSnapshot } from './snapshot';

/** What a kill point hits on the cluster: every kind of process, and PostgreSQL (a fast shutdown and restart). */
export const CLUSTER_FAULT_KINDS = ['worker', 'services', 'history', 'matching', 'postgres'] as const;
export type ClusterFaultKind = (typeof CLUSTER_FAULT_KINDS)[number];
/** What a kill point may hit on the dev server (`--kill`): the worker, the services' process, the server itself. */
export const DEV_SERVER_KILL_KINDS = ['worker', 'services', 'server'] as const;
export type DevServerKillKind = (typeof DEV_SERVER_KILL_KINDS)[number];

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
  /**
   * How many sagas are terminated (Temporal's terminate, the saga has no say) at a random moment; before the checks
   * the kit's recovery sweep recovers them, and their outcomes are their recovery runs'.
   */
  terminate: number;
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
   * 'cluster': the real Temporal server (four role processes on PostgreSQL, see infra/stack/killable.ts); `kills` is
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

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  sagas: 200,
  concurrency: 20,
  seed: 1,
  kills: 3,
  restartDelayMs: 1000,
  cancelRatio: 0.05,
  terminate: 0,
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
  /** The run terminated (its id), the recovery run the sweep started for it, and what the terminated run ended as. */
  terminated?: { runId: string; recoveryRunId?: string; direction?: 'forward' | 'compensate' };
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
  /** Planned terminations, runs terminated (a saga that had ended is not), recovered by the sweep; their outcomes. */
  terminations: {
    planned: number;
    terminated: number;
    recovered: number;
    sweeps: number;
    /** The recovery runs' outcomes, and which way they went: compensate (before the pivot) or forward (after it). */
    outcomes: Record<string, number>;
    directions: Record<string, number>;
  };
  worker: { kills: number; restarts: number; unexpectedExits: number; killLog: KillRecord[] };
  /** Cluster only: faults per process kind, and the restarts the cluster's roles did by themselves. */
  processes?: { kills: Record<string, number>; roleRestarts: Record<string, number> };
  /**
   * How the run was secured: mTLS to the cluster's frontend (workers and client with certificates), and the sagas'
   * inputs as the server holds them (from the raw histories): encrypted, or in clear.
   */
  security: { mtls: boolean; inputs: { encrypted: number; clear: number } };
  checks: CheckResult[];
  violations: number;
  sagas: SagaRecord[];
  /** The return phase: its outcomes and each return saga. */
  returns?: { outcomes: Record<string, number>; sagas: ReturnRecord[] };
  reportFile?: string;
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
  const inputs = { encrypted: 0, clear: 0 };
  await runBatch(
    async (i) => {
      const plan = plans[Number(i)];
      const history = await withRetries(() => client.workflow.getHandle(plan.input.orderId).fetchHistory());
      // The actions whose activity ran: the kit names each scheduled activity's step or compensation in a header.
      const ran = new Set<string>();
      for (const e of history.events ?? []) {
        if (e.eventType === E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
          // fetchHistory gives the payloads as the server keeps them, before any codec.
          const encoding = e.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.metadata?.encoding;
          inputs[Buffer.from(encoding ?? []).toString() === ENCRYPTED_ENCODING ? 'encrypted' : 'clear']++;
        } else if (e.eventType === E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
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
  return { injected, transientFailures, activities, inputs };
}

/** What a run holds while it runs; filled as it starts, so that a failed start stops what did start. */
interface ChaosWorld {
  stack: KillableStack;
  workers: RestartingWorker[];
  connection: Connection;
  client: Client;
  taskQueue: string;
}

/** What the sagas of a run came to, and the faults it injected meanwhile. */
interface SagaRun {
  records: SagaRecord[];
  cancelAccepted: number;
  /** Recovery sweeps run for the terminated sagas. */
  sweeps: number;
  killLog: KillRecord[];
  runSeconds: number;
}

export async function runChaos(options: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...options };
  const log = (line: string) => o.progress && process.stderr.write(`  ${line}\n`);
  const runId =
    new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '') + '-' + randomBytes(2).toString('hex');
  const started = { at: new Date(), t0: performance.now(), loadAvg: os.loadavg()[0] };
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'saga-chaos-'));
  const world: Partial<ChaosWorld> = {};
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= stopWorld(world, tmp));
  const onAbort = () => void cleanup().finally(() => process.exit(130));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await startWorld(o, runId, tmp, log, world);
    const w = world as ChaosWorld;
    const plans = planSagas({
      seed: o.seed,
      sagas: o.sagas,
      cancelRatio: o.cancelRatio,
      terminate: o.terminate,
      idPrefix: `chaos-${runId}`,
      options: { ...CHAOS_SAGA_OPTIONS, stepTimeout: o.stepTimeout },
    });
    const initial = await readSnapshot(w.stack.databaseUrls);
    const run = await runSagas(o, w, plans);
    if (run.records.some((r) => r.terminated)) {
      log("recovering the terminated sagas (the kit's recovery sweep)…");
      run.sweeps = await recoverTerminated(o, w, run.records);
    }
    log('reading workflow histories and the four databases…');
    const stats = await historyStats(w.client, plans);
    const checked = await checkSagas(w, run.records, initial);
    const returns = o.returnRatio > 0 ? await runReturns(o, w, run.records, checked, log) : undefined;
    const report = buildReport({ o, runId, started, plans, run, stats, checked, returns, world: w });
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

/** The stack (services with fault injection on, the Temporal server), the workflow bundle, the workers, a client. */
async function startWorld(
  o: ChaosOptions,
  runId: string,
  tmp: string,
  log: (line: string) => void,
  world: Partial<ChaosWorld>,
): Promise<void> {
  // One token for the services and the worker (the services refuse mutating requests without it).
  const authToken = randomBytes(24).toString('hex');
  const bundling = writeSagaWorkflowBundle(tmp);
  world.stack = await startKillableStack({
    temporal: o.temporal,
    persistTemporal: true, // a killed dev server comes back with its history
    authToken,
    topUp: o.topUp ? 'chaos' : undefined,
    restartDelayMs: o.restartDelayMs,
    dir: path.join(tmp, 'stack'),
    log,
  });
  const stack = world.stack;
  world.taskQueue = `chaos-${runId}`;
  // Secured by default, as `npm start -- --temporal cluster` runs: on the cluster, mTLS with the stack's CA (the
  // workers and this script present the worker certificate: the application's role, which starts, cancels and
  // terminates sagas and runs the recovery sweep; an operator's may not start); everywhere, every payload (failure
  // messages included) encrypted with a key of the run's own, which the workers take as production does, from
  // TEMPORAL_PAYLOAD_KEYS.
  const payloadKeys = newPayloadKeyEntry(`chaos-${runId}`);
  const pki = stack.pki;
  const workerConfig = {
    address: stack.address,
    ...(pki && { tls: clientTlsOf(pki, 'worker') }),
    namespace: stack.namespace,
    taskQueue: world.taskQueue,
    urls: stack.urls,
    authToken,
    requestTimeoutMs: 3000,
    workflowBundlePath: await bundling,
    logLevel: 'ERROR' as const,
    // How long a workflow task waits on a (dead) worker's sticky queue before the server offers it to any worker.
    // The SDK default (10 s) would stall every cached saga for that long after each kill.
    worker: { stickyQueueScheduleToStartTimeout: '2s' },
  };
  const workerCount = o.workers ?? (o.temporal === 'cluster' ? 2 : 1);
  world.workers = Array.from(
    { length: workerCount },
    () => new RestartingWorker(workerConfig, o.restartDelayMs, log, { env: { TEMPORAL_PAYLOAD_KEYS: payloadKeys } }),
  );
  log(`starting ${workerCount} worker(s)…`);
  await Promise.all(world.workers.map((w) => w.start()));
  // On the cluster, no gRPC retry interceptor: the SDK's retries run on timers that outlive connection.close()
  // and then throw "Channel has been shut down" from a timer (seen at the end of a run with killed roles). This
  // script retries by itself instead (startWithRetry, awaitOutcome, withRetries).
  world.connection = await Connection.connect({
    address: stack.address,
    ...(o.temporal === 'cluster' && { interceptors: [] }),
    ...(pki && { tls: clusterTlsOptions(pki, 'worker') }),
  });
  world.client = createSagaClient(
    world.connection,
    stack.namespace,
    payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(payloadKeys))),
  );
}

async function stopWorld(world: Partial<ChaosWorld>, tmp: string): Promise<void> {
  await Promise.all((world.workers ?? []).map((w) => w.stop().catch(() => undefined)));
  await world.connection?.close().catch(() => undefined);
  await world.stack?.stop().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}

/** Every planned saga at the run's concurrency, with the killer alongside; a progress bar on stderr. */
async function runSagas(o: ChaosOptions, w: ChaosWorld, plans: SagaPlan[]): Promise<SagaRun> {
  const run: SagaRun = { records: [], cancelAccepted: 0, sweeps: 0, killLog: [], runSeconds: 0 };
  const counts: Record<string, number> = {};
  const progress = { ended: 0, inFlight: 0, allEnded: false };
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
  const runStart = performance.now();
  const killer = runKiller(
    o,
    w,
    progress,
    run.killLog,
    runStart,
    () => o.progress && bar.update({ kills: run.killLog.length }),
  );
  const byId = new Map(plans.map((p) => [p.input.orderId, p]));
  await runBatch(
    async (orderId) => {
      progress.inFlight++;
      const record = await runOneSaga(o, w, byId.get(orderId)!, () => void run.cancelAccepted++);
      progress.inFlight--;
      progress.ended++;
      run.records.push(record);
      counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
      if (o.progress) bar.update({ outcomes: outcomesText() });
    },
    plans.map((p) => p.input.orderId),
    o.concurrency,
    () => o.progress && bar.increment(),
  ).then((r) => {
    if (r.errors.length)
      throw new Error(`${r.errors.length} saga(s) could not be run: ${r.errors.slice(0, 3).join('; ')}`);
  });
  progress.allEnded = true;
  await killer;
  run.runSeconds = (performance.now() - runStart) / 1000;
  if (o.progress) bar.stop();
  return run;
}

/** At each kill point (a number of ended sagas), kills the process the fault plan names and waits until it is back. */
async function runKiller(
  o: ChaosOptions,
  w: ChaosWorld,
  progress: { ended: number; inFlight: number; allEnded: boolean },
  killLog: KillRecord[],
  runStart: number,
  onKill: () => void,
): Promise<void> {
  const faultPlan = planProcessFaults(o);
  const points = killPoints(o.seed, o.sagas, faultPlan.length);
  const rng = prng(o.seed ^ 0x5bd1e995);
  for (const [i, point] of points.entries()) {
    while (!progress.allEnded && progress.ended < point) await sleep(50);
    if (progress.allEnded) return;
    await sleep(Math.floor(rng() * 300));
    if (progress.allEnded) return;
    const kind = faultPlan[i];
    const record: KillRecord = {
      kind,
      atMs: Math.round(performance.now() - runStart),
      ended: progress.ended,
      inFlight: progress.inFlight,
    };
    killLog.push(record);
    const back =
      kind === 'worker'
        ? await w.workers[Math.floor(rng() * w.workers.length)].killAndRestart()
        : await w.stack.inject(kind);
    record.restartedAfterMs = Math.round(back);
    onKill();
  }
}

/** One saga: started (asked again while the server is down), maybe cancelled, followed until it ends or times out. */
async function runOneSaga(o: ChaosOptions, w: ChaosWorld, plan: SagaPlan, onCancelAccepted: () => void) {
  const { input } = checkSagaRequest(orderSaga, plan.input);
  const started = performance.now();
  // A short workflow task timeout: a task lost with a killed worker is retried after it (the default is 10 s).
  const handle = await startWithRetry(w.client, input.orderId, () =>
    startSaga(w.client, w.taskQueue, orderSaga, plan.input, {
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
            onCancelAccepted,
            () => undefined, // already ended
          );
        }, plan.cancelAfterMs);
  // Watched alongside the saga; awaited before its record is made (the result may come before the call's answer).
  const stopWatching = new AbortController();
  const terminating = plan.terminateAt
    ? terminateWhen(w.client, input.orderId, plan.terminateAt, stopWatching.signal).catch(() => undefined)
    : undefined;
  const done = { value: false };
  const stopWaiting = new AbortController();
  const result = awaitOutcome(w.client, handle, stopWaiting.signal);
  result.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    result,
    watchNeedsAttention(handle, done, 3000),
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
  stopWatching.abort();
  const terminatedRunId = await terminating;
  return {
    orderId: input.orderId,
    customerId: input.customerId,
    ...outcome,
    cancelRequested,
    ...(terminatedRunId && { terminated: { runId: terminatedRunId } }),
    durationMs: Math.round(performance.now() - started),
    faults: plan.input.faults,
  } satisfies SagaRecord;
}

/**
 * Terminates the saga's run as soon as its state shows the action at that status (polled); the run's id, or undefined
 * when the saga ended first, or never got there.
 */
async function terminateWhen(
  client: Client,
  orderId: string,
  at: TerminateAt,
  stop: AbortSignal,
): Promise<string | undefined> {
  const reached = (s: SagaView) =>
    [...s.steps, ...s.compensations].some(
      (x) => x.name === at.action && (x.status === at.status || (at.status === 'RUNNING' && x.status === 'COMPLETED')),
    );
  while (!stop.aborted) {
    const state = await getSagaState(client, orderId).catch(() => undefined);
    if (state && reached(state)) {
      const { runId, status } = await client.workflow.getHandle(orderId).describe();
      if (status.name !== 'RUNNING') return undefined;
      try {
        await client.workflow
          .getHandle(orderId, runId)
          .terminate(`chaos: terminated with ${at.action} ${at.status.toLowerCase()}`);
        return runId;
      } catch {
        return undefined; // it ended in between
      }
    }
    await sleep(50, undefined, { signal: stop }).catch(() => undefined);
  }
  return undefined;
}

/**
 * Runs the kit's recovery sweep until every terminated saga has a recovery run (the sweep lists ended runs from
 * visibility, which is eventually consistent), then follows each recovery run to its end: a terminated saga's outcome
 * is its recovery run's. Returns how many sweeps it took.
 */
async function recoverTerminated(o: ChaosOptions, w: ChaosWorld, records: SagaRecord[]): Promise<number> {
  const terminated = records.filter((r) => r.terminated);
  const deadline = Date.now() + o.sagaTimeoutMs;
  let sweeps = 0;
  for (;;) {
    for (const r of terminated.filter((x) => !x.terminated!.recoveryRunId)) {
      const latest = await withRetries(() => w.client.workflow.getHandle(r.orderId).describe());
      if (latest.runId !== r.terminated!.runId) r.terminated!.recoveryRunId = latest.runId;
    }
    if (terminated.every((r) => r.terminated!.recoveryRunId) || Date.now() > deadline) break;
    await withRetries(() => recoverSagas(w.client, w.taskQueue, {}));
    sweeps++;
    await sleep(500);
  }
  await runBatch(
    async (orderId) => {
      const r = terminated.find((x) => x.orderId === orderId)!;
      if (!r.terminated!.recoveryRunId) {
        Object.assign(r, { outcome: 'FAILED', detail: 'terminated, and no recovery run started' });
        return;
      }
      const handle = w.client.workflow.getHandle(orderId, r.terminated!.recoveryRunId);
      const done = { value: false };
      const stop = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        awaitOutcome(w.client, handle, stop.signal),
        watchNeedsAttention(handle, done, 3000),
        new Promise<Classified>(
          (resolve) =>
            (timer = setTimeout(
              () => resolve({ outcome: 'TIMED_OUT', detail: `recovery run not ended after ${o.sagaTimeoutMs} ms` }),
              o.sagaTimeoutMs,
            )),
        ),
      ]);
      done.value = true;
      stop.abort();
      clearTimeout(timer);
      Object.assign(r, { outcome: outcome.outcome, detail: outcome.detail });
      // Which way the recovery went: back (compensated) before the pivot or while compensating, forward after it.
      const state = await getSagaState(w.client, orderId).catch(() => undefined);
      r.terminated!.direction = state?.recovery?.direction;
    },
    terminated.map((r) => r.orderId),
    o.concurrency,
  );
  return sweeps;
}

/** The databases after, what an operator sees as dead letters, and the invariants over both. */
async function checkSagas(w: ChaosWorld, records: SagaRecord[], initial: DbSnapshot) {
  const final = await readSnapshot(w.stack.databaseUrls);
  // What an operator sees: the CLI's `dead-letters list` (sagas found by SagaStatus, details by query).
  const listedDeadLetters = [
    ...new Set(
      (await withRetries(() => listDeadLetters(w.client, { saga: orderSaga, limit: 1000 }))).map((d) => d.sagaId),
    ),
  ];
  records.sort((a, b) => a.orderId.localeCompare(b.orderId));
  const checks = checkInvariants({ sagas: records, initial, final, listedDeadLetters });
  return { final, listedDeadLetters, checks };
}

/** Returns of the approved orders, then their invariants, and stock and money again across the returns. */
async function runReturns(
  o: ChaosOptions,
  w: ChaosWorld,
  records: SagaRecord[],
  checked: Awaited<ReturnType<typeof checkSagas>>,
  log: (line: string) => void,
): Promise<ChaosReport['returns']> {
  log('returning some of the approved orders…');
  const phase = await runReturnPhase(
    {
      client: w.client,
      taskQueue: w.taskQueue,
      serviceUrls: w.stack.urls,
      databaseUrls: w.stack.databaseUrls,
      authToken: w.workers[0].config.authToken,
      seed: o.seed,
      ratio: o.returnRatio,
      cancelRatio: o.cancelRatio,
      concurrency: o.concurrency,
      sagaTimeoutMs: o.sagaTimeoutMs,
      options: { ...CHAOS_SAGA_OPTIONS, stepTimeout: o.stepTimeout },
      kill: o.kills > 0 ? () => w.workers[0].killAndRestart() : undefined,
    },
    records.filter((r) => r.outcome === 'APPROVED').map((r) => r.orderId),
  );
  const afterReturns = await readSnapshot(w.stack.databaseUrls);
  const across = { sagas: [], initial: checked.final, final: afterReturns, listedDeadLetters: [] };
  checked.checks.push(
    phase.check,
    { ...checkStock(across), id: 7, name: 'stock conserved per SKU across the returns' },
    { ...checkMoney(across), id: 8, name: 'money conserved per customer across the returns' },
  );
  return { outcomes: phase.outcomes, sagas: phase.records };
}

function terminationFigures(plans: SagaPlan[], run: SagaRun): ChaosReport['terminations'] {
  const terminated = run.records.filter((s) => s.terminated);
  const outcomes: Record<string, number> = {};
  const directions: Record<string, number> = {};
  for (const s of terminated) {
    if (!s.terminated!.recoveryRunId) continue;
    outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
    const d = s.terminated!.direction ?? 'unknown';
    directions[d] = (directions[d] ?? 0) + 1;
  }
  return {
    planned: plans.filter((p) => p.terminateAt !== undefined).length,
    terminated: terminated.length,
    recovered: terminated.filter((s) => s.terminated!.recoveryRunId).length,
    sweeps: run.sweeps,
    outcomes,
    directions,
  };
}

function buildReport(r: {
  o: ChaosOptions;
  runId: string;
  started: { at: Date; t0: number; loadAvg: number };
  plans: SagaPlan[];
  run: SagaRun;
  stats: Awaited<ReturnType<typeof historyStats>>;
  checked: Awaited<ReturnType<typeof checkSagas>>;
  returns: ChaosReport['returns'];
  world: ChaosWorld;
}): ChaosReport {
  const { o, run, checked } = r;
  const planned = emptyKinds();
  for (const p of r.plans)
    for (const spec of Object.values(p.input.faults ?? {})) for (const k of faultKinds(spec!)) planned[k]++;
  const outcomes: Record<string, number> = { APPROVED: 0, REJECTED: 0, CANCELLED: 0, 'dead-lettered': 0 };
  for (const s of run.records) {
    const kind = isDeadLettered(s, checked.final.deadLetters, checked.listedDeadLetters) ? 'dead-lettered' : s.outcome;
    outcomes[kind] = (outcomes[kind] ?? 0) + 1;
  }
  const workers = r.world.workers;
  const { signal: _s, progress: _p, reportDir: _r, ...reportedOptions } = o;
  return {
    runId: r.runId,
    seed: o.seed,
    command: o.command,
    options: reportedOptions,
    environment: {
      cores: os.cpus().length,
      node: process.version,
      loadAvgBefore: r.started.loadAvg,
      loadAvgAfter: os.loadavg()[0],
    },
    startedAt: r.started.at.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: (performance.now() - r.started.t0) / 1000,
    runSeconds: run.runSeconds,
    outcomes,
    faults: { planned, injected: r.stats.injected, transientFailures: r.stats.transientFailures },
    activities: r.stats.activities,
    security: { mtls: r.world.stack.pki !== undefined, inputs: r.stats.inputs },
    cancellations: {
      requested: run.records.filter((s) => s.cancelRequested).length,
      accepted: run.cancelAccepted,
      endedCancelled: outcomes.CANCELLED,
    },
    terminations: terminationFigures(r.plans, run),
    worker: {
      kills: workers.reduce((n, w) => n + w.kills, 0),
      restarts: workers.reduce((n, w) => n + w.restarts, 0),
      unexpectedExits: workers.reduce((n, w) => n + w.unexpectedExits, 0),
      killLog: run.killLog,
    },
    ...((o.temporal === 'cluster' || o.kill.some((k) => k !== 'worker')) && {
      processes: {
        kills: Object.fromEntries(
          (o.temporal === 'cluster' ? CLUSTER_FAULT_KINDS : o.kill).map((k) => [
            k,
            run.killLog.filter((s) => s.kind === k).length,
          ]),
        ),
        roleRestarts: r.world.stack.roleRestarts(),
      },
    }),
    checks: checked.checks,
    violations: countViolations(checked.checks),
    sagas: run.records,
    ...(r.returns && { returns: r.returns }),
  };
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
    ...(r.terminations.planned
      ? [
          `  terminations   ${r.terminations.planned} planned, ${r.terminations.terminated} runs terminated (the others had ended), ${r.terminations.recovered} recovered by the sweep (${r.terminations.sweeps} sweeps; recovery runs ${kinds(r.terminations.directions)}): ${kinds(r.terminations.outcomes)}`,
        ]
      : []),
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
    `  security       ${r.security.mtls ? 'mTLS to the cluster (the worker certificate)' : 'no TLS (dev server)'}; saga inputs in the history: ${r.security.inputs.encrypted} encrypted, ${r.security.inputs.clear} in clear`,
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
