import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** CPU time and memory of processes, from /proc (Linux only). */
let ticks: number | undefined;
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of one process, in seconds. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return NaN;
  // After the name: f[0] = state (field 3), so utime (field 14) is f[11], stime (15) f[12].
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** utime + stime of a process and all its live descendants (e.g. the services process and its PostgreSQL). */
export function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f) parent.set(Number(name), Number(f[1]));
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++)
      if (p === root) return true;
    return false;
  };
  // Each process's own time plus its reaped children's (cutime + cstime): PostgreSQL backends that exited during the
  // run are accounted to the postmaster that waited for them. Live descendants are not in cutime, so no double count.
  let total = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    const f = statFields(pid);
    if (f) total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks();
  }
  return total;
}

/** A field of /proc/<pid>/status in kB (VmHWM = peak resident set, VmRSS = current). */
export function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
