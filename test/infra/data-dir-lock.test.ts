import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataDirLockedError, lockDataDir, lockFile } from '../../infra/stack/data-dir-lock';
import { identify } from '../../infra/processes/orphans';

/**
 * The data directory's lock on its own, with real processes as holders: a running holder refuses, a stale lock (its
 * holder gone, or its pid now another process's) is taken over, a release removes only the releaser's own lock.
 * `npm start` with it: test/infra/supervised-stack.test.ts.
 */
describe('data directory lock', function () {
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-lock-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  async function liveProcess(): Promise<ChildProcess> {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    await sleep(100);
    return child;
  }

  function plant(holder: object): void {
    fs.writeFileSync(lockFile(dataDir), JSON.stringify(holder));
  }

  it('a running holder: refused, naming its pid and what it serves; its lock is left alone', async () => {
    const holder = await liveProcess();
    plant({ ...identify(holder.pid!), serves: { Temporal: '127.0.0.1:7233' } });
    const before = fs.readFileSync(lockFile(dataDir), 'utf8');
    assert.throws(
      () => lockDataDir(dataDir, {}),
      (err: Error) =>
        err instanceof DataDirLockedError &&
        err.message.includes(`another \`npm start\` (pid ${holder.pid}, Temporal 127.0.0.1:7233) is running on`),
    );
    assert.equal(fs.readFileSync(lockFile(dataDir), 'utf8'), before);
  });

  it('a holder that is gone, or whose pid another process now has: taken over, and said so', async () => {
    const gone = await liveProcess();
    const record = identify(gone.pid!);
    gone.kill('SIGKILL');
    await new Promise((resolve) => gone.once('exit', resolve));
    const stranger = await liveProcess();

    for (const stale of [record, { pid: stranger.pid!, startTime: '1' }]) {
      plant({ ...stale, serves: {} });
      const said: string[] = [];
      const lock = lockDataDir(dataDir, { Temporal: '127.0.0.1:7233' }, (m) => said.push(m));
      assert.match(said.join(), new RegExp(`took over the lock of a previous \`npm start\` \\(pid ${stale.pid}\\)`));
      const written = JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8'));
      assert.deepEqual(written, { ...identify(process.pid), serves: { Temporal: '127.0.0.1:7233' } });
      lock.release();
      assert.equal(fs.existsSync(lockFile(dataDir)), false);
    }
    assert.equal(stranger.exitCode, null, 'the stranger was not touched');
  });

  it('taken, updated with what the stack serves once up, released; a release never removes another holder', async () => {
    const lock = lockDataDir(dataDir, { Temporal: '127.0.0.1:7233' });
    assert.throws(() => lockDataDir(dataDir, {}), DataDirLockedError, 'one holder at a time, even the same process');
    lock.update({ orders: 'http://127.0.0.1:4101' });
    assert.deepEqual(JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8')).serves, {
      Temporal: '127.0.0.1:7233',
      orders: 'http://127.0.0.1:4101',
    });

    const other = await liveProcess();
    plant({ ...identify(other.pid!), serves: {} }); // as if another start had taken it over
    lock.release();
    assert.equal(fs.existsSync(lockFile(dataDir)), true, "another holder's lock stays");
  });
});
