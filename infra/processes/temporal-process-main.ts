/** Child-process entry of the Temporal dev server (see temporal-process.ts). */
import { startDevServer } from '../temporal/dev-server';
import { runKeeper } from './keeper';
import { reapPidFile, removePidFile, writePidFile } from './orphans';
import { TEMPORAL_PROCESS_CONFIG_ENV, type TemporalProcessConfig } from './temporal-process';

runKeeper('Temporal dev server', async () => {
  const config = JSON.parse(process.env[TEMPORAL_PROCESS_CONFIG_ENV] ?? 'null') as TemporalProcessConfig;
  if (!config) throw new Error(`${TEMPORAL_PROCESS_CONFIG_ENV} is not set`);
  const cleaned = await reapPidFile(config.pidFile);
  if (cleaned) console.error(`Temporal: ${cleaned}`);
  const server = await startDevServer({ ...config.server, parentDeathSignal: 'SIGTERM' });
  writePidFile(config.pidFile, server.pid, 'the Temporal dev server');
  void server.exited.then(() => removePidFile(config.pidFile));
  return {
    ready: { serverPid: server.pid, address: server.address, namespace: server.namespace, uiUrl: server.uiUrl },
    exited: server.exited,
    stop: () => server.stop(),
  };
});
