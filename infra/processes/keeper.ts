/**
 * The body of a child process that keeps one non-node server (PostgreSQL, the Temporal dev server) on behalf of a
 * supervisor, speaking child.ts's protocol: 'ready' once the server serves, 'stop' to stop it. The server is not a
 * node process and cannot watch our IPC channel itself, so the keeper does: when the parent goes away (even killed
 * by SIGKILL, the channel closes), the keeper stops the server and exits. If the server dies on its own, the keeper
 * exits non-zero, so the supervisor sees the death and restarts both.
 */
import { reportFatal } from './child';

export interface KeptServer<Ready> {
  ready: Ready;
  /** Settles when the server exits. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export function runKeeper<Ready extends object>(what: string, start: () => Promise<KeptServer<Ready>>): void {
  let server: KeptServer<Ready> | undefined;
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${what}: stopping (${why})`);
    await server?.stop().catch((err: Error) => console.error(`${what}: ${err.message}`));
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && void stop('asked to'));
  process.on('disconnect', () => void stop('the supervisor is gone'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  start()
    .then((started) => {
      server = started;
      void started.exited.then(() => {
        if (stopping) return;
        console.error(`${what} exited on its own`);
        process.exit(1);
      });
      if (stopping) return void stop('stopped while starting');
      process.send?.({ type: 'ready', pid: process.pid, ...started.ready });
    })
    .catch((err) => reportFatal(`${what} failed to start`, err));
}
