import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  requireServerBinaries,
  serverModuleHash,
  SERVER_MODULE_DIR,
  TEMPORAL_SERVER_VERSION,
} from '../../infra/temporal/cluster/server-binary';

/**
 * How the project finds the real Temporal server without a manual step (infra/temporal/cluster/server-binary.ts).
 * The build itself (go build of the project's server module, go install of the schema tool) runs in
 * `npm run test:cluster`; here: the order of the sources, the build's name, and the messages when none works.
 */
describe('Temporal server binaries: configured path, PATH, the project build', () => {
  let dir: string;
  const quiet = () => undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-server-binary-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const executable = (name: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return p;
  };

  it('a configured path wins, and a wrong one is an error naming the variable (never silently skipped)', async () => {
    const server = executable('my-server');
    const sqlTool = executable('my-sql-tool');
    assert.deepEqual(
      await requireServerBinaries({
        env: { TEMPORAL_SERVER_PATH: server, TEMPORAL_SQL_TOOL_PATH: sqlTool, PATH: '' },
        build: false,
        log: quiet,
      }),
      { server, sqlTool },
    );
    await assert.rejects(
      requireServerBinaries({
        env: { TEMPORAL_SERVER_PATH: path.join(dir, 'nope'), TEMPORAL_SQL_TOOL_PATH: sqlTool },
        build: false,
        log: quiet,
      }),
      /TEMPORAL_SERVER_PATH=.*nope does not point to an executable file/,
    );
  });

  it('then temporal-saga-server and temporal-sql-tool on PATH (a stock temporal-server is not taken: it has no roles)', async () => {
    executable('temporal-server');
    const server = executable('temporal-saga-server');
    const sqlTool = executable('temporal-sql-tool');
    assert.deepEqual(await requireServerBinaries({ env: { PATH: dir }, build: false, log: quiet }), {
      server,
      sqlTool,
    });
  });

  it("then the project's own build in the build folder, per version, the server named by its module's sources", async () => {
    const binDir = path.join(dir, 'build', TEMPORAL_SERVER_VERSION);
    const server = `saga-server-${serverModuleHash()}`;
    fs.mkdirSync(binDir, { recursive: true });
    // A build of an older module (or the stock server of before) is not taken: the name is the sources' hash.
    for (const name of ['server', 'saga-server-000000000000'])
      fs.writeFileSync(path.join(binDir, name), '#!/bin/sh\n', { mode: 0o755 });
    await assert.rejects(
      requireServerBinaries({ env: { PATH: '' }, buildDir: path.join(dir, 'build'), build: false, log: quiet }),
      /binaries missing \(server, sqlTool\)/,
    );
    for (const name of [server, 'sql']) fs.writeFileSync(path.join(binDir, name), '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(
      await requireServerBinaries({ env: { PATH: '' }, buildDir: path.join(dir, 'build'), build: false, log: quiet }),
      {
        server: path.join(binDir, server),
        sqlTool: path.join(binDir, 'sql'),
      },
    );
  });

  it("the module's hash follows its sources (go files, go.mod, go.sum), not its tests", () => {
    const copy = path.join(dir, 'module');
    fs.cpSync(SERVER_MODULE_DIR, copy, { recursive: true });
    const before = serverModuleHash(copy);
    assert.equal(before, serverModuleHash());
    fs.writeFileSync(path.join(copy, 'roles_test.go'), 'package main\n');
    assert.equal(serverModuleHash(copy), before);
    fs.appendFileSync(path.join(copy, 'roles.go'), '\n// changed\n');
    assert.notEqual(serverModuleHash(copy), before);
  });

  it('with nothing found and no Go, says what to install or set', async () => {
    await assert.rejects(
      requireServerBinaries({
        env: { PATH: path.join(dir, 'empty') },
        buildDir: path.join(dir, 'build'),
        goDirs: [],
        log: quiet,
      }),
      /no Go toolchain found. Install Go .*TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH/s,
    );
    await assert.rejects(
      requireServerBinaries({ env: { PATH: '' }, buildDir: path.join(dir, 'build'), build: false, log: quiet }),
      /binaries missing \(server, sqlTool\) and building is disabled; set TEMPORAL_SERVER_PATH \/ TEMPORAL_SQL_TOOL_PATH/,
    );
  });

  it('says what it does while it builds (with Go present but failing here, it reports the build and its failure)', async () => {
    const lines: string[] = [];
    // A fake `go` that fails like a broken build: the message carries the command and the exit code.
    fs.mkdirSync(path.join(dir, 'fakego'));
    fs.writeFileSync(
      path.join(dir, 'fakego', 'go'),
      '#!/bin/sh\n[ "$1" = version ] && exit 0\necho "build failed" >&2\nexit 3\n',
      { mode: 0o755 },
    );
    await assert.rejects(
      requireServerBinaries({
        env: { PATH: path.join(dir, 'fakego') },
        buildDir: path.join(dir, 'build'),
        goDirs: [],
        log: (l) => lines.push(l),
      }),
      /go build .*exited with code 3/,
    );
    assert.match(lines.join('\n'), /building the Temporal server v1\.32\.2 from the Go module proxy into .*one-time/);
    assert.match(
      lines.join('\n'),
      /GOTOOLCHAIN=go1\.27\.3 go build -C .*infra\/temporal\/cluster\/server -buildvcs=false -o .*\/saga-server-[0-9a-f]{12} \./,
    );
  });
});
