/** Child-process entry of the Temporal server, the dev server or the cluster (see temporal-process.ts). */
import { startTemporalCluster } from '../temporal/cluster/cluster';
import { startDevServer } from '../temporal/dev-server';
import { runKeeper } from './keeper';
import { reapPidFile, removePidFile, writePidFile } from './orphans';
import { TEMPORAL_PROCESS_CONFIG_ENV, type TemporalProcessConfig } from './temporal-process';

runKeeper<{ serverPid: number; address: string; namespace: string; uiUrl?: string }>('Temporal server', async () => {
  const config = JSON.parse(process.env[TEMPORAL_PROCESS_CONFIG_ENV] ?? 'null') as TemporalProcessConfig;
  if (!config) throw new Error(`${TEMPORAL_PROCESS_CONFIG_ENV} is not set`);
  const cleaned = await reapPidFile(config.pidFile);
  if (cleaned) console.error(`Temporal: ${cleaned}`);
  if (config.server.kind === 'cluster') {
    // The cluster restarts its own roles (restartOnExit); the keeper stops them all when the supervisor goes.
    const cluster = await startTemporalCluster(config.server.options);
    return {
      ready: { serverPid: cluster.roles().frontend.pid, address: cluster.address, namespace: cluster.namespace },
      exited: new Promise<void>(() => undefined),
      stop: () => cluster.stop(),
    };
  }
  const server = await startDevServer({ ...config.server.options, parentDeathSignal: 'SIGTERM' });
  writePidFile(config.pidFile, server.pid, 'the Temporal dev server');
  void server.exited.then(() => removePidFile(config.pidFile));
  return {
    ready: { serverPid: server.pid, address: server.address, namespace: server.namespace, uiUrl: server.uiUrl },
    exited: server.exited,
    stop: () => server.stop(),
  };
});
