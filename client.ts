/**
 * The sagas' command-line client: `tsx client.ts --help`. Commander wiring only; each command is a module in
 * cli/commands/ (listed in cli/commands/index.ts), the output in cli/render.ts, the Temporal calls in
 * cli/saga-client.ts, each saga's own start options in cli/sagas/.
 */
import './runtime/telemetry/register'; // first: a saga started here is the root of its trace when tracing is on
import { Command } from 'commander';
import { COMMANDS } from './cli/commands';
import { EXIT_CODES_HELP } from './cli/errors';
import { runCli } from './cli/run';

const program = new Command('client.ts')
  .description('Start, follow, cancel and list sagas on Temporal; decide about dead-lettered compensations.')
  .option('--json', 'machine-readable output: one JSON document on stdout')
  .option('--address <host:port>', 'Temporal server (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
  .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or "default")')
  .option('--task-queue <name>', 'task queue of the saga worker (default: $TEMPORAL_TASK_QUEUE or "order-saga")')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', `\nSet TEMPORAL_UI_URL (e.g. http://localhost:8233) to get web UI links.\n${EXIT_CODES_HELP}`);

for (const command of COMMANDS) command.register(program);

void runCli(program);
