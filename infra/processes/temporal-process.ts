/**
 * The Temporal server (the dev server, or the cluster's four roles) in a child process of its own (a keeper,
 * keeper.ts), so that a supervisor can watch it, restart it, and know it goes when the supervisor goes. The dev server
 * also gets a parent-death signal (setpriv), so it goes even if its keeper is killed; and a pid file, so that a
 * restart stops a server a crash left running.
 */
import path from 'node:path';
import type { ClusterOptions } from '../temporal/cluster/cluster';
import type { DevServerOptions } from '../temporal/dev-server';
import { forkTsChild, type ChildHandle, type ForkOptions } from './child';

export const TEMPORAL_PROCESS_CONFIG_ENV = 'SAGA_TEMPORAL_PROCESS_CONFIG';

export interface TemporalProcessConfig {
  /**
   * Which server, with JSON-serialisable options (fixed ports, so that a restart comes back on the same address): the
   * dev server, or the cluster (infra/temporal/cluster: four role processes on PostgreSQL).
   */
  server:
    { kind: 'dev-server'; options: DevServerOptions & { port: number } } | { kind: 'cluster'; options: ClusterOptions };
  /** Where the server's pid is recorded (see orphans.ts). */
  pidFile: string;
}

export interface TemporalReady {
  type: 'ready';
  pid: number;
  serverPid: number;
  address: string;
  namespace: string;
  uiUrl?: string;
}

export type TemporalProcess = ChildHandle<TemporalReady>;

export function startTemporalProcess(
  config: TemporalProcessConfig,
  options: Partial<Pick<ForkOptions, 'logFile' | 'echo' | 'readyTimeoutMs'>> = {},
): Promise<TemporalProcess> {
  return forkTsChild<TemporalReady>({
    name: 'temporal',
    entry: path.join(__dirname, 'temporal-process-main.ts'),
    env: { [TEMPORAL_PROCESS_CONFIG_ENV]: JSON.stringify(config) },
    readyTimeoutMs: 120_000,
    ...options,
  });
}
