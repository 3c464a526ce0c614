/**
 * Prints docs/performance.md's figures as Markdown from one bench run (default docs/bench/latest.json), so the
 * page's tables are regenerated from a run rather than typed in:
 *   npx tsx scripts/bench/readme-section.ts [bench-results/<run>.json]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/temporal/binary';
import { SERIES_LABEL, type SeriesName } from './load';
import type { Target } from './targets';

interface Level {
  series: SeriesName;
  concurrency: number;
  throughput: number;
  errors: number;
  latencyMs: { p50: number; p95: number; p99: number };
  cpuMsPerOp: { worker: number; server: number; services: number };
  workerPeakRssMb: number;
  loadAvg: [number, number];
}

/** Prose lines wrapped like the rest of the docs (tables stay one row a line). */
function wrap(text: string, width = 118): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

const f = (v: number | null | undefined, d = 1) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));
const pc = (v: number | null | undefined) => (v == null ? '—' : `${(100 * v).toFixed(0)} %`);

function main() {
  const file = process.argv[2] ?? path.join(REPO_ROOT, 'docs/bench/latest.json');
  const run = JSON.parse(readFileSync(file, 'utf8'));
  const env = run.environment;
  const out: string[] = [];
  out.push(
    wrap(
      `Run \`${run.runId}\` (${env.cores} cores, ${env.cpuModel}; Node ${env.node.replace(/^v/, '')}, ${env.temporalCli.replace(/^temporal version /, 'Temporal CLI ')}), \`${env.command}\`:`,
    ),
  );
  out.push('');
  out.push(
    '| series | conc | sagas/s | p50 ms | p95 ms | p99 ms | CPU ms/op worker · server · services | worker peak MB | load1 |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of run.results as Level[]) {
    const isDirect = r.series === 'plain' || r.series === 'call-floor';
    out.push(
      `| ${r.series} | ${r.concurrency} | ${f(r.throughput)} | ${f(r.latencyMs.p50)} | ${f(r.latencyMs.p95)} | ${f(r.latencyMs.p99)} | ` +
        `${f(r.cpuMsPerOp.worker)} · ${f(r.cpuMsPerOp.server)} · ${f(r.cpuMsPerOp.services)} | ${isDirect ? '—' : f(r.workerPeakRssMb, 0)} | ${f(r.loadAvg[0])} |` +
        (r.errors ? ` ${r.errors} errors |` : ''),
    );
  }
  out.push('');
  out.push(
    wrap(`Series: ${(run.params.series as SeriesName[]).map((s) => `**${s}** = ${SERIES_LABEL[s]}`).join('; ')}.`),
  );
  out.push('');
  const r = run.ratios;
  out.push('Ratios (throughput best vs best; p50 and CPU at concurrency 1):');
  out.push('');
  out.push(`| ratio | throughput | p50 | CPU |`);
  out.push('|---|---|---|---|');
  out.push(
    `| saga / floor of its shape | ${pc(r.sagaVsFloorThroughput)} | ${pc(r.sagaVsFloorP50)} | ${pc(r.sagaVsFloorCpu)} |`,
  );
  out.push(
    `| saga / plain workflow (the engine's own cost) | ${pc(r.sagaVsPlainWorkflowThroughput)} | ${pc(r.sagaVsPlainWorkflowP50)} | ${pc(r.sagaVsPlainWorkflowCpu)} |`,
  );
  out.push(`| saga / floor, Temporal's CPU only (worker + server) | — | — | ${pc(r.sagaVsFloorTemporalCpu)} |`);
  out.push(
    `| saga-local / floor-local | ${pc(r.sagaLocalVsFloorLocalThroughput)} | ${pc(r.sagaLocalVsFloorLocalP50)} (${pc(r.sagaLocalVsFloorLocalPlusChainP50)} of floor-local + plain chain) | ${pc(r.sagaLocalVsFloorLocalTemporalCpu)} (worker + server) |`,
  );
  out.push(`| plain workflow / floor of the saga's shape | ${pc(r.plainWorkflowVsFloorThroughput)} | — | — |`);
  out.push(`| plain workflow / plain chain (durability) | — | ${pc(r.plainWorkflowVsPlainChainP50)} | — |`);
  out.push(`| compensated / happy saga | ${pc(r.compensatedVsHappyThroughput)} | — | — |`);
  out.push(
    `| saga with local activities / saga | ${pc(r.sagaLocalVsSagaThroughput)} | ${pc(r.sagaLocalVsSagaP50)} | — |`,
  );
  const c = run.perCall;
  out.push(
    `| service call / its floor (HTTP + one PostgreSQL round trip) | — | ${pc(r.callVsCallFloorP50)} (${f(c.p50Ms, 2)} vs ${f(c.floorP50Ms, 2)} ms) | ${pc(r.callVsCallFloorCpu)} (${f(c.cpuMs, 2)} vs ${f(c.floorCpuMs, 2)} ms) |`,
  );
  out.push('');
  out.push('Targets (issue 24: ratios to the floors of the same run; issue 13: absolute figures):');
  out.push('');
  out.push('| target | measured | verdict |');
  out.push('|---|---|---|');
  for (const t of run.targets as Target[]) {
    const verdict =
      t.met == null
        ? 'not measured'
        : t.met
          ? 'met'
          : `**missed** by ${f(t.missedBy, t.unit === 'ms' ? 2 : 1)} ${t.unit}`;
    out.push(
      `| ${t.name} ${t.comparison === '<=' ? '≤' : '≥'} ${t.target} ${t.unit} | ${f(t.value, 2)} ${t.unit} | ${verdict} |`,
    );
  }
  out.push('');
  out.push('History per run (concurrency 1, mean over the sampled runs):');
  out.push('');
  out.push('| series | events | bytes | workflow tasks | what differs from the floor of its shape |');
  out.push('|---|---|---|---|---|');
  for (const [s, b] of Object.entries(
    run.breakdowns as Record<
      string,
      {
        medianMs?: Record<string, number>;
        historyBytesPerRun?: number;
        eventsPerRunByType?: Record<string, { count: number; bytes: number }>;
      }
    >,
  )) {
    if (!b.medianMs || !b.eventsPerRunByType) continue;
    // Each series against the floor of its shape: the local series against floor-local, the others against floor.
    const floorOf = s === 'saga-local' && run.breakdowns['floor-local'] ? 'floor-local' : 'floor';
    const floor = (run.breakdowns[floorOf]?.eventsPerRunByType ?? {}) as Record<
      string,
      { count: number; bytes: number }
    >;
    const extra = Object.entries(b.eventsPerRunByType)
      .map(([k, v]) => [k, v.count - (floor[k]?.count ?? 0), v.bytes - (floor[k]?.bytes ?? 0)] as const)
      .filter(([, dc, db]) => dc !== 0 || Math.abs(db) > 50)
      .map(([k, dc, db]) => `${k.toLowerCase()} ${dc > 0 ? '+' : ''}${f(dc, 0)} (${db > 0 ? '+' : ''}${db} B)`)
      .join(', ');
    out.push(
      `| ${s} | ${f(b.medianMs.events, 0)} | ${f(b.historyBytesPerRun, 0)} | ${f(b.medianMs.workflowTasks, 0)} | ${s === 'floor' || s === 'floor-local' ? '—' : extra} |`,
    );
  }
  const p = run.parked;
  if (p) {
    out.push('');
    out.push(
      wrap(
        `Parked (\`--parked ${p.sagas}\`): ${p.sagas} sagas waiting for an operator on a dead-lettered compensation, parked in ${f(p.startSeconds)} s. ` +
          `Per 1,000 parked sagas: worker heap +${f(p.workerHeapMbPerThousand)} MB (after a full GC), ` +
          (p.workerExternalMbPerThousand == null ? '' : `V8 external +${f(p.workerExternalMbPerThousand)} MB, `) +
          `worker RSS +${f(p.workerRssMbPerThousand)} MB` +
          (p.workerRssMbAfterRelease == null
            ? ', '
            : ` (${f(p.workerRssMbBefore, 0)} MB before parking, ${f(p.workerRssMbAfterRelease, 0)} MB after the release), `) +
          `server RSS +${f(p.serverRssMbPerThousand)} MB. Idle for ${p.idleSeconds} s: worker ${f(p.idleCpuPercent.worker)} % of a core, server ${f(p.idleCpuPercent.server)} %. ` +
          `Releasing all with the batch decision (\`dead-letters resolve --all\`: one resolve update each, then each saga ends REJECTED): ${f(p.releaseSeconds)} s, ${f(p.releasedPerSecond)} sagas/s` +
          (p.releaseListSeconds == null
            ? '.'
            : p.decisionsPerSecond == null
              ? ` (listing the dead letters ${f(p.releaseListSeconds)} s, sending ${p.releaseDecisions} decisions ${f(p.releaseDecideSeconds)} s, the sagas' compensations the rest).`
              : ` (listing the ${p.releaseListed} waiting sagas with one visibility query ${f(p.releaseListSeconds, 2)} s; ${p.releaseDecisions} decisions accepted in ${f(p.releaseDecideSeconds)} s, ${f(p.decisionsPerSecond)}/s, ${p.lostDecisions} lost, ${p.duplicatedDecisions} duplicated, worker CPU ${f(p.decideCpuMsPerDecision.worker)} ms each; the unwinding that follows ${f(p.unwindSeconds)} s).`),
      ),
    );
  }
  console.log(out.join('\n'));
}

main();
