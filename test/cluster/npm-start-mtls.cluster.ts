import assert from 'node:assert/strict';
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { getFreePort } from '../../runtime/ports';
import { SERVICE_NAMES, serviceEnvName } from '../../services/catalog';
import { runCli } from '../support/cli';
import { npmStart, stopNpmStart, type Started } from '../support/npm-start';

/**
 * `npm start -- --temporal cluster` runs secured by default: the cluster's frontend requires a client certificate of
 * the data folder's own CA; a client without one is refused, the worker processes run sagas end to end over mTLS,
 * and the CLI does with the settings the banner prints (TEMPORAL_TLS_*), one certificate per role: the application's
 * starts sagas, the reader's and the operator's may not.
 */
describe('npm start -- --temporal cluster: mTLS by default', function () {
  this.timeout(600_000);
  const parent = mkdtempSync(path.join(os.tmpdir(), 'saga-npm-start-mtls-'));
  chmodSync(parent, 0o755); // PostgreSQL runs as the postgres user when we are root
  const dataDir = path.join(parent, 'data');
  let stack: Started | undefined;
  let address: string;

  before(async () => {
    const [postgresPort, temporalPort] = await Promise.all([getFreePort(), getFreePort()]);
    address = `127.0.0.1:${temporalPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_ADDRESS: address,
      WORKER_METRICS_ADDRESS: 'off',
      ...Object.fromEntries(
        SERVICE_NAMES.flatMap((n) => [
          [serviceEnvName(n, 'PORT'), '0'],
          [serviceEnvName(n, 'METRICS_PORT'), '0'],
        ]),
      ),
    };
    stack = await npmStart(env, ['--temporal', 'cluster'], 480_000);
    // Scheduled over mTLS as the application (the worker certificate's role may keep the sweep's schedule).
    assert.match(stack.output(), /Recovery sweep: +every 5m \(schedule saga-recovery-sweep\)/);
  });
  after(async () => {
    await stopNpmStart(stack);
    rmSync(parent, { recursive: true, force: true });
  });

  it('refuses a client without a certificate', async () => {
    await assert.rejects(Connection.connect({ address, connectTimeout: 5_000 }));
  });

  /** The banner's settings: the CA and server name once, then one certificate per role, on the line naming it. */
  function bannerSettings(role: 'worker' | 'operator' | 'reader'): Record<string, string> {
    const banner = stack!.output();
    const settings = (line: string) =>
      Object.fromEntries([...line.matchAll(/(TEMPORAL_TLS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const common = settings(banner.split('\n').find((l) => l.includes('TEMPORAL_TLS_CA_PATH=')) ?? '');
    const own = settings(banner.split('\n').find((l) => l.includes(`(${role})`) && l.includes('TEMPORAL_TLS_')) ?? '');
    return { ...common, ...own };
  }

  it('the worker runs a saga end to end over mTLS, started by the CLI with the application certificate the banner names', async () => {
    const tlsEnv = bannerSettings('worker');
    assert.deepEqual(Object.keys(tlsEnv).sort(), [
      'TEMPORAL_TLS_CA_PATH',
      'TEMPORAL_TLS_CERT_PATH',
      'TEMPORAL_TLS_KEY_PATH',
      'TEMPORAL_TLS_SERVER_NAME',
    ]);
    assert.match(tlsEnv.TEMPORAL_TLS_CERT_PATH, /worker\.crt$/);
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_ADDRESS: address, ...tlsEnv };
    const startArgs = [
      'start',
      '--customer',
      'cust-alice',
      '--item',
      'KB-001:1',
      '--ship-to',
      'Ada Lovelace|1 Main Street|Berlin|10115|DE',
    ];
    const run = await runCli([...startArgs, '--wait'], env);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /APPROVED/);
    const withoutCertificate = { ...env };
    delete withoutCertificate.TEMPORAL_TLS_CERT_PATH;
    delete withoutCertificate.TEMPORAL_TLS_KEY_PATH;
    const refused = await runCli(['list'], withoutCertificate);
    assert.notEqual(refused.code, 0, 'the CLI without a client certificate is refused');

    // The roles differ: the reader the banner names lists, but may not start; the operator may not start either.
    const reader = { ...process.env, TEMPORAL_ADDRESS: address, ...bannerSettings('reader') };
    const listed = await runCli(['list'], reader);
    assert.equal(listed.code, 0, listed.stderr);
    for (const role of ['reader', 'operator'] as const) {
      const denied = await runCli(startArgs, { ...process.env, TEMPORAL_ADDRESS: address, ...bannerSettings(role) });
      assert.equal(denied.code, 77, `${role}: ${denied.stdout}\n${denied.stderr}`);
      assert.match(denied.stderr, /permission denied/);
    }
  });
});
