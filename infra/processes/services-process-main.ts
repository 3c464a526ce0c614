/**
 * Child-process entry running some of the saga's services (see services-process.ts): configuration from
 * $SAGA_SERVICES_PROCESS_CONFIG (JSON), 'ready' over IPC once all listen, 'stop' over IPC (or SIGTERM) to close them.
 * Exits when the parent goes away.
 */
import '../telemetry/register'; // first: tracing patches express and pg as they load
import type { ServiceConfig } from '../../services/shared/config';
import { createLogger } from '../../services/shared/logger';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { startService, type RunningService, type ServiceDb } from '../../services/shared/runtime';
import { reportFatal } from './child';
import { SERVICES_PROCESS_CONFIG_ENV, type ServicesProcessConfig, type ServicesReady } from './services-process';

async function main() {
  const raw = process.env[SERVICES_PROCESS_CONFIG_ENV];
  if (!raw) throw new Error(`${SERVICES_PROCESS_CONFIG_ENV} is not set`);
  const config = JSON.parse(raw) as ServicesProcessConfig;
  const logLevel = config.logLevel ?? 'warn';
  const running: RunningService<ServiceDb>[] = [];

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of running) await s.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop());
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => process.exit(0));

  for (const s of config.services) {
    // Typed so that authToken is passed whether or not this version of ServiceConfig declares it yet.
    const serviceConfig: ServiceConfig & { authToken: string } = {
      port: s.port,
      host: config.host ?? '127.0.0.1',
      databaseUrl: s.databaseUrl,
      dbPoolSize: config.dbPoolSize ?? 10,
      faultInjection: config.faultInjection ?? false,
      seed: config.seed ?? true,
      logLevel,
      authToken: config.authToken,
      metricsPort: s.metricsPort,
      readToken: config.readToken,
    };
    running.push(await startService(SERVICE_DEFINITIONS[s.name], serviceConfig, createLogger(s.name, logLevel)));
  }
  const ready: ServicesReady = {
    type: 'ready',
    pid: process.pid,
    urls: Object.fromEntries(running.map((s) => [s.name, s.url])),
    metricsUrls: Object.fromEntries(running.filter((s) => s.metricsUrl).map((s) => [s.name, s.metricsUrl!])),
  };
  process.send?.(ready);
}

main().catch((err) => reportFatal('services process failed to start', err));
