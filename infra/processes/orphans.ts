/**
 * What a crash leaves behind, and how a restart clears it instead of asking for a manual kill.
 *
 * Every process a stack starts is recorded in a pid file: its pid and its start time (field 22 of /proc/<pid>/stat,
 * ticks since boot). A pid is reused by the kernel, a (pid, start time) pair is not: so at the next start, a process
 * that still matches its file is ours, left over by a crash (our own orphan), and is stopped; anything else (a file
 * left by a process that died, a pid reused by a stranger) only removes the file. Linux only (/proc); elsewhere the
 * files are written and the stale ones removed, and a held port is refused with a message as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PidRecord {
  pid: number;
  /** /proc start time of the process; absent where /proc is not available. */
  startTime?: string;
  /** What it is, for messages. */
  what: string;
}

/** The start time of a live process, or undefined if it is gone (or /proc is unavailable). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writePidFile(file: string, pid: number, what: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const record: PidRecord = { pid, startTime: processStartTime(pid), what };
  fs.writeFileSync(file, `${JSON.stringify(record)}\n`);
}

export function removePidFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Sends `signal`, waits up to graceMs for the process to go, then SIGKILL. */
export async function terminate(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(20);
}

/**
 * If the pid file names a live process with the recorded start time, stops it (our orphan) and says so; in every
 * case the file is gone afterwards. Returns a line for the log when something was stopped.
 */
export async function reapPidFile(
  file: string,
  options: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<string | undefined> {
  let record: PidRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as PidRecord;
  } catch {
    removePidFile(file);
    return undefined;
  }
  let reaped: string | undefined;
  const startTime = processStartTime(record.pid);
  if (startTime !== undefined && record.startTime !== undefined && startTime === record.startTime) {
    await terminate(record.pid, options.signal, options.graceMs);
    reaped = `stopped ${record.what} (pid ${record.pid}), left running by a previous run that crashed`;
  }
  removePidFile(file);
  return reaped;
}

/** Every pid file in a folder, reaped (see reapPidFile). */
export async function reapPidFiles(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  const lines = await Promise.all(files.map((f) => reapPidFile(path.join(dir, f))));
  return lines.filter((l): l is string => !!l);
}

/**
 * PostgreSQL's own lock file, postmaster.pid, left by a postmaster that did not shut down: if the pid in it is a live
 * postgres serving this data directory, it is our orphan and gets a fast shutdown (SIGINT); if it is not (the
 * postmaster died, and its pid may since belong to a stranger, which PostgreSQL would take for a running server and
 * refuse to start), the stale file is removed.
 */
export async function reapPostmaster(dataDir: string): Promise<string | undefined> {
  const file = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (Number.isInteger(pid) && pid > 0 && isPostgresOn(pid, dataDir)) {
    await terminate(pid, 'SIGINT', 15_000);
    fs.rmSync(file, { force: true }); // normally removed by the postmaster itself
    return `stopped PostgreSQL (pid ${pid}) on ${dataDir}, left running by a previous run that crashed`;
  }
  fs.rmSync(file, { force: true });
  return `removed a stale ${file} (pid ${pid} is not a PostgreSQL on it)`;
}

function isPostgresOn(pid: number, dataDir: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /postgres$/.test(argv[0] ?? '') && argv.includes(path.resolve(dataDir));
  } catch {
    return false;
  }
}
