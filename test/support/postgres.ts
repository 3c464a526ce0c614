import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { makeTempDirForPostgres, startEmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../runtime/ports';
import type { PostgresEndpoint } from '../../infra/temporal/cluster/schema';

/**
 * The PostgreSQL server the tests use: one embedded cluster per mocha run by default, or an external server when
 * TEST_POSTGRES_URL is set (an admin connection string; the tests create and drop their own databases there, named
 * saga_test_*, and never touch others).
 */
export interface TestPostgres {
  /** Creates a new, empty database and returns its connection string. */
  freshDatabase(label: string): Promise<string>;
  kind: 'embedded' | 'external';
  /** Where the server is and how to log in as admin: for tools that take these rather than a URL (the Temporal cluster). */
  endpoint: PostgresEndpoint;
  stop(): Promise<void>;
}

let server: Promise<TestPostgres> | undefined;

export function testPostgres(): Promise<TestPostgres> {
  return (server ??= process.env.TEST_POSTGRES_URL ? external(process.env.TEST_POSTGRES_URL) : embedded());
}

export async function stopTestPostgres(): Promise<void> {
  const started = server;
  server = undefined;
  // A server that failed to start has nothing to stop; its error was already reported by the test that needed it.
  if (started) await (await started.catch(() => undefined))?.stop();
}

function uniqueName(label: string): string {
  return `saga_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

async function embedded(): Promise<TestPostgres> {
  const parent = await makeTempDirForPostgres('saga-test-pg-');
  const dataDir = path.join(parent, 'data');
  const cluster = await startEmbeddedPostgres({ dataDir, port: await getFreePort() });
  return {
    kind: 'embedded',
    endpoint: { host: '127.0.0.1', port: cluster.port, user: 'postgres', password: 'postgres' },
    async freshDatabase(label) {
      const name = uniqueName(label);
      await cluster.recreateDatabase(name);
      return cluster.url(name);
    },
    async stop() {
      await cluster.stop();
      await rm(path.dirname(dataDir), { recursive: true, force: true });
    },
  };
}

async function external(adminUrl: string): Promise<TestPostgres> {
  const created: string[] = [];
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const admin_ = new URL(adminUrl);
  return {
    kind: 'external',
    endpoint: {
      host: admin_.hostname,
      port: Number(admin_.port || 5432),
      user: decodeURIComponent(admin_.username),
      password: decodeURIComponent(admin_.password),
    },
    async freshDatabase(label) {
      const name = uniqueName(label);
      await admin(`CREATE DATABASE "${name}"`);
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      for (const name of created.splice(0)) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
