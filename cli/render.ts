import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { OrderSagaState } from '../workflows/order-saga';
import { SAGA_COMPENSATION_FAILED } from '../workflows/saga/failures';
import type { CompensationState, StepState } from '../workflows/saga/types';
import { SAGA_STATUS } from '../workflows/search-attributes';
import type { CancelOutcome, SagaResult } from './saga-client';

/** Human-readable output. Pure functions from data to text; the JSON documents are the data itself. */

const MARKS: Record<string, string> = { PENDING: '·', RUNNING: '▶', COMPLETED: '✔', FAILED: '✘', NOT_RUN: '–' };
const LEGEND = 'Legend: ✔ completed  ▶ running  ✘ failed  · pending  – not run';

export function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

function facts(o: { totalCents?: number; trackingNumber?: string }): string {
  return [o.totalCents !== undefined && `total ${formatCents(o.totalCents)}`, o.trackingNumber && `tracking ${o.trackingNumber}`]
    .filter(Boolean)
    .join(', ');
}

export function isNoop(compensation: CompensationState): boolean {
  const result = compensation.result as { noop?: unknown } | null | undefined;
  return typeof result === 'object' && result !== null && result.noop === true;
}

function stepLine(step: StepState, width: number): string {
  const kind = step.kind === 'pivot' ? 'PIVOT (point of no return)' : step.kind;
  const failure = step.status === 'FAILED' && step.failure ? `  — ${step.failure.message}` : '';
  return `  ${MARKS[step.status] ?? '?'} ${step.name.padEnd(width)}  ${kind}${failure}`;
}

function compensationLine(c: CompensationState, width: number): string {
  const outcome = c.status === 'FAILED' ? `  — failed: ${c.failure?.message ?? 'unknown error'}` : c.status === 'NOT_RUN' ? '  — not run' : '';
  const noop = c.status === 'COMPLETED' && isNoop(c) ? '  (no-op: nothing to undo)' : '';
  return `  ${MARKS[c.status] ?? '?'} ${c.name.padEnd(width)}  undoes ${c.forStep}${noop}${outcome}`;
}

/**
 * The compensations in the order they ran (or will run), with their cause (and its reason, unless the caller has
 * already printed it); empty when none ran.
 */
export function renderCompensations(state: OrderSagaState | undefined, options: { withReason: boolean }): string[] {
  if (!state?.compensations.length) return [];
  const width = Math.max(...state.compensations.map((c) => c.name.length));
  const cause = state.compensationCause;
  const why = cause && (options.withReason ? `${cause.cause}: ${cause.reason}` : cause.cause);
  return [
    `Compensations${why ? ` (${why})` : ''}, in the order run:`,
    ...state.compensations.map((c) => compensationLine(c, width)),
  ];
}

function cancellability(state: OrderSagaState): string {
  if (state.cancellable) return 'cancellable (cancel compensates the completed steps)';
  if (state.status === 'COMMITTED') return 'not cancellable: past its pivot, it will complete';
  if (state.status === 'COMPENSATING') return 'not cancellable: already compensating';
  return 'not cancellable: ended';
}

/** `status`: the saga as a timeline, forward steps then compensations. */
export function renderStatus(view: { orderId: string; workflowStatus: string; uiUrl?: string; state: OrderSagaState }): string {
  const { state } = view;
  const width = Math.max(...state.steps.map((s) => s.name.length));
  const lines = [
    `Order ${view.orderId}: saga ${state.status} (workflow ${view.workflowStatus})${state.currentStep ? `, now: ${state.currentStep}` : ''}`,
    `  ${cancellability(state)}`,
  ];
  const f = facts(state);
  if (f) lines.push(`  ${f}`);
  if (view.uiUrl) lines.push(`  ${view.uiUrl}`);
  lines.push('', 'Steps:', ...state.steps.map((s) => stepLine(s, width)));
  const compensations = renderCompensations(state, { withReason: true });
  if (compensations.length) lines.push('', ...compensations);
  lines.push('', LEGEND);
  return lines.join('\n');
}

export type ResultView =
  | { orderId: string; outcome: 'APPROVED'; totalCents?: number; trackingNumber?: string; state?: OrderSagaState }
  | { orderId: string; outcome: 'REJECTED'; reason?: string; state?: OrderSagaState }
  | { orderId: string; outcome: 'CANCELLED'; state?: OrderSagaState }
  | { orderId: string; outcome: 'FAILED'; error: { message: string; type?: string }; state?: OrderSagaState };

/** How a saga ended, as `result` renders it; the optional final state says which compensations ran. */
export function toResultView(orderId: string, ended: SagaResult, state?: OrderSagaState): ResultView {
  switch (ended.outcome) {
    case 'completed':
      return ended.result.status === 'APPROVED'
        ? { orderId, outcome: 'APPROVED', totalCents: ended.result.totalCents, trackingNumber: ended.result.trackingNumber, state }
        : { orderId, outcome: 'REJECTED', reason: ended.result.reason, state };
    case 'cancelled':
      return { orderId, outcome: 'CANCELLED', state };
    case 'failed':
      return { orderId, outcome: 'FAILED', error: { message: ended.message, type: ended.type }, state };
  }
}

/** `result` (and `start --wait`): how the saga ended. */
export function renderResult(view: ResultView): string {
  const lines: string[] = [];
  switch (view.outcome) {
    case 'APPROVED': {
      const f = facts(view);
      lines.push(`APPROVED: order ${view.orderId}${f ? ` (${f})` : ''}`);
      break;
    }
    case 'REJECTED':
      lines.push(`REJECTED: order ${view.orderId}: ${view.reason ?? 'no reason given'}`);
      break;
    case 'CANCELLED':
      lines.push(`CANCELLED: order ${view.orderId} was cancelled before its pivot; its completed steps were compensated`);
      break;
    case 'FAILED':
      lines.push(`FAILED: order ${view.orderId}: ${view.error.message}`);
      if (view.error.type === SAGA_COMPENSATION_FAILED) lines.push('  the saga needs attention: not every completed step could be undone');
      break;
  }
  const compensations = renderCompensations(view.state, { withReason: false });
  if (compensations.length) lines.push(...compensations);
  return lines.join('\n');
}

export function renderStarted(view: { orderId: string; workflowId: string; uiUrl?: string }): string {
  return [`Started saga for order ${view.orderId}`, `  workflow id: ${view.workflowId}`, ...(view.uiUrl ? [`  web UI:      ${view.uiUrl}`] : [])].join('\n');
}

export function renderCancel(orderId: string, outcome: CancelOutcome): string {
  if (outcome.cancelled) return `Cancellation requested for order ${orderId}: the saga will compensate its completed steps.`;
  return `Cannot cancel order ${orderId}: ${outcome.reason}.`;
}

export interface ListEntry {
  workflowId: string;
  runId: string;
  status: string;
  sagaStatus?: string;
  startTime: string;
  closeTime?: string;
}

export function toListEntry(info: WorkflowExecutionInfo): ListEntry {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    sagaStatus: info.typedSearchAttributes.get(SAGA_STATUS),
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString(),
  };
}

export function renderList(entries: ListEntry[]): string {
  if (!entries.length) return 'No sagas found.';
  const rows = [['ORDER', 'WORKFLOW', 'SAGA', 'STARTED'], ...entries.map((e) => [e.workflowId, e.status, e.sagaStatus ?? '-', e.startTime])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
