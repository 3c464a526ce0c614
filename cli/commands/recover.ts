import type { Command } from 'commander';
import { parseDuration } from '../args';
import { EXIT } from '../errors';
import { renderRecoveryReport } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { recoverSagas, scheduleRecovery, type RecoverySweepReport } from '../saga-client';

/**
 * `recover`: runs the kit's recovery sweep now, or puts it on a Temporal Schedule (`--every`). Sagas that Temporal
 * ended without the saga deciding (terminated, timed out, stuck on a failing workflow task) get a recovery run that
 * undoes what they left, or finishes it past the pivot.
 */
interface RecoverOptions {
  stuckAfter: string;
  recoverStuck: boolean;
  every?: string;
}

async function recover(ctx: CommandContext, opts: RecoverOptions): Promise<CommandResult> {
  const client = await ctx.client();
  const sweep = { stuckAfter: opts.stuckAfter, recoverStuck: opts.recoverStuck };
  if (opts.every) {
    await scheduleRecovery(client, ctx.config.taskQueue, { ...sweep, every: opts.every });
    ctx.say(`The recovery sweep runs every ${opts.every} (schedule saga-recovery-sweep).`);
    return { exitCode: EXIT.OK, json: { scheduled: { every: opts.every, ...sweep } } };
  }
  ctx.say('Sweeping for sagas that Temporal ended without their consent...');
  const report: RecoverySweepReport = await recoverSagas(client, ctx.config.taskQueue, sweep);
  ctx.say(renderRecoveryReport(report));
  return { exitCode: EXIT.OK, json: report };
}

export function register(program: Command): void {
  program
    .command('recover')
    .description(
      'recover sagas that Temporal ended without their consent (terminated, timed out, stuck): each gets a recovery run that undoes what it left (or finishes it past the pivot)',
    )
    .option(
      '--stuck-after <duration>',
      'how long a workflow task may keep failing before the run counts as stuck',
      parseDuration,
      '10m',
    )
    .option(
      '--no-recover-stuck',
      'only report stuck runs (to fix forward with a deploy); do not terminate and recover them',
    )
    .option(
      '--every <duration>',
      'instead of sweeping now, run the sweep on a Temporal Schedule this often',
      parseDuration,
    )
    .action(action(recover));
}
