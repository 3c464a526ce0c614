/**
 * The order saga's command-line client: `tsx client.ts --help`. Commander wiring only; the commands are in
 * cli/commands.ts, the output in cli/render.ts, the Temporal calls in cli/saga-client.ts.
 */
import './infra/telemetry/register'; // first: a saga started here is the root of its trace when tracing is on
import { Command, Option } from 'commander';
import {
  MAX_REASON_LENGTH,
  parseCompensation,
  parseErrorType,
  parseFault,
  parseItem,
  parseLimit,
  parseSagaStatus,
  parseShipTo,
  SAGA_ACTIONS,
  SAGA_STATUSES,
} from './cli/args';
import * as commands from './cli/commands';
import { EXIT_CODES_HELP } from './cli/errors';
import * as replay from './cli/replay-command';
import { action, runCli } from './cli/run';

const program = new Command('client.ts')
  .description('Start, follow, cancel and list order sagas on Temporal; decide about dead-lettered compensations.')
  .option('--json', 'machine-readable output: one JSON document on stdout')
  .option('--address <host:port>', 'Temporal server (default: $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
  .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or "default")')
  .option('--task-queue <name>', 'task queue of the saga worker (default: $TEMPORAL_TASK_QUEUE or "order-saga")')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', `\nSet TEMPORAL_UI_URL (e.g. http://localhost:8233) to get web UI links.\n${EXIT_CODES_HELP}`);

program
  .command('start')
  .description('start an order saga; prints its workflow id (and the web UI link)')
  .option('--order <id>', 'order id, also the workflow id (default: ord- and a random suffix)')
  .requiredOption('--customer <id>', 'customer id')
  .requiredOption('--item <SKU:QTY>', 'an order line, repeatable', parseItem)
  .requiredOption('--ship-to <address>', 'destination as "recipient|line1|city|postalCode|CC" (CC: ISO country code)', parseShipTo)
  .option('--fault <ACTION=SPEC>', 'inject a fault into one action, repeatable; SPEC: reject, delay:MS, transient:N or lost-response:N (comma-separated)', parseFault)
  .option('--parallel-compensation', 'run compensations all at once instead of in reverse order')
  .option('--continue-on-compensation-error', 'keep compensating after a compensation fails')
  .option('--wait', 'wait for the saga to end and print its result (exit code as for `result`)')
  .addHelpText(
    'after',
    `
Fault actions: ${SAGA_ACTIONS.join(', ')}

Examples:
  tsx client.ts start --customer cust-alice --item KB-001:1 --ship-to "Alice Example|Hauptstr. 1|Berlin|10115|DE" --wait
  tsx client.ts start --order ord-42 --customer cust-alice --item KB-001:2 --item LT-005:1 \\
      --ship-to "Alice Example|Hauptstr. 1|Berlin|10115|DE" --fault charge-payment=reject --parallel-compensation`,
  )
  .action(action(commands.start));

program
  .command('status')
  .description('show the saga of an order as a timeline: steps, compensations, whether it can be cancelled')
  .argument('<orderId>')
  .action(action(commands.status));

program
  .command('cancel')
  .description('cancel an order saga before its pivot (its completed steps are compensated)')
  .argument('<orderId>')
  .action(action(commands.cancel));

program
  .command('result')
  .description('wait for an order saga to end and print how it ended (or that it waits for an operator: exit 4)')
  .argument('<orderId>')
  .action(action(commands.result));

program
  .command('list')
  .description('list recent order sagas (id, workflow status, saga status, start time)')
  .addOption(new Option('--status <status>', `only sagas in this saga status (${SAGA_STATUSES.join(', ')})`).argParser(parseSagaStatus))
  .option('--limit <n>', 'at most this many', parseLimit, 20)
  .action(action(commands.list));

const deadLetters = program
  .command('dead-letters')
  .description('compensations that ran out of retries: the saga waits (NEEDS_ATTENTION) until an operator retries or resolves them')
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
  .option('--limit <n>', 'look at most at this many waiting sagas', parseLimit, 20)
  .action(action(commands.deadLettersList));

deadLetters
  .command('retry')
  .description('run a dead-lettered compensation again; the saga resumes unwinding from there (--all: every waiting one that matches)')
  .argument('[orderId]', 'the saga; or --all')
  .option('--compensation <name>', 'the compensation to retry (needed only when several wait)', parseCompensation)
  .option('--wait', 'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)')
  .option('--all', 'every dead-lettered compensation that waits (narrow with --compensation and --error-type)')
  .option('--error-type <type>', 'with --all: only dead letters whose last error has this type (e.g. ServiceUnavailable)', parseErrorType)
  .option('--dry-run', 'with --all: list what would be touched, send nothing')
  .option('--yes', 'with --all: do not ask for confirmation')
  .option('--limit <n>', 'with --all: look at most at this many waiting sagas', parseLimit, 1000)
  .action(action(commands.deadLettersRetry));

deadLetters
  .command('resolve')
  .description('record a dead-lettered compensation as done by hand, with the reason; the saga resumes unwinding after it (--all: every waiting one that matches)')
  .argument('[orderId]', 'the saga; or --all')
  .requiredOption('--reason <text>', `what was done by hand (at most ${MAX_REASON_LENGTH} characters, one line); recorded with the dead letter`)
  .option('--compensation <name>', 'the compensation to resolve (needed only when several wait)', parseCompensation)
  .option('--wait', 'wait for the saga to end (or to wait for an operator again) and print its result (exit code as for `result`)')
  .option('--all', 'every dead-lettered compensation that waits (narrow with --compensation and --error-type)')
  .option('--error-type <type>', 'with --all: only dead letters whose last error has this type (e.g. ServiceUnavailable)', parseErrorType)
  .option('--dry-run', 'with --all: list what would be touched, send nothing')
  .option('--yes', 'with --all: do not ask for confirmation')
  .option('--limit <n>', 'with --all: look at most at this many waiting sagas', parseLimit, 1000)
  .action(action(commands.deadLettersResolve));

replay.register(program);

void runCli(program);
