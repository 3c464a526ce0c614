import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { makeTempDirForPostgres, startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/postgres/embedded';
import { getFreePort } from '../../runtime/ports';

/**
 * deploy/postgres/least-privilege.sh, the init script both compose PostgreSQL servers run on a new volume, run here
 * the way the postgres image runs it (sh, psql as the superuser) against a real PostgreSQL: the roles it makes are no
 * superusers, each reaches its own database(s) and nothing else, and a missing password stops it.
 */
const SCRIPT = path.resolve(__dirname, '../../deploy/postgres/least-privilege.sh');
const SUPERUSER_PASSWORD = 'superuser-secret';

let dir: string;
let server: EmbeddedPostgres;

function runScript(env: Record<string, string>) {
  return spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      PGHOST: '127.0.0.1',
      PGPORT: String(server.port),
      PGPASSWORD: SUPERUSER_PASSWORD,
      POSTGRES_USER: 'postgres',
      ...env,
    },
  });
}

async function connect(user: string, password: string, database: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database });
  await client.connect();
  return client;
}

async function refusedConnect(user: string, password: string, database: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database });
  try {
    await client.connect();
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
  assert.fail(`${user} could connect to ${database}`);
}

describe('deploy: least-privilege.sh on a real PostgreSQL (the compose init script)', function () {
  this.timeout(120_000);

  before(async () => {
    dir = await makeTempDirForPostgres('saga-least-privilege-');
    server = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: await getFreePort(),
      password: SUPERUSER_PASSWORD,
    });
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops, naming the variable, when a role has no password (no default password exists)', () => {
    const run = runScript({ DATABASE_OWNERS: 'orders:orders', ORDERS_PASSWORD: '' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /set ORDERS_PASSWORD/);
  });

  it("makes one role per service that owns its database, and a role for Temporal's two", () => {
    const run = runScript({
      DATABASE_OWNERS: 'orders:orders inventory:inventory temporal:temporal temporal:temporal_visibility',
      ORDERS_PASSWORD: 'orders-secret',
      INVENTORY_PASSWORD: 'inventory-secret',
      TEMPORAL_PASSWORD: 'temporal-secret',
    });
    assert.equal(run.status, 0, run.stderr);
  });

  it('the roles are not superusers and may not create roles or databases', async () => {
    const admin = await connect('postgres', SUPERUSER_PASSWORD, 'postgres');
    try {
      const { rows } = await admin.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean }>(
        `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles
         WHERE rolname IN ('orders', 'inventory', 'temporal') ORDER BY rolname`,
      );
      assert.deepEqual(
        rows,
        ['inventory', 'orders', 'temporal'].map((rolname) => ({
          rolname,
          rolsuper: false,
          rolcreatedb: false,
          rolcreaterole: false,
          rolreplication: false,
          rolbypassrls: false,
        })),
      );
      const owners = await admin.query(
        `SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database
         WHERE datname IN ('orders', 'inventory', 'temporal', 'temporal_visibility') ORDER BY datname`,
      );
      assert.deepEqual(owners.rows, [
        { datname: 'inventory', owner: 'inventory' },
        { datname: 'orders', owner: 'orders' },
        { datname: 'temporal', owner: 'temporal' },
        { datname: 'temporal_visibility', owner: 'temporal' },
      ]);
    } finally {
      await admin.end();
    }
  });

  it('a service creates its tables in its own database (what its migrations do), but no program runs from SQL', async () => {
    const orders = await connect('orders', 'orders-secret', 'orders');
    try {
      await orders.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
      await orders.query("INSERT INTO t VALUES (1, 'x')");
      await assert.rejects(orders.query("COPY t TO PROGRAM 'id'"), /permission denied|must be superuser/);
      await assert.rejects(orders.query('CREATE DATABASE other'), /permission denied/);
      await assert.rejects(orders.query('CREATE ROLE intruder LOGIN'), /permission denied/);
    } finally {
      await orders.end();
    }
  });

  it("no role connects to another service's database, nor to the maintenance databases", async () => {
    for (const database of ['inventory', 'temporal', 'postgres', 'template1'])
      assert.match(await refusedConnect('orders', 'orders-secret', database), /permission denied for database/);
    assert.match(await refusedConnect('temporal', 'temporal-secret', 'orders'), /permission denied for database/);
  });

  it("Temporal's role sets up its visibility schema's extension (btree_gin, trusted) in its own database", async () => {
    for (const database of ['temporal', 'temporal_visibility']) {
      const temporal = await connect('temporal', 'temporal-secret', database);
      try {
        if (database === 'temporal_visibility') await temporal.query('CREATE EXTENSION btree_gin');
        await temporal.query('CREATE TABLE schema_version (version text)');
      } finally {
        await temporal.end();
      }
    }
  });
});
