import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors';
import { startCountBar, type CountBar } from '../progress-bar';
import type { ReplayedWorkflow, ReplaySummary } from '../replay-live';
import { action, type CommandContext, type CommandResult } from '../run';

/** `replay`: the running sagas' histories against this working tree's workflow code (cli/replay-live.ts). */
const DEFAULT_REPLAY_QUERY = "ExecutionStatus='Running'";

interface ReplayOptions {
  query: string;
  workflowsPath?: string;
}

function describe(w: ReplayedWorkflow): string {
  const what = `${w.workflowId} (${w.workflowType ?? 'workflow'}, run ${w.runId})`;
  if (!w.failure) return `✔ ${what}`;
  const where =
    w.failure.kind === 'nondeterminism'
      ? `non-deterministic${w.failure.event ? ` at ${w.failure.event}` : ''}`
      : 'replay failed';
  return `✘ ${what}: ${where}: ${w.failure.message.split('\n')[0]}`;
}

function renderReplaySummary(s: ReplaySummary): string {
  const verdict =
    s.nondeterministic + s.failed === 0
      ? s.total === 0
        ? 'nothing to replay: no workflow matches the query'
        : 'the working tree replays every one of them: safe to deploy for these workflows'
      : `${s.nondeterministic} non-deterministic, ${s.failed} failed: this code would break them; version the change with patched() or wait until they end`;
  return `Replayed ${s.total} workflow(s) matching ${s.query} against ${path.relative(process.cwd(), s.workflowsPath) || s.workflowsPath}: ${s.replayed} ok. ${verdict}.`;
}

async function replay(ctx: CommandContext, opts: ReplayOptions): Promise<CommandResult> {
  // Loaded here, not with the CLI: the replay worker (the SDK's native core, the bundler) would slow every command's start.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { SAGA_WORKFLOWS_PATH } = require('../../runtime/saga-worker') as typeof import('../../runtime/saga-worker');
  const { bundleForReplay, replayLive } = require('../replay-live') as typeof import('../replay-live');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const workflowsPath = path.resolve(opts.workflowsPath ?? SAGA_WORKFLOWS_PATH);
  if (!fs.existsSync(workflowsPath))
    throw new CliError(`--workflows-path: ${workflowsPath} does not exist`, EXIT.USAGE, 'usage');
  const client = await ctx.client();
  if (!ctx.json)
    process.stderr.write(
      `Bundling the workflow code from ${path.relative(process.cwd(), workflowsPath) || workflowsPath}...\n`,
    );
  const bundle = await bundleForReplay(workflowsPath).catch((err: Error) => {
    throw new CliError(`cannot bundle ${workflowsPath}: ${err.message.split('\n')[0]}`, EXIT.USAGE, 'usage');
  });
  let bar: CountBar | undefined;
  const summary = await replayLive(client, bundle, {
    query: opts.query,
    workflowsPath,
    onTotal: (total) => {
      if (!ctx.json) bar = startCountBar('Replaying', total);
    },
    onReplayed: (w) => {
      if (w.failure && !ctx.json) bar?.log(describe(w));
      bar?.increment(w.workflowId);
    },
  }).finally(() => bar?.stop());
  ctx.say(renderReplaySummary(summary));
  return { exitCode: summary.nondeterministic + summary.failed ? EXIT.FAILED : EXIT.OK, json: summary };
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      "replay the histories of the server's workflows (default: the running ones) against this working tree's workflow code; exit 1 on non-determinism",
    )
    .option('--query <visibility query>', 'which workflows, as in the web UI', DEFAULT_REPLAY_QUERY)
    .option('--workflows-path <file>', "the workflows module to check (default: the working tree's workflows/)")
    .addHelpText(
      'after',
      `
Run it before deploying a change to workflow code: a saga that is running now continues on the new code, and a change
that does not replay its history (a step added, removed or reordered without patched()) would break it.

Examples:
  tsx client.ts replay
  tsx client.ts replay --query "WorkflowType='orderSaga' AND ExecutionStatus='Running'"
  tsx client.ts replay --query "SagaStatus='NEEDS_ATTENTION'" --json`,
    )
    .action(action(replay));
}
