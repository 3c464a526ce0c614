import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { OrderSagaState } from '../workflows/order-saga';
import { SAGA_COMPENSATION_FAILED } from '../workflows/saga/failures';
import type { CompensationState, StepState } from '../workflows/saga/types';
import { SAGA_STATUS } from '../workflows/search-attributes';
import type { CancelOutcome, DeadLetteredCompensation, SagaResult } from './saga-client';

/** Human-readable output. Pure functions from data to text; the JSON documents are the data itself. */

const MARKS: Record<string, string> = { PENDING: '·', RUNNING: '▶', COMPLETED: '✔', FAILED: '✘', DEAD_LETTERED: '⚠', RESOLVED: '✍', NOT_RUN: '–' };
const LEGEND = 'Legend: ✔ completed  ▶ running  ✘ failed  ⚠ waits for an operator  ✍ resolved by an operator  · pending  – not run';

/** How the CLI is invoked in the commands it suggests. */
const CLI = 'npx tsx client.ts';

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

/** One line of text: whitespace runs collapsed, cut at max characters with an ellipsis. */
export function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function deadLetterLabel(d: NonNullable<CompensationState['deadLetter']>): string {
  return [d.id !== undefined && `#${d.id}`, `round ${d.round}`].filter(Boolean).join(', ');
}

/** A compensation's line (and, for one that waits for an operator, what to do about it). */
function compensationLines(c: CompensationState, width: number, state: OrderSagaState): string[] {
  const head = `  ${MARKS[c.status] ?? '?'} ${c.name.padEnd(width)}  undoes ${c.forStep}`;
  const d = c.deadLetter;
  switch (c.status) {
    case 'COMPLETED':
      return [`${head}${isNoop(c) ? '  (no-op: nothing to undo)' : ''}${d ? `  (after an operator's retry of dead letter ${deadLetterLabel(d)})` : ''}`];
    case 'FAILED':
      return [`${head}  — failed: ${c.failure?.message ?? 'unknown error'}`];
    case 'NOT_RUN':
      return [`${head}  — not run`];
    case 'RESOLVED':
      return [`${head}  — resolved by an operator: ${c.resolution ?? 'no reason recorded'}`];
    case 'DEAD_LETTERED': {
      if (!d) return [`${head}  — dead-lettered: ${c.failure?.message ?? 'unknown error'}`];
      // With several waiting, a decision has to name its compensation.
      const several = state.compensations.filter((o) => o.status === 'DEAD_LETTERED').length > 1;
      const which = several ? ` --compensation ${c.name}` : '';
      return [
        `${head}  — dead-lettered (${deadLetterLabel(d)}) after ${d.attempts} attempt(s): ${d.errorType}: ${d.lastError}`,
        ...(d.recordError ? [`      not in the dead-letter log: ${d.recordError}`] : []),
        `      waits for an operator: dead-letters retry ${state.orderId}${which}, or dead-letters resolve ${state.orderId}${which} --reason TEXT`,
      ];
    }
    default:
      return [head];
  }
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
    ...state.compensations.flatMap((c) => compensationLines(c, width, state)),
  ];
}

function cancellability(state: OrderSagaState): string {
  if (state.cancellable) return 'cancellable (cancel compensates the completed steps)';
  if (state.status === 'COMMITTED') return 'not cancellable: past its pivot, it will complete';
  if (state.status === 'COMPENSATING') return 'not cancellable: already compensating';
  if (state.status === 'NEEDS_ATTENTION') return 'not cancellable: compensating, and waits for an operator';
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
  if (state.status === 'NEEDS_ATTENTION') lines.push(`  ⚠ ${needsAttention(state)}`);
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

/** A saga that has not ended because a compensation is dead-lettered: it waits for an operator. */
export interface NeedsAttentionView {
  orderId: string;
  outcome: 'NEEDS_ATTENTION';
  state: OrderSagaState;
}

/** What waiting for a saga (`result`, `start --wait`, `dead-letters retry --wait`) found. */
export type SagaOutcomeView = ResultView | NeedsAttentionView;

function needsAttention(state: OrderSagaState): string {
  const waiting = state.compensations.filter((c) => c.status === 'DEAD_LETTERED').map((c) => c.name);
  return `waits for an operator: ${waiting.join(', ') || 'a compensation'} dead-lettered (${CLI} dead-letters list)`;
}

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

/** `result` (and `start --wait`): how the saga ended, or that it waits for an operator. */
export function renderResult(view: SagaOutcomeView): string {
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
    case 'NEEDS_ATTENTION':
      lines.push(`NEEDS_ATTENTION: order ${view.orderId} has not ended: it ${needsAttention(view.state)}`);
      break;
  }
  const compensations = renderCompensations(view.state, { withReason: view.outcome === 'NEEDS_ATTENTION' });
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

/** Columns padded to their widest cell (the last one is not padded). */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

export function renderList(entries: ListEntry[]): string {
  if (!entries.length) return 'No sagas found.';
  return table([['ORDER', 'WORKFLOW', 'SAGA', 'STARTED'], ...entries.map((e) => [e.workflowId, e.status, e.sagaStatus ?? '-', e.startTime])]);
}

/** How much of a dead letter's error the table shows (--json has all of it). */
const ERROR_WIDTH = 72;

/** `dead-letters list`: the compensations that wait for an operator, and what the operator can do. */
export function renderDeadLetters(entries: DeadLetteredCompensation[]): string {
  if (!entries.length) return 'No saga waits for an operator.';
  const rows = entries.map((e) => [
    e.orderId,
    e.compensation,
    e.forStep,
    String(e.deadLetter.round),
    String(e.deadLetter.attempts),
    e.deadLetter.recordedAt ?? '-',
    e.deadLetter.id === undefined ? '-' : String(e.deadLetter.id),
    truncate(`${e.deadLetter.errorType}: ${e.deadLetter.lastError}`, ERROR_WIDTH),
  ]);
  return [
    table([['ORDER', 'COMPENSATION', 'UNDOES', 'ROUND', 'ATTEMPTS', 'RECORDED', 'ID', 'ERROR'], ...rows]),
    '',
    `Run it again:        ${CLI} dead-letters retry <orderId> [--compensation NAME] [--wait]`,
    `Or, done by hand:    ${CLI} dead-letters resolve <orderId> --reason TEXT [--compensation NAME]`,
  ].join('\n');
}

export interface DecisionView {
  orderId: string;
  action: 'retry' | 'resolve';
  compensation: string;
  /** The dead letter the decision closes, as the saga showed it just before. */
  deadLetter?: CompensationState['deadLetter'];
  reason?: string;
}

/** `dead-letters retry` / `resolve`: what the saga accepted, and how to follow it. */
export function renderDecision(view: DecisionView): string {
  const which = view.deadLetter ? ` (dead letter ${deadLetterLabel(view.deadLetter)})` : '';
  const accepted =
    view.action === 'retry'
      ? `Retry accepted: order ${view.orderId} runs ${view.compensation} again${which}; the saga resumes unwinding from there.`
      : `Resolution accepted: order ${view.orderId}'s ${view.compensation}${which} is recorded as done by hand ("${view.reason}"); the saga resumes unwinding after it.`;
  return [accepted, `  follow it: ${CLI} status ${view.orderId}   (or wait for its end: ${CLI} result ${view.orderId})`].join('\n');
}
