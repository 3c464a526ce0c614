/**
 * Which Temporal server the saga suites run against, so that the same tests prove the same things on both:
 *   - the dev server (default, `npm test`): one process, one history shard, SQLite; one per test file;
 *   - the cluster (`npm run test:cluster`, SAGA_TEST_TEMPORAL=cluster): the real server built from the Go module, on
 *     the test run's PostgreSQL, 8 history shards, four role processes; one per mocha run (starting it takes
 *     seconds), shared by the files, each on its own task queue, stopped by the root hook.
 * On the cluster the suites also run two workers (SAGA_TEST_WORKERS overrides), so sagas move between processes.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startTemporalCluster, type TemporalCluster } from '../../infra/temporal/cluster/cluster';
import { startDevServer, type DevServerOptions } from '../../infra/temporal/dev-server';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { testPostgres } from './postgres';

export type TemporalKind = 'dev-server' | 'cluster';

export const TEST_TEMPORAL: TemporalKind = process.env.SAGA_TEST_TEMPORAL === 'cluster' ? 'cluster' : 'dev-server';
/** How many saga workers the stacks start. */
export const TEST_WORKERS = Number(process.env.SAGA_TEST_WORKERS ?? (TEST_TEMPORAL === 'cluster' ? 2 : 1));

/** What the suites need from a server, whichever it is. */
export interface TestTemporal {
  kind: TemporalKind;
  address: string;
  namespace: string;
  /** The server's last output lines, for failure messages. */
  logTail(): string;
  /** Stops a per-file dev server; the shared cluster is stopped once, after the run. */
  stop(): Promise<void>;
}

let cluster: Promise<TemporalCluster> | undefined;
let clusterDir: string | undefined;

/** The run's cluster, started on first use (its databases are fresh ones on the test PostgreSQL). */
export function testCluster(): Promise<TemporalCluster> {
  return (cluster ??= (async () => {
    const postgres = await testPostgres();
    const suffix = randomBytes(4).toString('hex');
    clusterDir = await mkdtemp(path.join(os.tmpdir(), 'saga-test-cluster-'));
    return startTemporalCluster({
      postgres: postgres.endpoint,
      databases: { default: `saga_test_temporal_${suffix}`, visibility: `saga_test_temporal_visibility_${suffix}` },
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      logDir: clusterDir,
    });
  })());
}

export async function stopTestCluster(): Promise<void> {
  const started = cluster;
  cluster = undefined;
  if (started) await (await started.catch(() => undefined))?.stop();
  if (clusterDir) rmSync(clusterDir, { recursive: true, force: true });
}

/** A server for one test file: a fresh dev server (options apply to it), or the run's shared cluster. */
export async function startTestTemporal(devServerOptions: DevServerOptions = {}): Promise<TestTemporal> {
  if (TEST_TEMPORAL === 'cluster') {
    const c = await testCluster();
    return {
      kind: 'cluster',
      address: c.address,
      namespace: c.namespace,
      logTail: () => c.logTail(),
      stop: async () => undefined,
    };
  }
  const server = await startDevServer({
    ui: false,
    searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
    ...devServerOptions,
  });
  return {
    kind: 'dev-server',
    address: server.address,
    namespace: server.namespace,
    logTail: () => server.logTail(),
    stop: () => server.stop(),
  };
}
