import '../runtime/telemetry/register'; // first: tracing patches express and pg as they load (when OTEL_EXPORTER_OTLP_ENDPOINT is set)
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { DataDirLockedError, DEFAULT_DATA_DIR, PortInUseError, readTokenFile, startLocalStack } from '../infra/stack';
import { postgresPasswordFile } from '../infra/postgres/local-password';
import type { LocalPki } from '../infra/temporal/cluster/pki';
import { connectTemporal, resolveConfig } from '../cli/connect';
import { scheduleRecovery } from '../cli/saga-client';
import { flagSetting } from '../services/shared/config';
import { createLogger } from '../services/shared/logger';

/**
 * `npm start`: the whole stack on embedded defaults, until Ctrl-C. This process is the supervisor: PostgreSQL, the
 * Temporal server, the services and the worker each run in a child process of their own (infra/stack/supervised.ts). Settings
 * come from the environment (see docs/configuration.md); everything has a default.
 *   npm start -- --temporal cluster --workers 2    (or SAGA_TEMPORAL=cluster SAGA_WORKERS=2 npm start): the real
 *   Temporal server, four role processes on the embedded PostgreSQL, instead of the dev server; two saga workers.
 */
// A person reads this terminal: readable lines, unless LOG_FORMAT=json is asked for. The worker processes inherit it.
process.env.LOG_FORMAT ??= 'pretty';
const logger = createLogger('stack', process.env.LOG_LEVEL ?? 'info');

const settings = z
  .object({
    DATA_DIR: z.string().default(DEFAULT_DATA_DIR),
    EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
    TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    // Off unless asked for: the header makes the services fail on demand, a test knob, not something a stack that
    // might be reached by others should honour. The demo's fault scenarios need it (FAULT_INJECTION=true npm start).
    FAULT_INJECTION: flagSetting(false),
    SAGA_TEMPORAL: z.enum(['dev-server', 'cluster'], { error: 'must be dev-server or cluster' }).default('dev-server'),
    SAGA_WORKERS: z.coerce.number().int().min(1).max(32).default(1),
  })
  .parse(process.env);
// Flags win over the environment: `npm start -- --temporal cluster --workers 2`.
const flags = new Command('npm start --')
  .description('The whole stack on embedded defaults, until Ctrl-C: PostgreSQL, the services, Temporal, the worker(s).')
  .addOption(
    new Option(
      '--temporal <kind>',
      'the Temporal server: the dev server, or the real cluster (default: $SAGA_TEMPORAL)',
    ).choices(['dev-server', 'cluster']),
  )
  .option('--workers <n>', 'how many saga workers, 1 to 32 (default: $SAGA_WORKERS or 1)', parseWorkerCount)
  .addHelpText('after', '\nEvery other setting comes from the environment: see docs/configuration.md.')
  .parse()
  .opts<{ temporal?: 'dev-server' | 'cluster'; workers?: number }>();
const temporalKind = flags.temporal ?? settings.SAGA_TEMPORAL;
const workerCount = flags.workers ?? settings.SAGA_WORKERS;

/**
 * How to reach the secured cluster from the CLI: its CA, then one certificate per role, each line what that role may
 * do (infra/temporal/cluster/server/roles.go; docs/operating.md, "Who may do what").
 */
function mtlsBanner(pki: LocalPki): string[] {
  const role = (name: string, what: string) =>
    `                      ${what.padEnd(38)} export TEMPORAL_TLS_CERT_PATH=${pki.clients[name].cert} TEMPORAL_TLS_KEY_PATH=${pki.clients[name].key}`;
  return [
    `  mTLS:             the frontend requires a client certificate of ${pki.caCert}, and its role decides what`,
    `                    the client may do. For the CLI: export TEMPORAL_TLS_CA_PATH=${pki.caCert} TEMPORAL_TLS_SERVER_NAME=localhost`,
    `                    and the certificate of the role:`,
    role('worker', 'start and cancel sagas, the application (worker)'),
    role('operator', 'read and decide dead letters (operator)'),
    role('reader', 'read only: list, status (reader)'),
  ];
}

function parseWorkerCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 32) throw new InvalidArgumentError('a whole number from 1 to 32');
  return n;
}

/** How often the recovery sweep runs: a saga Temporal ended without its consent is repaired within this. */
const RECOVERY_EVERY = '5m';

/**
 * Puts the kit's recovery sweep on a Temporal Schedule (created, or updated if an earlier start made it), as the
 * application (the worker certificate on a secured cluster). Returns the banner's line.
 */
async function scheduleRecoverySweep(
  stack: { temporalAddress: string; namespace: string; taskQueue: string },
  pki?: LocalPki,
): Promise<string> {
  const env = {
    ...process.env,
    ...(pki && {
      TEMPORAL_TLS_CA_PATH: pki.caCert,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_CERT_PATH: pki.clients.worker.cert,
      TEMPORAL_TLS_KEY_PATH: pki.clients.worker.key,
    }),
  };
  try {
    const { client, close } = await connectTemporal(
      resolveConfig({ address: stack.temporalAddress, namespace: stack.namespace, taskQueue: stack.taskQueue }, env),
    );
    try {
      await scheduleRecovery(client, stack.taskQueue, { every: RECOVERY_EVERY });
    } finally {
      await close();
    }
    return `  Recovery sweep:   every ${RECOVERY_EVERY} (schedule saga-recovery-sweep); \`npx tsx client.ts recover\` sweeps now`;
  } catch (err) {
    return `  Recovery sweep:   NOT scheduled (${(err as Error).message}); run \`npx tsx client.ts recover --every ${RECOVERY_EVERY}\``;
  }
}

async function main(): Promise<void> {
  const stack = await startLocalStack({
    dataDir: settings.DATA_DIR,
    postgresPort: settings.EMBEDDED_POSTGRES_PORT,
    temporalPort: settings.TEMPORAL_PORT,
    uiPort: settings.TEMPORAL_UI_PORT,
    faultInjection: settings.FAULT_INJECTION,
    temporal: temporalKind,
    workers: workerCount,
    // The dev server's address is the stack's own; the worker and the CLI default to it.
    env: { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${settings.TEMPORAL_PORT}` },
    logger,
    echo: true,
  });
  const recoveryLine = await scheduleRecoverySweep(stack, stack.pki);
  process.stdout.write(
    [
      '',
      'The order saga stack is up.',
      stack.uiUrl
        ? `  Temporal web UI:  ${stack.uiUrl}/namespaces/${stack.namespace}/workflows`
        : '  Temporal:         the cluster (frontend, history, matching, worker: four processes, 8 shards, on PostgreSQL); no web UI of its own',
      `  Saga workers:     ${workerCount} process(es)`,
      `  Temporal server:  ${stack.temporalAddress} (namespace ${stack.namespace}, task queue ${stack.taskQueue})`,
      ...Object.entries(stack.serviceUrls).map(([name, url]) => `  ${name.padEnd(10)} ${url}`),
      `  Metrics:          GET /metrics on ${process.env.WORKER_METRICS_ADDRESS ?? '127.0.0.1:9464'} (worker), ports 9101-9104 (services; <SERVICE>_METRICS_PORT)`,
      recoveryLine,
      ...(stack.pki ? mtlsBanner(stack.pki) : []),
      `  Data:             ${settings.DATA_DIR} (yours only: mode 0700; PostgreSQL's password in ${postgresPasswordFile(settings.DATA_DIR)})`,
      `  Fault injection:  ${settings.FAULT_INJECTION ? 'on (the x-fault-injection header is honoured)' : 'off (FAULT_INJECTION=true npm start turns it on)'}`,
      `  Read token:       ${readTokenFile(settings.DATA_DIR)} (SERVICE_READ_TOKEN: GET requests to the services)`,
      `  Processes:        ${Object.entries(stack.pids())
        .map(([name, pid]) => `${name} ${pid}`)
        .join(', ')}`,
      '',
      'Start a saga from another terminal:',
      '  npx tsx client.ts start --customer cust-alice --item KB-001:2 --ship-to "Ada Lovelace|1 Main Street|Berlin|10115|DE" --wait',
      'or run every demo scenario:  npm run demo',
      '',
      'A process that dies is restarted. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  // The supervisor gave up on a child (see infra/supervisor/supervisor.ts): it has stopped the rest and said why.
  stack.supervisor.once('stopped', (reason?: string) => {
    if (!reason || stopping) return;
    process.stderr.write(`npm start: the stack stopped: ${reason}\n`);
    void stack.stop().finally(() => process.exit(1)); // already stopped: this releases the data folder's lock
  });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the stack');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: Error) => {
  // Expected problems (a port taken, bad configuration) get one plain line; anything else its stack too.
  process.stderr.write(
    `npm start: ${err instanceof PortInUseError || err instanceof DataDirLockedError || err.name === 'ConfigError' ? err.message : (err.stack ?? err.message)}\n`,
  );
  process.exit(1);
});
