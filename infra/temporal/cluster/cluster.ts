/**
 * A real Temporal cluster on this machine: the server built from go.temporal.io/server (server-binary.ts), on
 * PostgreSQL (schema.ts), from the committed configuration (config.yaml: 8 history shards, dynamicconfig.yaml), with
 * its four roles (frontend, history, matching, worker) as four processes on loopback ports. The roles find each other
 * through the membership table in PostgreSQL, as they would on four machines.
 *
 * Each role can be SIGKILLed and started again on the same ports (the chaos run does that to history and matching);
 * the namespace and the saga's search attributes are registered once, the first time the cluster answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { getFreePort, getFreePortInRange, isPortInUse } from '../../../runtime/ports';
import { OutputCapture } from '../../output-capture';
import { withParentDeathSignal, type SearchAttributeTypeName } from '../dev-server';
import { DEFAULT_CLUSTER_DATABASES, setupClusterSchema, type ClusterDatabases, type PostgresEndpoint } from './schema';
import { requireServerBinaries, type ServerBinaries } from './server-binary';
import { SYSTEM_CLIENT, type LocalPki } from './pki';

export const CLUSTER_ROLES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

/** The committed configuration (a template the server renders from the environment) and its dynamic config. */
export const CLUSTER_CONFIG_FILE = path.join(__dirname, 'config.yaml');
export const CLUSTER_DYNAMIC_CONFIG_FILE = path.join(__dirname, 'dynamicconfig.yaml');
/** Read from config.yaml (and checked there by the tests), for reports and the README. */
export const CLUSTER_HISTORY_SHARDS = Number(
  /numHistoryShards:\s*(\d+)/.exec(fs.readFileSync(CLUSTER_CONFIG_FILE, 'utf8'))?.[1],
);
/** How long a namespace keeps closed workflows. */
const RETENTION_SECONDS = 3 * 24 * 3600;
const HOST = '127.0.0.1';

export interface ClusterPorts {
  frontendGrpc: number;
  frontendHttp: number;
  frontendMembership: number;
  historyGrpc: number;
  historyMembership: number;
  matchingGrpc: number;
  matchingMembership: number;
  workerGrpc: number;
  workerMembership: number;
}

export interface ClusterOptions {
  postgres: PostgresEndpoint;
  /** Default temporal / temporal_visibility. */
  databases?: ClusterDatabases;
  /** Created if missing. Default "default". */
  namespace?: string;
  /** Registered if missing, e.g. `{ SagaStatus: 'Keyword' }`. */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Fixed ports (e.g. frontendGrpc 7233 for `npm start`); the rest are free ports. */
  ports?: Partial<ClusterPorts>;
  /** One log file per role here. */
  logDir: string;
  /** Server log level. Default "warn". */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for a fresh cluster to answer (the first start creates 8 shards). Default 180 s. */
  readyTimeoutMs?: number;
  /** Default: requireServerBinaries() (builds them the first time). */
  binaries?: ServerBinaries;
  /**
   * Start a role again (after 1 s) when it exits without being asked to, as a container's restart policy would. A role
   * gives up by itself in some situations: the worker role exits when it cannot start its system workflows within
   * 10 s (a busy first start), any role when PostgreSQL is gone long enough. Default true.
   */
  restartOnExit?: boolean;
  /** mTLS on the frontend with these certificates (pki.ts, with a `system` client for the server's worker role). */
  tls?: LocalPki;
}

export type ResolvedClusterOptions = ClusterOptions & {
  ports: ClusterPorts;
  namespace: string;
  databases: ClusterDatabases;
  binaries: ServerBinaries;
};

export interface RoleProcess {
  role: ClusterRole;
  pid: number;
  /** Set once the process has exited. */
  exit?: string;
  /** Times this role died without being asked to and was started again (see ClusterOptions.restartOnExit). */
  restarts: number;
}

export interface TemporalCluster {
  /** Frontend, host:port. */
  address: string;
  namespace: string;
  options: ResolvedClusterOptions;
  /** The current process of each role. */
  roles(): Record<ClusterRole, RoleProcess>;
  /** Sends the signal (default SIGKILL: a crash) to the role's process and waits until it is gone; no automatic restart. */
  killRole(role: ClusterRole, signal?: NodeJS.Signals): Promise<void>;
  /** Starts the role again on the same ports (after killRole, or after it died). */
  startRole(role: ClusterRole): Promise<void>;
  /** Resolves when the frontend answers for the namespace (after restarts, history needs a moment to own its shards). */
  waitUntilServing(timeoutMs?: number): Promise<void>;
  /** The last output lines of every role, for error messages. */
  logTail(): string;
  /** SIGTERM to every role (frontend first), SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

interface Role {
  child: ChildProcess;
  info: RoleProcess;
  exited: Promise<void>;
  /** Set when we stop or kill it: its exit is then no reason to restart it. */
  expected: boolean;
}

export async function startTemporalCluster(options: ClusterOptions): Promise<TemporalCluster> {
  const binaries = options.binaries ?? (await requireServerBinaries());
  const ports = await resolvePorts(options.ports ?? {});
  const resolved: ResolvedClusterOptions = {
    ...options,
    ports,
    namespace: options.namespace ?? 'default',
    databases: options.databases ?? DEFAULT_CLUSTER_DATABASES,
    binaries,
  };
  fs.mkdirSync(options.logDir, { recursive: true });
  await setupClusterSchema(binaries.sqlTool, options.postgres, resolved.databases);

  const outputs = Object.fromEntries(
    CLUSTER_ROLES.map((r) => [r, new OutputCapture(path.join(options.logDir, `${r}.log`), `temporal-${r}`)]),
  ) as Record<ClusterRole, OutputCapture>;
  const roles = {} as Record<ClusterRole, Role>;
  const env = clusterEnv(resolved);
  const address = `${HOST}:${ports.frontendGrpc}`;

  let stopping: Promise<void> | undefined;
  const restarts = Object.fromEntries(CLUSTER_ROLES.map((r) => [r, 0])) as Record<ClusterRole, number>;
  const spawnRole = async (role: ClusterRole) => {
    const grpcPort = ports[`${role}Grpc` as keyof ClusterPorts];
    if (await isPortInUse(grpcPort, HOST))
      throw new Error(`Cannot start Temporal ${role}: port ${HOST}:${grpcPort} is already in use`);
    const args = ['--config-file', CLUSTER_CONFIG_FILE, '--allow-no-auth', 'start', '--service', role];
    outputs[role].note(`$ ${binaries.server} ${args.join(' ')}`);
    // A parent-death signal: a role goes when the process that started it goes, even killed by SIGKILL.
    const child = spawn(...withParentDeathSignal(binaries.server, args, 'SIGTERM'), {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => outputs[role].write(c));
    child.stderr!.on('data', (c: Buffer) => outputs[role].write(c));
    const info: RoleProcess = { role, pid: child.pid ?? -1, restarts: restarts[role] };
    const entry = { child, info, expected: false } as Role;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        info.exit = signal ? `signal ${signal}` : `code ${code}`;
        outputs[role].note(`exited (${info.exit})`);
        process.removeListener('exit', killOnParentExit);
        resolve();
        if (!entry.expected && !stopping && (options.restartOnExit ?? true)) {
          setTimeout(() => {
            if (stopping || roles[role] !== entry) return;
            restarts[role]++;
            outputs[role].note(`exited unexpectedly: starting it again (restart ${restarts[role]})`);
            spawnRole(role).catch((err: Error) => outputs[role].note(`restart failed: ${err.message}`));
          }, 1_000);
        }
      });
      child.once('error', (err) => {
        info.exit ??= `spawn error: ${err.message}`;
        resolve();
      });
    });
    // Best effort for a parent that exits without stop(): 'exit' listeners must be synchronous.
    const killOnParentExit = () => child.kill('SIGKILL');
    process.once('exit', killOnParentExit);
    entry.exited = exited;
    roles[role] = entry;
  };

  const logTail = () =>
    CLUSTER_ROLES.map(
      (r) =>
        `--- temporal ${r} (pid ${roles[r]?.info.pid ?? '-'}${roles[r]?.info.exit ? `, exited ${roles[r].info.exit}` : ''}) ---\n${outputs[r].tail()}`,
    ).join('\n');

  const killRole = async (role: ClusterRole, signal: NodeJS.Signals = 'SIGKILL') => {
    const r = roles[role];
    if (!r) return;
    r.expected = true;
    if (!r.info.exit) r.child.kill(signal);
    await r.exited;
  };

  const stopRole = async (role: ClusterRole) => {
    const r = roles[role];
    if (!r || r.info.exit) return;
    r.expected = true;
    r.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const over = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 10_000)));
    const done = await Promise.race([r.exited.then(() => true), over]);
    clearTimeout(timer);
    if (!done) {
      outputs[role].note('did not exit within 10 s of SIGTERM; SIGKILL');
      await killRole(role, 'SIGKILL');
    }
  };

  const stop = () =>
    (stopping ??= (async () => {
      // The frontend first, so no new requests come in; then the rest together.
      await stopRole('frontend');
      await Promise.all(CLUSTER_ROLES.filter((r) => r !== 'frontend').map(stopRole));
      await Promise.all(Object.values(outputs).map((o) => o.close()));
    })());

  const waitUntilServing = async (timeoutMs = options.readyTimeoutMs ?? 180_000) => {
    const deadline = Date.now() + timeoutMs;
    let lastError = 'no attempt made';
    for (;;) {
      const dead = CLUSTER_ROLES.find(
        (r) => roles[r]?.info.exit && (roles[r].expected || !(options.restartOnExit ?? true)),
      );
      if (dead) throw new Error(`Temporal ${dead} exited (${roles[dead].info.exit}) before the cluster was ready`);
      if (Date.now() > deadline)
        throw new Error(`Temporal cluster at ${address} not ready after ${timeoutMs} ms: ${lastError}`);
      try {
        await ensureNamespace(
          address,
          resolved.namespace,
          resolved.searchAttributes ?? {},
          Math.min(10_000, deadline - Date.now()),
          resolved.tls && clusterTlsOptions(resolved.tls, SYSTEM_CLIENT),
        );
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  try {
    // The worker role last: it exits if the frontend does not serve its system workflows within 10 s.
    for (const role of CLUSTER_ROLES.filter((r) => r !== 'worker')) await spawnRole(role);
    await waitUntilServing();
    await spawnRole('worker');
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${logTail()}`, { cause: err });
  }

  return {
    address,
    namespace: resolved.namespace,
    options: resolved,
    roles: () =>
      Object.fromEntries(CLUSTER_ROLES.map((r) => [r, { ...roles[r].info }])) as Record<ClusterRole, RoleProcess>,
    killRole,
    async startRole(role) {
      if (roles[role] && !roles[role].info.exit)
        throw new Error(`Temporal ${role} is still running (pid ${roles[role].info.pid})`);
      await spawnRole(role);
    },
    waitUntilServing,
    logTail,
    stop,
  };
}

async function resolvePorts(given: Partial<ClusterPorts>): Promise<ClusterPorts> {
  const keys: (keyof ClusterPorts)[] = [
    'frontendGrpc',
    'frontendHttp',
    'frontendMembership',
    'historyGrpc',
    'historyMembership',
    'matchingGrpc',
    'matchingMembership',
    'workerGrpc',
    'workerMembership',
  ];
  const ports = {} as ClusterPorts;
  const taken = new Set<number>();
  for (const key of keys) {
    let port = given[key];
    // Membership ports go into a SMALLINT column of Temporal's schema: keep them below the ephemeral range.
    while (port === undefined || taken.has(port))
      port = key.endsWith('Membership') ? await getFreePortInRange(20000, 32767, HOST) : await getFreePort(HOST);
    taken.add(port);
    ports[key] = port;
  }
  return ports;
}

/** The SDK's TLS options for a client of the cluster's frontend, with the certificate of one client of the PKI. */
export function clusterTlsOptions(pki: LocalPki, client: string): TLSConfig {
  const pair = pki.clients[client];
  if (!pair) throw new Error(`the cluster's PKI has no client certificate ${client}`);
  return {
    serverNameOverride: 'localhost',
    serverRootCACertificate: fs.readFileSync(pki.caCert),
    clientCertPair: { crt: fs.readFileSync(pair.cert), key: fs.readFileSync(pair.key) },
  };
}

/** What config.yaml reads: where PostgreSQL is, the ports, the dynamic config. */
function clusterEnv(o: ResolvedClusterOptions): NodeJS.ProcessEnv {
  const p = o.ports;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    POSTGRES_SEEDS: o.postgres.host,
    DB_PORT: String(o.postgres.port),
    POSTGRES_USER: o.postgres.user,
    POSTGRES_PWD: o.postgres.password,
    DBNAME: o.databases.default,
    VISIBILITY_DBNAME: o.databases.visibility,
    BIND_ON_IP: HOST,
    FRONTEND_GRPC_PORT: String(p.frontendGrpc),
    FRONTEND_HTTP_PORT: String(p.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    HISTORY_GRPC_PORT: String(p.historyGrpc),
    HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    MATCHING_GRPC_PORT: String(p.matchingGrpc),
    MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    WORKER_GRPC_PORT: String(p.workerGrpc),
    WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
    DYNAMIC_CONFIG_FILE_PATH: CLUSTER_DYNAMIC_CONFIG_FILE,
    LOG_LEVEL: o.logLevel ?? 'warn',
    ...(o.tls && { TEMPORAL_TLS_DIR: o.tls.dir }),
  };
}

const INDEXED_TYPES: Record<SearchAttributeTypeName, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Text: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * One readiness probe that also does the one-time registration: the namespace (a real cluster starts with none but
 * the system one) and the search attributes. Throws while anything is missing or the cluster does not answer yet.
 */
async function ensureNamespace(
  address: string,
  namespace: string,
  searchAttributes: Record<string, SearchAttributeTypeName>,
  timeoutMs: number,
  tls?: TLSConfig,
): Promise<void> {
  const [host, port] = address.split(':');
  if (!(await isPortInUse(Number(port), host))) throw new Error(`nothing listening on ${address} yet`);
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs, tls });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, async () => {
      await connection.workflowService.getSystemInfo({});
      try {
        await connection.workflowService.describeNamespace({ namespace });
      } catch (err) {
        if ((err as { code?: number }).code !== 5 /* NOT_FOUND */) throw err;
        await connection.workflowService
          .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION_SECONDS * 1000) })
          .catch((e: { code?: number }) => {
            if (e.code !== 6 /* ALREADY_EXISTS */) throw e;
          });
        throw new Error(`namespace ${namespace} registered; waiting for it to be served`, { cause: err });
      }
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.keys(searchAttributes).filter((n) => !(n in (customAttributes ?? {})));
      if (missing.length) {
        await connection.operatorService.addSearchAttributes({
          namespace,
          searchAttributes: Object.fromEntries(missing.map((n) => [n, INDEXED_TYPES[searchAttributes[n]]])),
        });
        throw new Error(`search attributes ${missing.join(', ')} registered; waiting for them to be listed`);
      }
      // A workflow list goes through the visibility store: the last piece to answer.
      await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
    });
  } finally {
    await connection.close();
  }
}
