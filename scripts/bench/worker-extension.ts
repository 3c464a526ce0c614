/**
 * What the bench adds to a worker process (an extension of infra/processes/worker-process.ts): the floor workflow's
 * no-op activities, the worker's memory after a full collection (the bench forks it with --expose-gc), and with
 * --client-in-worker the load itself, run on a Client over the worker's NativeConnection (what eager workflow start
 * needs). Messages (protocol.ts extension bodies):
 *   ← { kind: 'memory' }                                   → { kind: 'memory', memory }
 *   ← { kind: 'heap-snapshot', file }                      → { kind: 'heap-snapshot', file } (the main isolate's)
 *   ← { kind: 'run-batch', series, ids, concurrency }      → { kind: 'tick', n } …, { kind: 'batch-result', … }
 */
import { writeHeapSnapshot } from 'node:v8';
import type { WorkerExtensionFactory, WorkerProcess } from '../../infra/processes/worker-process';
import { sendToParent } from '../../infra/processes/protocol';
import { ServiceClient } from '../../activities';
import { createSagaClient } from '../../cli/saga-client';
import { createBenchActivities } from './bench-activities';
import { makeOp, runBatch, type BatchResult, type SeriesName } from './load';

export interface BenchWorkerOptions {
  eager: boolean;
}

export interface WorkerMemory {
  heapUsedMb: number;
  /** V8's external memory (buffers held by JavaScript objects), apart from the Rust core's own allocations. */
  externalMb: number;
  rssMb: number;
}

export type BenchToWorker =
  | { kind: 'memory' }
  | { kind: 'heap-snapshot'; file: string }
  | { kind: 'run-batch'; series: SeriesName; ids: string[]; concurrency: number };
export type BenchFromWorker =
  | { kind: 'memory'; memory: WorkerMemory }
  | { kind: 'heap-snapshot'; file: string }
  | { kind: 'tick'; n: number }
  | { kind: 'batch-result'; result: BatchResult; clientCpuSeconds: number };

const reply = (body: BenchFromWorker) => sendToParent(body);

export const extendWorker: WorkerExtensionFactory = async ({ config, connection, options }) => {
  const { eager } = options as BenchWorkerOptions;
  const serviceClient = new ServiceClient({ urls: config.urls, requestTimeoutMs: 10_000, authToken: config.authToken });
  const client = createSagaClient(connection, config.namespace);
  return {
    activities: createBenchActivities(),
    close: () => serviceClient.close(),
    async onMessage(body) {
      const m = body as BenchToWorker;
      if (m.kind === 'memory') {
        // After a full collection: what the cached workflows hold.
        (globalThis as { gc?: () => void }).gc?.();
        const { heapUsed, rss, external } = process.memoryUsage();
        reply({
          kind: 'memory',
          memory: { heapUsedMb: heapUsed / 2 ** 20, externalMb: external / 2 ** 20, rssMb: rss / 2 ** 20 },
        });
      } else if (m.kind === 'heap-snapshot') {
        // The main isolate only: the workflows are in it when the worker runs with debugMode (no workflow thread).
        (globalThis as { gc?: () => void }).gc?.();
        reply({ kind: 'heap-snapshot', file: writeHeapSnapshot(m.file) });
      } else if (m.kind === 'run-batch') {
        const op = makeOp(m.series, { client, taskQueue: config.taskQueue, eager, serviceClient });
        const cpu0 = process.cpuUsage();
        let pending = 0;
        const timer = setInterval(() => {
          if (pending) reply({ kind: 'tick', n: pending });
          pending = 0;
        }, 100);
        const result = await runBatch(op, m.ids, m.concurrency, () => pending++);
        clearInterval(timer);
        if (pending) reply({ kind: 'tick', n: pending });
        const cpu = process.cpuUsage(cpu0);
        reply({ kind: 'batch-result', result, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 });
      }
    },
  };
};

/**
 * The bench's side: sends a request to the worker and resolves with its first reply of this kind, passing the others
 * (ticks) to `onOther`; rejects if the worker exits first.
 */
export function askWorker<K extends BenchFromWorker['kind']>(
  worker: WorkerProcess,
  request: BenchToWorker,
  kind: K,
  onOther: (m: BenchFromWorker) => void = () => undefined,
): Promise<Extract<BenchFromWorker, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const unsubscribe = worker.onExtension((body) => {
      const m = body as BenchFromWorker;
      if (m.kind !== kind) return onOther(m);
      unsubscribe();
      resolve(m as Extract<BenchFromWorker, { kind: K }>);
    });
    void worker.exited.then((e) => {
      unsubscribe();
      reject(new Error(`worker process exited (${e.signal ?? `code ${e.code}`}) before '${kind}'`));
    });
    worker.send(request);
  });
}
