/**
 * Temporal's two databases on PostgreSQL (its own store and its visibility store), created and migrated with the
 * server's own schema tool (`temporal-sql-tool`, built from the same module as the server, with the schemas embedded):
 * the same three commands the docker-compose schema job runs with the admin-tools image. Idempotent: a database that
 * exists is kept, versioning tables are set up once, and `update-schema` applies only the migrations not yet applied,
 * so every start of the cluster runs it and an upgraded server finds its schema upgraded.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';

export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface ClusterDatabases {
  /** Temporal's own store (histories, mutable state, shards, task queues). */
  default: string;
  /** The visibility store (workflow lists and search attributes). */
  visibility: string;
}

export const DEFAULT_CLUSTER_DATABASES: ClusterDatabases = { default: 'temporal', visibility: 'temporal_visibility' };

/** The embedded schema names the tool knows, per store (`temporal-sql-tool update-schema --help` lists them). */
export const SCHEMA_NAMES: Record<keyof ClusterDatabases, string> = {
  default: 'postgresql/v12/temporal',
  visibility: 'postgresql/v12/visibility',
};

/** The tool's arguments for one database: the connection, then the command (`toolArgs(...).concat('setup-schema', ...)`). */
export function sqlToolArgs(pgEndpoint: PostgresEndpoint, database: string): string[] {
  return ['--plugin', 'postgres12', '--ep', pgEndpoint.host, '-p', String(pgEndpoint.port), '-u', pgEndpoint.user, '--pw', pgEndpoint.password, '--db', database];
}

export async function setupClusterSchema(sqlTool: string, endpoint: PostgresEndpoint, databases: ClusterDatabases = DEFAULT_CLUSTER_DATABASES): Promise<void> {
  for (const store of ['default', 'visibility'] as const) {
    const database = databases[store];
    const args = sqlToolArgs(endpoint, database);
    if (!(await databaseExists(endpoint, database))) await runTool(sqlTool, [...args, 'create-database']);
    if (!(await hasVersioningTables(endpoint, database))) await runTool(sqlTool, [...args, 'setup-schema', '-v', '0.0']);
    await runTool(sqlTool, [...args, 'update-schema', '--schema-name', SCHEMA_NAMES[store]]);
  }
}

async function withClient<T>(endpoint: PostgresEndpoint, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...endpoint, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseExists(endpoint: PostgresEndpoint, database: string): Promise<boolean> {
  return withClient(endpoint, 'postgres', async (c) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0);
}

function hasVersioningTables(endpoint: PostgresEndpoint, database: string): Promise<boolean> {
  return withClient(endpoint, database, async (c) => (await c.query("SELECT to_regclass('schema_version') IS NOT NULL AS present")).rows[0].present as boolean);
}

/** Runs the tool; on failure the error carries its output (it logs what went wrong on stdout/stderr). */
function runTool(tool: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => reject(new Error(`cannot run ${tool}: ${err.message}`)));
    child.once('close', (code) => {
      const shown = args.map((a, i) => (args[i - 1] === '--pw' ? '***' : a)).join(' ');
      if (code === 0) resolve();
      else reject(new Error(`temporal-sql-tool ${shown} exited with code ${code}:\n${output.slice(-4000)}`));
    });
  });
}
