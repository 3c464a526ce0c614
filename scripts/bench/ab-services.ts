/**
 * Services CPU per operation of two checkouts, side by side: `npm run bench` runs one checkout at a time, and on a
 * machine shared with other work the load drifts between two runs by more than a change saves. Here both checkouts'
 * services (each its own process and embedded PostgreSQL, as the bench starts them) run at once, and short blocks of
 * the same series alternate between them (A B, B A, ...), each block measured as the CPU of that side's process tree
 * (services + PostgreSQL, /proc), so both sides see the same load.
 *   npx tsx scripts/bench/ab-services.ts --a /path/to/checkout-a --b . [--series plain] [--blocks 12] [--ops 25]
 * Prints per side the median and mean CPU ms per operation (concurrency 1) and B against A.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Command } from 'commander';
import { ServiceClient } from '../../activities/service-client';
import type * as ServicesProcessModule from '../../infra/processes/services-process';
import type * as TopUpModule from '../../infra/postgres/top-up';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import { makeOp, type SeriesName } from './load';
import { cpuSeconds, treeCpuSeconds } from './proc';

interface Side {
  label: string;
  stop(): Promise<unknown>;
  pid: number;
  run: (id: string) => Promise<void>;
  cpuMsPerOp: number[];
  /** The part of it in the services' Node.js process (the rest is PostgreSQL's). */
  nodeCpuMsPerOp: number[];
}

/** Starts a checkout's services the way run.ts does (its own code: infra/, services/, the call floor). */
async function startSide(label: string, checkout: string, series: SeriesName, profileDir?: string): Promise<Side> {
  const root = path.resolve(checkout);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the other checkout's modules, by path
  const { startServicesProcess } = require(
    path.join(root, 'infra/processes/services-process'),
  ) as typeof ServicesProcessModule;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the other checkout's modules, by path
  const { topUp } = require(path.join(root, 'infra/postgres/top-up')) as typeof TopUpModule;
  const authToken = randomBytes(32).toString('base64url');
  const child = await startServicesProcess(
    {
      services: SERVICE_NAMES.map((name) => ({ name, port: 0 })),
      ownPostgres: true,
      authToken,
      dbPoolSize: 10,
      faultInjection: false,
      seed: true,
      logLevel: 'warn',
      extension: { module: path.join(root, 'scripts/bench/call-floor.ts') },
    },
    {
      name: `services-${label}`,
      readyTimeoutMs: 120_000,
      nodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [],
    },
  );
  await topUp('bench', child.ready.databaseUrls);
  const urls = child.ready.urls as Record<ServiceName, string>;
  const floorUrl = child.ready.extension!.floorUrl as string;
  const floorUrls = Object.fromEntries(SERVICE_NAMES.map((name) => [name, floorUrl])) as Record<ServiceName, string>;
  const run = makeOp(series, {
    taskQueue: 'unused',
    eager: false,
    serviceClient: new ServiceClient({ urls, requestTimeoutMs: 10_000, authToken }),
    floorClient: new ServiceClient({ urls: floorUrls, requestTimeoutMs: 10_000, authToken }),
  });
  return { label, stop: () => child.stop(), pid: child.pid, run, cpuMsPerOp: [], nodeCpuMsPerOp: [] };
}

async function block(side: Side, ops: number, prefix: string, measure: boolean): Promise<void> {
  const [tree0, node0] = [treeCpuSeconds(side.pid), cpuSeconds(side.pid)];
  for (let i = 0; i < ops; i++) await side.run(`${prefix}-${side.label}-${i}`);
  if (!measure) return;
  side.cpuMsPerOp.push(((treeCpuSeconds(side.pid) - tree0) * 1000) / ops);
  side.nodeCpuMsPerOp.push(((cpuSeconds(side.pid) - node0) * 1000) / ops);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  const o = new Command('ab-services')
    .requiredOption('--a <checkout>', 'checkout A (e.g. the base)')
    .requiredOption('--b <checkout>', 'checkout B (e.g. this one)')
    .option('--series <name>', 'plain or call-floor', 'plain')
    .option('--blocks <n>', 'measured blocks per side', Number, 12)
    .option('--ops <n>', 'operations per block', Number, 25)
    .option('--profile <dir>', "write a V8 CPU profile of B's services process into <dir> (profile-top.ts reads it)")
    .parse()
    .opts<{ a: string; b: string; series: SeriesName; blocks: number; ops: number; profile?: string }>();
  const run = randomBytes(3).toString('hex');
  const sides = [await startSide('A', o.a, o.series), await startSide('B', o.b, o.series, o.profile)];
  try {
    for (const side of sides) await block(side, o.ops, `${run}-warm`, false);
    for (let b = 0; b < o.blocks; b++) {
      const order = b % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) await block(side, o.ops, `${run}-${b}`, true);
    }
    const [a, b] = sides;
    for (const side of sides) {
      console.log(
        `${side.label} ${side.label === 'A' ? o.a : o.b}: ${o.series} CPU ms/op median ${median(side.cpuMsPerOp).toFixed(2)}, mean ${mean(side.cpuMsPerOp).toFixed(2)}, of which the Node.js process median ${median(side.nodeCpuMsPerOp).toFixed(2)} (blocks: ${side.cpuMsPerOp.map((x) => x.toFixed(1)).join(' ')})`,
      );
    }
    // Each block of B next to A's block of the same round: the load they shared cancels out of their ratio.
    const paired = b.cpuMsPerOp.map((x, i) => x / a.cpuMsPerOp[i]);
    console.log(
      `B / A: paired blocks median ${(median(paired) * 100).toFixed(1)} %; median ${((median(b.cpuMsPerOp) / median(a.cpuMsPerOp)) * 100).toFixed(1)} %, mean ${((mean(b.cpuMsPerOp) / mean(a.cpuMsPerOp)) * 100).toFixed(1)} %`,
    );
  } finally {
    await Promise.all(sides.map((s) => s.stop()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
