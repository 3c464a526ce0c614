/**
 * One or more of the saga's services in a child process of their own, so a service can be killed for real (SIGKILL:
 * connections reset, nothing answers on its port) and started again on the same port and database. Used by
 * test/reliability and usable by any script that needs killable services (chaos runs).
 *
 * The databases are usually not the child's: they are given as connection strings and outlive it. Each start applies
 * pending migrations and inserts missing seed rows only, so a restart keeps every row a saga wrote. With `ownPostgres`
 * the child starts a fresh embedded PostgreSQL of its own instead (the bench: its CPU then counts as the services').
 *
 * The one services launcher: npm start's supervisor, the tests, the chaos run, the explorer and the bench all start
 * their services through it (infra/stack/).
 */
import path from 'node:path';
import type { ServiceName } from '../../services/catalog';
import type { RunningService, ServiceDb } from '../../services/shared/runtime';
import { forkTsChild, type ChildHandle, type ForkOptions } from './child';
import type { ExtensionModule, ReadyMessage } from './protocol';

export const SERVICES_PROCESS_CONFIG_ENV = 'SAGA_SERVICES_PROCESS_CONFIG';

export interface ServicesProcessConfig {
  /** The services this process runs. A fixed port (not 0) brings a restarted service back on the same URL. */
  /** metricsPort: where the service serves GET /metrics (0: a free port); unset: none. */
  /** databaseUrl: required unless `ownPostgres`. */
  services: { name: ServiceName; port: number; databaseUrl?: string; metricsPort?: number }[];
  /** Start a fresh embedded PostgreSQL in the child (a temp dir, removed at stop) holding one database per service. */
  ownPostgres?: boolean;
  /**
   * A caller's code run in the child once the services listen (the bench's call floor): the module exports
   * `extendServices` (ServicesExtensionFactory); what it returns is reported as ready.extension.
   */
  extension?: ExtensionModule;
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

export interface ServicesReady extends ReadyMessage {
  pid: number;
  urls: Partial<Record<ServiceName, string>>;
  /** GET /metrics of the services given a metrics port. */
  metricsUrls: Partial<Record<ServiceName, string>>;
  databaseUrls: Partial<Record<ServiceName, string>>;
  /** What the extension reported, if one ran. */
  extension?: Record<string, unknown>;
}

/** What an extension module exports as `extendServices`. */
export type ServicesExtensionFactory = (context: {
  services: RunningService<ServiceDb>[];
  authToken: string;
  options: unknown;
}) => Promise<{ ready?: Record<string, unknown>; close?(): Promise<void> }>;

export type ServicesProcess = ChildHandle<ServicesReady>;

/** How the child is run; name defaults to "services[<names>]". */
export type StartServicesProcessOptions = Partial<Omit<ForkOptions, 'entry'>>;

/** Starts the services in a child and resolves once every one of them listens. */
export function startServicesProcess(
  config: ServicesProcessConfig,
  options: StartServicesProcessOptions = {},
): Promise<ServicesProcess> {
  return forkTsChild<ServicesReady>({
    name: options.name ?? `services[${config.services.map((s) => s.name).join(',')}]`,
    entry: path.join(__dirname, 'services-process-main.ts'),
    ...options,
    env: {
      ...options.env,
      [SERVICES_PROCESS_CONFIG_ENV]: JSON.stringify(config),
      SERVICE_AUTH_TOKEN: config.authToken,
    },
  });
}
