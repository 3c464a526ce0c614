/**
 * Runs a TypeScript entry file as a child Node.js process (through tsx) that reports readiness over IPC, and keeps
 * enough of it to kill it for real: the reliability tests and the chaos scripts SIGKILL workers and services
 * mid-saga and start them again.
 *
 * The messages both sides speak are protocol.ts's.
 */
import { fork } from 'node:child_process';
import { OutputCapture } from '../output-capture';
import type { ChildMessage, ExtensionMessage, ParentMessage } from './protocol';

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
  /** Sends an extension message (protocol.ts) to the child's extension module. */
  send(body: unknown): void;
  /** Calls `listener` with each extension message from the child; returns what unsubscribes it. */
  onExtension(listener: (body: unknown) => void): () => void;
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
  /** Extra flags for node itself (e.g. --cpu-prof or --expose-gc, which NODE_OPTIONS refuses). */
  nodeFlags?: string[];
}

/** Forks the entry with `--import tsx`, waits for its 'ready' message; on failure the child is gone before this throws. */
export async function forkTsChild<Ready extends { type: 'ready' }>(options: ForkOptions): Promise<ChildHandle<Ready>> {
  const child = fork(options.entry, [], {
    execArgv: [...(options.nodeFlags ?? []), '--import', 'tsx'],
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
      child.on('message', (m: ChildMessage) => {
        if (m?.type === 'ready') {
          clearTimeout(timer);
          resolve(m as unknown as Ready);
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
        if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage, () => undefined);
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
    send: (body) => {
      if (child.connected) child.send({ type: 'extension', body } satisfies ExtensionMessage);
    },
    onExtension: (listener) => {
      const onMessage = (m: ChildMessage) => m?.type === 'extension' && listener(m.body);
      child.on('message', onMessage);
      return () => child.off('message', onMessage);
    },
  };
}
