/**
 * The bench's verdict: every ratio between the saga and its floors, and the targets of issues 24 (the saga against
 * the floors of its shape) and 13 (absolute figures), each met or missed, by how much. All figures come from one run, so they share the machine's state. Used by run.ts for the table and the JSON.
 */
import type { SeriesName } from './load';

/** The part of a measured level the verdict needs (run.ts has the full record). */
export interface LevelFigures {
  series: SeriesName;
  concurrency: number;
  throughput: number;
  latencyMs: { p50: number };
  cpuMsPerOp: { worker: number; server: number; services: number };
}

/** Per-call latencies of the direct series at the lowest concurrency, by call name (from load.ts's timed calls). */
export type CallTimes = Record<string, number[]>;

export const FLOOR_CALL = 'http+pg floor';
/** Service calls per saga (and per plain chain, and per call-floor operation). */
const CALLS_PER_CHAIN = 7;

export interface Target {
  name: string;
  unit: string;
  comparison: '<=' | '>=';
  target: number;
  value: number | null;
  met: boolean | null;
  /** How far from the target, in the target's unit (positive = missed by that much). */
  missedBy: number | null;
}

export interface Verdict {
  ratios: Record<string, number | null>;
  perCall: { p50Ms: number | null; cpuMs: number | null; floorP50Ms: number | null; floorCpuMs: number | null };
  targets: Target[];
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

const sum = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : a + b);

const div = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || !b ? null : a / b;

export function evaluate(results: LevelFigures[], levels: number[], callTimes: CallTimes): Verdict {
  const lowest = Math.min(...levels);
  const best = (s: SeriesName) =>
    results
      .filter((r) => r.series === s)
      .reduce<LevelFigures | undefined>((a, r) => (!a || r.throughput > a.throughput ? r : a), undefined);
  const first = (s: SeriesName) => results.find((r) => r.series === s && r.concurrency === lowest);
  const tput = (s: SeriesName) => best(s)?.throughput;
  const p50 = (s: SeriesName) => first(s)?.latencyMs.p50;
  const cpu = (s: SeriesName) => {
    const r = first(s);
    return r ? r.cpuMsPerOp.worker + r.cpuMsPerOp.server + r.cpuMsPerOp.services : undefined;
  };
  // Temporal's share only (worker + server): the floors call no service, so this is what compares like with like.
  const temporalCpu = (s: SeriesName) => {
    const r = first(s);
    return r ? r.cpuMsPerOp.worker + r.cpuMsPerOp.server : undefined;
  };

  const chainCalls = Object.entries(callTimes)
    .filter(([k]) => k !== FLOOR_CALL)
    .flatMap(([, v]) => v);
  const perCall = {
    p50Ms: median(chainCalls),
    cpuMs: div(first('plain')?.cpuMsPerOp.services, CALLS_PER_CHAIN),
    floorP50Ms: median(callTimes[FLOOR_CALL] ?? []),
    floorCpuMs: div(first('call-floor')?.cpuMsPerOp.services, CALLS_PER_CHAIN),
  };

  const ratios = {
    // Temporal's side: the saga against the no-op floor of its own shape.
    sagaVsFloorThroughput: div(tput('saga'), tput('floor')),
    sagaVsFloorP50: div(p50('saga'), p50('floor')),
    sagaVsFloorCpu: div(cpu('saga'), cpu('floor')),
    sagaVsFloorTemporalCpu: div(temporalCpu('saga'), temporalCpu('floor')),
    // The same for local activities: saga-local against seven no-op local activities, plus the calls it makes.
    sagaLocalVsFloorLocalThroughput: div(tput('saga-local'), tput('floor-local')),
    sagaLocalVsFloorLocalP50: div(p50('saga-local'), p50('floor-local')),
    sagaLocalVsFloorLocalPlusChainP50: div(p50('saga-local'), sum(p50('floor-local'), p50('plain'))),
    sagaLocalVsFloorLocalTemporalCpu: div(temporalCpu('saga-local'), temporalCpu('floor-local')),
    // The saga engine's own cost: the saga against the same activities in a plain workflow.
    sagaVsPlainWorkflowThroughput: div(tput('saga'), tput('plain-workflow')),
    sagaVsPlainWorkflowP50: div(p50('saga'), p50('plain-workflow')),
    sagaVsPlainWorkflowCpu: div(cpu('saga'), cpu('plain-workflow')),
    // Durability: the plain workflow against the same calls made directly.
    plainWorkflowVsPlainChainP50: div(p50('plain-workflow'), p50('plain')),
    plainWorkflowVsFloorThroughput: div(tput('plain-workflow'), tput('floor')),
    compensatedVsHappyThroughput: div(tput('compensated'), tput('saga')),
    sagaLocalVsSagaThroughput: div(tput('saga-local'), tput('saga')),
    sagaLocalVsSagaP50: div(p50('saga-local'), p50('saga')),
    // The services: a call against the floor of an HTTP round trip plus one PostgreSQL round trip.
    callVsCallFloorP50: div(perCall.p50Ms, perCall.floorP50Ms),
    callVsCallFloorCpu: div(perCall.cpuMs, perCall.floorCpuMs),
  };

  const target = (
    name: string,
    unit: string,
    comparison: '<=' | '>=',
    goal: number,
    value: number | null | undefined,
  ): Target => {
    if (value == null || !Number.isFinite(value))
      return { name, unit, comparison, target: goal, value: null, met: null, missedBy: null };
    // A ratio exactly at its target is met: 100 × 110 / 100 is 110.00000000000001 in floating point.
    const slack = 1e-9 * Math.max(1, Math.abs(goal));
    const met = comparison === '<=' ? value <= goal + slack : value >= goal - slack;
    return { name, unit, comparison, target: goal, value, met, missedBy: met ? 0 : Math.abs(value - goal) };
  };
  const pct = (v: number | null) => (v == null ? null : 100 * v);
  const targets = [
    // Issue 24: the saga against the floors of its shape, each ratio from this one run.
    target(
      'saga throughput vs the floor of its shape (best vs best)',
      '%',
      '>=',
      90,
      pct(ratios.sagaVsFloorThroughput),
    ),
    target(
      `saga CPU (worker + server) vs the floor's at c=${lowest}`,
      '%',
      '<=',
      110,
      pct(ratios.sagaVsFloorTemporalCpu),
    ),
    target(`saga p50 vs the floor's at c=${lowest}`, '%', '<=', 110, pct(ratios.sagaVsFloorP50)),
    target(
      `saga-local p50 vs floor-local's + the plain chain's at c=${lowest}`,
      '%',
      '<=',
      125,
      pct(ratios.sagaLocalVsFloorLocalPlusChainP50),
    ),
    target(
      'compensated vs happy saga throughput (best vs best)',
      '%',
      '>=',
      90,
      pct(ratios.compensatedVsHappyThroughput),
    ),
    target(`services CPU per saga at c=${lowest}`, 'ms', '<=', 10, first('saga')?.cpuMsPerOp.services),
    // Issue 13: absolute figures on this machine.
    target(`service call p50 at c=${lowest}`, 'ms', '<=', 2, perCall.p50Ms),
    target(`service call CPU at c=${lowest} (services + PostgreSQL)`, 'ms', '<=', 1.5, perCall.cpuMs),
    target(`saga p50 at c=${lowest}, activities`, 'ms', '<=', 50, p50('saga')),
    target(`saga p50 at c=${lowest}, local activities`, 'ms', '<=', 25, p50('saga-local')),
    target('saga throughput at the best concurrency, activities', 'sagas/s', '>=', 30, tput('saga')),
    target('saga throughput at the best concurrency, local activities', 'sagas/s', '>=', 50, tput('saga-local')),
  ];
  return { ratios, perCall, targets };
}

export function printVerdict(verdict: Verdict): void {
  const f = (v: number | null, d = 1) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const pc = (v: number | null) => (v == null ? '-' : `${(100 * v).toFixed(0)} %`);
  const r = verdict.ratios;
  console.log('\nRatios (throughput: best vs best; p50 and CPU: at the lowest concurrency):');
  console.log(
    `  saga / floor of its shape:           throughput ${pc(r.sagaVsFloorThroughput)}, p50 ${pc(r.sagaVsFloorP50)}, CPU ${pc(r.sagaVsFloorCpu)}`,
  );
  console.log(`  saga / floor, Temporal CPU only:     CPU (worker + server) ${pc(r.sagaVsFloorTemporalCpu)}`);
  console.log(
    `  saga-local / floor-local:            throughput ${pc(r.sagaLocalVsFloorLocalThroughput)}, p50 ${pc(r.sagaLocalVsFloorLocalP50)} ` +
      `(${pc(r.sagaLocalVsFloorLocalPlusChainP50)} of floor-local + plain chain), CPU (worker + server) ${pc(r.sagaLocalVsFloorLocalTemporalCpu)}`,
  );
  console.log(
    `  saga / plain workflow (engine cost): throughput ${pc(r.sagaVsPlainWorkflowThroughput)}, p50 ${pc(r.sagaVsPlainWorkflowP50)}, CPU ${pc(r.sagaVsPlainWorkflowCpu)}`,
  );
  console.log(
    `  plain workflow / plain chain:        p50 ${pc(r.plainWorkflowVsPlainChainP50)}; plain workflow / floor throughput ${pc(r.plainWorkflowVsFloorThroughput)}`,
  );
  console.log(`  compensated / happy saga:            throughput ${pc(r.compensatedVsHappyThroughput)}`);
  console.log(
    `  saga, local activities / saga:       throughput ${pc(r.sagaLocalVsSagaThroughput)}, p50 ${pc(r.sagaLocalVsSagaP50)}`,
  );
  const c = verdict.perCall;
  console.log(
    `  service call / its floor:            p50 ${f(c.p50Ms, 2)} vs ${f(c.floorP50Ms, 2)} ms (${pc(r.callVsCallFloorP50)}), ` +
      `CPU ${f(c.cpuMs, 2)} vs ${f(c.floorCpuMs, 2)} ms (${pc(r.callVsCallFloorCpu)})`,
  );
  console.log('\nTargets:');
  for (const t of verdict.targets) {
    const state =
      t.met == null ? 'not measured' : t.met ? 'met' : `MISSED by ${f(t.missedBy, t.unit === 'ms' ? 2 : 1)} ${t.unit}`;
    console.log(`  ${t.name} ${t.comparison} ${t.target} ${t.unit}: ${f(t.value, 2)} ${t.unit} — ${state}`);
  }
}
