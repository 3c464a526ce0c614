/**
 * The explorer's matrix: rows are the saga's steps then its compensations, columns the failure kinds, each cell the
 * saga's business outcome and ✔ (every check held) or ✘ (a violation); "·" where the kind does not apply. Rendered
 * for the terminal and as Markdown; the JSON report carries every point with its violations.
 */
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import type { PointResult } from './driver';
import { COMPENSATION_FAILURES, FORWARD_FAILURES } from './points';

export interface SagaReport {
  saga: string;
  results: PointResult[];
}

function cell(r: PointResult | undefined): string {
  if (!r) return '·';
  return `${r.violations.length ? '✘' : '✔'} ${r.outcome}`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

/** The matrix as a Markdown table (which also reads well in a terminal). */
export function matrix(saga: Pick<SagaDefinition, 'meta' | 'name'>, results: PointResult[]): string {
  const byId = new Map(results.map((r) => [r.point.id, r]));
  const forward = table(
    ['step', ...FORWARD_FAILURES],
    saga.meta.steps.map((s) => [
      `${s.name}${s.kind === 'pivot' ? ' (pivot)' : ''}`,
      ...FORWARD_FAILURES.map((f) => cell(byId.get(`${s.name}/${f}`))),
    ]),
  );
  const compensations = [...saga.meta.steps].reverse().flatMap((s) => s.compensations);
  const backward = table(
    ['compensation', ...COMPENSATION_FAILURES],
    compensations.map((c) => [c, ...COMPENSATION_FAILURES.map((f) => cell(byId.get(`${c}/${f}`)))]),
  );
  const pairs = results.filter((r) => r.point.targetKind === 'pair' || r.point.targetKind === 'group');
  const lines = [`### ${saga.name} saga`, '', ...forward, '', ...backward];
  if (pairs.length)
    lines.push(
      '',
      ...table(
        ["two failures (a parallel group's members at once; pairs)", 'outcome'],
        pairs.map((r) => [r.point.id, cell(r)]),
      ),
    );
  const failed = results.filter((r) => r.violations.length);
  if (failed.length)
    lines.push(
      '',
      'Violations:',
      ...failed.flatMap((r) => r.violations.map((v) => `- ${r.point.id} (${r.key}): ${v}`)),
    );
  return lines.join('\n');
}

export function summaryLine(reports: SagaReport[]): string {
  const results = reports.flatMap((r) => r.results);
  const violations = results.filter((r) => r.violations.length).length;
  return `explore: ${results.length} points, ${results.length} sagas run, ${violations} violations`;
}
