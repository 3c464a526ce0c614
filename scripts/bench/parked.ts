/**
 * What sagas parked waiting for an operator cost, and how long releasing them takes (`npm run bench -- --parked N`).
 *
 * N order sagas are started whose shipment cancellation is refused (fault injection: the charge is rejected at the
 * pivot, then cancel-shipment answers 422): each compensates, dead-letters cancel-shipment and waits for an operator
 * (NEEDS_ATTENTION), cached in the worker. Measured: the worker's heap and RSS and the server's RSS per parked saga
 * (after a full GC in the worker), the CPU the worker and the server spend while the sagas sit idle, and the time to
 * release them all (an operator's resolve update to each, then every saga ends REJECTED).
 */
import type { Client } from '@temporalio/client';
import { startSaga, type SagaRequest } from '../../cli/saga-client';
import { orderSaga, type OrderSagaResult } from '../../workflows/order-saga';
import { resolveCompensationUpdate, sagaStateQuery } from '../../workflows/saga';
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
  releaseSeconds: number;
  releasedPerSecond: number;
  errors: string[];
}

async function workerMemory(worker: WorkerProcess): Promise<WorkerMemory> {
  return (await askWorker(worker, { kind: 'memory' }, 'memory')).memory;
}

const IDLE_SECONDS = 10;

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
}): Promise<ParkedFigures> {
  const { client, n } = o;
  const ids = Array.from({ length: n }, (_, i) => `${o.prefix}-parked-${i}`);
  const memBefore = await workerMemory(o.worker);
  const serverRssBefore = o.server.rssKb();

  const t0 = performance.now();
  const started = await runBatch(
    async (id) => {
      const handle = await startSaga(client, o.taskQueue, orderSaga, parkedInput(id));
      // Parked once it shows NEEDS_ATTENTION (the dead letter recorded, the saga waiting on its condition).
      for (;;) {
        const state = await handle.query(sagaStateQuery);
        if (state.status === 'NEEDS_ATTENTION') return;
        if (state.status !== 'RUNNING' && state.status !== 'COMPENSATING')
          throw new Error(`saga ${id} ended ${state.status} instead of parking`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    ids,
    o.concurrency,
  );
  const startSeconds = (performance.now() - t0) / 1000;

  // Idle: nothing to do but keep the sagas (cached in the worker, open in the server).
  await new Promise((r) => setTimeout(r, 2000));
  const idle0 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle1 = { worker: cpuSeconds(o.worker.pid), server: o.server.cpuSeconds() };
  const memParked = await workerMemory(o.worker);
  const serverRssParked = o.server.rssKb();

  const t1 = performance.now();
  const released = await runBatch(
    async (id) => {
      const handle = client.workflow.getHandle(id);
      await handle.executeUpdate(resolveCompensationUpdate, {
        args: [{ reason: 'bench: shipment cancelled by hand' }],
      });
      const result = (await handle.result()) as OrderSagaResult;
      if (result.status !== 'REJECTED') throw new Error(`saga ${id} ended ${result.status} after its release`);
    },
    ids,
    o.concurrency,
  );
  const releaseSeconds = (performance.now() - t1) / 1000;
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
    releasedPerSecond: released.latenciesMs.length / releaseSeconds,
    errors: [...started.errors, ...released.errors].slice(0, 5),
  };
}
