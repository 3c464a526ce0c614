/**
 * The Temporal server a bench run measures: the dev server (default), or the cluster (`--temporal cluster`: the
 * real server, four role processes, on an embedded PostgreSQL of its own, as the compose file gives it one). Either
 * way the bench reads the CPU time of every process that is "the server" (for the cluster: the four roles and their
 * PostgreSQL) from /proc.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeTempDirForPostgres, startEmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../runtime/ports';
import { CLUSTER_HISTORY_SHARDS, startTemporalCluster } from '../../infra/temporal/cluster/cluster';
import { TEMPORAL_SERVER_VERSION } from '../../infra/temporal/cluster/server-binary';
import { startDevServer, type DevServerOptions } from '../../infra/temporal/dev-server';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { statusKb, treeCpuSeconds } from './proc';

export interface BenchTemporal {
  address: string;
  namespace: string;
  /** What ran, for the report. */
  description: string;
  /** CPU seconds of every process of the server so far. */
  cpuSeconds(): number;
  /** Resident memory of every process of the server now, in KiB. */
  rssKb(): number;
  stop(): Promise<void>;
}

export async function startBenchTemporal(
  kind: 'dev-server' | 'cluster',
  devServer: DevServerOptions,
  dir: string,
): Promise<BenchTemporal> {
  if (kind === 'dev-server') {
    const server = await startDevServer(devServer);
    return {
      address: server.address,
      namespace: server.namespace,
      description: 'dev server',
      cpuSeconds: () => treeCpuSeconds(server.pid),
      rssKb: () => statusKb(server.pid, 'VmRSS'),
      stop: () => server.stop(),
    };
  }
  const pgParent = await makeTempDirForPostgres('saga-bench-temporal-pg-');
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(pgParent, 'data'), port: await getFreePort() });
  const postgresPid = () => Number(readFileSync(path.join(pgParent, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  try {
    const cluster = await startTemporalCluster({
      postgres: { host: '127.0.0.1', port: postgres.port, user: 'postgres', password: 'postgres' },
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      logDir: path.join(dir, 'temporal'),
    });
    return {
      address: cluster.address,
      namespace: cluster.namespace,
      description: `cluster ${TEMPORAL_SERVER_VERSION} (4 role processes, ${CLUSTER_HISTORY_SHARDS} shards, PostgreSQL)`,
      cpuSeconds: () =>
        Object.values(cluster.roles()).reduce((sum, r) => sum + treeCpuSeconds(r.pid), 0) +
        treeCpuSeconds(postgresPid()),
      rssKb: () =>
        Object.values(cluster.roles()).reduce((sum, r) => sum + statusKb(r.pid, 'VmRSS'), 0) +
        statusKb(postgresPid(), 'VmRSS'),
      async stop() {
        await cluster.stop();
        await postgres.stop();
        rmSync(pgParent, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await postgres.stop();
    throw err;
  }
}
