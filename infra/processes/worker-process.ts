/**
 * A saga worker in a child process of its own, so it can be killed for real (SIGKILL: no graceful shutdown, in-flight
 * activities and workflow tasks simply vanish) and started again. Used by test/reliability and usable by any script
 * that needs a killable worker (chaos runs).
 *
 * The child (worker-process-main.ts) reads its whole configuration from one environment variable holding JSON, so
 * nothing depends on the parent's modules or globals. The one worker launcher: npm start's supervisor, the tests, the
 * chaos run, the explorer and the bench all start their workers through it (infra/stack/).
 */
import path from 'node:path';
import type { ServiceName } from '../../services/catalog';
import type { NativeConnection } from '@temporalio/worker';
import { forkTsChild, type ChildHandle, type ForkOptions } from './child';
import type { ExtensionModule, ReadyMessage } from './protocol';

export const WORKER_PROCESS_CONFIG_ENV = 'SAGA_WORKER_PROCESS_CONFIG';

export interface WorkerProcessConfig {
  /** Temporal front-end, host:port. */
  address: string;
  /** mTLS to the front-end: PEM files of the CA, this worker's certificate and key; the name the server's must carry. */
  tls?: { caPath: string; certPath: string; keyPath: string; serverName: string };
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
  /**
   * A caller's code run in the child (the bench: its no-op activities, a client on the worker's connection for eager
   * start, memory figures): the module exports `extendWorker` (WorkerExtensionFactory).
   */
  extension?: ExtensionModule;
}

export interface WorkerReady extends ReadyMessage {
  pid: number;
  taskQueue: string;
}

/** What an extension module exports as `extendWorker`. */
export type WorkerExtensionFactory = (context: {
  config: WorkerProcessConfig;
  connection: NativeConnection;
  options: unknown;
}) => Promise<WorkerExtension>;

export interface WorkerExtension {
  /** Registered next to the saga's activities. */
  activities?: Record<string, (...args: never[]) => unknown>;
  /** Extension messages from the parent (protocol.ts); reply with sendToParent. */
  onMessage?(body: unknown): void | Promise<void>;
  close?(): Promise<void>;
}

export type WorkerProcess = ChildHandle<WorkerReady>;

/** How the child is run; name defaults to "worker". */
export type StartWorkerProcessOptions = Partial<Omit<ForkOptions, 'entry'>>;

/** Starts a worker child and resolves once it polls its task queue. */
export function startWorkerProcess(
  config: WorkerProcessConfig,
  options: StartWorkerProcessOptions = {},
): Promise<WorkerProcess> {
  return forkTsChild<WorkerReady>({
    name: options.name ?? 'worker',
    entry: path.join(__dirname, 'worker-process-main.ts'),
    ...options,
    env: {
      ...options.env,
      [WORKER_PROCESS_CONFIG_ENV]: JSON.stringify(config),
      SERVICE_AUTH_TOKEN: config.authToken,
    },
  });
}
