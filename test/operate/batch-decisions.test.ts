import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getSagaState, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { parseCliJson, runCli, waitFor } from '../support/cli';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/**
 * `dead-letters retry --all` / `resolve --all` on 24 real dead-lettered sagas (real dev server, services, worker):
 * each is rejected at the pivot (cust-broke cannot pay) and its release-inventory compensation fails, either
 * transiently (an outage: 503s until its retries run out) or for good (refused).
 */
const DESTINATION = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
const COMPENSATION_RETRY = { initialInterval: '50ms', maximumInterval: '200ms', maximumAttempts: 2 };
const OUTAGE = 12; // release fails 3 times (503): dead-lettered after 2, a retry succeeds
const REFUSED = 12; // release refused: only a person can settle it
const REASON = 'stock released by hand after the warehouse outage (OPS-77)';

describe('client.ts dead-letters retry --all / resolve --all (≥ 20 real dead-lettered sagas)', function () {
  this.timeout(300_000);
  let stack: SagaStack;
  let env: NodeJS.ProcessEnv;
  const suffix = randomBytes(3).toString('hex');
  const outage = Array.from({ length: OUTAGE }, (_, i) => `ord-outage-${suffix}-${i}`);
  const refused = Array.from({ length: REFUSED }, (_, i) => `ord-refused-${suffix}-${i}`);
  const cli = (args: string[], input?: string) => runCli(args, env, input);
  const state = (id: string): Promise<SagaView> => getSagaState(stack.client, id);
  const release = (s: SagaView) => s.compensations.find((c) => c.name === 'release-inventory')!;

  before(async () => {
    stack = await startSagaStack();
    await stack.startWorker();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
    const start = (orderId: string, fault: string) =>
      startSaga(stack.client, stack.taskQueue, orderSaga, {
        orderId,
        customerId: 'cust-broke',
        items: [{ sku: 'KB-001', quantity: 1 }],
        destination: DESTINATION,
        faults: { 'release-inventory': fault },
        options: { compensationRetry: COMPENSATION_RETRY },
      });
    await Promise.all([...outage.map((id) => start(id, 'transient:3')), ...refused.map((id) => start(id, 'reject'))]);
    for (const id of [...outage, ...refused]) {
      await waitFor(
        `${id} to wait for an operator`,
        () => state(id),
        (s) => s.status === 'NEEDS_ATTENTION' && release(s).deadLetter?.id !== undefined,
        60_000,
      );
    }
  });
  after(() => stack?.stop());

  it('a dry run lists what --error-type selects and sends nothing', async () => {
    const run = await cli(['dead-letters', 'retry', '--all', '--error-type', 'ServiceUnavailable', '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^SAGA\s+COMPENSATION\s+ROUND\s+ERROR TYPE\s+LAST ERROR$/m);
    for (const id of outage)
      assert.match(
        run.stdout,
        new RegExp(`^${id}\\s+release-inventory\\s+1\\s+ServiceUnavailable\\s+inventory answered 503`, 'm'),
      );
    for (const id of refused) assert.ok(!run.stdout.includes(id), `${id} is not a ServiceUnavailable`);
    assert.match(
      run.stdout,
      new RegExp(
        `Dry run: would retry ${OUTAGE} dead-lettered compensation\\(s\\) in ${OUTAGE} saga\\(s\\) \\(error type ServiceUnavailable\\)\\. Nothing was sent\\.`,
      ),
    );
    const json = parseCliJson(
      await cli(['--json', 'dead-letters', 'resolve', '--all', '--reason', REASON, '--dry-run']),
    );
    assert.equal(json.targets.length, OUTAGE + REFUSED);
    for (const id of [...outage, ...refused])
      assert.equal((await state(id)).status, 'NEEDS_ATTENTION', `${id} untouched`);
  });

  it('without --yes it asks; no answer (or "n") sends nothing: exit 2', async () => {
    const closed = await cli(['dead-letters', 'retry', '--all']);
    assert.equal(closed.code, 2, closed.stdout);
    assert.match(closed.stderr, /Retry 24 dead-lettered compensation\(s\) in 24 saga\(s\)\? \[y\/N\]/);
    assert.match(closed.stderr, /not confirmed: nothing was sent/);
    const no = await cli(['dead-letters', 'retry', '--all', '--error-type', 'ServiceUnavailable'], 'n\n');
    assert.equal(no.code, 2);
    for (const id of outage) assert.equal((await state(id)).status, 'NEEDS_ATTENTION', `${id} untouched`);
  });

  it('retry --all --error-type, confirmed with "y": one result per saga, a summary; the outage sagas finish compensating', async () => {
    const run = await cli(['dead-letters', 'retry', '--all', '--error-type', 'ServiceUnavailable'], 'y\n');
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    for (const id of outage) assert.match(run.stdout, new RegExp(`^✔ ${id} release-inventory: retried$`, 'm'));
    assert.match(run.stdout, new RegExp(`^Retried ${OUTAGE} of ${OUTAGE}: 0 refused, 0 failed\\.$`, 'm'));
    for (const id of outage) {
      const s = await waitFor(
        `${id} to end`,
        () => state(id),
        (x) => x.status === 'COMPENSATED',
        60_000,
      );
      assert.equal(release(s).status, 'COMPLETED');
    }
    for (const id of refused)
      assert.equal((await state(id)).status, 'NEEDS_ATTENTION', `${id} is not a ServiceUnavailable: untouched`);
  });

  it('resolve --all --compensation --reason --yes: the refused ones resolved by hand, the reason recorded; then nothing waits', async () => {
    const json = parseCliJson(
      await cli([
        '--json',
        'dead-letters',
        'resolve',
        '--all',
        '--compensation',
        'release-inventory',
        '--reason',
        REASON,
        '--yes',
      ]),
    );
    assert.equal(json.results.length, REFUSED);
    assert.deepEqual(new Set(json.results.map((r: { outcome: string }) => r.outcome)), new Set(['resolved']));
    assert.deepEqual(json.results.map((r: { sagaId: string }) => r.sagaId).sort(), [...refused].sort());
    for (const id of refused) {
      const s = await waitFor(
        `${id} to end`,
        () => state(id),
        (x) => x.status === 'COMPENSATED',
        60_000,
      );
      assert.equal(release(s).status, 'RESOLVED');
      assert.equal(release(s).resolution, REASON);
    }
    const again = await cli(['dead-letters', 'retry', '--all', '--yes']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /No dead-lettered compensation waits: nothing to retry\./);
  });

  it('bad input is refused before anything is sent (64)', async () => {
    for (const args of [
      ['dead-letters', 'retry'],
      ['dead-letters', 'retry', 'ord-1', '--all'],
      ['dead-letters', 'retry', 'ord-1', '--dry-run'],
      ['dead-letters', 'retry', '--all', '--wait'],
      ['dead-letters', 'retry', '--all', '--error-type', 'not a type'],
      ['dead-letters', 'resolve', '--all', '--yes'],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
    }
  });
});
