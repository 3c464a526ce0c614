import { createInterface } from 'node:readline/promises';
import type { Client } from '@temporalio/client';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import { SagaClient } from 'temporal-saga-kit/client';

const STATUS_MARKS = SagaClient.statusMarks;
import { CliError, EXIT } from './errors';
import { startCountBar } from './progress-bar';
import type { CommandContext, CommandResult } from './run';
import {
  listDeadLetters,
  OperatorDecisionRefusedError,
  resolveCompensation,
  retryCompensation,
  type DeadLetteredCompensation,
} from './saga-client';

/**
 * `dead-letters retry --all` / `dead-letters resolve --all --reason ...`: one operator decision for every waiting
 * dead letter that matches the filters (after an outage that dead-lettered hundreds of sagas). A dry run lists what
 * would be touched; otherwise the operator confirms (unless --yes), the decisions go out a few at a time with a
 * progress bar, and each saga's result is printed. Each decision is the same validated update the single-saga
 * command sends, so a saga that no longer waits refuses it and nothing else changes.
 */
export interface BatchOptions {
  /** Only this saga type (dead-letters' --saga). */
  saga?: SagaDefinition;
  compensation?: string;
  errorType?: string;
  limit: number;
  dryRun?: boolean;
  yes?: boolean;
}

export type BatchDecision = { action: 'retry' } | { action: 'resolve'; reason: string };

export interface BatchTarget {
  sagaId: string;
  compensation: string;
  errorType: string;
  round: number;
  lastError: string;
}

export interface BatchResult extends BatchTarget {
  outcome: 'retried' | 'resolved' | 'refused' | 'failed';
  message?: string;
}

/** How many decisions are in flight at once: quick for hundreds of sagas, gentle on the server and the workers. */
const CONCURRENCY = 8;

export async function findBatchTargets(
  client: Client,
  options: Pick<BatchOptions, 'saga' | 'compensation' | 'errorType' | 'limit'>,
): Promise<BatchTarget[]> {
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

export async function decideAll(
  client: Client,
  targets: BatchTarget[],
  decision: BatchDecision,
  onDone: (result: BatchResult) => void,
  concurrency = CONCURRENCY,
): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < targets.length) {
      const target = targets[next++];
      let result: BatchResult;
      try {
        if (decision.action === 'retry') await retryCompensation(client, target.sagaId, target.compensation);
        else await resolveCompensation(client, target.sagaId, decision.reason, target.compensation);
        result = { ...target, outcome: decision.action === 'retry' ? 'retried' : 'resolved' };
      } catch (err) {
        const message = (err as Error).message;
        result = { ...target, outcome: err instanceof OperatorDecisionRefusedError ? 'refused' : 'failed', message };
      }
      results.push(result);
      onDone(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, lane));
  return results;
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
    ...targets.map((t) => [t.sagaId, t.compensation, String(t.round), t.errorType, oneLine(t.lastError)]),
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
  const targets = await findBatchTargets(client, opts);
  const filters = [
    opts.compensation && `compensation ${opts.compensation}`,
    opts.errorType && `error type ${opts.errorType}`,
  ]
    .filter(Boolean)
    .join(', ');
  const what = `${targets.length} dead-lettered compensation(s) in ${new Set(targets.map((t) => t.sagaId)).size} saga(s)${filters ? ` (${filters})` : ''}`;
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
  const results = await decideAll(client, targets, decision, (r) => {
    bar?.log(renderResult(r));
    bar?.increment(r.sagaId);
  }).finally(() => bar?.stop());
  const count = (o: BatchResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const done = count('retried') + count('resolved');
  ctx.say(
    `${decision.action === 'retry' ? 'Retried' : 'Resolved'} ${done} of ${results.length}: ${count('refused')} refused, ${count('failed')} failed.`,
  );
  const exitCode = count('failed') ? EXIT.FAILED : count('refused') ? EXIT.DECISION_REFUSED : EXIT.OK;
  return { exitCode, json: { action: decision.action, dryRun: false, targets, results } };
}
