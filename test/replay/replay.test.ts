/**
 * Replays recorded saga histories against the CURRENT workflow code, with the SDK's replayer: no Temporal server,
 * no services, no database. A failure means a change to the workflow (or to the saga engine, or to anything the
 * bundle imports) would break sagas that are running when it is deployed: version it with patched() instead.
 *
 * The histories are in test/replay/histories/, recorded by `npm run histories:record` on temporal-saga-kit 1.0,
 * which starts without the pre-package `patched()` branches (the sagas recorded before it were drained, not
 * replayed). Keep these when the workflow changes: they are what a deployment has to stay compatible with; gate a
 * change with patched() (how, and the proof that it works: the package README, "Versioning a running saga", and
 * packages/saga-kit/test/versioning.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { installQuietRuntime, quietLogger, workflowBundle } from '../support/saga-stack';

const HISTORIES_DIR = path.join(__dirname, 'histories');
const REQUIRED = [
  'happy',
  'rejected-at-payment',
  'rejected-at-inventory',
  'cancelled',
  'dead-lettered-retried',
  'dead-lettered-resolved',
  'deadline-passed',
  // The return saga's.
  'return-happy',
  'return-rejected-at-pickup',
  'return-cancelled',
  'return-dead-lettered-resolved',
];

// Read when the file is loaded: mocha needs the list to declare one test per history.
const names = (existsSync(HISTORIES_DIR) ? readdirSync(HISTORIES_DIR) : [])
  .filter((f) => f.endsWith('.json'))
  .map((f) => path.basename(f, '.json'))
  .sort();

function loadHistory(name: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, `${name}.json`), 'utf8')));
}

describe('workflow replay', function () {
  let current: WorkflowBundleWithSourceMap;

  before(async function () {
    // Replay workers log their state changes, and the negative test's nondeterminism, loudly: keep output quiet.
    installQuietRuntime();
    current = await workflowBundle();
  });

  it('has the histories of the main outcomes', () => {
    const missing = REQUIRED.filter((name) => !names.includes(name));
    assert.deepEqual(
      missing,
      [],
      `missing history file(s) in ${HISTORIES_DIR}; run: npx tsx scripts/record-histories.ts`,
    );
  });

  for (const name of names) {
    it(`replays ${name}.json deterministically`, async () => {
      // Histories hold no workflow id. The saga reads its own only for the dead-letter log's entries, which are
      // activity inputs: replay compares commands (activity types, timers, markers), not inputs, so any id does.
      await Worker.runReplayHistory({ workflowBundle: current }, loadHistory(name), `replay-${name}`);
    });
  }

  describe('the replayer itself', () => {
    let incompatible: WorkflowBundleWithSourceMap;
    before(async () => {
      incompatible = await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/order-saga-missing-step'),
        logger: quietLogger,
      });
    });

    it('detects non-determinism: the happy history against a saga without its schedule-shipment step', async () => {
      await assert.rejects(
        Worker.runReplayHistory({ workflowBundle: incompatible }, loadHistory('happy'), 'replay-happy'),
        (err: Error) => {
          assert.ok(
            err instanceof DeterminismViolationError,
            `expected a DeterminismViolationError, got ${err.name}: ${err.message}`,
          );
          // Where it diverged: the recorded history scheduled scheduleShipment where this code schedules chargePayment.
          assert.match(err.message, /scheduleShipment/);
          assert.match(err.message, /chargePayment/);
          return true;
        },
      );
    });
  });
});
