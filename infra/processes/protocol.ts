/**
 * The one message protocol between a parent and every child process under infra/processes/ (the services launcher,
 * the worker launcher), in both directions over Node's IPC channel:
 *   child → parent  { type: 'ready', ... }            once, when it serves
 *   child → parent  { type: 'fatal', message }        when it cannot start (then it exits non-zero)
 *   parent → child  { type: 'stop' }                  graceful stop, then exit 0
 *   either way      { type: 'extension', body }       a caller's own messages (the bench's run-batch, memory, …),
 *                                                      handled by the extension module it had the child load
 * A child stops or exits by itself when the IPC channel closes (its parent died), so a crash leaves no orphans.
 */

export interface ReadyMessage {
  type: 'ready';
}

export interface FatalMessage {
  type: 'fatal';
  message: string;
}

export interface StopMessage {
  type: 'stop';
}

export interface ExtensionMessage<Body = unknown> {
  type: 'extension';
  body: Body;
}

export type ParentMessage = StopMessage | ExtensionMessage;
export type ChildMessage = ReadyMessage | FatalMessage | ExtensionMessage;

/**
 * A caller's code run inside a launcher's child, named by its module path in the launcher's configuration (so the
 * launcher stays one file and what only one caller needs lives in that caller's folder). The module exports a
 * factory of this shape under the name the launcher documents.
 */
export interface ExtensionModule {
  /** Absolute path of the .ts module. */
  module: string;
  /** JSON-serialisable options handed to the factory. */
  options?: unknown;
}

/** Sends an extension message to the parent. */
export function sendToParent(body: unknown): void {
  process.send?.({ type: 'extension', body } satisfies ExtensionMessage);
}

/** A child's configuration: the JSON its launcher put in the environment variable `name`. */
export function readChildConfig<Config>(name: string): Config {
  const raw = process.env[name];
  if (!raw) throw new Error(`${name} is not set`);
  return JSON.parse(raw) as Config;
}

/** Loads an extension module's factory by name. */
export async function loadExtension<F>(extension: ExtensionModule, exportName: string): Promise<F> {
  const loaded = (await import(extension.module)) as Record<string, unknown>;
  const factory = loaded[exportName] ?? (loaded.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof factory !== 'function') throw new Error(`${extension.module} exports no function ${exportName}`);
  return factory as F;
}

export interface ChildServing<Ready extends ReadyMessage> {
  ready: Ready;
  /** Graceful stop of what the child serves; the child exits 0 after it. */
  stop(): Promise<void>;
  /** Extension messages from the parent. */
  onExtension?(body: unknown): void | Promise<void>;
}

/**
 * The child's side of the protocol: runs `start`, reports 'ready' (or 'fatal'), stops on 'stop' (and on the signals in
 * `stopOn`), and when the parent goes away either exits at once or stops first (`onParentGone`:
 * 'stop' for a child that owns something that would outlive it, such as a server it runs). A stop asked for while
 * starting waits for the start, so nothing started is left behind.
 */
export function serveChild<Ready extends ReadyMessage>(
  what: string,
  start: () => Promise<ChildServing<Ready>>,
  options: { onParentGone: 'exit' | 'stop'; stopOn: NodeJS.Signals[] },
): void {
  let serving: ChildServing<Ready> | undefined;
  let stopping: Promise<void> | undefined;
  const starting = start().then(
    (s) => {
      serving = s;
      if (!stopping) process.send?.(s.ready);
    },
    (err) => reportFatal(`${what} failed to start`, err),
  );
  const stop = (why: string) =>
    (stopping ??= (async () => {
      console.error(`${what}: stopping (${why})`);
      await starting;
      await serving?.stop().catch((err: Error) => console.error(`${what}: stop failed: ${err.stack ?? err}`));
      process.exit(0);
    })());
  process.on('message', (m: ParentMessage) => {
    if (m?.type === 'stop') void stop('asked to');
    else if (m?.type === 'extension') void serving?.onExtension?.(m.body);
  });
  for (const signal of options.stopOn) process.on(signal, () => void stop(signal));
  process.on('disconnect', () => (options.onParentGone === 'stop' ? void stop('the parent is gone') : process.exit(0)));
}

/** Reports a start-up failure to the parent (if any), then exits non-zero. */
export function reportFatal(what: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`${what}: ${err instanceof Error ? err.stack : message}`);
  if (process.send && process.connected)
    process.send({ type: 'fatal', message } satisfies FatalMessage, () => process.exit(1));
  else process.exit(1);
}
