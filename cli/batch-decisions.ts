import { createInterface } from 'node:readline/promises';
import type { Client } from '@temporalio/client';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import { SagaClient } from 'temporal-saga-kit/client';

const STATUS_MARKS = SagaClient.statusMarks;
import { CliError, EXIT } from './errors';
import { startCountBar } from './progress-bar';
import type { CommandContext, CommandResult } from './run';
import { decideMany, listDeadLetters, listSagas, type DeadLetteredCompensation } from './saga-client';

/**
 * `dead-letters retry --all` / `dead-letters resolve --all --reason ...`: one operator decision for every waiting
 * dead letter that matches the filters (after an outage that dead-lettered hundreds of sagas). A dry run lists what
 * would be touched; otherwise the operator confirms (unless --yes), the decisions go out a few at a time with a
 * progress bar, and each saga's result is printed. Each decision is the same validated update the single-saga
 * command sends, so a saga that no longer waits refuses it and nothing else changes.
 * With --yes and no filter on the dead letters, nothing needs each one's details: the waiting sagas come from one
 * visibility query (SagaStatus) and each decision names no action, the saga applies it to the one that waits.
 * Otherwise (a dry run, a confirmation, --compensation or --error-type) each saga's state is read first.
 */
export interface BatchOptions {
  /** Only this saga type (dead-letters' --saga). */
  saga?: SagaDefinition;
  compensation?: string;
  errorType?: string;
  limit: number;
  dryRun?: boolean;
  yes?: boolean;
  /** How many decisions are in flight at once (default CONCURRENCY). */
  concurrency?: number;
}

export type BatchDecision = { action: 'retry' } | { action: 'resolve'; reason: string };

/** A dead letter to decide; only the saga id when the batch needs no details (the saga knows what waits). */
export interface BatchTarget {
  sagaId: string;
  compensation?: string;
  errorType?: string;
  round?: number;
  lastError?: string;
}

export interface BatchResult extends BatchTarget {
  compensation: string;
  outcome: 'retried' | 'resolved' | 'refused' | 'failed';
  message?: string;
}

/**
 * How many decisions are in flight at once: each one is a workflow task on a worker (a replay when the saga was
 * evicted from its cache), so enough to keep a worker's workflow task slots busy, bounded for the server's sake.
 */
const CONCURRENCY = 32;

/** Whether a batch can go without each dead letter's details: nothing to show, nothing to filter on. */
const needsDetails = (options: Pick<BatchOptions, 'compensation' | 'errorType' | 'dryRun' | 'yes'>) =>
  options.compensation !== undefined || options.errorType !== undefined || options.dryRun === true || !options.yes;

/**
 * The batch's targets. With `details`, every dead letter with its compensation, round and error (each waiting
 * saga's state read); without, only the waiting sagas, from one visibility query on SagaStatus.
 */
export async function findBatchTargets(
  client: Client,
  options: Pick<BatchOptions, 'saga' | 'compensation' | 'errorType' | 'limit'>,
  details = true,
): Promise<BatchTarget[]> {
  if (!details) {
    const waiting = await listSagas(client, { saga: options.saga, status: 'NEEDS_ATTENTION', limit: options.limit });
    return waiting.map((info) => ({ sagaId: info.workflowId }));
  }
  const waiting: DeadLetteredCompensation[] = await listDeadLetters(client, {
    saga: options.saga,
    limit: options.limit,
  });
  return waiting
    .filter(
      (d) =>
        (options.compensation === undefined || d.compensation === options.compensation) &&
        (options.errorType === undefined || d.deadLetter.errorType === options.errorType),
    )
    .map((d) => ({
      sagaId: d.sagaId,
      compensation: d.compensation,
      errorType: d.deadLetter.errorType,
      round: d.deadLetter.round,
      lastError: d.deadLetter.lastError,
    }));
}

/** Sends the decision to every target, `concurrency` at a time; each result with its target's details. */
export async function decideAll(
  client: Client,
  targets: BatchTarget[],
  decision: BatchDecision,
  onDone: (result: BatchResult) => void,
  concurrency = CONCURRENCY,
): Promise<BatchResult[]> {
  const bySaga = new Map(targets.map((t) => [`${t.sagaId}\0${t.compensation ?? ''}`, t]));
  const withDetails = (r: Awaited<ReturnType<typeof decideMany>>[number]): BatchResult => ({
    ...(bySaga.get(`${r.sagaId}\0${r.compensation}`) ?? bySaga.get(`${r.sagaId}\0`)),
    ...r,
  });
  const results = await decideMany(client, targets, decision, (r) => onDone(withDetails(r)), concurrency);
  return results.map(withDetails);
}

/** Asks on the terminal (stderr, so --json output stays one document); anything but y/yes, or no answer, is no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  try {
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
    const answer = await Promise.race([rl.question(`${question} [y/N] `), closed]);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

const oneLine = (text: string, max = 60) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

function renderTargets(targets: BatchTarget[]): string {
  const rows = [
    ['SAGA', 'COMPENSATION', 'ROUND', 'ERROR TYPE', 'LAST ERROR'],
    ...targets.map((t) => [
      t.sagaId,
      t.compensation ?? '',
      String(t.round ?? ''),
      t.errorType ?? '',
      oneLine(t.lastError ?? ''),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '))
    .join('\n');
}

function renderResult(r: BatchResult): string {
  return `${r.outcome === 'retried' || r.outcome === 'resolved' ? STATUS_MARKS.COMPLETED : STATUS_MARKS.FAILED} ${r.sagaId} ${r.compensation}: ${r.outcome}${r.message ? `: ${oneLine(r.message, 200)}` : ''}`;
}

/** The command behind `--all`: select, list (dry run) or confirm, decide, report. */
export async function batchDecision(
  ctx: CommandContext,
  decision: BatchDecision,
  opts: BatchOptions,
): Promise<CommandResult> {
  const client = await ctx.client();
  const targets = await findBatchTargets(client, opts, needsDetails(opts));
  const filters = [
    opts.compensation && `compensation ${opts.compensation}`,
    opts.errorType && `error type ${opts.errorType}`,
  ]
    .filter(Boolean)
    .join(', ');
  const sagas = new Set(targets.map((t) => t.sagaId)).size;
  const what = needsDetails(opts)
    ? `${targets.length} dead-lettered compensation(s) in ${sagas} saga(s)${filters ? ` (${filters})` : ''}`
    : `the dead-lettered compensation(s) of ${sagas} waiting saga(s)`;
  const verb = decision.action === 'retry' ? 'retry' : 'resolve';
  if (!targets.length) {
    ctx.say(`No dead-lettered compensation waits${filters ? ` with ${filters}` : ''}: nothing to ${verb}.`);
    return {
      exitCode: EXIT.OK,
      json: { action: decision.action, dryRun: opts.dryRun === true, targets: [], results: [] },
    };
  }
  if (opts.dryRun) {
    ctx.say(`${renderTargets(targets)}\n\nDry run: would ${verb} ${what}. Nothing was sent.`);
    return { exitCode: EXIT.OK, json: { action: decision.action, dryRun: true, targets, results: [] } };
  }
  if (!opts.yes) {
    if (!ctx.json) ctx.say(renderTargets(targets));
    const question =
      decision.action === 'retry'
        ? `Retry ${what}?`
        : `Resolve ${what} as done by hand, with the reason "${decision.reason}"?`;
    if (!(await confirm(question)))
      throw new CliError(
        `not confirmed: nothing was sent (add --yes to skip the question)`,
        EXIT.DECISION_REFUSED,
        'refused',
      );
  }

  const bar = ctx.json
    ? undefined
    : startCountBar(decision.action === 'retry' ? 'Retrying' : 'Resolving', targets.length);
  const results = await decideAll(
    client,
    targets,
    decision,
    (r) => {
      bar?.log(renderResult(r));
      bar?.increment(r.sagaId);
    },
    opts.concurrency,
  ).finally(() => bar?.stop());
  const count = (o: BatchResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const done = count('retried') + count('resolved');
  ctx.say(
    `${decision.action === 'retry' ? 'Retried' : 'Resolved'} ${done} of ${results.length}: ${count('refused')} refused, ${count('failed')} failed.`,
  );
  const exitCode = count('failed') ? EXIT.FAILED : count('refused') ? EXIT.DECISION_REFUSED : EXIT.OK;
  return { exitCode, json: { action: decision.action, dryRun: false, targets, results } };
}
