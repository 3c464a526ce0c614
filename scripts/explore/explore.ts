/**
 * The explorer: for each saga asked for, its failure points (points.ts), one saga per point on one stack
 * (environment.ts), several at once on separate business keys; points that kill the worker run one at a time at the
 * end, so a kill never lands in another point's timing. Writes the matrix (Markdown) and the JSON report under
 * explore-results/. `npm run explore` (run.ts) is the command line; the tests call explore() directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { runBatch } from '../bench/load';
import { REPO_ROOT } from '../../infra/temporal/binary';
import { runPoint, type PointResult } from './driver';
import { startExploreEnvironment } from './environment';
import { startTimeSkippingEnvironment } from './time-skipping-environment';
import { groupPoints, pairPoints, singlePoints, subsetPoints, type FailurePoint } from './points';
import type { ExploreProfile } from './profiles';
import { matrix, summaryLine, type SagaReport } from './report';

export interface ExploreOptions {
  profiles: ExploreProfile[];
  /** Sampled pairs per saga. */
  pairs: number;
  /** Every failure kind once, on rotating steps (what npm test runs), instead of every point. */
  subset: boolean;
  rotation: number;
  /** Only these point ids (e.g. "reserve-inventory/reject"; "order:reserve-inventory/reject" for one saga's). */
  only?: string[];
  /** Only points of these failure kinds ("terminate-during"; a family, "terminate", names all its kinds). */
  kinds?: string[];
  concurrency: number;
  progress: boolean;
  /** Where the Markdown and JSON go; false: not written. */
  outDir: string | false;
  /** Another workflows module for the worker (the broken fixtures); default the registered sagas. */
  workflowsPath?: string;
  /** A module replacing some activities in the explorer's worker (the broken-activity fixtures); default none. */
  activityOverridesModule?: string;
}

export interface ExploreResult {
  reports: SagaReport[];
  summary: string;
  violations: number;
  wallMs: number;
  files: string[];
}

export const DEFAULT_OUT_DIR = path.join(REPO_ROOT, 'explore-results');

export function pointsOf(
  profile: ExploreProfile,
  o: Pick<ExploreOptions, 'pairs' | 'subset' | 'rotation' | 'only' | 'kinds'>,
): FailurePoint[] {
  const saga = { name: profile.saga.name, meta: profile.saga.meta, pivot: profile.pivot };
  const single = singlePoints(saga);
  const groups = groupPoints(saga);
  // The subset: every single failure kind once, and one of the group points (rotating).
  const points = o.subset
    ? [...subsetPoints(single, o.rotation), ...(groups.length ? [groups[o.rotation % groups.length]] : [])]
    : [...single, ...groups, ...pairPoints(saga, o.pairs)];
  const ofKind = (p: FailurePoint) => o.kinds!.some((k) => p.failure === k || p.failure.startsWith(`${k}-`));
  return points
    .filter((p) => !o.only || o.only.includes(p.id) || o.only.includes(`${profile.saga.name}:${p.id}`))
    .filter((p) => !o.kinds || ofKind(p));
}

export async function explore(o: ExploreOptions): Promise<ExploreResult> {
  const t0 = performance.now();
  const log = (line: string) => o.progress && process.stderr.write(`  ${line}\n`);
  const all = o.profiles.map((profile) => ({ profile, points: pointsOf(profile, o) }));
  const env = await startExploreEnvironment(log, o.workflowsPath, o.activityOverridesModule);
  const timeSkipping = all.some((a) => a.points.some((p) => p.server === 'time-skipping'))
    ? await startTimeSkippingEnvironment(env, o).catch(async (err: Error) => {
        await env.stop();
        throw err;
      })
    : undefined;
  const runId = randomBytes(2).toString('hex');
  const reports: SagaReport[] = [];
  try {
    const total = all.reduce((n, a) => n + a.points.length, 0);
    const bar = new cliProgress.SingleBar(
      { format: '  {bar} {value}/{total} sagas | {violations} violations | {last}', stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let violations = 0;
    if (o.progress) bar.start(total, 0, { violations, last: '' });
    for (const { profile, points } of all) {
      const results: PointResult[] = [];
      const keyOf = (p: FailurePoint, i: number) => `explore-${runId}-${profile.saga.name}-${i}`;
      const run = async (p: FailurePoint, i: number) => {
        const r = await runPoint(p.server === 'time-skipping' ? timeSkipping! : env, profile, p, keyOf(p, i)).catch(
          (err: Error) => ({
            point: p,
            key: keyOf(p, i),
            outcome: 'ERROR',
            violations: [`the driver failed: ${err.message}`],
            ms: 0,
          }),
        );
        results.push(r);
        if (r.violations.length) violations++;
        if (o.progress) bar.increment({ violations, last: `${profile.saga.name} ${p.id}` });
      };
      const indexed = points.map((p, i) => ({ p, i }));
      const isKill = (p: FailurePoint) => p.drive.kill !== undefined;
      const onTimeSkipping = (p: FailurePoint) => p.server === 'time-skipping';
      // The time-skipping server's points one at a time (its clock is global), alongside the dev server's.
      await Promise.all([
        runBatch(
          (i) => run(indexed[Number(i)].p, Number(i)),
          indexed.filter((x) => !isKill(x.p) && !onTimeSkipping(x.p)).map((x) => String(x.i)),
          o.concurrency,
        ),
        (async () => {
          for (const x of indexed.filter((x) => onTimeSkipping(x.p))) await run(x.p, x.i);
        })(),
      ]);
      for (const x of indexed.filter((x) => isKill(x.p))) await run(x.p, x.i);
      const order = new Map(points.map((p, i) => [p.id, i]));
      results.sort((a, b) => order.get(a.point.id)! - order.get(b.point.id)!);
      reports.push({ saga: profile.saga.name, results });
    }
    if (o.progress) bar.stop();
  } finally {
    await timeSkipping?.stop();
    await env.stop();
  }
  const summary = summaryLine(reports);
  const wallMs = performance.now() - t0;
  const files: string[] = [];
  if (o.outDir) {
    mkdirSync(o.outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const md = path.join(o.outDir, `explore-${stamp}.md`);
    const json = path.join(o.outDir, `explore-${stamp}.json`);
    const byName = new Map(o.profiles.map((p) => [p.saga.name, p.saga]));
    writeFileSync(
      md,
      [
        `# Failure-point exploration (${new Date().toISOString()})`,
        '',
        ...reports.map((r) => matrix(byName.get(r.saga)!, r.results)),
        '',
        `Wall time ${(wallMs / 1000).toFixed(0)} s.`,
        '',
        summary,
        '',
      ].join('\n\n'),
    );
    writeFileSync(
      json,
      JSON.stringify(
        {
          summary,
          wallMs: Math.round(wallMs),
          options: { ...o, profiles: o.profiles.map((p) => p.saga.name) },
          reports,
        },
        null,
        2,
      ),
    );
    files.push(md, json);
  }
  return {
    reports,
    summary,
    violations: reports.reduce((n, r) => n + r.results.filter((x) => x.violations.length).length, 0),
    wallMs,
    files,
  };
}
