/**
 * `npm run demo`: runs the saga's showcase scenarios against a running stack (`npm start`), or against a private
 * stack it starts itself when nothing answers, and says for each one how it ended and whether that is what the
 * saga promises. Exit code 0: every scenario ended as expected; 1: at least one did not (or the demo could not
 * run); 64: bad arguments.
 *
 * Modules: demo/scenarios.ts (what each scenario does and expects), demo/target.ts (which stack),
 * demo/run-scenario.ts (one run), demo/report.ts (text output), demo/progress.ts (the bar while waiting).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { renderScenario, renderSummary } from './demo/report';
import { runScenario, type ScenarioReport } from './demo/run-scenario';
import { findScenario, SCENARIOS } from './demo/scenarios';
import { demoLogger, openTarget, type DemoTarget, type StackMode } from './demo/target';

interface DemoOptions {
  scenario?: string;
  address?: string;
  json?: boolean;
  /** undefined: auto; true: --start-stack; false: --no-start-stack. */
  startStack?: boolean;
  timeout: number;
}

const program = new Command('demo')
  .description("Run the sagas' scenarios (orders and returns) and check that each ends as the saga promises.")
  .addOption(new Option('--scenario <name>', 'run only this scenario').choices(SCENARIOS.map((s) => s.name)))
  .option('--address <host:port>', 'Temporal server of a running stack (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
  .option('--json', 'print one JSON document: each scenario with its expected and actual final state and a pass flag')
  .option(
    '--start-stack',
    'start a private stack (temporary data, free ports) even if a Temporal server answers at TEMPORAL_ADDRESS',
  )
  .option('--no-start-stack', 'never start a stack: fail if nothing answers at TEMPORAL_ADDRESS')
  .option('--timeout <seconds>', 'give up on a scenario whose saga has not ended after this long', parsePositive, 120)
  .addHelpText(
    'after',
    `\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(22)} ${s.story}`).join('\n')}\n
By default the demo uses the stack at TEMPORAL_ADDRESS (default 127.0.0.1:7233; \`npm start\`), with the services at
ORDERS_URL etc., and links to the web UI at TEMPORAL_UI_URL (default http://127.0.0.1:8233). If no server answers,
it starts a private stack for the run and stops it afterwards.`,
  );

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return n;
}

async function main(argv: string[]): Promise<number> {
  program.exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    // commander printed the message (or the help) already
    return err instanceof CommanderError && err.exitCode === 0 ? 0 : 64;
  }
  const options = program.opts<DemoOptions>();
  const scenarios = options.scenario ? [findScenario(options.scenario)!] : SCENARIOS;
  const mode: StackMode = options.startStack === true ? 'always' : options.startStack === false ? 'never' : 'auto';
  // Progress and notices go to stderr; stdout is the report (or the one JSON document).
  const say = (text: string) => (options.json ? undefined : process.stdout.write(`${text}\n`));
  const notice = (line: string) => process.stderr.write(`demo: ${line}\n`);

  let target: DemoTarget | undefined;
  let interrupted = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C must not leave a private stack (PostgreSQL, the Temporal server) running, nor go on reporting
    // scenarios that fail only because their stack is going away.
    interrupted = true;
    notice(`${signal}: stopping`);
    void (target?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  try {
    const started = Date.now();
    target = await openTarget(mode, { address: options.address }, demoLogger(), notice);
    if (target.ownStack)
      notice(
        `stack up in ${((Date.now() - started) / 1000).toFixed(1)} s; web UI at ${target.config.uiUrl} (gone when the demo ends)`,
      );
    say(
      `Saga demo: ${scenarios.length} scenario(s) on ${target.config.address}, namespace ${target.config.namespace}, task queue ${target.config.taskQueue}\n`,
    );

    const reports: ScenarioReport[] = [];
    for (const scenario of scenarios) {
      const { report, details } = await runScenario(target, scenario, options.timeout * 1000);
      if (interrupted) return 130;
      reports.push(report);
      say(`${renderScenario(scenario, report, details)}\n`);
    }
    const passed = reports.every((r) => r.pass);
    say(renderSummary(reports));
    if (options.json) {
      const { address, namespace, taskQueue, uiUrl } = target.config;
      const doc = {
        passed,
        stack: { ownStack: target.ownStack, address, namespace, taskQueue, uiUrl },
        scenarios: reports,
      };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    }
    return passed ? 0 : 1;
  } catch (err) {
    notice((err as Error).message);
    if (options.json)
      process.stdout.write(`${JSON.stringify({ passed: false, error: (err as Error).message }, null, 2)}\n`);
    return 1;
  } finally {
    await target?.close().catch((err: Error) => notice(`error while stopping: ${err.message}`));
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`demo: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
