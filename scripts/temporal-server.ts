/**
 * `npx tsx scripts/temporal-server.ts`: finds or builds the real Temporal server and its schema tool (see
 * infra/temporal/cluster/server-binary.ts) and prints where they are. `npm run test:cluster` runs it first, so the
 * one-time build (minutes on a fresh machine) is a step of its own rather than something a test's timeout must cover.
 */
import { requireServerBinaries } from '../infra/temporal/cluster/server-binary';

requireServerBinaries().then(
  ({ server, sqlTool }) => {
    process.stdout.write(`temporal-server:   ${server}\ntemporal-sql-tool: ${sqlTool}\n`);
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
