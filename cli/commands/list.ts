import { Option, type Command } from 'commander';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import type { SagaStatus } from '../../workflows/saga-types';
import { SAGA_LIST } from '../../workflows/sagas';
import { parseLimit, parseSagaName, parseSagaStatus, SAGA_STATUSES } from '../args';
import { EXIT } from '../errors';
import { renderList, toListEntry } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { listSagas } from '../saga-client';

async function list(
  ctx: CommandContext,
  opts: { saga?: SagaDefinition; status?: SagaStatus; limit: number },
): Promise<CommandResult> {
  const sagas = (await listSagas(await ctx.client(), { saga: opts.saga, status: opts.status, limit: opts.limit })).map(
    toListEntry,
  );
  ctx.say(renderList(sagas));
  return { exitCode: EXIT.OK, json: { sagas } };
}

export function register(program: Command): void {
  program
    .command('list')
    .description('list recent sagas (saga, id, workflow status, saga status, start time)')
    .addOption(
      new Option(
        '--saga <name>',
        `only this saga (${SAGA_LIST.map((s) => s.name).join(', ')}; default: all)`,
      ).argParser(parseSagaName),
    )
    .addOption(
      new Option('--status <status>', `only sagas in this saga status (${SAGA_STATUSES.join(', ')})`).argParser(
        parseSagaStatus,
      ),
    )
    .option('--limit <n>', 'at most this many', parseLimit, 20)
    .action(action(list));
}
