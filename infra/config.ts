import { z } from 'zod';
import { ConfigError } from '../services/shared/config';
import { DEFAULT_SERVICE_PORTS, SERVICE_NAMES, serviceEnvName, type ServiceName } from '../services/catalog';

/**
 * Configuration of the worker and the client, from environment variables, checked once at start-up: a bad value
 * stops the process with a message that names the variable.
 */
export { ConfigError };

function parse<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv, what: string): T {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid ${what} configuration: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  return result.data;
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
}

export const DEFAULT_TASK_QUEUE = 'order-saga';

export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const c = parse(
    z.object({
      TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').default('127.0.0.1:7233'),
      TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
      TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
    }),
    env,
    'Temporal',
  );
  return { address: c.TEMPORAL_ADDRESS, namespace: c.TEMPORAL_NAMESPACE, taskQueue: c.TEMPORAL_TASK_QUEUE };
}

export interface ActivityConfig {
  urls: Record<ServiceName, string>;
  requestTimeoutMs: number;
  authToken?: string;
}

/** Where the activities find the services: ORDERS_URL, ... (default: the local stack's ports on loopback). */
export function loadActivityConfig(env: NodeJS.ProcessEnv = process.env): ActivityConfig {
  const urls = Object.fromEntries(
    SERVICE_NAMES.map((name) => {
      const key = serviceEnvName(name, 'URL');
      const value = parse(z.object({ [key]: z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${DEFAULT_SERVICE_PORTS[name]}`) }), env, 'service URL')[key] as string;
      return [name, value.replace(/\/+$/, '')];
    }),
  ) as Record<ServiceName, string>;
  const c = parse(
    z.object({
      SERVICE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
      SERVICE_AUTH_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    }),
    env,
    'activity',
  );
  return { urls, requestTimeoutMs: c.SERVICE_REQUEST_TIMEOUT_MS, authToken: c.SERVICE_AUTH_TOKEN };
}
