import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** `npm start` as a user runs it, until its banner lists the processes; stopped by SIGTERM to its supervisor. */
const REPO = path.resolve(__dirname, '../..');

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export async function npmStart(env: NodeJS.ProcessEnv, args: string[] = [], timeoutMs = 180_000): Promise<Started> {
  const child = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  while (!/^ {2}Processes: /m.test(out)) {
    if (ended || Date.now() > deadline) assert.fail(`npm start did not come up:\n${out.slice(-4000)}`);
    await sleep(200);
  }
  return { child, output: () => out, exited };
}

/** SIGTERM to the supervisor itself (npm does not pass signals on), then wait for npm to end. */
export async function stopNpmStart(started: Started | undefined): Promise<void> {
  if (!started || started.child.exitCode !== null) return;
  const supervisor = Number(started.output().match(/Processes: +supervisor (\d+)/)![1]);
  process.kill(supervisor, 'SIGTERM');
  assert.equal(await started.exited, 0, 'a clean stop');
}
