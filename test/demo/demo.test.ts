import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run demo` as a user runs it: a subprocess that starts its own private stack (--start-stack, so a developer's
 * `npm start` on the default ports is neither used nor disturbed), runs every scenario and prints one JSON
 * document. The demo checks each scenario against the saga's promises itself; this test checks that it says so,
 * and that the outcomes are the documented ones (so a demo whose expectations drifted would be caught too).
 */
const REPO = path.resolve(__dirname, '../..');

const EXPECTED_OUTCOMES = {
  success: 'APPROVED',
  'rejection-at-payment': 'REJECTED',
  'rejection-at-shipping': 'REJECTED',
  cancellation: 'CANCELLED',
  'transient-outage': 'APPROVED',
  return: 'RETURNED',
  'return-not-delivered': 'REJECTED',
};
/** The order's own status in the orders service, where it is not the saga's outcome: a refused return leaves it APPROVED. */
const ORDER_STATUS: Record<string, string> = { 'return-not-delivered': 'APPROVED' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function demo(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // `node --import tsx`: about half the start-up time of `npx tsx`.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
      cwd: REPO,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo (subprocess with its own stack)', function () {
  this.timeout(240_000);

  it('runs every scenario and each ends as the saga promises', async () => {
    const run = await demo(['--json', '--start-stack']);
    let doc: any;
    try {
      doc = JSON.parse(run.stdout);
    } catch {
      assert.fail(`stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
    }
    const context = `\nstderr:\n${run.stderr}\ndocument:\n${run.stdout}`;
    assert.equal(run.code, 0, `exit code${context}`);
    assert.equal(doc.passed, true, `passed${context}`);
    assert.equal(doc.stack.ownStack, true);

    assert.deepEqual(
      doc.scenarios.map((s: any) => s.name),
      Object.keys(EXPECTED_OUTCOMES),
    );
    for (const s of doc.scenarios) {
      const outcome = EXPECTED_OUTCOMES[s.name as keyof typeof EXPECTED_OUTCOMES];
      assert.equal(s.pass, true, `${s.name} passed${context}`);
      assert.equal(s.expected.outcome, outcome, `${s.name}: the demo expects the documented outcome`);
      assert.equal(s.actual.outcome, outcome, `${s.name}: saga outcome`);
      // The order service's own record agrees with the saga (the cancellation ends CANCELLED, not REJECTED).
      assert.equal(
        s.actual.orderStatus,
        ORDER_STATUS[s.name] ?? outcome,
        `${s.name}: order status in the orders service`,
      );
      assert.match(s.orderId, new RegExp(`^demo-${s.name}-[0-9a-f]{6}$`));
      assert.equal(s.uiUrl, `${doc.stack.uiUrl}/namespaces/${doc.stack.namespace}/workflows/${s.orderId}`);
    }
    const byName = Object.fromEntries(doc.scenarios.map((s: any) => [s.name, s.actual]));
    assert.deepEqual(byName['rejection-at-payment'].compensations, [
      'cancel-shipment',
      'release-inventory',
      'reject-order',
    ]);
    assert.deepEqual(byName['rejection-at-shipping'].compensations, ['release-inventory', 'reject-order']);
    assert.deepEqual(byName.cancellation.compensations, ['cancel-shipment', 'release-inventory', 'cancel-order']);
    assert.deepEqual(byName.success.compensations, []);
    assert.deepEqual(byName['transient-outage'].compensations, []);
    assert.deepEqual(byName.return.compensations, []);
    assert.deepEqual(byName['return-not-delivered'].compensations, ['cancel-return']);
    assert.ok(byName['transient-outage'].attempts['reserve-inventory'] > 1, 'the outage was retried');
  });

  it('exits 1 with a JSON error when told not to start a stack and nothing answers', async () => {
    // A port nothing listens on (the discard port), so the demo cannot find a running stack.
    const run = await demo(['--json', '--no-start-stack', '--address', '127.0.0.1:9']);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).passed, false);
    assert.match(run.stderr, /cannot reach the Temporal server at 127\.0\.0\.1:9/);
  });
});
