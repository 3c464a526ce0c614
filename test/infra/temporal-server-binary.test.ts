import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServerBinaries, TEMPORAL_SERVER_VERSION } from '../../infra/temporal/cluster/server-binary';

/**
 * How the project finds the real Temporal server without a manual step (infra/temporal/cluster/server-binary.ts).
 * The build itself (go install from the Go module) runs in `npm run test:cluster`; here: the order of the sources
 * and the messages when none works.
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

  it('then temporal-server and temporal-sql-tool on PATH', async () => {
    const server = executable('temporal-server');
    const sqlTool = executable('temporal-sql-tool');
    assert.deepEqual(await requireServerBinaries({ env: { PATH: dir }, build: false, log: quiet }), {
      server,
      sqlTool,
    });
  });

  it("then the project's own build in the build folder, per version", async () => {
    const binDir = path.join(dir, 'build', TEMPORAL_SERVER_VERSION);
    fs.mkdirSync(binDir, { recursive: true });
    for (const name of ['server', 'sql']) fs.writeFileSync(path.join(binDir, name), '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(
      await requireServerBinaries({ env: { PATH: '' }, buildDir: path.join(dir, 'build'), build: false, log: quiet }),
      {
        server: path.join(binDir, 'server'),
        sqlTool: path.join(binDir, 'sql'),
      },
    );
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
      /go install .*exited with code 3/,
    );
    assert.match(lines.join('\n'), /building the Temporal server v1\.32\.2 from the Go module proxy into .*one-time/);
    assert.match(
      lines.join('\n'),
      /GOTOOLCHAIN=go1\.27\.3 GOBIN=.* go install go\.temporal\.io\/server\/cmd\/server@v1\.32\.2 go\.temporal\.io\/server\/cmd\/tools\/sql@v1\.32\.2/,
    );
  });
});
