/**
 * The body of a child process that keeps one non-node server (PostgreSQL, the Temporal dev server) on behalf of a
 * supervisor, speaking protocol.ts's protocol: 'ready' once the server serves, 'stop' to stop it. The server is not a
 * node process and cannot watch our IPC channel itself, so the keeper does: when the parent goes away (even killed
 * by SIGKILL, the channel closes), the keeper stops the server and exits. If the server dies on its own, the keeper
 * exits non-zero, so the supervisor sees the death and restarts both.
 */
import { serveChild } from './protocol';

export interface KeptServer<Ready> {
  ready: Ready;
  /** Settles when the server exits. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export function runKeeper<Ready extends object>(what: string, start: () => Promise<KeptServer<Ready>>): void {
  serveChild(
    what,
    async () => {
      const server = await start();
      let stopping = false;
      void server.exited.then(() => {
        if (stopping) return;
        console.error(`${what} exited on its own`);
        process.exit(1);
      });
      return {
        ready: { type: 'ready', pid: process.pid, ...server.ready },
        stop: () => ((stopping = true), server.stop()),
      };
    },
    { onParentGone: 'stop', stopOn: ['SIGTERM', 'SIGINT'] },
  );
}
