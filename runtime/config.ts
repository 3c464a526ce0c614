import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { authTokenSetting, ConfigError, optionalFlagSetting, parseConfig } from '../services/shared/config';
import { DEFAULT_SERVICE_PORTS, SERVICE_NAMES, serviceEnvName, type ServiceName } from '../services/catalog';

/**
 * Configuration of the worker and the client, from environment variables, checked once at start-up: a bad value
 * stops the process with a message that names the variable.
 */
export { ConfigError };

function parse<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv, what: string): T {
  return parseConfig(schema, env, `invalid ${what} configuration`);
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Connect with TLS (set by any TEMPORAL_TLS* variable or TEMPORAL_API_KEY); absent: plaintext. */
  tls?: TemporalTlsConfig;
  /** TEMPORAL_API_KEY: sent as `Authorization: Bearer <key>` (Temporal Cloud API keys). Never log it. */
  apiKey?: string;
}

/** Where the TLS material is; the files are read (and checked) at start-up and again when connecting. */
export interface TemporalTlsConfig {
  /** TEMPORAL_TLS_CERT_PATH + TEMPORAL_TLS_KEY_PATH: PEM client certificate and its private key, for mTLS. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** TEMPORAL_TLS_CA_PATH: PEM CA certificate(s) to verify the server with, instead of the system's roots. */
  serverCaPath?: string;
  /** TEMPORAL_TLS_SERVER_NAME: the name the server's certificate must carry, if not the address's host. */
  serverName?: string;
}

export const DEFAULT_TASK_QUEUE = 'order-saga';

/** An optional setting: unset, empty or blank all mean "not set" (so compose files can pass `${VAR:-}` through). */
const optionalSetting = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.string().trim().optional(),
);

export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const c = parse(
    z.object({
      TEMPORAL_ADDRESS: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
        .default('127.0.0.1:7233'),
      TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
      TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
      TEMPORAL_TLS: optionalFlagSetting,
      TEMPORAL_TLS_CERT_PATH: optionalSetting,
      TEMPORAL_TLS_KEY_PATH: optionalSetting,
      TEMPORAL_TLS_CA_PATH: optionalSetting,
      TEMPORAL_TLS_SERVER_NAME: optionalSetting.refine(
        (v) => v === undefined || /^[A-Za-z0-9.-]+$/.test(v),
        'must be a host name',
      ),
      TEMPORAL_API_KEY: optionalSetting.refine(
        (v) => v === undefined || /^[\x21-\x7e]+$/.test(v),
        'must be printable ASCII without spaces',
      ),
    }),
    env,
    'Temporal',
  );
  const config: TemporalConfig = {
    address: c.TEMPORAL_ADDRESS,
    namespace: c.TEMPORAL_NAMESPACE,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
  };

  if ((c.TEMPORAL_TLS_CERT_PATH === undefined) !== (c.TEMPORAL_TLS_KEY_PATH === undefined)) {
    const [given, missing] = c.TEMPORAL_TLS_CERT_PATH
      ? ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH']
      : ['TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CERT_PATH'];
    throw new ConfigError(
      `${given} is set but ${missing} is not: an mTLS client certificate needs both the certificate and its key (or neither)`,
    );
  }
  // Anything TLS-specific (or an API key, which must not travel in clear) turns TLS on; TEMPORAL_TLS=true forces it
  // with no other setting (server verified against the system's roots, as for Temporal Cloud).
  const impliedBy = (
    ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_CA_PATH', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'] as const
  ).filter((k) => c[k] !== undefined);
  if (c.TEMPORAL_TLS === false && impliedBy.length) {
    throw new ConfigError(
      `TEMPORAL_TLS=false contradicts ${impliedBy.join(', ')}: these need TLS; unset TEMPORAL_TLS or them`,
    );
  }
  if (c.TEMPORAL_TLS ?? impliedBy.length > 0) {
    config.tls = {
      ...(c.TEMPORAL_TLS_CERT_PATH && {
        clientCertPath: c.TEMPORAL_TLS_CERT_PATH,
        clientKeyPath: c.TEMPORAL_TLS_KEY_PATH,
      }),
      ...(c.TEMPORAL_TLS_CA_PATH && { serverCaPath: c.TEMPORAL_TLS_CA_PATH }),
      ...(c.TEMPORAL_TLS_SERVER_NAME && { serverName: c.TEMPORAL_TLS_SERVER_NAME }),
    };
    readTlsMaterial(config.tls); // fail at start-up, naming the variable, rather than on the first connection
  }
  if (c.TEMPORAL_API_KEY) config.apiKey = c.TEMPORAL_API_KEY;
  return config;
}

/**
 * The options both `Connection.connect` (@temporalio/client) and `NativeConnection.connect` (@temporalio/worker)
 * take for where and how to connect: `{ address, tls?, apiKey? }`. Spread it and add your own (connectTimeout...).
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverRootCACertificate?: Buffer;
    serverNameOverride?: string;
  };
  apiKey?: string;
}

/** Reads the TLS files (throws ConfigError naming the variable) and builds the SDK's connection options. */
export function temporalConnectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: config.address };
  if (config.tls) {
    const material = readTlsMaterial(config.tls);
    options.tls = {
      ...(material.clientCertPair && { clientCertPair: material.clientCertPair }),
      ...(material.serverCa && { serverRootCACertificate: material.serverCa }),
      ...(config.tls.serverName && { serverNameOverride: config.tls.serverName }),
    };
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}

/** The Temporal settings for a log line: whether TLS and an API key are in use, never the key itself. */
export function describeTemporalConfig(config: TemporalConfig): Record<string, unknown> {
  const { apiKey, tls, ...rest } = config;
  return { ...rest, tls: tls ? (tls.clientCertPath ? 'mTLS' : 'TLS') : 'off', ...(apiKey && { apiKey: 'set' }) };
}

function readTlsMaterial(tls: TemporalTlsConfig): { clientCertPair?: { crt: Buffer; key: Buffer }; serverCa?: Buffer } {
  const result: { clientCertPair?: { crt: Buffer; key: Buffer }; serverCa?: Buffer } = {};
  if (tls.clientCertPath || tls.clientKeyPath) {
    if (!tls.clientCertPath || !tls.clientKeyPath)
      throw new ConfigError('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together');
    const crt = readPem('TEMPORAL_TLS_CERT_PATH', tls.clientCertPath);
    const key = readPem('TEMPORAL_TLS_KEY_PATH', tls.clientKeyPath);
    const certificate = parsePem(
      'TEMPORAL_TLS_CERT_PATH',
      tls.clientCertPath,
      'a PEM certificate',
      () => new X509Certificate(crt),
    );
    const privateKey = parsePem('TEMPORAL_TLS_KEY_PATH', tls.clientKeyPath, 'a PEM private key (unencrypted)', () =>
      createPrivateKey(key),
    );
    if (!certificate.checkPrivateKey(privateKey)) {
      throw new ConfigError(
        `TEMPORAL_TLS_KEY_PATH (${tls.clientKeyPath}) is not the private key of the certificate in TEMPORAL_TLS_CERT_PATH (${tls.clientCertPath})`,
      );
    }
    result.clientCertPair = { crt, key };
  }
  if (tls.serverCaPath) {
    const ca = readPem('TEMPORAL_TLS_CA_PATH', tls.serverCaPath);
    parsePem('TEMPORAL_TLS_CA_PATH', tls.serverCaPath, 'a PEM certificate', () => new X509Certificate(ca));
    result.serverCa = ca;
  }
  return result;
}

function readPem(variable: string, file: string): Buffer {
  try {
    if (!statSync(file).isFile()) throw new ConfigError(`${variable}: ${file} is not a file`);
    return readFileSync(file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError(`${variable}: cannot read ${file}: ${why}`);
  }
}

function parsePem<T>(variable: string, file: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ConfigError(`${variable}: ${file} is not ${what} (${(err as Error).message})`);
  }
}

export interface ActivityConfig {
  urls: Record<ServiceName, string>;
  requestTimeoutMs: number;
  /** SERVICE_AUTH_TOKEN, sent as a bearer token on every call. Never log it. */
  authToken: string;
}

/** Where the services are: ORDERS_URL, ... (default: the local stack's ports on loopback). Reading needs no token. */
export function loadServiceUrls(env: NodeJS.ProcessEnv = process.env): Record<ServiceName, string> {
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => {
      const key = serviceEnvName(name, 'URL');
      const value = parse(
        z.object({ [key]: z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${DEFAULT_SERVICE_PORTS[name]}`) }),
        env,
        'service URL',
      )[key] as string;
      return [name, value.replace(/\/+$/, '')];
    }),
  ) as Record<ServiceName, string>;
}

/** What the activities need: the services' URLs, the request timeout and the token (required: without it the worker could change nothing). */
export function loadActivityConfig(env: NodeJS.ProcessEnv = process.env): ActivityConfig {
  const urls = loadServiceUrls(env);
  const c = parse(
    z.object({
      SERVICE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
      SERVICE_AUTH_TOKEN: authTokenSetting('every service'),
    }),
    env,
    'activity',
  );
  return { urls, requestTimeoutMs: c.SERVICE_REQUEST_TIMEOUT_MS, authToken: c.SERVICE_AUTH_TOKEN };
}

/**
 * SAGA_WORKER_CACHE_MB: the memory a worker spends on cached sagas (the kit sizes its sticky cache from it). Bounded
 * so that sagas parked for an operator, which the cache evicts first, cost replays later instead of resident memory.
 */
export function loadWorkerCacheMemoryMb(env: NodeJS.ProcessEnv = process.env): number {
  return parse(
    z.object({ SAGA_WORKER_CACHE_MB: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_WORKER_CACHE_MB) }),
    env,
    'worker cache',
  ).SAGA_WORKER_CACHE_MB;
}

/** 128 MB: about 250 sagas, several times what a worker runs at once; the rest replay when they have work. */
const DEFAULT_WORKER_CACHE_MB = 128;
