import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getSagaState, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { parseCliJson, runCli, waitFor } from '../support/cli';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/**
 * `client.ts replay` against a real dev server: sagas parked there (one waiting for an operator, one that ended),
 * replayed by the CLI (a subprocess) against the working tree's workflow code, then against a workflow change that
 * breaks determinism (test/replay/fixtures/order-saga-missing-step.ts: the schedule-shipment step removed).
 */
const BROKEN = 'test/replay/fixtures/order-saga-missing-step.ts';
const DESTINATION = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};

describe('client.ts replay: the live server against the working tree (real dev server)', function () {
  this.timeout(240_000);
  let stack: SagaStack;
  let env: NodeJS.ProcessEnv;
  const suffix = randomBytes(3).toString('hex');
  const parked = `ord-replay-parked-${suffix}`;
  const approved = `ord-replay-done-${suffix}`;

  before(async () => {
    stack = await startSagaStack();
    await stack.startWorker();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
    // Parked: rejected at the pivot, its release-inventory refused → dead-lettered, waiting for an operator (Running).
    await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId: parked,
      customerId: 'cust-broke',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: DESTINATION,
      faults: { 'release-inventory': 'reject' },
    });
    await waitFor(
      'the saga to wait for an operator',
      () => getSagaState(stack.client, parked),
      (s) => s.status === 'NEEDS_ATTENTION',
      60_000,
    );
    const done = await startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId: approved,
      customerId: 'cust-alice',
      items: [{ sku: 'CB-004', quantity: 1 }],
      destination: DESTINATION,
    });
    await done.result();
  });
  after(() => stack?.stop());

  it('the current code replays the running saga: exit 0, a summary', async () => {
    const run = await runCli(['replay'], env);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      /^Replayed 1 workflow\(s\) matching ExecutionStatus='Running' against workflows\/index\.ts: 1 ok\. the working tree replays every one of them/m,
    );
    const json = parseCliJson(
      await runCli(['--json', 'replay', '--query', `WorkflowId='${parked}' OR WorkflowId='${approved}'`], env),
    );
    assert.equal(json.total, 2);
    assert.equal(json.replayed, 2);
    assert.deepEqual(
      json.workflows
        .map((w: { workflowId: string; workflowType: string }) => `${w.workflowType}:${w.workflowId}`)
        .sort(),
      [`orderSaga:${approved}`, `orderSaga:${parked}`].sort(),
    );
  });

  it('a change that breaks determinism: exit 1, naming the workflow and the event', async () => {
    const run = await runCli(['replay', '--workflows-path', BROKEN], env);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(
      run.stdout,
      new RegExp(`^✘ ${parked} \\(orderSaga, run [0-9a-f-]+\\): non-deterministic at event \\d+`, 'm'),
    );
    assert.match(
      run.stdout,
      /Replayed 1 workflow\(s\) .*: 0 ok\. 1 non-deterministic, 0 failed: this code would break them/,
    );
    const json = parseCliJson(
      await runCli(
        [
          '--json',
          'replay',
          '--workflows-path',
          BROKEN,
          '--query',
          `WorkflowId='${parked}' OR WorkflowId='${approved}'`,
        ],
        env,
      ),
    );
    assert.equal(json.nondeterministic, 2);
    for (const w of json.workflows) {
      assert.equal(w.failure.kind, 'nondeterminism');
      assert.match(w.failure.event, /^event \d+/);
    }
    console.log(
      `      e.g. ${json.workflows[0].workflowId}: ${json.workflows[0].failure.event}: ${json.workflows[0].failure.message.split('\n')[0]}`,
    );
  });

  it('bad input: a workflows path that does not exist is a usage error (64)', async () => {
    const run = await runCli(['replay', '--workflows-path', 'no/such/file.ts'], env);
    assert.equal(run.code, 64, run.stderr);
    assert.match(run.stderr, /--workflows-path: .*no\/such\/file\.ts does not exist/);
  });
});
