import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, processStartTime, reapPidFile, terminate, writePidFile } from '../../infra/processes/orphans';

/**
 * The clean-up after a crash signals a recorded process only while it is still that process: a pid is reused by the
 * kernel, a (pid, start time) pair is not. Real processes throughout, and a real pid reuse: the kernel hands out the
 * pid after the one written to /proc/sys/kernel/ns_last_pid (root only, which the stack's tests already are).
 */
const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';

/** A process that ignores SIGTERM (as a worker finishing its tasks would), so only a SIGKILL stops it. */
function spawnStubborn(): ChildProcess {
  return spawn('sh', ['-c', 'trap "" TERM; exec sleep 60'], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', () => resolve()),
  );
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

describe('orphans: a recorded process is signalled only while it is still that process', function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-orphans-'));
  const children: ChildProcess[] = [];
  const track = (child: ChildProcess) => (children.push(child), child);

  after(() => {
    for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a live pid whose start time is not the recorded one (another process) is never signalled', async () => {
    const stranger = track(spawn('sleep', ['30'], { stdio: 'ignore' }));
    await sleep(100); // exec'd
    const file = path.join(dir, 'stranger.pid');
    fs.writeFileSync(file, JSON.stringify({ pid: stranger.pid, startTime: '1', what: 'a process long gone' }));
    assert.notEqual(processStartTime(stranger.pid!), '1');

    assert.equal(await reapPidFile(file, { graceMs: 500 }), undefined, 'nothing was stopped');
    await sleep(200);
    assert.ok(isRunning(stranger), 'the process with that pid now is untouched');
    assert.equal(fs.existsSync(file), false, 'the stale file is removed');

    await terminate({ pid: stranger.pid!, startTime: '1' }, 'SIGKILL');
    await sleep(200);
    assert.ok(isRunning(stranger), 'terminate() of a record that is not the process with that pid signals nothing');
  });

  it('the recorded process, still running, is stopped: SIGTERM, then SIGKILL after the grace period', async () => {
    const recorded = track(spawnStubborn());
    await sleep(200); // the trap is set
    const started = Date.now();
    await terminate(identify(recorded.pid!), 'SIGTERM', 1_000);
    await exited(recorded);
    assert.equal(recorded.signalCode, 'SIGKILL');
    assert.ok(Date.now() - started >= 1_000, 'the grace period was given');
  });

  it('the recorded process exits during the grace period and its pid is reused: the new process is not SIGKILLed', async () => {
    const recorded = track(spawnStubborn());
    await sleep(200); // the trap is set
    const pid = recorded.pid!;
    const file = path.join(dir, 'recorded.pid');
    writePidFile(file, pid, 'a worker left by a crash');

    // The reaper sends SIGTERM (ignored) and waits up to 3 s before its SIGKILL.
    const reaping = reapPidFile(file, { graceMs: 3_000 });
    await sleep(500);
    assert.ok(isRunning(recorded), 'SIGTERM is ignored: the reaper is in its grace period');

    // The recorded process goes, and its pid goes to another process at once: in the same callback that sees the
    // exit (node has just reaped it), before any timer of the reaper's polling can run.
    let reused: ChildProcess | undefined;
    const reuse = new Promise<void>((resolve) =>
      recorded.once('exit', () => {
        fs.writeFileSync(NS_LAST_PID, String(pid - 1));
        reused = track(spawnStubborn());
        resolve();
      }),
    );
    recorded.kill('SIGKILL');
    await reuse;
    assert.equal(reused!.pid, pid, 'the kernel gave the recorded pid to the new process');
    assert.notEqual(processStartTime(pid), undefined);

    assert.match((await reaping) ?? '', /stopped a worker left by a crash/);
    await sleep(300);
    assert.ok(isRunning(reused!), `the process that reused pid ${pid} was not killed (${reused!.signalCode})`);
    reused!.kill('SIGKILL');
    await exited(reused!);
  });
});
