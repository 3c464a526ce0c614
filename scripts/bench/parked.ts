/**
 * What sagas parked waiting for an operator cost, and how long releasing them takes (`npm run bench -- --parked N`).
 *
 * N order sagas are started whose shipment cancellation is refused (fault injection: the charge is rejected at the
 * pivot, then cancel-shipment answers 422): each compensates, dead-letters cancel-shipment and waits for an operator
 * (NEEDS_ATTENTION), cached in the worker. Measured: the worker's heap and RSS and the server's RSS per parked saga
 * (after a full GC in the worker), the CPU the worker and the server spend while the sagas sit idle, and the time to
 * release them all the way `dead-letters resolve --all --yes` does (the waiting sagas from one visibility query,
 * then a resolve update to each, naming no compensation: the saga applies it to the one that waits), then every saga
 * ends REJECTED. The decisions are timed apart from the unwinding that follows (at the saga's own rate).
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { startSaga, type SagaRequest } from '../../cli/saga-client';
import { orderSaga, type OrderSagaResult } from '../../workflows/order-saga';
import { SAGA_STATUS } from 'temporal-saga-kit/client';
import { decideAll, findBatchTargets } from '../../cli/batch-decisions';
import type { WorkerProcess } from '../../infra/processes/worker-process';
import { runBatch } from './load';
import { cpuSeconds } from './proc';
import type { BenchTemporal } from './temporal-server';
import { askWorker, type WorkerMemory } from './worker-extension';

export interface ParkedFigures {
  sagas: number;
  startSeconds: number;
  workerHeapMbPerThousand: number;
  workerExternalMbPerThousand: number;
  workerRssMbPerThousand: number;
  /** The worker's RSS once every saga was released and ended: what the process keeps. */
  workerRssMbAfterRelease: number;
  workerRssMbBefore: number;
  serverRssMbPerThousand: number;
  idleSeconds: number;
  idleCpuPercent: { worker: number; server: number };
  /** The whole release: listing the dead letters, the decisions, and every saga's end. */
  releaseSeconds: number;
  /** Finding them (`findBatchTargets` without details: one visibility query on SagaStatus = NEEDS_ATTENTION). */
  releaseListSeconds: number;
  releaseListed: number;
  /** Sending the resolve updates (`decideAll`), once listed: each accepted by its saga (a replay if evicted). */
  releaseDecideSeconds: number;
  releaseDecisions: number;
  decisionsPerSecond: number;
  /** CPU spent while the decisions went out, per decision accepted: what bounds the rate on a machine of one's own. */
  decideCpuMsPerDecision: { worker: number; server: number };
  /** Parked sagas that got no accepted decision, and decisions accepted twice by one saga: both must be 0. */
  lostDecisions: number;
  duplicatedDecisions: number;
  /** From the last decision accepted to every saga ended: the unwinding, at the saga's own rate. */
  unwindSeconds: number;
  releasedPerSecond: number;
  errors: string[];
}

async function workerMemory(worker: WorkerProcess): Promise<WorkerMemory> {
  return (await askWorker(worker, { kind: 'memory' }, 'memory')).memory;
}

/** A heap snapshot of the worker's main isolate into `dir` (summarise two with scripts/bench/heap-summary.ts). */
async function heapSnapshot(worker: WorkerProcess, dir: string | undefined, name: string): Promise<void> {
  if (dir) await askWorker(worker, { kind: 'heap-snapshot', file: path.resolve(dir, name) }, 'heap-snapshot');
}

const IDLE_SECONDS = 10;
/** How often a parking saga's status is read (one describe call each). */
const POLL_MS = 500;

function parkedInput(orderId: string): SagaRequest<typeof orderSaga> {
  return {
    orderId,
    customerId: 'cust-alice',
    items: [{ sku: 'CB-004', quantity: 1 }],
    destination: {
      recipient: 'Ada Lovelace',
      line1: '1 Main Street',
      city: 'Berlin',
      postalCode: '10115',
      country: 'DE',
    },
    faults: { 'charge-payment': 'reject', 'cancel-shipment': 'reject' },
  };
}

export async function measureParked(o: {
  client: Client;
  taskQueue: string;
  worker: WorkerProcess;
  server: Pick<BenchTemporal, 'cpuSeconds' | 'rssKb'>;
  n: number;
  prefix: string;
  concurrency: number;
  /**
   * Where to write the worker's heap snapshots (before parking, parked): of its main isolate, so run the worker with
   * `--worker-option debugMode=true` for the workflows to be in it.
   */
  heapSnapshotDir?: string;
  /** Decisions in flight at once (the CLI's default when unset). */
  decisionConcurrency?: number;
  /** Called as the measurement moves on: the phase, and how many of the N sagas it has done. */
  progress?: (phase: string, done: number) => void;
}): Promise<ParkedFigures> {
  const { client, n } = o;
  const progress = o.progress ?? (() => undefined);
  let done = 0;
  const tick = (phase: string) => () => progress(phase, ++done);
  const ids = Array.from({ length: n }, (_, i) => `${o.prefix}-parked-${i}`);
  await heapSnapshot(o.worker, o.heapSnapshotDir, 'before.heapsnapshot');
  const memBefore = await workerMemory(o.worker);
  const serverRssBefore = o.server.rssKb();

  const t0 = performance.now();
  const started = await runBatch(
    async (id) => {
      const handle = await startSaga(client, o.taskQueue, orderSaga, parkedInput(id));
      // Parked once its SagaStatus reads NEEDS_ATTENTION. Read with describe (the server's own record of the
      // workflow), not a query: a query is a task for the worker, and polling thousands of sagas that way cost the
      // worker more CPU than parking them.
      for (;;) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const { status, typedSearchAttributes } = await handle.describe();
        const sagaStatus = typedSearchAttributes.get(SAGA_STATUS);
        if (sagaStatus === 'NEEDS_ATTENTION') return;
        if (status.name !== 'RUNNING') throw new Error(`saga ${id} ended ${sagaStatus} instead of parking`);
      }
    },
    ids,
    o.concurrency,
    tick('parking'),
  );
  const startSeconds = (performance.now() - t0) / 1000;

  // Idle: nothing to do but keep the sagas (cached in the worker, open in the server).
  progress(`idle ${IDLE_SECONDS} s`, done);
  await new Promise((r) => setTimeout(r, 2000));
  const idle0 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle1 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  const memParked = await workerMemory(o.worker);
  await heapSnapshot(o.worker, o.heapSnapshotDir, 'parked.heapsnapshot');
  const serverRssParked = o.server.rssKb();

  // Released as an operator would, with the batch decision (`dead-letters resolve --all --yes`): list the waiting
  // dead letters, send every saga the same resolve update, then wait for every saga to end.
  const t1 = performance.now();
  done = 0;
  progress('listing the dead letters', done);
  const targets = await findBatchTargets(client, { saga: orderSaga, limit: n }, false);
  const listSeconds = (performance.now() - t1) / 1000;
  const decide0 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  const decisions = await decideAll(
    client,
    targets.filter((t) => t.sagaId.startsWith(`${o.prefix}-parked-`)),
    { action: 'resolve', reason: 'bench: shipment cancelled by hand' },
    tick('resolving'),
    o.decisionConcurrency,
  );
  const decideSeconds = (performance.now() - t1) / 1000 - listSeconds;
  const decide1 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  done = 0;
  const released = await runBatch(
    async (id) => {
      const result = (await client.workflow.getHandle(id).result()) as OrderSagaResult;
      if (result.status !== 'REJECTED') throw new Error(`saga ${id} ended ${result.status} after its release`);
    },
    ids,
    o.concurrency,
    tick('released, ending'),
  );
  const releaseSeconds = (performance.now() - t1) / 1000;
  const resolved = decisions.filter((d) => d.outcome === 'resolved').length;
  const resolvedSagas = new Set(decisions.filter((d) => d.outcome === 'resolved').map((d) => d.sagaId)).size;
  const memReleased = await workerMemory(o.worker);
  const ok = started.latenciesMs.length;
  const perThousand = (mb: number) => (ok ? (1000 * mb) / ok : NaN);
  return {
    sagas: n,
    startSeconds,
    workerHeapMbPerThousand: perThousand(memParked.heapUsedMb - memBefore.heapUsedMb),
    workerExternalMbPerThousand: perThousand(memParked.externalMb - memBefore.externalMb),
    workerRssMbPerThousand: perThousand(memParked.rssMb - memBefore.rssMb),
    workerRssMbAfterRelease: memReleased.rssMb,
    workerRssMbBefore: memBefore.rssMb,
    serverRssMbPerThousand: perThousand((serverRssParked - serverRssBefore) / 1024),
    idleSeconds: IDLE_SECONDS,
    idleCpuPercent: {
      worker: (100 * (idle1.worker - idle0.worker)) / IDLE_SECONDS,
      server: (100 * (idle1.server - idle0.server)) / IDLE_SECONDS,
    },
    releaseSeconds,
    releaseListSeconds: listSeconds,
    releaseListed: targets.length,
    releaseDecideSeconds: decideSeconds,
    releaseDecisions: resolved,
    decisionsPerSecond: resolved / decideSeconds,
    decideCpuMsPerDecision: {
      worker: (1000 * (decide1.worker - decide0.worker)) / resolved,
      server: (1000 * (decide1.server - decide0.server)) / resolved,
    },
    lostDecisions: ok - resolvedSagas,
    duplicatedDecisions: resolved - resolvedSagas,
    unwindSeconds: releaseSeconds - listSeconds - decideSeconds,
    releasedPerSecond: released.latenciesMs.length / releaseSeconds,
    errors: [
      ...started.errors,
      ...decisions.filter((d) => d.outcome !== 'resolved').map((d) => `${d.sagaId}: ${d.outcome} ${d.message ?? ''}`),
      ...released.errors,
    ].slice(0, 5),
  };
}
