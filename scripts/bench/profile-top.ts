/**
 * Prints the top frames of a V8 CPU profile (node --cpu-prof): self time per function, and self time per package or
 * file group, so a profile can be read (and quoted in a note) without opening DevTools.
 *   npx tsx scripts/bench/profile-top.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Groups a script URL into what a reader recognises: a package name, node's internals, or our own file. */
function groupOf(url: string): string {
  if (!url) return '(native / VM)';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  const own = url.match(/\/(services|activities|workflows|infra|scripts|prisma)\/.*$/);
  return own ? own[0].slice(1) : url;
}

function main() {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-top.ts <file.cpuprofile> [--top N]');
    process.exit(64);
  }
  const top = Number(rest[rest.indexOf('--top') + 1]) || 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
  let busyUs = 0;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    if (name !== '(idle)') busyUs += us;
    const key = idle.has(name) ? name : `${name}  ${groupOf(url)}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const group = idle.has(name) ? name : groupOf(url);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)) {
      console.log(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
    }
  };
  console.log(
    `${file}: ${(totalUs / 1e6).toFixed(1)} s profiled, ${(busyUs / 1e6).toFixed(1)} s busy (percentages of busy time)`,
  );
  print('self time by package / file', byGroup);
  print('self time by function', byFunction);
}

main();
