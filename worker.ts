import './runtime/telemetry/register'; // first: tracing patches the HTTP client as it loads
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { sagaWorkerOptions } from 'temporal-saga-kit/worker';
import { createDeadLetterPort, createSagaActivities, ServiceClient } from './activities';
import { SAGA_WORKFLOWS_PATH } from './runtime/saga-worker';
import { SAGA_SEARCH_ATTRIBUTES } from './runtime/search-attributes';
import { loadPayloadCodec, payloadDataConverter } from './runtime/payload-codec';
import {
  describeTemporalConfig,
  loadActivityConfig,
  loadTemporalConfig,
  loadWorkerCacheMemoryMb,
  temporalConnectionOptions,
  type ActivityConfig,
} from './runtime/config';
import { loadWorkerMetricsAddress, workerMetricsPortTaken } from './runtime/telemetry/worker-metrics-config';
import { withWorkerTracing } from './runtime/telemetry/tracing';
import { installWorkerRuntime, MetricsAddressInUseError } from './runtime/telemetry/worker-runtime';
import { createLogger } from './services/shared/logger';

/**
 * The saga worker: runs every registered saga's workflow (workflows/index.ts) and their activities on one task queue. Run several of them (on
 * several machines) against the same Temporal namespace and task queue to share the load.
 */
export interface SagaWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityConfig;
  /** Activities registered next to the saga's (the bench's no-op activity). */
  extraActivities?: Record<string, (...args: never[]) => unknown>;
  /** Extra worker options (bundle, cache size, slots...). */
  worker?: Partial<WorkerOptions>;
}

export async function createSagaWorker(
  options: SagaWorkerOptions,
): Promise<{ worker: Worker; close: () => Promise<void> }> {
  await assertSearchAttributesRegistered(options.connection, options.namespace);
  const client = new ServiceClient(options.activities);
  const prebuiltBundle = options.worker?.workflowBundle !== undefined;
  const { interceptors, ...kit } = sagaWorkerOptions({
    ...(prebuiltBundle ? { workflowBundle: options.worker!.workflowBundle } : { workflowsPath: SAGA_WORKFLOWS_PATH }),
    activities: { ...createSagaActivities(client), ...options.extraActivities },
    deadLetters: createDeadLetterPort(client),
    // A bounded sticky cache (SAGA_WORKER_CACHE_MB): parked sagas leave it instead of holding a megabyte each.
    cacheMemoryMb: loadWorkerCacheMemoryMb(),
  });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...kit,
    // Payloads encrypted with the keys of TEMPORAL_PAYLOAD_KEYS(_FILE), when set (runtime/payload-codec.ts).
    dataConverter: payloadDataConverter(loadPayloadCodec()),
    // The kit's interceptors, and tracing's when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    ...withWorkerTracing(interceptors!, { prebuiltBundle }),
    // Only the options given: an undefined one (e.g. no cache size) must not unset the kit's.
    ...Object.fromEntries(Object.entries(options.worker ?? {}).filter(([, value]) => value !== undefined)),
  });
  return { worker, close: () => client.close() };
}

/**
 * The saga upserts its status as a search attribute; on a server where it is not registered, every workflow task
 * would fail. Say so once, at start-up, with the command that fixes it.
 */
async function assertSearchAttributesRegistered(connection: NativeConnection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.keys(SAGA_SEARCH_ATTRIBUTES).filter((name) => !(name in (customAttributes ?? {})));
  if (missing.length) {
    const fix = missing.map(
      (n) =>
        `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type ${SAGA_SEARCH_ATTRIBUTES[n as keyof typeof SAGA_SEARCH_ATTRIBUTES]}`,
    );
    throw new Error(
      `search attribute(s) ${missing.join(', ')} not registered in namespace ${namespace}; run: ${fix.join(' && ')}`,
    );
  }
}

async function main(): Promise<void> {
  const logger = createLogger('worker');
  const askedMetricsAddress = loadWorkerMetricsAddress();
  const { metricsAddress } = await installWorkerRuntime({
    logger,
    metricsAddress: askedMetricsAddress,
    metricsPortTaken: workerMetricsPortTaken(),
  }).catch((err: Error) => {
    if (!(err instanceof MetricsAddressInUseError)) throw err;
    throw new Error(
      `WORKER_METRICS_ADDRESS ${err.address} is already in use (another worker on this host?): set another host:port, host:0 for a free port, or off`,
    );
  });
  if (askedMetricsAddress && metricsAddress !== askedMetricsAddress)
    logger.warn(
      `metrics: ${askedMetricsAddress} is in use (another worker on this host?): serving GET /metrics on ${metricsAddress} instead`,
    );
  const temporal = loadTemporalConfig();
  const activities = loadActivityConfig();
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporal)).catch((err: Error) => {
    throw new Error(`cannot reach the Temporal server at ${temporal.address} (TEMPORAL_ADDRESS): ${err.message}`);
  });
  const { worker, close } = await createSagaWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    activities,
  });
  logger.info(
    {
      ...describeTemporalConfig(temporal),
      services: activities.urls,
      metrics: metricsAddress && `http://${metricsAddress}/metrics`,
    },
    'worker started',
  );
  // Worker.run() shuts down gracefully on SIGINT/SIGTERM (the SDK installs those handlers).
  await worker.run();
  await close();
  await connection.close();
}

if (require.main === module) {
  main().catch((err: Error) => {
    createLogger('worker').fatal(err.message);
    process.exit(1);
  });
}
