/**
 * `npm run chaos`: order sagas with random faults, client cancellations and worker SIGKILLs, then an invariant check
 * over every service's database (see chaos.ts and invariants.ts). Prints the figures and each invariant with its
 * counts; writes chaos-results/<run id>.json. Exit code 0 with zero violations, 1 otherwise. Secured by default: every
 * payload encrypted with a key of the run's own; on the cluster, mTLS with a CA of the run's own as well.
 *
 *   npm run chaos                                   # 200 sagas, concurrency 20, 3 kills
 *   npm run chaos -- --sagas 40 --kills 2 --seed 7  # smaller; the same seed replays the same sagas and faults
 *   npm run chaos -- --sagas 60 --terminate 15      # 15 runs terminated at random moments, recovered by the sweep
 *   npm run chaos -- --kill worker,services,server --kills 9   # the worker, the services and the server, 3 kills each
 *   npm run chaos -- --temporal cluster --sagas 300 --kills 2   # on the Temporal cluster, 2 workers: 2 kills each of
 *                                                   # a worker, the services, history, matching; 1 PostgreSQL restart
 */
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_CHAOS_OPTIONS, DEV_SERVER_KILL_KINDS, formatReport, runChaos, type DevServerKillKind } from './chaos';

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`expected an integer ≥ ${min}, got ${v}`);
  return n;
};
const ratio = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new Error(`expected a number between 0 and 1, got ${v}`);
  return n;
};
const kinds = (v: string): DevServerKillKind[] => {
  const list = v.split(',').map((k) => k.trim()) as DevServerKillKind[];
  const unknown = list.filter((k) => !DEV_SERVER_KILL_KINDS.includes(k));
  if (!list.length || unknown.length)
    throw new InvalidArgumentError(`expected some of ${DEV_SERVER_KILL_KINDS.join(', ')}, got ${v}`);
  return [...new Set(list)];
};
const d = DEFAULT_CHAOS_OPTIONS;

const program = new Command('chaos')
  .description('Run order sagas under injected faults, cancellations and worker kills; check the invariants.')
  .option('--sagas <n>', 'sagas to run', int(1), d.sagas)
  .option('--concurrency <n>', 'sagas in flight', int(1), d.concurrency)
  .option('--seed <n>', 'PRNG seed (default: random, printed)', int(0))
  .option(
    '--kills <n>',
    'SIGKILLs, spread over the run, taking turns among the --kill kinds (on the cluster: SIGKILLs of each process kind)',
    int(0),
    d.kills,
  )
  .option(
    '--kill <kinds>',
    `dev server: what gets killed and restarted, comma-separated: ${DEV_SERVER_KILL_KINDS.join(', ')}`,
    kinds,
    d.kill,
  )
  .option(
    '--temporal <kind>',
    'dev-server, or cluster (the real server: 4 role processes on PostgreSQL)',
    (v: string) => {
      if (v !== 'dev-server' && v !== 'cluster') throw new Error(`expected dev-server or cluster, got ${v}`);
      return v;
    },
    d.temporal,
  )
  .option('--workers <n>', 'saga worker processes (default 1; 2 on the cluster)', int(1))
  .option(
    '--postgres-restarts <n>',
    'cluster only: PostgreSQL restarts (fast shutdown, same data)',
    int(0),
    d.postgresRestarts,
  )
  .option('--restart-delay-ms <ms>', 'pause between a kill and the restart', int(0), d.restartDelayMs)
  .option('--cancel-ratio <r>', 'share of sagas the client cancels mid-flight', ratio, d.cancelRatio)
  .option(
    '--terminate <n>',
    "sagas whose run is terminated at a random moment, then recovered by the kit's recovery sweep before the checks",
    int(0),
    d.terminate,
  )
  .option('--step-timeout <duration>', 'activity start-to-close timeout (e.g. 4s)', d.stepTimeout)
  .option('--saga-timeout-ms <ms>', 'a saga not ended by then counts as not terminal', int(1000), d.sagaTimeoutMs)
  .option(
    '--return-ratio <r>',
    'share of the approved orders returned in a second phase (0: none)',
    ratio,
    d.returnRatio,
  )
  .option('--no-top-up', 'keep the seed balances and stock (more rejections for lack of money and stock)')
  .option('--no-progress', 'no progress bar');

async function main() {
  program.parse();
  const o = program.opts();
  const seed = (o.seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 31);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const command = `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
  const what =
    o.temporal === 'cluster'
      ? `on the Temporal cluster, ${o.kills} kill(s) of each process kind, ${o.postgresRestarts} PostgreSQL restart(s)`
      : `${o.kills} kill(s) of ${(o.kill as DevServerKillKind[]).join(', ')}`;
  process.stderr.write(`chaos: seed ${seed}, ${o.sagas} sagas at concurrency ${o.concurrency}, ${what}\n`);
  const report = await runChaos({
    sagas: o.sagas,
    concurrency: o.concurrency,
    seed,
    kills: o.kills,
    kill: o.kill,
    restartDelayMs: o.restartDelayMs,
    cancelRatio: o.cancelRatio,
    terminate: o.terminate,
    returnRatio: o.returnRatio,
    stepTimeout: o.stepTimeout,
    sagaTimeoutMs: o.sagaTimeoutMs,
    topUp: o.topUp,
    temporal: o.temporal,
    workers: o.workers,
    postgresRestarts: o.postgresRestarts,
    progress: o.progress,
    command,
    signal: controller.signal,
  });
  console.log(formatReport(report));
  process.exit(report.violations === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`chaos run failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
