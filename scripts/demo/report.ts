import { SagaClient } from 'temporal-saga-kit/client';

const STATUS_MARKS = SagaClient.statusMarks;
import { renderResult, renderStatus } from '../../cli/render';
import type { ScenarioDetails, ScenarioReport } from './run-scenario';
import type { FinalState, Scenario } from './scenarios';

/**
 * The demo's text output. The saga's outcome line and its timeline (steps, compensations and their outcomes) are
 * rendered by cli/render.ts, as `client.ts result` and `client.ts status` do; what only the demo shows (the
 * story, retries, the orders service's record, expected vs actual) is rendered here.
 */
export function renderScenario(scenario: Scenario, report: ScenarioReport, details: ScenarioDetails): string {
  const lines = [`━━ ${scenario.name} ━━  ${scenario.story}`, ''];
  if (details.result) lines.push(renderResult(details.result), '');
  if (report.during) lines.push(`While it ran: ${report.during}`, '');
  if (details.state) {
    // No uiUrl here: the link gets its own labelled line below.
    lines.push(
      renderStatus({
        sagaId: report.orderId,
        workflowStatus: details.workflowStatus ?? 'unknown',
        state: details.state,
      }),
      '',
    );
  }
  const retried = Object.entries(details.attempts ?? {}).filter(([, n]) => n > 1);
  if (retried.length)
    lines.push(`Retried by Temporal: ${retried.map(([step, n]) => `${step} ${n} attempts`).join(', ')}`);
  if (details.order !== undefined) {
    const order = details.order;
    lines.push(
      `Orders service says: ${order ? `order ${order.status}${order.reason ? ` (${order.reason})` : ''}` : 'no such order (404)'}`,
    );
  }
  lines.push(`Web UI: ${report.uiUrl}`);
  if (report.error) lines.push(`Error: ${report.error}`);
  lines.push(verdict(report));
  return lines.join('\n');
}

function describe(state: FinalState): string {
  const parts = [
    `${state.outcome}`,
    `order ${state.orderStatus ?? 'missing'}`,
    `saga ${state.sagaStatus}`,
    `compensations [${state.compensations.join(' → ') || 'none'}]`,
  ];
  if (state.attempts)
    parts.push(
      `attempts ${Object.entries(state.attempts)
        .map(([s, n]) => `${s}=${n}`)
        .join(', ')}`,
    );
  return parts.join(', ');
}

function verdict(report: ScenarioReport): string {
  const seconds = `${(report.durationMs / 1000).toFixed(1)} s`;
  if (report.pass) return `PASS (${seconds}): ${describe(report.expected)}`;
  return [
    `FAIL (${seconds})`,
    `  expected: ${describe(report.expected)}`,
    `  actual:   ${report.actual ? describe(report.actual) : 'no outcome'}`,
  ].join('\n');
}

export function renderSummary(reports: ScenarioReport[]): string {
  const failed = reports.filter((r) => !r.pass);
  const rows = reports.map(
    (r) =>
      `  ${r.pass ? STATUS_MARKS.COMPLETED : STATUS_MARKS.FAILED} ${r.name.padEnd(22)} ${(r.actual?.outcome ?? 'no outcome').padEnd(10)} ${r.orderId}`,
  );
  return [
    'Summary:',
    ...rows,
    failed.length
      ? `${failed.length} of ${reports.length} scenario(s) did not end as expected.`
      : `All ${reports.length} scenario(s) ended as expected.`,
  ].join('\n');
}
