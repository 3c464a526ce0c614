import type { WorkflowExecutionInfo } from '@temporalio/client';
import { SAGA_STATUS, SagaClient } from 'temporal-saga-kit/client';
import { SAGA_FAILURE_TYPES, type SagaView } from 'temporal-saga-kit/workflow';
import type { CompensationState } from '../workflows/saga-types';

const { deadLetteredActions, stagesOf: groupsOf, statusMarks: STATUS_MARKS } = SagaClient;
import { sagaOfWorkflowType } from '../workflows/sagas';
import type { CancelOutcome, DeadLetteredCompensation, RecoverySweepReport, SagaResult } from './saga-client';
import { cliOf } from './sagas';

type StepState = SagaView['steps'][number];

/** Human-readable output. Pure functions from data to text; the JSON documents are the data itself. */

/** Indexed by any string: a status this CLI does not know (a newer saga kit's) prints "?". */
const MARKS: Readonly<Record<string, string | undefined>> = STATUS_MARKS;
const MEANINGS: [keyof typeof STATUS_MARKS, string][] = [
  ['COMPLETED', 'completed'],
  ['RUNNING', 'running'],
  ['FAILED', 'failed'],
  ['DEAD_LETTERED', 'waits for an operator'],
  ['RESOLVED', 'resolved by an operator'],
  ['PENDING', 'pending'],
  ['NOT_RUN', 'not run'],
];
const LEGEND = `Legend: ${MEANINGS.map(([status, meaning]) => `${STATUS_MARKS[status]} ${meaning}`).join('  ')}`;

/** How the CLI is invoked in the commands it suggests. */
const CLI = 'npx tsx client.ts';

/** "Order ord-42": the saga's name, capitalised, and its id. */
function titled(saga: string, sagaId: string): string {
  return `${saga.charAt(0).toUpperCase()}${saga.slice(1)} ${sagaId}`;
}

/** What the saga's CLI adapter says about its data (e.g. "total 89.00, tracking TRK-1"); empty if nothing. */
function facts(state: SagaView | undefined): string {
  if (!state) return '';
  return cliOf(state.saga)?.facts?.(state.data).join(', ') ?? '';
}

/**
 * The fields that name a saga in the JSON documents: its name, its id, and the id under the saga's own word
 * (`orderId` for the order saga), as the CLI has always printed it.
 */
export function idFields(saga: string, sagaId: string): { saga: string; sagaId: string } & Record<string, string> {
  return { saga, sagaId, [`${saga.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Id`]: sagaId };
}

function isNoop(compensation: CompensationState): boolean {
  const result = compensation.result as { noop?: unknown } | null | undefined;
  return typeof result === 'object' && result !== null && result.noop === true;
}

function stepLine(step: StepState, width: number, indent = ''): string {
  const kind = step.kind === 'pivot' ? 'PIVOT (point of no return)' : step.kind;
  const d = step.deadLetter;
  const note =
    step.status === 'FAILED' && step.failure
      ? `  — ${step.failure.message}`
      : step.status === 'DEAD_LETTERED' && d
        ? `  — dead-lettered (${deadLetterLabel(d)}) after ${d.attempts} attempt(s): ${d.errorType}: ${d.lastError}`
        : step.status === 'RESOLVED'
          ? `  — resolved by an operator: ${step.resolution ?? 'no reason recorded'}`
          : '';
  return `  ${indent}${MARKS[step.status] ?? '?'} ${step.name.padEnd(width - indent.length)}  ${kind}${note}`;
}

/** The steps in order; a parallel group's members indented under one "parallel" line. */
function stepLines(steps: StepState[]): string[] {
  const width = Math.max(...steps.map((s) => s.name.length + (s.group !== undefined ? 2 : 0)));
  return groupsOf(steps).flatMap((stage) =>
    stage[0].group === undefined
      ? [stepLine(stage[0], width)]
      : [`  ⇉ parallel (${stage.length} at once)`, ...stage.map((s) => stepLine(s, width, '  '))],
  );
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
function compensationLines(c: CompensationState, width: number, state: SagaView): string[] {
  const head = `  ${MARKS[c.status] ?? '?'} ${c.name.padEnd(width)}  undoes ${c.forStep}`;
  const d = c.deadLetter;
  switch (c.status) {
    case 'COMPLETED':
      return [
        `${head}${isNoop(c) ? '  (no-op: nothing to undo)' : ''}${d ? `  (after an operator's retry of dead letter ${deadLetterLabel(d)})` : ''}`,
      ];
    case 'FAILED':
      return [`${head}  — failed: ${c.failure?.message ?? 'unknown error'}`];
    case 'NOT_RUN':
      return [`${head}  — not run`];
    case 'RESOLVED':
      return [`${head}  — resolved by an operator: ${c.resolution ?? 'no reason recorded'}`];
    case 'DEAD_LETTERED': {
      if (!d) return [`${head}  — dead-lettered: ${c.failure?.message ?? 'unknown error'}`];
      // With several waiting, a decision has to name its compensation.
      const several = deadLetteredActions(state).length > 1;
      const which = several ? ` --compensation ${c.name}` : '';
      return [
        `${head}  — dead-lettered (${deadLetterLabel(d)}) after ${d.attempts} attempt(s): ${d.errorType}: ${d.lastError}`,
        ...(d.recordError ? [`      not in the dead-letter log: ${d.recordError}`] : []),
        `      waits for an operator: dead-letters retry ${state.key}${which}, or dead-letters resolve ${state.key}${which} --reason TEXT`,
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
function renderCompensations(state: SagaView | undefined, options: { withReason: boolean }): string[] {
  if (!state?.compensations.length) return [];
  const width = Math.max(...state.compensations.map((c) => c.name.length));
  const cause = state.compensationCause;
  const why = cause && (options.withReason ? `${cause.cause}: ${cause.reason}` : cause.cause);
  return [
    `Compensations${why ? ` (${why})` : ''}, in the order run:`,
    ...state.compensations.flatMap((c) => compensationLines(c, width, state)),
  ];
}

/** TIMED_OUT as "timed out": how a run ended, as a sentence says it. */
const asWords = (status: string) => status.toLowerCase().replace('_', ' ');

/** Workflow statuses that Temporal gives a run it ended without the saga deciding. */
const ENDED_WITHOUT_CONSENT = ['TERMINATED', 'TIMED_OUT'];
const FINAL_SAGA_STATUSES = ['COMPLETED', 'COMPENSATED', 'COMPENSATION_FAILED'];

/**
 * A run that Temporal ended while the saga had work left (its recovery run not started yet), or a recovery run: what
 * was left, and which run undoes it.
 */
function recoveryLines(view: { workflowStatus: string; runId?: string; state: SagaView }): string[] {
  const { state } = view;
  const recovery = state.recovery;
  if (recovery) {
    const how = asWords(recovery.ended);
    const what = recovery.direction === 'forward' ? 'finishes, past the pivot' : 'undoes';
    return [
      `  ↺ recovery run${view.runId ? ` ${view.runId}` : ''} of run ${recovery.runId}, ${how} (${recovery.reason})`,
      `    it ${what}: ${recovery.left.join(', ') || 'nothing left'} (progress read from the run's ${recovery.source})`,
    ];
  }
  if (!ENDED_WITHOUT_CONSENT.includes(view.workflowStatus) || FINAL_SAGA_STATUSES.includes(state.status)) return [];
  const left = state.steps.filter((s) => s.status === 'COMPLETED' || s.status === 'RUNNING').map((s) => s.name);
  return [
    `  ⚠ Temporal ended this run (${asWords(view.workflowStatus)}) while the saga was ${state.status}: nothing has undone it yet`,
    `    it left: ${left.join(', ') || 'no step that took effect'}; \`recover\` starts its recovery run (or the recovery sweep's schedule will)`,
  ];
}

function cancellability(state: SagaView, workflowStatus = 'RUNNING'): string {
  if (workflowStatus !== 'RUNNING') return `not cancellable: the run ended (workflow ${workflowStatus})`;
  if (state.status === 'RECOVERING') return 'not cancellable: a recovery run finishes what an ended run left';
  if (state.cancellable) return 'cancellable (cancel compensates the completed steps)';
  if (state.status === 'COMMITTED') return 'not cancellable: past its pivot, it will complete';
  if (state.status === 'COMPENSATING') return 'not cancellable: already compensating';
  if (state.status === 'NEEDS_ATTENTION') return 'not cancellable: compensating, and waits for an operator';
  return 'not cancellable: ended';
}

/** While the saga can still compensate: which compensations a failure now would run, and in which order. */
function unwindPreview(state: SagaView): string[] {
  const preview = state.unwindPreview;
  if (!preview) return [];
  if (!preview.compensations.length) return ['If it failed now: nothing to compensate yet'];
  const names = preview.compensations.map((c) => c.name);
  return [`If it failed now: ${preview.parallel ? `all at once: ${names.join(', ')}` : names.join(' → ')}`];
}

/** `status`: the saga as a timeline, forward steps then compensations. */
export function renderStatus(view: {
  sagaId: string;
  workflowStatus: string;
  runId?: string;
  uiUrl?: string;
  state: SagaView;
}): string {
  const { state } = view;
  const lines = [
    `${titled(state.saga, view.sagaId)}: saga ${state.status} (workflow ${view.workflowStatus})${state.currentStep ? `, now: ${state.currentStep}` : ''}`,
    `  ${cancellability(state, view.workflowStatus)}`,
    ...recoveryLines(view),
  ];
  const f = facts(state);
  if (f) lines.push(`  ${f}`);
  if (view.uiUrl) lines.push(`  ${view.uiUrl}`);
  if (state.status === 'NEEDS_ATTENTION') lines.push(`  ⚠ ${needsAttention(state)}`);
  lines.push('', 'Steps:', ...stepLines(state.steps));
  const preview = unwindPreview(state);
  if (preview.length) lines.push('', ...preview);
  const compensations = renderCompensations(state, { withReason: true });
  if (compensations.length) lines.push('', ...compensations);
  lines.push('', LEGEND);
  return lines.join('\n');
}

/**
 * How a saga ended, as `result` renders it. A saga's result that has a `status` (the order saga's APPROVED or
 * REJECTED) gives the outcome, and its `reason` the why; any other completed saga is COMPLETED.
 */
export type ResultView = { saga: string; sagaId: string; state?: SagaView } & Record<string, unknown> &
  (
    | { outcome: 'CANCELLED' }
    | { outcome: 'FAILED'; error: { message: string; type?: string } }
    | { outcome: string; reason?: string }
  );

/** A saga that has not ended because a compensation is dead-lettered: it waits for an operator. */
export interface NeedsAttentionView {
  saga: string;
  sagaId: string;
  outcome: 'NEEDS_ATTENTION';
  state: SagaView;
}

/** What waiting for a saga (`result`, `start --wait`, `dead-letters retry --wait`) found. */
export type SagaOutcomeView = ResultView | NeedsAttentionView;

function needsAttention(state: SagaView): string {
  const waiting = deadLetteredActions(state).map((c) => c.name);
  return `waits for an operator: ${waiting.join(', ') || 'a compensation'} dead-lettered (${CLI} dead-letters list)`;
}

/** How a saga ended, as `result` renders it; the optional final state says which compensations ran. */
export function toResultView(saga: string, sagaId: string, ended: SagaResult, state?: SagaView): ResultView {
  const ids = idFields(saga, sagaId);
  switch (ended.outcome) {
    case 'completed': {
      // The result's own fields (the order's total, its reason...) at the top, as the CLI has always printed them.
      const { status, ...fields } = (
        typeof ended.result === 'object' && ended.result !== null ? ended.result : { value: ended.result }
      ) as Record<string, unknown>;
      return { ...ids, outcome: typeof status === 'string' ? status : 'COMPLETED', ...fields, state };
    }
    case 'cancelled':
      return { ...ids, outcome: 'CANCELLED', state };
    case 'failed':
      return { ...ids, outcome: 'FAILED', error: { message: ended.message, type: ended.type }, state };
  }
}

/** `result` (and `start --wait`): how the saga ended, or that it waits for an operator. */
export function renderResult(view: SagaOutcomeView): string {
  const lines: string[] = [];
  const name = `${view.saga} ${view.sagaId}`;
  if (view.outcome === 'NEEDS_ATTENTION') {
    lines.push(`NEEDS_ATTENTION: ${name} has not ended: it ${needsAttention(view.state as SagaView)}`);
  } else if (view.outcome === 'CANCELLED') {
    lines.push(`CANCELLED: ${name} was cancelled before its pivot; its completed steps were compensated`);
  } else if (view.outcome === 'FAILED' && 'error' in view) {
    const error = view.error as { message: string; type?: string };
    lines.push(`FAILED: ${name}: ${error.message}`);
    if (error.type === SAGA_FAILURE_TYPES.compensationFailed)
      lines.push('  the saga needs attention: not every completed step could be undone');
  } else if ('reason' in view || view.state?.compensationCause) {
    lines.push(
      `${view.outcome}: ${name}: ${'reason' in view && typeof view.reason === 'string' ? view.reason : 'no reason given'}`,
    );
  } else {
    const f = facts(view.state);
    lines.push(`${view.outcome}: ${name}${f ? ` (${f})` : ''}`);
  }
  const compensations = renderCompensations(view.state, { withReason: view.outcome === 'NEEDS_ATTENTION' });
  if (compensations.length) lines.push(...compensations);
  return lines.join('\n');
}

export function renderStarted(view: { saga: string; sagaId: string; workflowId: string; uiUrl?: string }): string {
  return [
    `Started saga for ${view.saga} ${view.sagaId}`,
    `  workflow id: ${view.workflowId}`,
    ...(view.uiUrl ? [`  web UI:      ${view.uiUrl}`] : []),
  ].join('\n');
}

export function renderCancel(saga: string, sagaId: string, outcome: CancelOutcome): string {
  if (outcome.cancelled)
    return `Cancellation requested for ${saga} ${sagaId}: the saga will compensate its completed steps.`;
  return `Cannot cancel ${saga} ${sagaId}: ${outcome.reason}.`;
}

export interface ListEntry {
  saga: string;
  workflowId: string;
  runId: string;
  status: string;
  sagaStatus?: string;
  startTime: string;
  closeTime?: string;
}

export function toListEntry(info: WorkflowExecutionInfo): ListEntry {
  return {
    saga: sagaOfWorkflowType(info.type)?.name ?? info.type,
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
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '))
    .join('\n');
}

export function renderList(entries: ListEntry[]): string {
  if (!entries.length) return 'No sagas found.';
  return table([
    ['SAGA', 'ID', 'WORKFLOW', 'STATUS', 'STARTED'],
    ...entries.map((e) => [e.saga, e.workflowId, e.status, e.sagaStatus ?? '-', e.startTime]),
  ]);
}

/** How much of a dead letter's error the table shows (--json has all of it). */
const ERROR_WIDTH = 72;

/** `dead-letters list`: the compensations that wait for an operator, and what the operator can do. */
export function renderDeadLetters(entries: DeadLetteredCompensation[]): string {
  if (!entries.length) return 'No saga waits for an operator.';
  const rows = entries.map((e) => [
    e.saga,
    e.sagaId,
    e.compensation,
    e.kind === 'compensation' ? e.forStep : '(step after the pivot)',
    String(e.deadLetter.round),
    String(e.deadLetter.attempts),
    e.deadLetter.recordedAt ?? '-',
    e.deadLetter.id === undefined ? '-' : String(e.deadLetter.id),
    truncate(`${e.deadLetter.errorType}: ${e.deadLetter.lastError}`, ERROR_WIDTH),
  ]);
  return [
    table([['SAGA', 'ID', 'COMPENSATION', 'UNDOES', 'ROUND', 'ATTEMPTS', 'RECORDED', 'ID', 'ERROR'], ...rows]),
    '',
    `Run it again:        ${CLI} dead-letters retry <id> [--compensation NAME] [--wait]`,
    `Or, done by hand:    ${CLI} dead-letters resolve <id> --reason TEXT [--compensation NAME]`,
  ].join('\n');
}

export interface DecisionView {
  saga: string;
  sagaId: string;
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
      ? `Retry accepted: ${view.saga} ${view.sagaId} runs ${view.compensation} again${which}; the saga resumes unwinding from there.`
      : `Resolution accepted: ${view.saga} ${view.sagaId}'s ${view.compensation}${which} is recorded as done by hand ("${view.reason}"); the saga resumes unwinding after it.`;
  return [
    accepted,
    `  follow it: ${CLI} status ${view.sagaId}   (or wait for its end: ${CLI} result ${view.sagaId})`,
  ].join('\n');
}

/** `recover`: what the sweep did, one line per run. */
export function renderRecoveryReport(report: RecoverySweepReport): string {
  const lines = [
    ...report.stuck.map(
      (r) =>
        `stuck      ${r.sagaId} run ${r.runId}: workflow task failing for ${Math.round(r.failingForMs / 1000)} s (${r.problems.join(', ')})${r.terminated ? '; terminated to recover it' : '; left running (--no-recover-stuck, or not stuck long enough)'}`,
    ),
    ...report.recovered.map(
      (r) => `recovering ${r.sagaId} run ${r.runId} (${asWords(r.ended)}): recovery run ${r.recoveryRunId}`,
    ),
    ...report.skipped.map((r) => `skipped    ${r.sagaId} run ${r.runId} (${asWords(r.ended)}): ${r.why}`),
  ];
  const summary = `${report.recovered.length} recovery run(s) started, ${report.skipped.length} skipped, ${report.stuck.length} stuck run(s) found`;
  return [...lines, summary].join('\n');
}
