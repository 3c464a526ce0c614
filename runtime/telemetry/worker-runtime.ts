import { DefaultLogger, Runtime, type LogLevel, type Logger as SdkLogger } from '@temporalio/worker';
import type { Logger } from 'pino';
import { getFreePort } from '../ports';

/**
 * The Temporal SDK's runtime for a worker process, installed once before any connection: where its log lines go,
 * and its Prometheus endpoint. That endpoint carries the SDK's own worker metrics (temporal_workflow_completed,
 * temporal_activity_execution_latency, slots, pollers, sticky cache...) and the sagas' metrics, emitted by the
 * workflow code through the same meter (temporal-saga-kit's saga metrics).
 */
export interface WorkerRuntimeOptions {
  /** host:port of GET /metrics (WORKER_METRICS_ADDRESS, e.g. 0.0.0.0:9464); port 0: a free port; undefined: none. */
  metricsAddress?: string;
  /**
   * When metricsAddress's port is taken (e.g. by another worker on this host): 'fail' (default) throws
   * MetricsAddressInUseError; 'free-port' serves on a free port of the same host instead (see InstalledWorkerRuntime).
   */
  metricsPortTaken?: 'fail' | 'free-port';
  /** The SDK's and core's log lines go to this logger (JSON or pretty, like the rest of the process). */
  logger?: Logger;
  /** Level of the SDK's lines. Default WARN: its INFO lines (bundle built, worker state) are for debugging. */
  logLevel?: LogLevel;
}

/**
 * The SDK's Logger that writes nothing: for the bundler and runtimes of tests and scripts, whose output is their own
 * lines (errors still reach them as exceptions).
 */
export const silentSdkLogger: SdkLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  log() {},
};

/** Histogram buckets (ms) for the sagas' durations: a step takes milliseconds; with retries, minutes. */
const SAGA_DURATION_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000, 900_000,
];

export interface InstalledWorkerRuntime {
  runtime: Runtime;
  /** Where GET /metrics is served, as bound: the asked address, or the free port taken instead. */
  metricsAddress?: string;
}

export class MetricsAddressInUseError extends Error {
  constructor(readonly address: string) {
    super(`metrics address ${address} is already in use`);
  }
}

/** Core binds the metrics port when the runtime is installed, and says so in this message when it is taken. */
const ADDRESS_IN_USE = /Address already in use/i;

export async function installWorkerRuntime(options: WorkerRuntimeOptions = {}): Promise<InstalledWorkerRuntime> {
  const asked = options.metricsAddress;
  if (!asked) return { runtime: install(options, undefined) };
  const host = asked.slice(0, asked.lastIndexOf(':'));
  const freePort = async () => `${host}:${await getFreePort(host)}`;
  let address = asked.endsWith(':0') ? await freePort() : asked;
  // A free port found is bound a moment later, by core: another process may take it in between, hence the retries.
  for (let attempt = 1; ; attempt++) {
    try {
      return { runtime: install(options, address), metricsAddress: address };
    } catch (err) {
      if (!ADDRESS_IN_USE.test((err as Error).message)) throw err;
      const mayMove = options.metricsPortTaken === 'free-port' || asked.endsWith(':0');
      if (!mayMove || attempt === 5) throw new MetricsAddressInUseError(address);
      address = await freePort();
    }
  }
}

function install(options: WorkerRuntimeOptions, metricsAddress: string | undefined): Runtime {
  const level = options.logLevel ?? 'WARN';
  return Runtime.install({
    logger: options.logger ? pinoSdkLogger(options.logger, level) : new DefaultLogger(level),
    telemetryOptions: {
      logging: { forward: {}, filter: { core: level, other: level } },
      ...(metricsAddress && {
        metrics: {
          prometheus: {
            bindAddress: metricsAddress,
            histogramBucketOverrides: {
              saga_step_duration: SAGA_DURATION_BUCKETS,
              saga_compensation_duration: SAGA_DURATION_BUCKETS,
            },
          },
        },
      }),
    },
  });
}

/** The SDK's Logger interface on top of pino, dropping lines below `level`. */
function pinoSdkLogger(logger: Logger, level: LogLevel): SdkLogger {
  const order: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  const min = order.indexOf(level);
  const emit = (l: LogLevel, message: string, meta?: Record<string, unknown>) => {
    if (order.indexOf(l) < min) return;
    const { sdkComponent, ...rest } = meta ?? {};
    logger[l.toLowerCase() as 'info'](sdkComponent ? { sdk: sdkComponent, ...rest } : rest, message);
  };
  return {
    log: emit,
    trace: (m, meta) => emit('TRACE', m, meta),
    debug: (m, meta) => emit('DEBUG', m, meta),
    info: (m, meta) => emit('INFO', m, meta),
    warn: (m, meta) => emit('WARN', m, meta),
    error: (m, meta) => emit('ERROR', m, meta),
  };
}

let runtimeInstalled = false;
/**
 * The SDK logs worker state changes at INFO and its core prints warnings straight to the console (e.g. "Activity
 * not found on completion" when a cancelled saga's slow request answers after the saga ended). Keep test and script
 * output to their own lines; errors still show. Once per process: the runtime can only be installed once.
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: silentSdkLogger as never,
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // already installed by another test file
  }
}
