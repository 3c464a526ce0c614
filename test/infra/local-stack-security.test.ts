import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { getFreePort } from '../../runtime/ports';
import { startEmbeddedPostgres } from '../../infra/postgres/embedded';
import { SERVICE_NAMES, serviceEnvName } from '../../services/catalog';
import { npmStart, stopNpmStart as stop, type Started } from '../support/npm-start';

/**
 * `npm start` secure by default, on the real processes: the data folder is its owner's only, the secrets in it are
 * 0600 (even files an older run left readable), the embedded PostgreSQL has a random password of its own (a data
 * folder made with the old postgres/postgres gets one too, and the old login is refused), and the services ignore the
 * fault-injection header unless FAULT_INJECTION=true is asked for.
 */
const SECRETS = ['service-read-token', 'service-auth-token', 'postgres-password', 'fault-injection'];

function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

async function login(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('npm start: secure by default (data folder, secrets, PostgreSQL password, fault injection)', function () {
  this.timeout(300_000);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-local-security-'));
  fs.chmodSync(parent, 0o755); // PostgreSQL runs as the postgres user when we are root
  const dataDir = path.join(parent, 'data');
  let env: NodeJS.ProcessEnv;
  let postgresPort: number;
  let stack: Started | undefined;

  /**
   * A POST with the orchestrator's token and a fault header to a route that does not exist: with fault injection on,
   * the injected 503 comes first; off, the router's 404.
   */
  async function postWithFaultHeader(started: Started): Promise<Response> {
    const [, ordersUrl] = started.output().match(/^ {2}orders +(http:\/\/\S+)$/m)!;
    const token = fs.readFileSync(path.join(dataDir, 'service-auth-token'), 'utf8').trim();
    return fetch(`${ordersUrl}/no-such-route`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-fault-injection': 'transient:3',
      },
      body: '{}',
    });
  }

  before(async () => {
    const [pgPort, temporalPort, uiPort] = await Promise.all([getFreePort(), getFreePort(), getFreePort()]);
    postgresPort = pgPort;
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      WORKER_METRICS_ADDRESS: 'off',
      ...Object.fromEntries(
        SERVICE_NAMES.flatMap((n) => [
          [serviceEnvName(n, 'PORT'), '0'],
          [serviceEnvName(n, 'METRICS_PORT'), '0'],
        ]),
      ),
    };
    delete env.FAULT_INJECTION;
    delete env.SERVICE_AUTH_TOKEN;
    delete env.SERVICE_READ_TOKEN;

    // A data folder as an older `npm start` left it: world-readable, token files 0644, and a PostgreSQL cluster whose
    // superuser has the fixed password postgres/postgres.
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    for (const name of ['service-read-token', 'service-auth-token']) {
      fs.writeFileSync(path.join(dataDir, name), 'an-old-token\n', { mode: 0o644 });
      fs.chmodSync(path.join(dataDir, name), 0o644);
    }
    const legacy = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: pgPort });
    await legacy.stop();
    fs.chmodSync(dataDir, 0o755);
    await login(pgPort, 'postgres').then(
      () => assert.fail('the legacy cluster is stopped'),
      () => undefined,
    );
  });

  after(async () => {
    await stop(stack);
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('an older data folder: made private, its secrets 0600, PostgreSQL given a random password, the old login refused', async () => {
    stack = await npmStart(env);
    // The kit's recovery sweep is on a Temporal Schedule from the first start (sagas Temporal ends get repaired).
    assert.match(stack.output(), /Recovery sweep: +every 5m \(schedule saga-recovery-sweep\)/);

    const mode = modeOf(dataDir);
    assert.equal(mode & 0o007, 0, `others have no access to the data folder (mode ${mode.toString(8)})`);
    if (os.userInfo().uid === 0) {
      // As root, PostgreSQL runs as the postgres user: its group may enter (0710), nothing more.
      assert.ok(mode === 0o700 || mode === 0o710, `mode ${mode.toString(8)}`);
    } else assert.equal(mode, 0o700);
    for (const name of SECRETS)
      assert.equal(
        modeOf(path.join(dataDir, name)),
        0o600,
        `${name} is 0600 (was ${name.includes('token') ? '0644' : 'missing'})`,
      );
    for (const name of ['service-read-token', 'service-auth-token'])
      assert.notEqual(fs.readFileSync(path.join(dataDir, name), 'utf8').trim(), 'an-old-token');

    const password = fs.readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim();
    assert.match(password, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    await login(postgresPort, password);
    await assert.rejects(login(postgresPort, 'postgres'), /password authentication failed/);
  });

  it('the services ignore the fault-injection header unless asked for, and say so in the data folder', async () => {
    assert.equal(fs.readFileSync(path.join(dataDir, 'fault-injection'), 'utf8').trim(), 'off');
    assert.match(stack!.output(), /Fault injection: +off/);
    const response = await postWithFaultHeader(stack!);
    assert.equal(response.status, 404, `the router's answer, no injected fault: ${await response.text()}`);
  });

  it('a second start keeps the password it made (the cluster has it), and FAULT_INJECTION=true turns faults on', async () => {
    const password = fs.readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim();
    await stop(stack);
    fs.chmodSync(path.join(dataDir, 'postgres-password'), 0o644);
    stack = await npmStart({ ...env, FAULT_INJECTION: 'true' });
    assert.equal(fs.readFileSync(path.join(dataDir, 'postgres-password'), 'utf8').trim(), password);
    assert.equal(modeOf(path.join(dataDir, 'postgres-password')), 0o600, 'forced back to 0600');
    await login(postgresPort, password);
    assert.equal(fs.readFileSync(path.join(dataDir, 'fault-injection'), 'utf8').trim(), 'on');
    const response = await postWithFaultHeader(stack);
    assert.equal(response.status, 503, 'the injected transient failure');
  });
});
