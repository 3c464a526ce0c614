/**
 * Chaos child process: embedded PostgreSQL (fresh, in a temp dir) and the four services with fault injection ON,
 * seeded. Talks to the parent over IPC:
 *   → { type: 'ready', urls, databaseUrls }       ← { type: 'stop' }
 * CHAOS_SERVICES_CONFIG (JSON): { authToken, topUp } (see top-up.ts).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDirForPostgres, startEmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../infra/ports';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import type { ServiceConfig } from '../../services/shared/config';
import { createLogger } from '../../services/shared/logger';
import { startService, type RunningService, type ServiceDb } from '../../services/shared/runtime';
import { topUp } from './top-up';

export interface ChaosServicesConfig {
  authToken: string;
  topUp: boolean;
}

export interface ChaosServicesReady {
  type: 'ready';
  urls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
}

async function main() {
  const config = JSON.parse(process.env.CHAOS_SERVICES_CONFIG!) as ChaosServicesConfig;
  const parent = await makeTempDirForPostgres('saga-chaos-pg-');
  const pgServer = await startEmbeddedPostgres({ dataDir: path.join(parent, 'data'), port: await getFreePort() });
  const services: RunningService<ServiceDb>[] = [];
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const s of services) await s.close().catch(() => undefined);
    await pgServer.stop().catch(() => undefined);
    await rm(parent, { recursive: true, force: true }).catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop());
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());

  const databaseUrls = {} as Record<ServiceName, string>;
  for (const name of SERVICE_NAMES) {
    await pgServer.ensureDatabase(name);
    databaseUrls[name] = pgServer.url(name);
    const serviceConfig: ServiceConfig = {
      port: 0,
      host: '127.0.0.1',
      databaseUrl: databaseUrls[name],
      dbPoolSize: 10,
      faultInjection: true,
      seed: true,
      logLevel: 'silent',
      authToken: config.authToken,
    };
    services.push(await startService(SERVICE_DEFINITIONS[name], serviceConfig, createLogger(name, 'silent')));
    if (config.topUp) await topUp(name, databaseUrls[name]);
  }
  const urls = Object.fromEntries(services.map((s) => [s.name, s.url])) as Record<ServiceName, string>;
  process.send!({ type: 'ready', urls, databaseUrls } satisfies ChaosServicesReady);
}

main().catch((err) => {
  console.error(`chaos services process failed: ${(err as Error).stack}`);
  process.exit(1);
});
