import { Option, type Command } from 'commander';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import { SagaClient } from 'temporal-saga-kit/client';
import { SAGA_LIST } from '../../workflows/sagas';
import { MAX_REASON_LENGTH } from '../../services/shared/fields';
import { checkReason, parseCompensation, parseErrorType, parseLimit, parseSagaName, wholeNumberUpTo } from '../args';
import { batchDecision, type BatchOptions } from '../batch-decisions';
import { CliError, EXIT } from '../errors';
import { idFields, renderDeadLetters, renderDecision, renderResult, type DecisionView } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import {
  getSagaState,
  listDeadLetters,
  OperatorDecisionRefusedError,
  resolveCompensation,
  retryCompensation,
} from '../saga-client';
import {
  describeRegisteredSaga,
  isTimeout,
  QUERY_TIMEOUT_MS,
  resultExitCode,
  resultView,
  withQueryDeadline,
} from './shared';

/** `dead-letters list | retry | resolve`: what an operator does about compensations that ran out of retries. */

async function deadLettersList(
  ctx: CommandContext,
  opts: { saga?: SagaDefinition; limit: number },
): Promise<CommandResult> {
  const client = await ctx.client();
  let deadLetters;
  try {
    deadLetters = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      listDeadLetters(client, { saga: opts.saga, limit: opts.limit }),
    );
  } catch (err) {
    if (!isTimeout(err)) throw err;
    throw new CliError(
      `cannot query the waiting sagas: no answer within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling task queue ${ctx.config.taskQueue}?`,
      EXIT.FAILED,
      'failed',
    );
  }
  ctx.say(renderDeadLetters(deadLetters));
  return { exitCode: EXIT.OK, json: { deadLetters } };
}

export interface DecisionOptions {
  compensation?: string;
  wait?: boolean;
}

/**
 * Sends an operator's decision to a saga that waits for one. The saga itself decides whether it can take it (its
 * update validator): a refusal comes back as OperatorDecisionRefusedError, exit 2. A saga that already ended is
 * refused here: Temporal would call it "not found".
 */
async function sendDecision(
  ctx: CommandContext,
  sagaId: string,
  decision: { action: 'retry' } | { action: 'resolve'; reason: string },
  opts: DecisionOptions,
): Promise<CommandResult> {
  const client = await ctx.client();
  const { description, saga } = await describeRegisteredSaga(client, sagaId);
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `refused: the saga for ${saga.name} ${sagaId} already ended (workflow ${description.status.name}); no compensation waits for an operator`,
      EXIT.DECISION_REFUSED,
      'refused',
    );
  }
  const before = await withQueryDeadline(client, sagaId, 'query', () => getSagaState(client, sagaId));
  const ack = await withQueryDeadline(client, sagaId, `send the ${decision.action} to`, () =>
    decision.action === 'retry'
      ? retryCompensation(client, sagaId, opts.compensation)
      : resolveCompensation(client, sagaId, decision.reason, opts.compensation),
  ).catch((err) => {
    if (err instanceof OperatorDecisionRefusedError)
      throw new CliError(`refused: ${saga.name} ${sagaId}: ${err.message}`, EXIT.DECISION_REFUSED, 'refused');
    throw err;
  });
  const deadLetter = SagaClient.deadLetteredActions(before).find((c) => c.name === ack.compensation)?.deadLetter;
  const view: DecisionView = {
    ...idFields(saga.name, sagaId),
    action: ack.action,
    compensation: ack.compensation,
    deadLetter,
    ...(decision.action === 'resolve' && { reason: decision.reason }),
  };
  ctx.say(renderDecision(view));
  if (!opts.wait) return { exitCode: EXIT.OK, json: view };
  ctx.say('Waiting for the saga to end...');
  const result = await resultView(client, sagaId, { compensation: ack.compensation, round: deadLetter?.round });
  ctx.say(renderResult(result));
  return { exitCode: resultExitCode(result), json: { ...view, result } };
}

/** One saga by its id, or --all of them (cli/batch-decisions.ts); not both, not neither. */
function checkBatch(opts: DecisionCommandOptions, sagaId: string | undefined): void {
  if (opts.all && sagaId) throw new CliError('give a saga id or --all, not both', EXIT.USAGE, 'usage');
  if (!opts.all && !sagaId)
    throw new CliError('give a saga id, or --all for every waiting dead letter', EXIT.USAGE, 'usage');
  if (!opts.all && (opts.errorType || opts.dryRun || opts.yes || opts.saga || opts.concurrency))
    throw new CliError('--saga, --error-type, --dry-run, --yes and --concurrency go with --all', EXIT.USAGE, 'usage');
  if (opts.all && opts.wait)
    throw new CliError(
      '--wait is for one saga; with --all, follow them with dead-letters list or list',
      EXIT.USAGE,
      'usage',
    );
}

type DecisionCommandOptions = DecisionOptions & Partial<BatchOptions> & { all?: boolean };

function deadLettersRetry(ctx: CommandContext, opts: DecisionCommandOptions, sagaId?: string): Promise<CommandResult> {
  checkBatch(opts, sagaId);
  if (opts.all) return batchDecision(ctx, { action: 'retry' }, { limit: BATCH_LIMIT, ...opts });
  return sendDecision(ctx, sagaId!, { action: 'retry' }, opts);
}

async function deadLettersResolve(
  ctx: CommandContext,
  opts: DecisionCommandOptions & { reason: string },
  sagaId?: string,
): Promise<CommandResult> {
  const reason = checkReason(opts.reason); // before connecting: a bad reason is a usage error, server up or not
  checkBatch(opts, sagaId);
  if (opts.all) return batchDecision(ctx, { action: 'resolve', reason }, { limit: BATCH_LIMIT, ...opts });
  return sendDecision(ctx, sagaId!, { action: 'resolve', reason }, opts);
}

/**
 * How many waiting sagas --all looks at, unless --limit says otherwise: found with one visibility query, thousands
 * are listed in seconds (after an outage, all of them are what the operator wants).
 */
const BATCH_LIMIT = 10_000;

/** --all and its filters, on both retry and resolve. */
function batchOptions(command: Command): Command {
  return command
    .option('--all', 'every dead-lettered compensation that waits (narrow with --saga, --compensation, --error-type)')
    .addOption(
      new Option('--saga <name>', `with --all: only this saga (${SAGA_LIST.map((s) => s.name).join(', ')})`).argParser(
        parseSagaName,
      ),
    )
    .option(
      '--error-type <type>',
      'with --all: only dead letters whose last error has this type (e.g. ServiceUnavailable)',
      parseErrorType,
    )
    .option('--dry-run', 'with --all: list what would be touched, send nothing')
    .option('--yes', 'with --all: do not ask for confirmation')
    .option(
      '--limit <n>',
      `with --all: look at most at this many waiting sagas (default ${BATCH_LIMIT})`,
      wholeNumberUpTo(100_000),
    )
    .option('--concurrency <n>', 'with --all: decisions in flight at once (default 32)', wholeNumberUpTo(256));
}

export function register(program: Command): void {
  const deadLetters = program
    .command('dead-letters')
    .description(
      'compensations (and steps after the pivot) that ran out of retries: the saga waits (NEEDS_ATTENTION) until an operator retries or resolves them',
    )
    .addHelpText(
      'after',
      `
Examples:
  tsx client.ts dead-letters list
  tsx client.ts dead-letters retry ord-42 --wait
  tsx client.ts dead-letters resolve ord-42 --reason "stock released by hand in the warehouse system (ticket OPS-17)"
  tsx client.ts dead-letters retry --all --error-type ServiceUnavailable --dry-run     # after an outage: what would be retried
  tsx client.ts dead-letters retry --all --compensation release-inventory --yes`,
    );

  deadLetters
    .command('list')
    .description('list the dead-lettered compensations of the sagas that wait for an operator')
    .addOption(
      new Option(
        '--saga <name>',
        `only this saga (${SAGA_LIST.map((s) => s.name).join(', ')}; default: all)`,
      ).argParser(parseSagaName),
    )
    .option('--limit <n>', 'look at most at this many waiting sagas', parseLimit, 20)
    .action(action(deadLettersList));

  batchOptions(deadLetters.command('retry'))
    .description(
      'run a dead-lettered compensation again; the saga resumes unwinding from there (--all: every waiting one that matches)',
    )
    .argument('[id]', 'the saga id; or --all')
    .option(
      '--compensation <name>',
      'the compensation (or step after the pivot) to retry (needed only when several wait)',
      parseCompensation,
    )
    .option(
      '--wait',
      'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)',
    )
    .action(action(deadLettersRetry));

  batchOptions(deadLetters.command('resolve'))
    .description(
      'record a dead-lettered compensation as done by hand, with the reason; the saga resumes unwinding after it (--all: every waiting one that matches)',
    )
    .argument('[id]', 'the saga id; or --all')
    .requiredOption(
      '--reason <text>',
      `what was done by hand (at most ${MAX_REASON_LENGTH} characters, one line); recorded with the dead letter`,
    )
    .option(
      '--compensation <name>',
      'the compensation (or step after the pivot) to resolve (needed only when several wait)',
      parseCompensation,
    )
    .option(
      '--wait',
      'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)',
    )
    .action(action(deadLettersResolve));
}
