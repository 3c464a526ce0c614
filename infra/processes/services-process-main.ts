/**
 * Child-process entry running some of the saga's services (see services-process.ts): configuration from
 * $SAGA_SERVICES_PROCESS_CONFIG (JSON), the protocol of protocol.ts.
 */
import '../../runtime/telemetry/register'; // first: tracing patches express and pg as they load
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceConfig } from '../../services/shared/config';
import { createLogger } from '../../services/shared/logger';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { startService, type RunningService, type ServiceDb } from '../../services/shared/runtime';
import { makeTempDirForPostgres, startEmbeddedPostgres, type EmbeddedPostgres } from '../postgres/embedded';
import { getFreePort } from '../../runtime/ports';
import { loadExtension, readChildConfig, serveChild } from './protocol';
import {
  SERVICES_PROCESS_CONFIG_ENV,
  type ServicesExtensionFactory,
  type ServicesProcessConfig,
  type ServicesReady,
} from './services-process';

serveChild<ServicesReady>(
  'services process',
  async () => {
    const config = readChildConfig<ServicesProcessConfig>(SERVICES_PROCESS_CONFIG_ENV);
    const logLevel = config.logLevel ?? 'warn';
    const running: RunningService<ServiceDb>[] = [];
    const databaseUrls: ServicesReady['databaseUrls'] = {};
    let postgres: { server: EmbeddedPostgres; dir: string } | undefined;
    let closeExtension: (() => Promise<void>) | undefined;
    const stop = async () => {
      await closeExtension?.().catch(() => undefined);
      for (const s of running) await s.close().catch(() => undefined);
      await postgres?.server.stop().catch(() => undefined);
      if (postgres) await rm(postgres.dir, { recursive: true, force: true }).catch(() => undefined);
    };
    try {
      if (config.ownPostgres) {
        const dir = await makeTempDirForPostgres('saga-services-pg-');
        postgres = {
          dir,
          server: await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await getFreePort() }),
        };
      }
      for (const s of config.services) {
        if (postgres) await postgres.server.ensureDatabase(s.name);
        const databaseUrl = postgres ? postgres.server.url(s.name) : s.databaseUrl;
        if (!databaseUrl) throw new Error(`no databaseUrl for ${s.name} (and no ownPostgres)`);
        databaseUrls[s.name] = databaseUrl;
        const serviceConfig: ServiceConfig = {
          port: s.port,
          host: config.host ?? '127.0.0.1',
          databaseUrl,
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
      let extension: ServicesReady['extension'];
      if (config.extension) {
        const extend = await loadExtension<ServicesExtensionFactory>(config.extension, 'extendServices');
        const extended = await extend({
          services: running,
          authToken: config.authToken,
          options: config.extension.options,
        });
        closeExtension = extended.close;
        extension = extended.ready;
      }
      return {
        ready: {
          type: 'ready',
          pid: process.pid,
          urls: Object.fromEntries(running.map((s) => [s.name, s.url])),
          metricsUrls: Object.fromEntries(running.filter((s) => s.metricsUrl).map((s) => [s.name, s.metricsUrl!])),
          databaseUrls,
          ...(extension && { extension }),
        },
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  },
  // Closing is quick (connections are cut), and an own PostgreSQL would outlive the process: stop, then exit.
  { onParentGone: 'stop', stopOn: ['SIGTERM'] },
);
