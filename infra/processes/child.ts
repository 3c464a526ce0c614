/**
 * Runs a TypeScript entry file as a child Node.js process (through tsx) that reports readiness over IPC, and keeps
 * enough of it to kill it for real: the reliability tests and the chaos scripts SIGKILL workers and services
 * mid-saga and start them again.
 *
 * Protocol, shared by every entry under infra/processes/:
 *   child → parent  { type: 'ready', ... }       once, when it serves
 *   child → parent  { type: 'fatal', message }   when it cannot start (then exits non-zero)
 *   parent → child  { type: 'stop' }             graceful stop, then exit 0
 * A child exits by itself when the IPC channel closes (its parent died), so a crashed test leaves no orphans.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { OutputCapture } from '../output-capture';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildHandle<Ready> {
  name: string;
  pid: number;
  /** The child's 'ready' message. */
  ready: Ready;
  /** Settles when the process has exited (never rejects). */
  exited: Promise<ChildExit>;
  /** Set once the process has exited. */
  exit?: ChildExit;
  /** Sends a signal (default SIGKILL: a crash, no clean-up in the child) and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** Asks the child to stop cleanly; SIGKILL after graceMs. Idempotent; fine after the process died. */
  stop(graceMs?: number): Promise<ChildExit>;
  /** The child's last output lines (stdout and stderr), for error messages. */
  logTail(): string;
}

export interface ForkOptions {
  /** For messages, e.g. "worker" or "services[payments]". */
  name: string;
  /** Absolute path of the .ts entry file. */
  entry: string;
  /** Added to the parent's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  /** Append the child's output to this file too. */
  logFile?: string;
  /** Also copy the child's output to the parent's stderr (debugging). Default: $CHILD_PROCESS_ECHO is set. */
  echo?: boolean;
}

/**
 * The lighter form, for scripts whose children talk in several messages (the bench, the chaos run): forks a .ts entry
 * through tsx with IPC, its output going straight to the parent's. Pair with nextMessage. `nodeFlags` are extra flags
 * for node itself (e.g. --cpu-prof, which NODE_OPTIONS refuses).
 */
export function forkTsScript(entry: string, env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = []): ChildProcess {
  return fork(entry, [], {
    execArgv: [...nodeFlags, '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The child's next message of this type; rejects if the child exits first. */
export function nextMessage<T>(child: ChildProcess, type: string, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`${what} exited (${signal ?? `code ${code}`}) before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks the entry with `--import tsx`, waits for its 'ready' message; on failure the child is gone before this throws. */
export async function forkTsChild<Ready extends { type: 'ready' }>(options: ForkOptions): Promise<ChildHandle<Ready>> {
  const child = fork(options.entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output = new OutputCapture(options.logFile, options.name, options.echo ?? !!process.env.CHILD_PROCESS_ECHO);
  child.stdout!.on('data', (chunk: Buffer) => output.write(chunk));
  child.stderr!.on('data', (chunk: Buffer) => output.write(chunk));

  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      process.removeListener('exit', killOnParentExit);
      // Let the last output arrive before anyone reads the tail.
      setImmediate(() => resolve(exit!));
    });
    child.once('error', (err) => {
      output.note(`spawn error: ${err.message}`);
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
  });
  // Best effort for a parent that ends without stopping its children ('exit' listeners must be synchronous).
  const killOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', killOnParentExit);

  const describeExit = (e: ChildExit) => (e.signal ? `signal ${e.signal}` : `code ${e.code}`);
  const fail = (why: string) =>
    new Error(`${options.name} (pid ${child.pid}) ${why}\n--- ${options.name} output ---\n${output.tail()}`);

  let ready: Ready;
  try {
    ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(fail(`not ready after ${options.readyTimeoutMs ?? 60_000} ms`)),
        options.readyTimeoutMs ?? 60_000,
      );
      child.on('message', (m: { type?: string; message?: string }) => {
        if (m?.type === 'ready') {
          clearTimeout(timer);
          resolve(m as Ready);
        } else if (m?.type === 'fatal') {
          clearTimeout(timer);
          reject(fail(`failed to start: ${m.message}`));
        }
      });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(fail(`exited before it was ready (${describeExit(e)})`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await output.close();
    throw err;
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!exit) child.kill(signal);
    return exited;
  };
  let stopping: Promise<ChildExit> | undefined;
  const stop = (graceMs = 10_000) =>
    (stopping ??= (async () => {
      if (!exit) {
        if (child.connected) child.send({ type: 'stop' }, () => undefined);
        else child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const over = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([exited, over]);
        clearTimeout(timer);
        if (!exit) {
          output.note(`did not stop within ${graceMs} ms; SIGKILL`);
          child.kill('SIGKILL');
        }
      }
      const e = await exited;
      await output.close();
      return e;
    })());

  return {
    name: options.name,
    pid: child.pid!,
    ready: ready!,
    exited,
    get exit() {
      return exit;
    },
    kill,
    stop,
    logTail: () => output.tail(),
  };
}

/** For entry files: report a start-up failure to the parent (if any), then exit non-zero. */
export function reportFatal(what: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`${what}: ${err instanceof Error ? err.stack : message}`);
  if (process.send && process.connected) process.send({ type: 'fatal', message }, () => process.exit(1));
  else process.exit(1);
}
