import type { Command } from 'commander';
import { faultParser } from '../args';
import { workflowUiLink } from '../connect';
import { EXIT } from '../errors';
import { idFields, renderResult, renderStarted } from '../render';
import { action, type CommandContext, type CommandResult } from '../run';
import { checkSagaRequest, startSaga } from '../saga-client';
import { SAGA_CLIS } from '../sagas';
import type { SagaCliAdapter } from '../sagas/adapter';
import { resultExitCode, resultView } from './shared';

/** `start [saga]`: one subcommand per registered saga, with its own input options; the first saga is the default. */
interface StartOptions extends Record<string, unknown> {
  fault?: Record<string, string>;
  wait?: boolean;
}

function startHandler(adapter: SagaCliAdapter) {
  return async (ctx: CommandContext, opts: StartOptions): Promise<CommandResult> => {
    const { saga } = adapter;
    // Checked before connecting: bad input is a usage error, whether or not the server is up.
    const request = {
      ...adapter.input(opts),
      ...(opts.fault && { faults: opts.fault }),
    };
    const { input } = checkSagaRequest(saga, request);
    const handle = await startSaga(await ctx.client(), ctx.config.taskQueue, saga, request);
    const sagaId = saga.key(input);
    const started = {
      ...idFields(saga.name, sagaId),
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      namespace: ctx.config.namespace,
      taskQueue: ctx.config.taskQueue,
      uiUrl: workflowUiLink(ctx.config, handle.workflowId),
    };
    ctx.say(renderStarted(started));
    if (!opts.wait) return { exitCode: EXIT.OK, json: started };
    ctx.say('Waiting for the saga to end...');
    const result = await resultView(await ctx.client(), sagaId);
    ctx.say(renderResult(result));
    return { exitCode: resultExitCode(result), json: { ...started, result } };
  };
}

export function register(program: Command): void {
  const start = program
    .command('start')
    .description(
      `start a saga (${SAGA_CLIS.map((a) => a.saga.name).join(', ')}; default ${SAGA_CLIS[0].saga.name}); prints its workflow id (and the web UI link)`,
    );
  SAGA_CLIS.forEach((adapter, i) => {
    const { saga } = adapter;
    const command = adapter
      .options(
        start
          .command(saga.name, { isDefault: i === 0 })
          .description(`start a ${saga.name} saga: ${saga.meta.stepNames.join(' → ')}`),
      )
      .option(
        '--fault <ACTION=SPEC>',
        'inject a fault into one step or compensation, repeatable; SPEC: reject, delay:MS, transient:N or lost-response:N (comma-separated)',
        faultParser(saga),
      )
      .option('--wait', 'wait for the saga to end and print its result (exit code as for `result`)')
      .addHelpText(
        'after',
        `\nFault actions: ${saga.meta.actions.join(', ')}${adapter.examples ? `\n\nExamples:${adapter.examples}` : ''}`,
      );
    command.action(action(startHandler(adapter)));
  });
}
