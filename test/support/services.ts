import { createLogger, type Logger } from '../../services/shared/logger';
import {
  startService,
  type RunningService,
  type ServiceDb,
  type ServiceDefinition,
} from '../../services/shared/runtime';
import type { ServiceName } from '../../services/catalog';
import { SERVICE_DEFINITIONS } from '../../services/registry';
import { testPostgres } from './postgres';

/** The SERVICE_AUTH_TOKEN every test service requires and every test client (httpClient, the saga worker) sends. */
export const TEST_SERVICE_TOKEN = 'test-service-token-0123456789abcdef';
/** The SERVICE_READ_TOKEN of every test service: the read-only scope. */
export const TEST_READ_TOKEN = 'test-read-token-0123456789abcdef';

/**
 * Starts a real service for a test: a fresh database on the test PostgreSQL, migrations applied by the service's own
 * start-up path, real HTTP on a loopback port chosen by the kernel.
 */
export async function startTestService<Db extends ServiceDb>(
  definition: ServiceDefinition<Db>,
  options: { faultInjection?: boolean; seed?: boolean; logger?: Logger } = {},
): Promise<RunningService<Db> & { databaseUrl: string }> {
  const databaseUrl = await (await testPostgres()).freshDatabase(definition.name);
  const running = await startService(
    definition,
    {
      port: 0,
      host: '127.0.0.1',
      databaseUrl,
      dbPoolSize: 10,
      faultInjection: options.faultInjection ?? false,
      seed: options.seed ?? true,
      logLevel: process.env.LOG_LEVEL ?? 'silent',
      authToken: TEST_SERVICE_TOKEN,
      readToken: TEST_READ_TOKEN,
    },
    options.logger ?? createLogger(definition.name, process.env.LOG_LEVEL ?? 'silent'),
  );
  return { ...running, databaseUrl };
}

/** Every route a service's router declares, as [METHOD, pattern] (express 5 keeps them on router.stack). */
export function serviceRoutes(
  definition: ServiceDefinition<ServiceDb>,
  db: ServiceDb,
): { method: string; pattern: string }[] {
  const router = definition.createRouter(db) as unknown as {
    stack: { route?: { path: string; methods: Record<string, boolean> } }[];
  };
  return router.stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map((m) => ({ method: m.toUpperCase(), pattern: layer.route!.path }))
      : [],
  );
}

/** The patterns of a service's read (GET) endpoints. */
export function readRoutes(name: ServiceName, db: ServiceDb): string[] {
  return serviceRoutes(SERVICE_DEFINITIONS[name], db)
    .filter((r) => r.method === 'GET')
    .map((r) => r.pattern);
}
