/**
 * Tests are TypeScript run through tsx; they start real PostgreSQL, real services and a real Temporal server, so
 * timeouts are generous and files run serially.
 *
 * The tiers (`npm run test:unit`, `test:integration`, `test:long`; `npm test` runs them in that order, then the
 * cluster suite) are chosen with TEST_TIER; without it, the files named on the command line run as usual.
 *   unit         no database, no server, no process: the kit's reason rule and types, rendering, argument answers,
 *                the invariants' fixtures, the docs check (under a minute)
 *   long         the suites that run whole stacks for minutes: the chaos run, the explorer, the browser, deploy,
 *                the demo, crashes and restarts
 *   integration  everything else: the services, the sagas, the CLI and the operators' tools on the real services and
 *                the Temporal dev server
 */
// The saga kit's own tests (the engine, its types, its reason rule) run in the package: `npm run test:kit`.
const UNIT = [
  'test/package/deep-imports.test.ts',
  'test/cli/render.test.ts',
  'test/cli/cancel-answer.test.ts',
  'test/bench/targets.test.ts',
  'test/chaos/chaos.test.ts',
  'test/chaos/return-invariants.test.ts',
  'test/docs/*.test.ts',
  'test/infra/temporal-server-binary.test.ts',
  'test/smoke.test.ts',
];
const LONG = [
  'test/package/outside-repo.test.ts',
  'test/chaos/chaos-run.test.ts',
  'test/explore/*.test.ts',
  'test/ui/*.test.ts',
  'test/deploy/*.test.ts',
  'test/demo/*.test.ts',
  'test/reliability/*.test.ts',
];
const TIERS = {
  unit: { spec: UNIT },
  long: { spec: LONG },
  integration: { spec: ['test/**/*.test.ts'], ignore: [...UNIT, ...LONG] },
};

const tier = process.env.TEST_TIER;
if (tier !== undefined && !(tier in TIERS))
  throw new Error(`TEST_TIER must be one of ${Object.keys(TIERS).join(', ')}`);

module.exports = {
  require: ['tsx/cjs', 'test/support/hooks.ts'],
  extension: ['ts'],
  timeout: 120000,
  reporter: 'test/support/reporter.js',
  // Leave when the last test has finished even if a failed test left a handle open (e.g. the SDK's gRPC channel after
  // a failed connect): a report followed by a hang would cost CI its whole time limit instead of one failed test.
  exit: true,
  ...(tier && TIERS[tier]),
};
