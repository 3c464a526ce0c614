/**
 * Embedded PostgreSQL in a child process of its own (a keeper, keeper.ts), so that a supervisor can watch it, restart
 * it, and know it goes when the supervisor goes. A start first clears what a crash left in the data directory (an
 * orphan postmaster of ours, a stale postmaster.pid: orphans.ts), then ensures the databases exist.
 */
import path from 'node:path';
import { forkTsChild, type ChildHandle, type ForkOptions } from './child';

export const POSTGRES_PROCESS_CONFIG_ENV = 'SAGA_POSTGRES_PROCESS_CONFIG';

export interface PostgresProcessConfig {
  dataDir: string;
  port: number;
  /** The superuser's password (the stack keeps it in a 0600 file of its data folder). */
  password: string;
  /** Databases to create if missing. */
  databases: string[];
}

export interface PostgresReady {
  type: 'ready';
  pid: number;
  /** The postmaster's pid. */
  postgresPid?: number;
  /** postgresql:// URL per database. */
  urls: Record<string, string>;
}

export type PostgresProcess = ChildHandle<PostgresReady>;

export function startPostgresProcess(
  config: PostgresProcessConfig,
  options: Partial<Pick<ForkOptions, 'logFile' | 'echo' | 'readyTimeoutMs'>> = {},
): Promise<PostgresProcess> {
  return forkTsChild<PostgresReady>({
    name: 'postgres',
    entry: path.join(__dirname, 'postgres-process-main.ts'),
    env: { [POSTGRES_PROCESS_CONFIG_ENV]: JSON.stringify({ ...config, dataDir: path.resolve(config.dataDir) }) },
    readyTimeoutMs: 120_000,
    ...options,
  });
}
