/**
 * One stack per data directory: `npm start` holds an exclusive lock on its data directory for as long as it runs,
 * so a second start on the same directory is refused at once, naming the one that runs, before it clears, writes or
 * starts anything (two stacks on one directory would fight over PostgreSQL's files, and the clean-up after a crash
 * would take the running stack's children for orphans).
 *
 * The lock is a file, <dataDir>/stack.lock, naming its holder: pid and start time (orphans.ts's identity, which a
 * reused pid does not match) and what it serves, for the refusal's message. It is created atomically (link(2) of a
 * complete file: it exists with its content or not at all) and removed when the holder stops. A holder that died
 * without removing it (SIGKILL, a crash) leaves a stale lock, which the next start takes over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { identify, isAlive, isRunning, type ProcessIdentity } from '../processes/orphans';

export interface LockHolder extends ProcessIdentity {
  /** What the holder serves, for the message that refuses a second start (e.g. its Temporal address, its URLs). */
  serves: Record<string, string>;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const serves = Object.entries(holder.serves).map(([what, where]) => `, ${what} ${where}`);
    super(
      `another \`npm start\` (pid ${holder.pid}${serves.join('')}) is running on ${dataDir}: stop it first, or set DATA_DIR to another directory`,
    );
  }
}

export interface DataDirLock {
  file: string;
  /** Records more of what the holder serves (e.g. the URLs known once the stack is up). */
  update(serves: Record<string, string>): void;
  /** Removes the lock, if it is still this process's. Idempotent. */
  release(): void;
}

export function lockFile(dataDir: string): string {
  return path.join(dataDir, 'stack.lock');
}

/**
 * Takes the data directory's lock for this process, or throws DataDirLockedError naming the running holder. A
 * stale lock (its holder gone, or its pid now another process's) is taken over; `onStale` hears about it.
 */
export function lockDataDir(
  dataDir: string,
  serves: Record<string, string>,
  onStale: (message: string) => void = () => undefined,
): DataDirLock {
  const file = lockFile(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  let holder: LockHolder = { ...identify(process.pid), serves };
  for (let attempt = 0; attempt < 10; attempt++) {
    if (createAtomically(file, holder)) return held(file, holder);
    const current = readHolder(file);
    if (current === 'absent') continue; // released meanwhile: try again
    if (current !== 'unreadable' && holds(current)) throw new DataDirLockedError(dataDir, current);
    if (takeOver(file, current)) {
      onStale(
        current === 'unreadable'
          ? `removed an unreadable lock file ${file}`
          : `took over the lock of a previous \`npm start\` (pid ${current.pid}) that is no longer running`,
      );
    }
  }
  throw new Error(`could not take the lock ${file}: other starts keep taking it`);

  function held(lock: string, initial: LockHolder): DataDirLock {
    holder = initial;
    let released = false;
    return {
      file: lock,
      update(more) {
        if (released) return;
        holder = { ...holder, serves: { ...holder.serves, ...more } };
        // Replaced atomically (rename over it): a reader sees the old record or the new one, never half of one.
        const temp = `${lock}.${process.pid}.tmp`;
        fs.writeFileSync(temp, `${JSON.stringify(holder)}\n`);
        fs.renameSync(temp, lock);
      },
      release() {
        if (released) return;
        released = true;
        const current = readHolder(lock);
        if (typeof current === 'object' && current.pid === holder.pid && current.startTime === holder.startTime)
          fs.rmSync(lock, { force: true });
      },
    };
  }
}

/** Whether the recorded holder still runs. Without /proc (no start times) a live pid is taken to be it. */
function holds(holder: LockHolder): boolean {
  return holder.startTime === undefined ? isAlive(holder.pid) : isRunning(holder);
}

/** Creates the lock file with its whole content, or returns false if it exists. */
function createAtomically(file: string, holder: LockHolder): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(holder)}\n`);
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function readHolder(file: string): LockHolder | 'absent' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * Removes the stale lock `stale`, and only it: another start may have taken it over and written its own lock since
 * we read it. The file is first moved aside (rename is atomic: of several starts, one moves it); if what was moved
 * is not the stale record after all, it is put back. Returns whether the stale lock was removed by this call.
 */
function takeOver(file: string, stale: LockHolder | 'unreadable'): boolean {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // another start moved it first
    throw err;
  }
  const moved = readHolder(aside);
  const same =
    stale === 'unreadable'
      ? moved === 'unreadable'
      : typeof moved === 'object' && moved.pid === stale.pid && moved.startTime === stale.startTime;
  if (!same) {
    // A fresh lock of a start that took over before us: back where it was (unless yet another start got in).
    try {
      fs.linkSync(aside, file);
    } catch {
      // the place is taken again; the loop reads whoever holds it now
    }
  }
  fs.rmSync(aside, { force: true });
  return same;
}
