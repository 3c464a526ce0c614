import net from 'node:net';
import { Connection, type Client } from '@temporalio/client';
import { createSagaClient } from './saga-client';
import { loadTemporalConfig, temporalConnectionOptions, type TemporalConfig } from '../runtime/config';
import { unreachable } from './errors';
import { loadPayloadCodec, payloadDataConverter } from '../runtime/payload-codec';

/** The CLI's global options: each one overrides its environment variable. */
export interface GlobalOptions {
  json?: boolean;
  address?: string;
  namespace?: string;
  taskQueue?: string;
}

export interface CliConfig extends TemporalConfig {
  /** The Temporal web UI's base URL (TEMPORAL_UI_URL), for links to a saga; unset means no links. */
  uiUrl?: string;
}

/**
 * Environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, the TLS and API key
 * settings) with the command line's overrides; throws ConfigError.
 */
export function resolveConfig(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const temporal = loadTemporalConfig({
    ...env,
    ...(options.address !== undefined && { TEMPORAL_ADDRESS: options.address }),
    ...(options.namespace !== undefined && { TEMPORAL_NAMESPACE: options.namespace }),
    ...(options.taskQueue !== undefined && { TEMPORAL_TASK_QUEUE: options.taskQueue }),
  });
  const uiUrl = env.TEMPORAL_UI_URL?.trim().replace(/\/+$/, '');
  return { ...temporal, uiUrl: uiUrl || undefined };
}

/** `${TEMPORAL_UI_URL}/namespaces/${ns}/workflows/${id}`, when TEMPORAL_UI_URL is set. */
export function workflowUiLink(config: CliConfig, workflowId: string): string | undefined {
  if (!config.uiUrl) return undefined;
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** How long to wait for the server before saying it cannot be reached. */
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * Connects, or throws the CLI's "cannot reach the Temporal server" error. A plain TCP probe first answers at once
 * when nothing listens on the port (the usual case: the server is not running); the gRPC connection then waits at
 * most CONNECT_TIMEOUT_MS for a server that accepts connections but does not answer.
 */
export async function connectTemporal(config: CliConfig): Promise<{ client: Client; close: () => Promise<void> }> {
  await probeTcp(config.address, CONNECT_TIMEOUT_MS).catch(() => {
    throw unreachable(config.address);
  });
  const options = temporalConnectionOptions(config); // TLS and API key from the environment; ConfigError if unreadable
  // Payloads encrypted with TEMPORAL_PAYLOAD_KEYS(_FILE) are decoded here: the CLI shows them as they were given.
  const dataConverter = payloadDataConverter(loadPayloadCodec());
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...options, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch {
    throw unreachable(config.address);
  }
  return { client: createSagaClient(connection, config.namespace, dataConverter), close: () => connection.close() };
}

function probeTcp(address: string, timeoutMs: number): Promise<void> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('timed out'));
    });
    socket.once('error', reject);
  });
}
