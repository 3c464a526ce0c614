/**
 * npm run explore -- [--saga NAME] [--pairs N] [--subset] [--only ID,...] [--kinds KIND,...] [--concurrency N]
 * Every failure point of a saga (or of every registered saga), one saga per point against the real services, their
 * databases and a real Temporal server; prints the matrix, writes Markdown + JSON under explore-results/, exits 1
 * on any violation (64 on bad arguments). The last line counts points, sagas and violations.
 */
import { Command, InvalidArgumentError } from 'commander';
import { SAGA_LIST, findSaga } from '../../workflows/sagas';
import { DEFAULT_OUT_DIR, explore } from './explore';
import { EXPLORE_PROFILES } from './profiles';
import { COMPENSATION_FAILURES, FORWARD_FAILURES } from './points';
import { matrix } from './report';

const count = (what: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}`);
  return n;
};

/** The --kinds list, each a failure kind or a family of them (terminate: terminate-during, terminate-between). */
function failureKinds(list: string): string[] {
  const known = [...new Set<string>([...FORWARD_FAILURES, ...COMPENSATION_FAILURES])];
  const kinds = list.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !known.some((f) => f === k || f.startsWith(`${k}-`)));
  if (unknown.length) {
    console.error(`explore: unknown failure kind(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
    process.exit(64);
  }
  return kinds;
}

async function main() {
  const program = new Command('explore')
    .description('Inject every failure at every step of a saga (one saga per failure point) and check its invariants.')
    .option(
      '--saga <name>',
      `the saga to explore (${SAGA_LIST.map((s) => s.name).join(', ')}); default: every registered saga`,
    )
    .option(
      '--pairs <n>',
      'sampled pairs (a forward failure with a compensation failure) per saga',
      count('--pairs', 0),
      10,
    )
    .option('--subset', 'every failure kind once, on rotating steps (what npm test runs)', false)
    .option('--rotation <n>', 'which steps the subset picks', count('--rotation', 0), new Date().getUTCDate())
    .option(
      '--only <ids>',
      'only these points, comma-separated (e.g. reserve-inventory/reject,refund-payment/run-twice)',
    )
    .option(
      '--kinds <kinds>',
      'only these failure kinds, comma-separated (e.g. terminate-during; a family such as terminate or kill names all its kinds)',
    )
    .option('--concurrency <n>', 'sagas at once', count('--concurrency', 1), 6)
    .option('--out <dir>', 'where the Markdown and JSON reports go', DEFAULT_OUT_DIR)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 64));
  program.parse();
  const o = program.opts<{
    saga?: string;
    pairs: number;
    subset: boolean;
    rotation: number;
    only?: string;
    kinds?: string;
    concurrency: number;
    out: string;
  }>();
  let sagas = SAGA_LIST;
  if (o.saga) {
    const saga = findSaga(o.saga);
    if (!saga) {
      console.error(`explore: unknown saga "${o.saga}" (registered: ${SAGA_LIST.map((s) => s.name).join(', ')})`);
      process.exit(64);
    }
    sagas = [saga];
  }
  const missing = sagas.filter((s) => !EXPLORE_PROFILES[s.name]);
  for (const s of missing)
    console.error(`explore: the ${s.name} saga has no explore profile (scripts/explore/profiles.ts): not explored`);
  const profiles = sagas.filter((s) => EXPLORE_PROFILES[s.name]).map((s) => EXPLORE_PROFILES[s.name]);
  if (!profiles.length) process.exit(64);

  const result = await explore({
    profiles,
    pairs: o.pairs,
    subset: o.subset,
    rotation: o.rotation,
    only: o.only?.split(',').map((id) => id.trim()),
    kinds: o.kinds ? failureKinds(o.kinds) : undefined,
    concurrency: o.concurrency,
    progress: process.stderr.isTTY ?? false,
    outDir: o.out,
  });
  for (const r of result.reports)
    console.log(`\n${matrix(profiles.find((p) => p.saga.name === r.saga)!.saga, r.results)}`);
  console.log(`\nwall time ${(result.wallMs / 1000).toFixed(0)} s; reports: ${result.files.join(', ')}`);
  console.log(result.summary);
  process.exit(result.violations ? 1 : 0);
}

main().catch((err) => {
  console.error(`explore failed: ${(err as Error).stack ?? err}`);
  process.exit(2);
});
