import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getSagaState, listSagas, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { SagaClient } from 'temporal-saga-kit/client';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { orderSagaParallelCompensation } from '../support/order-saga-variants';
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

  const start = (orderId: string, fault: string) =>
    startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-broke',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: DESTINATION,
      faults: { 'release-inventory': fault },
      options: { compensationRetry: COMPENSATION_RETRY },
    });
  /** The number of WorkflowExecutionUpdateAccepted events in a saga's history: decisions it took. */
  const acceptedDecisions = async (id: string) =>
    (await stack.client.workflow.getHandle(id).fetchHistory()).events!.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    ).length;

  before(async () => {
    stack = await startSagaStack();
    await stack.startWorker();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
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

  it('resolve --all --reason --yes, no filter: the waiting sagas from one visibility query, each decision names no compensation; each saga takes exactly one', async () => {
    const fast = Array.from({ length: 4 }, (_, i) => `ord-fast-${suffix}-${i}`);
    await Promise.all(fast.map((id) => start(id, 'reject')));
    // What the batch reads: the sagas' SagaStatus in visibility (no state query).
    await waitFor(
      'the sagas to show NEEDS_ATTENTION in visibility',
      () => listSagas(stack.client, { status: 'NEEDS_ATTENTION', limit: 100 }),
      (infos) => fast.every((id) => infos.some((i) => i.workflowId === id)),
      60_000,
    );
    const json = parseCliJson(await cli(['--json', 'dead-letters', 'resolve', '--all', '--reason', REASON, '--yes']));
    assert.deepEqual(json.targets.map((t: { sagaId: string }) => t.sagaId).sort(), [...fast].sort());
    assert.ok(
      json.targets.every((t: { compensation?: string }) => t.compensation === undefined),
      'no details read before deciding',
    );
    assert.deepEqual(
      json.results
        .map((r: { sagaId: string; compensation: string; outcome: string }) => [r.sagaId, r.compensation, r.outcome])
        .sort(),
      fast.map((id) => [id, 'release-inventory', 'resolved']).sort(),
    );
    for (const id of fast) {
      const s = await waitFor(
        `${id} to end`,
        () => state(id),
        (x) => x.status === 'COMPENSATED',
        60_000,
      );
      assert.equal(release(s).status, 'RESOLVED');
      assert.equal(release(s).resolution, REASON);
      assert.equal(await acceptedDecisions(id), 1, `${id} took one decision`);
    }
  });

  it('SagaClient.decideMany naming no compensation: a saga where two wait is read once and gets both decisions, each once', async () => {
    const id = `ord-fast-par-${suffix}`;
    await startSaga(stack.client, stack.taskQueue, orderSagaParallelCompensation, {
      orderId: id,
      customerId: 'cust-broke',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: DESTINATION,
      faults: { 'cancel-shipment': 'reject', 'release-inventory': 'reject' },
      options: { compensationRetry: COMPENSATION_RETRY },
    });
    const waiting = (s: SagaView) => s.compensations.filter((c) => c.status === 'DEAD_LETTERED' && c.deadLetter?.id);
    await waitFor(
      `${id} to wait on two`,
      () => state(id),
      (s) => waiting(s).length === 2,
      60_000,
    );
    const kit = new SagaClient({
      client: stack.client,
      sagas: [orderSagaParallelCompensation],
      taskQueue: stack.taskQueue,
    });
    const results = await kit.decideMany([{ sagaId: id }], { action: 'resolve', reason: REASON }, undefined, {
      concurrency: 4,
    });
    assert.deepEqual(results.map((r) => [r.compensation, r.outcome]).sort(), [
      ['cancel-shipment', 'resolved'],
      ['release-inventory', 'resolved'],
    ]);
    const s = await waitFor(
      `${id} to end`,
      () => state(id),
      (x) => x.status === 'COMPENSATED',
      60_000,
    );
    for (const name of ['cancel-shipment', 'release-inventory'])
      assert.equal(s.compensations.find((c) => c.name === name)!.status, 'RESOLVED', name);
    assert.equal(await acceptedDecisions(id), 2, 'one decision per waiting compensation');
  });

  it('bad input is refused before anything is sent (64)', async () => {
    for (const args of [
      ['dead-letters', 'retry'],
      ['dead-letters', 'retry', 'ord-1', '--all'],
      ['dead-letters', 'retry', 'ord-1', '--dry-run'],
      ['dead-letters', 'retry', '--all', '--wait'],
      ['dead-letters', 'retry', '--all', '--error-type', 'not a type'],
      ['dead-letters', 'resolve', '--all', '--yes'],
      ['dead-letters', 'retry', 'ord-1', '--concurrency', '4'],
      ['dead-letters', 'retry', '--all', '--concurrency', '0'],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 64, `${args.join(' ')}: ${run.stderr}`);
    }
  });
});
