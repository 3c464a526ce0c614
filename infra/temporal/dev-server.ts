/**
 * Runs `temporal server start-dev` as a child process we own.
 *
 * Why not TestWorkflowEnvironment.createLocal: tests here kill and restart the server mid-saga on the same SQLite
 * file and port, tune SQLite pragmas and dynamic config, and want the server's own output when it fails; owning the
 * process makes all of that direct. Flags were checked against `temporal server start-dev --help` of CLI 1.9.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { OutputCapture } from '../output-capture';
import { getFreePort, isPortInUse } from '../../runtime/ports';
import { requireTemporalCli } from './binary';

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface DevServerOptions {
  /** Path of the `temporal` CLI. Default: resolved by infra/temporal/binary.ts (installed on first need). */
  cliPath?: string;
  /** Front-end gRPC port. Default: a free port. A taken port is refused before spawning. */
  port?: number;
  /** Serve the web UI. Default true. */
  ui?: boolean;
  /** Web UI port. Default: a free port (the CLI's default, port + 1000, may well be taken). */
  uiPort?: number;
  /**
   * The codec server the web UI decodes payloads with (`--ui-codec-endpoint`, runtime/codec-server.ts): the browser
   * calls it from the UI's origin, so its CORS must admit that origin.
   */
  uiCodecEndpoint?: string;
  /** Namespace created at start (the CLI always creates "default" too). Default "default". */
  namespace?: string;
  /** SQLite file to persist to; without it state lives in memory and dies with the process. */
  dbFilename?: string;
  /**
   * SQLite pragmas, used only with dbFilename, merged over WAL + synchronous=NORMAL. The CLI applies none by default,
   * and default file persistence is ~10x slower (one fsync'd rollback journal per commit).
   */
  sqlitePragmas?: Record<string, string>;
  /** Custom search attributes to register at start, e.g. `{ OrderId: 'Keyword' }`. */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Dynamic config, each value JSON-encoded, e.g. `{ 'system.enableActivityEagerExecution': true }`. */
  dynamicConfig?: Record<string, unknown>;
  /** Server log level. Default "warn". */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Append the server's stdout and stderr here (the last lines are also kept in memory for error messages). */
  logFile?: string;
  /** How long to wait for the server to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /** Further CLI flags, passed through verbatim. */
  extraArgs?: string[];
  /**
   * Ask the kernel to send the server this signal when the process that started it dies, however it dies (SIGKILL
   * included): Linux's parent-death signal, set by util-linux's `setpriv --pdeathsig` before it execs the CLI. Used
   * where no orphan may survive (the supervised stack). Ignored where setpriv is missing.
   */
  parentDeathSignal?: NodeJS.Signals;
}

/** Options with the ports that were actually used, so the same server can be started again on them. */
export type ResolvedDevServerOptions = DevServerOptions & { port: number; uiPort?: number; namespace: string };

export interface DevServer {
  /** host:port for Connection.connect / NativeConnection.connect. */
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  /** Pass back to startDevServer to restart on the same port, UI port and database. */
  options: ResolvedDevServerOptions;
  /** Settles when the server process exits (stopped, killed, or died). */
  exited: Promise<void>;
  /** The server's last output lines. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after ~10 s. Idempotent; safe to call after the process died on its own. */
  stop(): Promise<void>;
}

const DEFAULT_SQLITE_PRAGMAS: Record<string, string> = { journal_mode: 'WAL', synchronous: 'NORMAL' };
/**
 * The server reads its task queues at most `MaxPollRPS` times a second (default 20, per shard). The dev server has
 * one shard, so every workflow task waited up to 50 ms for the transfer queue's next read: 250 ms of a 4-activity
 * workflow's 254 ms at concurrency 1 (npm run bench). Reading on every notification instead costs no measurable CPU
 * at this scale. Timer and visibility queues get the same, for retry back-offs, deadlines and list queries.
 * A caller's dynamicConfig overrides these (the bench's `--dynamic-config history.transferProcessorMaxPollRPS=20`
 * shows the server's default).
 */
export const DEFAULT_DYNAMIC_CONFIG: Record<string, unknown> = {
  'history.transferProcessorMaxPollRPS': 10_000,
  'history.timerProcessorMaxPollRPS': 10_000,
  'history.visibilityProcessorMaxPollRPS': 10_000,
};
const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;
const PROBE_INTERVAL_MS = 100;
const START_ATTEMPTS = 3;

class ServerExitedError extends Error {}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const ui = options.ui ?? true;

  // Refuse taken ports up front: otherwise the CLI fails with a less obvious bind error, or worse, our readiness
  // probe could succeed against someone else's server on that port.
  await refuseTakenPorts(options.port, ui ? options.uiPort : undefined);
  const port = options.port ?? (await getFreePort(HOST));
  const uiPort = ui ? (options.uiPort ?? (await getFreePort(HOST))) : undefined;
  const resolved: ResolvedDevServerOptions = { ...options, port, uiPort, namespace };

  const cliPath = options.cliPath ?? (await requireTemporalCli());
  if (options.dbFilename) fs.mkdirSync(path.dirname(path.resolve(options.dbFilename)), { recursive: true });
  const output = new OutputCapture(options.logFile);

  for (let attempt = 1; ; attempt++) {
    const mark = output.mark();
    try {
      return await launch(cliPath, resolved, output);
    } catch (err) {
      let failure = err;
      // Between our port check and the CLI's bind, the port can be taken: the CLI picks the ports of its internal
      // services (history, matching, worker, HTTP API, metrics) by binding port 0 and releasing it, and any
      // outgoing connection on the machine may get it as its local port. The CLI then dies with "address already
      // in use" (seen once in ~80 starts here). Such clashes are transient, so the same ports work on a retry.
      const clash = err instanceof ServerExitedError && /address already in use/.test(output.since(mark));
      if (clash && attempt < START_ATTEMPTS) {
        output.note(`port clash (attempt ${attempt}); retrying on the same ports`);
        try {
          await refuseTakenPorts(port, uiPort); // unless someone else really took them meanwhile
          continue;
        } catch (refused) {
          failure = refused;
        }
      }
      await output.close();
      const where = options.logFile ? ` (full log: ${options.logFile})` : '';
      const message = `${(failure as Error).message}\n--- server output${where} ---\n${output.tail()}`;
      // eslint-disable-next-line preserve-caught-error -- the cause is the last failure, which may be the port check's
      throw new Error(message, { cause: failure });
    }
  }
}

async function refuseTakenPorts(port: number | undefined, uiPort: number | undefined) {
  if (port !== undefined && (await isPortInUse(port, HOST))) {
    throw new Error(`Cannot start Temporal dev server: port ${HOST}:${port} is already in use`);
  }
  if (uiPort !== undefined && (await isPortInUse(uiPort, HOST))) {
    throw new Error(`Cannot start Temporal dev server: UI port ${HOST}:${uiPort} is already in use`);
  }
}

/** One spawn of the CLI, waited on until ready; on failure the process is gone before this throws. */
async function launch(cliPath: string, o: ResolvedDevServerOptions, output: OutputCapture): Promise<DevServer> {
  const args = buildArgs(o);
  output.note(`$ ${cliPath} ${args.join(' ')}`);
  const started = Date.now();
  const [command, argv] = withParentDeathSignal(cliPath, args, o.parentDeathSignal);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => output.write(chunk));
  const exit = watchExit(child);

  // Best effort for a parent that exits without calling stop() (e.g. mocha ending on a failed hook): 'exit'
  // listeners must be synchronous, and kill() is. A parent killed by SIGKILL still leaves the server running.
  const killOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', killOnParentExit);

  const terminate = async () => {
    if (exit.info === undefined) {
      child.kill('SIGTERM');
      // A clearable timer: a pending 10 s timeout would otherwise keep the caller's process alive after stop().
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS)));
      const exited = await Promise.race([exit.promise.then(() => true), graceOver]);
      clearTimeout(timer);
      if (!exited) {
        output.note(`server did not exit within ${STOP_GRACE_MS} ms of SIGTERM; sending SIGKILL`);
        child.kill('SIGKILL');
        await exit.promise;
      }
    }
    process.removeListener('exit', killOnParentExit);
  };

  const address = `${HOST}:${o.port}`;
  try {
    await waitUntilReady({
      address,
      namespace: o.namespace,
      searchAttributes: Object.keys(o.searchAttributes ?? {}),
      timeoutMs: o.readyTimeoutMs ?? 60_000,
      exit,
    });
  } catch (err) {
    await terminate();
    throw err;
  }
  output.note(`ready in ${Date.now() - started} ms`);

  let stopping: Promise<void> | undefined;
  return {
    address,
    namespace: o.namespace,
    uiUrl: o.uiPort !== undefined ? `http://${HOST}:${o.uiPort}` : undefined,
    pid: child.pid!,
    options: o,
    exited: exit.promise,
    logTail: () => output.tail(),
    stop: () => (stopping ??= terminate().then(() => output.close())),
  };
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/** The command line that runs `command` with a parent-death signal (see DevServerOptions.parentDeathSignal). */
export function withParentDeathSignal(
  command: string,
  args: string[],
  signal: NodeJS.Signals | undefined,
): [string, string[]] {
  if (!signal || !SETPRIV || process.platform !== 'linux') return [command, args];
  return [SETPRIV, ['--pdeathsig', signal, '--', command, ...args]];
}

function buildArgs(o: ResolvedDevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', HOST, '--port', String(o.port), '--namespace', o.namespace];
  args.push(...(o.uiPort !== undefined ? ['--ui-port', String(o.uiPort)] : ['--headless']));
  if (o.uiPort !== undefined && o.uiCodecEndpoint) args.push('--ui-codec-endpoint', o.uiCodecEndpoint);
  if (o.dbFilename) {
    args.push('--db-filename', path.resolve(o.dbFilename));
    for (const [key, value] of Object.entries({ ...DEFAULT_SQLITE_PRAGMAS, ...o.sqlitePragmas })) {
      args.push('--sqlite-pragma', `${key}=${value}`);
    }
  }
  for (const [name, type] of Object.entries(o.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...o.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push('--log-level', o.logLevel ?? 'warn');
  args.push(...(o.extraArgs ?? []));
  return args;
}

interface ExitWatch {
  /** Set once the process has exited (or failed to spawn). */
  info?: string;
  promise: Promise<void>;
}

function watchExit(child: ChildProcess): ExitWatch {
  const watch: ExitWatch = { promise: Promise.resolve() };
  watch.promise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      watch.info = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    // Spawn failures (ENOENT, EACCES) emit 'error' and no 'exit'.
    child.once('error', (err) => {
      watch.info ??= `spawn error: ${err.message}`;
      resolve();
    });
  });
  return watch;
}

/**
 * Polls with a real client until the server answers, the namespace exists and the requested search attributes are
 * registered: the frontend port opens before the namespace is usable, so "port open" alone is not ready.
 */
async function waitUntilReady(p: {
  address: string;
  namespace: string;
  searchAttributes: string[];
  timeoutMs: number;
  exit: ExitWatch;
}): Promise<void> {
  const deadline = Date.now() + p.timeoutMs;
  let lastError = 'no attempt made';
  for (;;) {
    if (p.exit.info !== undefined) {
      throw new ServerExitedError(`Temporal dev server exited before becoming ready (${p.exit.info})`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(`Temporal dev server at ${p.address} not ready after ${p.timeoutMs} ms: ${lastError}`);
    }
    try {
      await probe(p.address, p.namespace, p.searchAttributes, Math.min(remaining, 5_000));
      return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await Promise.race([sleep(PROBE_INTERVAL_MS), p.exit.promise]);
  }
}

async function probe(address: string, namespace: string, searchAttributes: string[], timeoutMs: number) {
  // A plain TCP check first: gRPC's connect against a closed port waits out its reconnect backoff (1 s) before
  // failing, which would make every start take >= 1 s although the server listens after ~0.2 s.
  const [host, port] = address.split(':');
  if (!(await isPortInUse(Number(port), host))) throw new Error(`nothing listening on ${address} yet`);
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, async () => {
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace });
      if (searchAttributes.length > 0) {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = searchAttributes.filter((name) => !(name in (customAttributes ?? {})));
        if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
      }
    });
  } finally {
    await connection.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
