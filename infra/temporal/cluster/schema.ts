/**
 * Temporal's two databases on PostgreSQL (its own store and its visibility store), created and migrated with the
 * server's own schema tool (`temporal-sql-tool`, built from the same module as the server, with the schemas embedded):
 * the same three commands the docker-compose schema job runs with the admin-tools image. Each is idempotent: a
 * database that exists is kept, versioning tables are set up once, and `update-schema` applies only the migrations
 * not yet applied, so every start of the cluster runs them and an upgraded server finds its schema upgraded.
 */
import { spawn } from 'node:child_process';

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

/** The tool reads its connection from these variables (the compose schema job sets the same ones). */
export function sqlToolEnv(endpoint: PostgresEndpoint): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: endpoint.host,
    SQL_PORT: String(endpoint.port),
    SQL_USER: endpoint.user,
    SQL_PASSWORD: endpoint.password,
  };
}

/** The three commands, per store; each is idempotent (checked: a second run of each exits 0 and changes nothing). */
export const SCHEMA_COMMANDS = (store: keyof ClusterDatabases): string[][] => [
  ['create-database'],
  ['setup-schema', '-v', '0.0'],
  ['update-schema', '--schema-name', SCHEMA_NAMES[store]],
];

export async function setupClusterSchema(
  sqlTool: string,
  endpoint: PostgresEndpoint,
  databases: ClusterDatabases = DEFAULT_CLUSTER_DATABASES,
): Promise<void> {
  for (const store of ['default', 'visibility'] as const) {
    for (const command of SCHEMA_COMMANDS(store))
      await runTool(sqlTool, ['--db', databases[store], ...command], sqlToolEnv(endpoint));
  }
}

/** Runs the tool; on failure the error carries its output (it logs what went wrong on stdout/stderr). */
function runTool(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (err) => reject(new Error(`cannot run ${tool}: ${err.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`temporal-sql-tool ${args.join(' ')} exited with code ${code}:\n${output.slice(-4000)}`));
    });
  });
}
