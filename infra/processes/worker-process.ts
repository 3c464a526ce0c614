/**
 * A saga worker in a child process of its own, so it can be killed for real (SIGKILL: no graceful shutdown, in-flight
 * activities and workflow tasks simply vanish) and started again. Used by test/reliability and usable by any script
 * that needs a killable worker (chaos runs).
 *
 * The child (worker-process-main.ts) reads its whole configuration from one environment variable holding JSON, so
 * nothing depends on the parent's modules or globals.
 */
import path from 'node:path';
import type { ServiceName } from '../../services/catalog';
import { forkTsChild, type ChildHandle } from './child';

export const WORKER_PROCESS_CONFIG_ENV = 'SAGA_WORKER_PROCESS_CONFIG';

export interface WorkerProcessConfig {
  /** Temporal front-end, host:port. */
  address: string;
  namespace: string;
  taskQueue: string;
  /** Where the activities find the services. */
  urls: Record<ServiceName, string>;
  /** Bearer token the services require (also exported to the child as SERVICE_AUTH_TOKEN). */
  authToken: string;
  /** Per-request timeout of the activities' HTTP calls. Default 10 s; keep it below the saga's step timeout. */
  requestTimeoutMs?: number;
  /**
   * A prebuilt workflow bundle (the `code` of bundleWorkflowCode, written to a file): a new worker then starts in
   * ~1 s instead of bundling for several. Default: the worker bundles ./workflows itself.
   */
  workflowBundlePath?: string;
  /** JSON-serialisable worker options, e.g. `{ stickyQueueScheduleToStartTimeout: '1s', maxCachedWorkflows: 100 }`. */
  worker?: Record<string, unknown>;
  /** host:port of the worker's Prometheus endpoint (GET /metrics); unset: none. */
  metricsAddress?: string;
  /** The SDK's log level, for its own and core's lines on the child's stderr. Default 'WARN'. */
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

export interface WorkerReady {
  type: 'ready';
  pid: number;
  taskQueue: string;
}

export type WorkerProcess = ChildHandle<WorkerReady>;

export interface StartWorkerProcessOptions {
  /** For messages. Default "worker". */
  name?: string;
  logFile?: string;
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Added to the child's environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  env?: NodeJS.ProcessEnv;
}

/** Starts a worker child and resolves once it polls its task queue. */
export function startWorkerProcess(
  config: WorkerProcessConfig,
  options: StartWorkerProcessOptions = {},
): Promise<WorkerProcess> {
  return forkTsChild<WorkerReady>({
    name: options.name ?? 'worker',
    entry: path.join(__dirname, 'worker-process-main.ts'),
    env: {
      ...options.env,
      [WORKER_PROCESS_CONFIG_ENV]: JSON.stringify(config),
      SERVICE_AUTH_TOKEN: config.authToken,
    },
    logFile: options.logFile,
    echo: options.echo,
    readyTimeoutMs: options.readyTimeoutMs,
  });
}
