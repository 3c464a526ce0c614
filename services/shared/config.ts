import { z } from 'zod';
import { DEFAULT_METRICS_PORTS, DEFAULT_SERVICE_PORTS, serviceEnvName, type ServiceName } from '../catalog';

/**
 * A service's configuration, read from the environment and checked once at start-up: a bad value stops the
 * service with a message naming the variable, instead of failing later on the first request.
 */
export interface ServiceConfig {
  port: number;
  host: string;
  databaseUrl: string;
  dbPoolSize: number;
  faultInjection: boolean;
  seed: boolean;
  logLevel: string;
  /** SERVICE_AUTH_TOKEN: the orchestrator's bearer token, for reads and writes (see auth.ts). Never log it. */
  authToken: string;
  /** <SERVICE>_METRICS_PORT: where GET /metrics is served (Prometheus); 0 picks a free port; unset in tests: none. */
  metricsPort?: number;
  /** SERVICE_READ_TOKEN: an optional read-only bearer token for dashboards and tools. Never log it. */
  readToken?: string;
}

/**
 * A yes/no setting, one rule for every such variable (the services', the worker's and client's, `npm start`'s):
 * `true`, `1` or `enabled` for yes, `false`, `0` or `disabled` for no, in any case, blanks around ignored. Unset or
 * blank means unset (compose files pass `${VAR:-}` through): undefined here, the default with flagSetting.
 */
export const optionalFlagSetting = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v),
  z
    .enum(['true', 'false', '1', '0', 'enabled', 'disabled'], {
      error: 'must be true or false (also 1 or 0, enabled or disabled)',
    })
    .transform((v) => v === 'true' || v === '1' || v === 'enabled')
    .optional(),
);

/** A yes/no setting (optionalFlagSetting's rule) with the value it takes when unset. */
export function flagSetting(whenUnset: boolean) {
  return optionalFlagSetting.transform((v) => v ?? whenUnset);
}

/** A setting is missing or malformed; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses settings with a zod schema; a bad value becomes one ConfigError line that names the variable. */
export function parseConfig<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv, prefix: string): T {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`${prefix}: ${z.prettifyError(result.error).replace(/\n/g, '; ')}`);
  return result.data;
}

/**
 * SERVICE_AUTH_TOKEN, required on both sides: the services accept mutating requests only with it, the worker sends
 * it. There is no default: a service without a token would accept anyone, a worker without one could change nothing.
 * `peer` names the other side, which needs the same value. The message never echoes the value.
 */
export function authTokenSetting(peer: string) {
  const hint = `the bearer token that authorises mutating requests; ${peer} needs the same value`;
  return z
    .string({
      error: (issue) =>
        issue.input === undefined ? `SERVICE_AUTH_TOKEN is required (${hint})` : 'SERVICE_AUTH_TOKEN must be a string',
    })
    .regex(
      /^[\x21-\x7e]{16,}$/,
      `SERVICE_AUTH_TOKEN must be at least 16 printable ASCII characters without spaces (${hint})`,
    );
}

/** SERVICE_READ_TOKEN: the read-only scope (dashboards, tools, the demo). Same shape as SERVICE_AUTH_TOKEN. */
const readTokenSetting = z
  .string()
  .regex(/^[\x21-\x7e]{16,}$/, 'SERVICE_READ_TOKEN must be at least 16 printable ASCII characters without spaces');

export function loadServiceConfig(service: ServiceName, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const schema = z.object({
    [serviceEnvName(service, 'PORT')]: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(DEFAULT_SERVICE_PORTS[service]),
    SERVICE_HOST: z.string().min(1).default('127.0.0.1'),
    [serviceEnvName(service, 'DATABASE_URL')]: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// connection string'),
    [serviceEnvName(service, 'METRICS_PORT')]: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(DEFAULT_METRICS_PORTS[service]),
    [serviceEnvName(service, 'DB_POOL_SIZE')]: z.coerce.number().int().min(1).max(100).default(10),
    FAULT_INJECTION: flagSetting(false),
    SEED: flagSetting(false),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    NODE_ENV: z.string().optional(),
    SERVICE_AUTH_TOKEN: authTokenSetting('the worker'),
    SERVICE_READ_TOKEN: readTokenSetting.optional(),
  });
  const c = parseConfig(schema, env, `invalid configuration for the ${service} service`) as Record<string, unknown>;
  if (c.SERVICE_READ_TOKEN !== undefined && c.SERVICE_READ_TOKEN === c.SERVICE_AUTH_TOKEN) {
    throw new ConfigError(
      'SERVICE_READ_TOKEN must differ from SERVICE_AUTH_TOKEN: the read-only scope must not be able to write',
    );
  }
  // Fault injection is a test and demo tool: refuse to run with it in a production configuration.
  if (c.FAULT_INJECTION && c.NODE_ENV === 'production') {
    throw new ConfigError('FAULT_INJECTION cannot be enabled when NODE_ENV=production');
  }
  return {
    port: c[serviceEnvName(service, 'PORT')] as number,
    host: c.SERVICE_HOST as string,
    databaseUrl: c[serviceEnvName(service, 'DATABASE_URL')] as string,
    dbPoolSize: c[serviceEnvName(service, 'DB_POOL_SIZE')] as number,
    faultInjection: c.FAULT_INJECTION as boolean,
    seed: c.SEED as boolean,
    logLevel: c.LOG_LEVEL as string,
    authToken: c.SERVICE_AUTH_TOKEN as string,
    metricsPort: c[serviceEnvName(service, 'METRICS_PORT')] as number,
    ...(c.SERVICE_READ_TOKEN !== undefined && { readToken: c.SERVICE_READ_TOKEN as string }),
  };
}
