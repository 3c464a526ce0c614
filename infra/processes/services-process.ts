/**
 * One or more of the saga's services in a child process of their own, so a service can be killed for real (SIGKILL:
 * connections reset, nothing answers on its port) and started again on the same port and database. Used by
 * test/reliability and usable by any script that needs killable services (chaos runs).
 *
 * The databases are not the child's: they are given as connection strings and outlive it. Each start applies pending
 * migrations and inserts missing seed rows only, so a restart keeps every row a saga wrote.
 */
import path from 'node:path';
import type { ServiceName } from '../../services/catalog';
import { forkTsChild, type ChildHandle } from './child';

export const SERVICES_PROCESS_CONFIG_ENV = 'SAGA_SERVICES_PROCESS_CONFIG';

export interface ServicesProcessConfig {
  /** The services this process runs. A fixed port (not 0) brings a restarted service back on the same URL. */
  /** metricsPort: where the service serves GET /metrics (0: a free port); unset: none. */
  services: { name: ServiceName; port: number; databaseUrl: string; metricsPort?: number }[];
  /** Bearer token the services require on mutating requests (also exported to the child as SERVICE_AUTH_TOKEN). */
  authToken: string;
  /** Read-only bearer token (SERVICE_READ_TOKEN), if any. */
  readToken?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Honour the x-fault-injection header (tests and demos). Default false. */
  faultInjection?: boolean;
  /** Insert the seed rows that are missing. Default true. */
  seed?: boolean;
  /** Default 10. */
  dbPoolSize?: number;
  /** pino level. Default 'warn'. */
  logLevel?: string;
}

export interface ServicesReady {
  type: 'ready';
  pid: number;
  urls: Partial<Record<ServiceName, string>>;
  /** GET /metrics of the services given a metrics port. */
  metricsUrls: Partial<Record<ServiceName, string>>;
}

export type ServicesProcess = ChildHandle<ServicesReady>;

export interface StartServicesProcessOptions {
  /** For messages. Default "services[<names>]". */
  name?: string;
  logFile?: string;
  echo?: boolean;
  readyTimeoutMs?: number;
  /** Added to the child's environment (e.g. OTEL_EXPORTER_OTLP_ENDPOINT). */
  env?: NodeJS.ProcessEnv;
}

/** Starts the services in a child and resolves once every one of them listens. */
export function startServicesProcess(
  config: ServicesProcessConfig,
  options: StartServicesProcessOptions = {},
): Promise<ServicesProcess> {
  return forkTsChild<ServicesReady>({
    name: options.name ?? `services[${config.services.map((s) => s.name).join(',')}]`,
    entry: path.join(__dirname, 'services-process-main.ts'),
    env: {
      ...options.env,
      [SERVICES_PROCESS_CONFIG_ENV]: JSON.stringify(config),
      SERVICE_AUTH_TOKEN: config.authToken,
    },
    logFile: options.logFile,
    echo: options.echo,
    readyTimeoutMs: options.readyTimeoutMs,
  });
}
