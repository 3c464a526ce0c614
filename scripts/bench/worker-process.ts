/**
 * Bench child process: one Temporal worker serving the order saga and the floor workflow, with the options the
 * parent passes in BENCH_WORKER_CONFIG (JSON). Its own process so that /proc gives its CPU time and peak memory.
 *
 * With clientInWorker, it also runs the load (a Client on the worker's NativeConnection: what eager workflow start
 * needs), on the parent's request:  ← { type: 'run-batch', series, ids, concurrency }  → { type: 'batch-result', ... }
 */
import { createSagaClient } from '../../cli/saga-client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createBenchActivities } from './bench-activities';
import { sagaWorkerInterceptors } from '../../infra/temporal/saga-worker';
import { createSagaActivities, ServiceClient } from '../../activities';
import type { ServiceName } from '../../services/catalog';
import { makeOp, runBatch, type SeriesName } from './load';
import { silentSdkLogger as quiet } from '../../infra/telemetry/worker-runtime';

export interface BenchWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  urls: Record<ServiceName, string>;
  /** The run's bearer token, the one the services require. */
  authToken: string;
  eager: boolean;
  /** The workflow bundle, built once by the parent (so the worker's peak memory is not the bundler's). */
  workflowBundlePath: string;
  worker: Partial<
    Pick<
      WorkerOptions,
      'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'
    >
  > & {
    workflowTaskPollers?: number;
    activityTaskPollers?: number;
  };
  /** Any other WorkerOptions fields (run.ts's --worker-option), applied last. */
  otherWorkerOptions?: Partial<WorkerOptions>;
}

async function main() {
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG!) as BenchWorkerConfig;
  Runtime.install({
    logger: quiet as never,
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const connection = await NativeConnection.connect({ address: config.address });
  const serviceClient = new ServiceClient({ urls: config.urls, requestTimeoutMs: 10_000, authToken: config.authToken });
  const { workflowTaskPollers, activityTaskPollers, ...limits } = config.worker;
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    // The bundle of ./workflows.ts (orderSaga and the floors), built by run.ts with bundleWorkflowCode.
    workflowBundle: { codePath: config.workflowBundlePath },
    activities: { ...createSagaActivities(serviceClient), ...createBenchActivities() },
    interceptors: sagaWorkerInterceptors({ prebuiltBundle: true }),
    ...limits,
    ...(workflowTaskPollers
      ? { workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: workflowTaskPollers } }
      : {}),
    ...(activityTaskPollers
      ? { activityTaskPollerBehavior: { type: 'simple-maximum', maximum: activityTaskPollers } }
      : {}),
    ...config.otherWorkerOptions,
  } as WorkerOptions);
  const running = worker.run();
  const client = createSagaClient(connection, config.namespace);

  const onMessage = async (m: { type: string; series: SeriesName; ids: string[]; concurrency: number }) => {
    if (m.type === 'memory') {
      // After a full collection (the parent forks this process with --expose-gc): what the cached workflows hold.
      (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss, external } = process.memoryUsage();
      process.send!({
        type: 'memory',
        memory: { heapUsedMb: heapUsed / 2 ** 20, externalMb: external / 2 ** 20, rssMb: rss / 2 ** 20 },
      });
      return;
    }
    if (m.type === 'stop') {
      worker.shutdown();
      await running.catch(() => undefined);
      await serviceClient.close();
      await connection.close();
      process.exit(0);
    }
    if (m.type === 'run-batch') {
      const op = makeOp(m.series, { client, taskQueue: config.taskQueue, eager: config.eager, serviceClient });
      const cpu0 = process.cpuUsage();
      let pending = 0;
      const timer = setInterval(() => {
        if (pending) process.send!({ type: 'tick', n: pending });
        pending = 0;
      }, 100);
      const result = await runBatch(op, m.ids, m.concurrency, () => pending++);
      clearInterval(timer);
      if (pending) process.send!({ type: 'tick', n: pending });
      const cpu = process.cpuUsage(cpu0);
      process.send!({ type: 'batch-result', result, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 });
    }
  };
  process.on('message', (m: Parameters<typeof onMessage>[0]) => void onMessage(m));
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready' });
  await running;
}

main().catch((err) => {
  console.error(`bench worker process failed: ${(err as Error).stack}`);
  process.exit(1);
});
