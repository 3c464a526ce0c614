/**
 * What a crash leaves behind, and how a restart clears it instead of asking for a manual kill.
 *
 * Every process a stack starts is recorded in a pid file: its pid and its start time (field 22 of /proc/<pid>/stat,
 * ticks since boot). A pid is reused by the kernel, a (pid, start time) pair is not: so at the next start, a process
 * that still matches its file is ours, left over by a crash (our own orphan), and is stopped; anything else (a file
 * left by a process that died, a pid reused by a stranger) only removes the file. Every signal, the SIGKILL after a
 * grace period included, is sent only after checking again that the pid still has the recorded start time: the
 * process may exit meanwhile and its pid go to another. Linux only (/proc); elsewhere the files are written and the
 * stale ones removed, nothing is signalled, and a held port is refused with a message as before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A process as recorded: a pid alone names whoever has it now, the pair names one process for good. */
export interface ProcessIdentity {
  pid: number;
  /** /proc start time of the process; absent where /proc is not available. */
  startTime?: string;
}

export interface PidRecord extends ProcessIdentity {
  /** What it is, for messages. */
  what: string;
}

/** Fields 3.. of /proc/<pid>/stat (state, ppid, ...), or undefined if the process is gone (or there is no /proc). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The start time of a live process, or undefined if it is gone (or /proc is unavailable). */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The identity of the process that has this pid now. */
export function identify(pid: number): ProcessIdentity {
  return { pid, startTime: processStartTime(pid) };
}

/**
 * True while the recorded process runs: its pid is live with the recorded start time (a zombie has finished). False
 * for a pid now held by another process, and wherever the identity cannot be checked (no start time, no /proc): the
 * callers only signal what this proves to be theirs.
 */
export function isRunning(record: ProcessIdentity): boolean {
  if (record.startTime === undefined) return false;
  const fields = statFields(record.pid);
  return fields !== undefined && fields[19] === record.startTime && fields[0] !== 'Z' && fields[0] !== 'X';
}

/** True when some process has this pid (whoever it is): only for messages and waits, never before a signal. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Sends `signal` to the recorded process if it is still that process (checked right before, so a pid the kernel has
 * since given to another process is left alone). Returns whether it was sent.
 */
export function signalRecorded(record: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isRunning(record)) return false;
  try {
    process.kill(record.pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function writePidFile(file: string, pid: number, what: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const record: PidRecord = { ...identify(pid), what };
  fs.writeFileSync(file, `${JSON.stringify(record)}\n`);
}

export function removePidFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/**
 * Sends `signal` to the recorded process, waits up to graceMs for it to go, then SIGKILL. Every signal is sent only
 * if the process is still the recorded one (signalRecorded): the recorded process may exit during the grace period
 * and its pid go to another process before the SIGKILL.
 */
export async function terminate(
  record: ProcessIdentity,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (!signalRecorded(record, signal)) return;
  const deadline = Date.now() + graceMs;
  while (isRunning(record) && Date.now() < deadline) await sleep(50);
  if (!signalRecorded(record, 'SIGKILL')) return;
  while (isRunning(record)) await sleep(20);
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
  if (isRunning(record)) {
    await terminate(record, options.signal, options.graceMs);
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
  // Identified once, by what it runs; from then on by (pid, start time), so no signal reaches a pid reused meanwhile.
  const postmaster = Number.isInteger(pid) && pid > 0 ? identify(pid) : undefined;
  if (postmaster && isPostgresOn(pid, dataDir) && isRunning(postmaster)) {
    await terminate(postmaster, 'SIGINT', 15_000);
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
