/**
 * An embedded PostgreSQL of a stack's own, in a temp dir removed at stop: for stacks whose caller brings no databases
 * (the chaos run, the explorer, the recording of replay histories). `options` starts it again on the same data
 * directory and port (a PostgreSQL restart fault).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  makeTempDirForPostgres,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from '../postgres/embedded';
import { getFreePort } from '../../runtime/ports';

export interface ScratchPostgres {
  server: EmbeddedPostgres;
  options: EmbeddedPostgresOptions;
  /** Creates the database if missing; resolves with its URL. */
  database(name: string): Promise<string>;
  /** Stops the server (the current one, after restarts) and removes its folder. */
  stop(): Promise<void>;
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const parent = await makeTempDirForPostgres('saga-stack-pg-');
  const options = { dataDir: path.join(parent, 'data'), port: await getFreePort() };
  const scratch: ScratchPostgres = {
    server: await startEmbeddedPostgres(options),
    options,
    async database(name) {
      await scratch.server.ensureDatabase(name);
      return scratch.server.url(name);
    },
    async stop() {
      await scratch.server.stop().catch(() => undefined);
      await rm(parent, { recursive: true, force: true });
    },
  };
  return scratch;
}
