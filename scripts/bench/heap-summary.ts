/**
 * What grew between two V8 heap snapshots, per thing parked: `tsx scripts/bench/heap-summary.ts before.heapsnapshot
 * parked.heapsnapshot [count]` prints the total growth and the largest groups of it (by node type and constructor or
 * code name), divided by `count` (e.g. the parked sagas of `npm run bench -- --parked N --heap-snapshots DIR`).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self sizes summed by group ("type name": objects by constructor, code and strings by kind). */
function sizesByGroup(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]];
    // Strings and code are grouped by kind only: their "names" are their contents.
    const name = ['string', 'concatenated string', 'sliced string', 'number'].includes(type)
      ? ''
      : snap.strings[snap.nodes[i + nameAt]].slice(0, 60);
    const key = `${type} ${name}`.trim();
    const g = groups.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += snap.nodes[i + sizeAt];
    g.count += 1;
    groups.set(key, g);
  }
  return groups;
}

function main(): void {
  const [beforeFile, afterFile, countArg] = process.argv.slice(2);
  if (!beforeFile || !afterFile)
    throw new Error('usage: heap-summary.ts before.heapsnapshot after.heapsnapshot [count]');
  const count = Number(countArg ?? 1);
  const before = sizesByGroup(beforeFile);
  const after = sizesByGroup(afterFile);
  const growth = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { bytes: 0, count: 0 };
    return { key, bytes: a.bytes - b.bytes, count: a.count - b.count };
  });
  const total = growth.reduce((sum, g) => sum + g.bytes, 0);
  const kb = (bytes: number) => (bytes / count / 1024).toFixed(1);
  console.log(`heap growth: ${(total / 2 ** 20).toFixed(1)} MB, ${kb(total)} KB per each of ${count}`);
  for (const g of growth.sort((x, y) => y.bytes - x.bytes).slice(0, 25))
    console.log(`  ${kb(g.bytes).padStart(8)} KB  ${(g.count / count).toFixed(1).padStart(8)} nodes  ${g.key}`);
}

main();
