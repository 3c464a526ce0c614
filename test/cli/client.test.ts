import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { getFreePort } from '../../runtime/ports';
import { getSagaState } from '../../cli/saga-client';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { parseCliJson as parseJson, runCli as cli, waitFor } from '../support/cli';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/** The CLI (test/support/cli.ts) against a real dev server, the four real services and a worker in this process. */
const SHIP_TO = 'Ada Lovelace|1 Main Street|Berlin|10115|DE';
const UI_URL = 'http://temporal-ui.test:8233';

describe('client.ts (CLI subprocess against a real saga stack)', function () {
  this.timeout(120_000);
  let stack: SagaStack;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cli(args, env);
  const state = (orderId: string): Promise<SagaView> => getSagaState(stack.client, orderId);
  const startArgs = (orderId: string, customer: string, ...extra: string[]) => [
    'start',
    '--order',
    orderId,
    '--customer',
    customer,
    '--item',
    'KB-001:1',
    '--ship-to',
    SHIP_TO,
    ...extra,
  ];

  before(async () => {
    stack = await startSagaStack();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      TEMPORAL_UI_URL: UI_URL,
    };
  });
  after(() => stack?.stop());

  it('start --wait of a happy order prints the workflow id, the web UI link and APPROVED', async () => {
    const r = await run(...startArgs('ord-cli-happy', 'cust-alice', '--wait'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /workflow id: ord-cli-happy/);
    assert.ok(r.stdout.includes(`${UI_URL}/namespaces/${stack.temporal.namespace}/workflows/ord-cli-happy`), r.stdout);
    assert.match(r.stdout, /APPROVED: order ord-cli-happy \(total 89\.00, tracking TRK-/);
    assert.equal(r.stderr, '');
  });

  it('generates an order id when --order is not given; --json start and result are one JSON document each', async () => {
    const started = await run(
      '--json',
      'start',
      '--customer',
      'cust-alice',
      '--item',
      'KB-001:2',
      '--ship-to',
      SHIP_TO,
    );
    assert.equal(started.code, 0, started.stderr);
    const doc = parseJson(started);
    assert.match(doc.orderId, /^ord-[0-9a-f]{8}$/);
    assert.equal(doc.workflowId, doc.orderId);
    assert.equal(doc.taskQueue, stack.taskQueue);
    assert.equal(doc.uiUrl, `${UI_URL}/namespaces/${stack.temporal.namespace}/workflows/${doc.orderId}`);

    // --json after the command works as well as before it
    const result = await run('result', doc.orderId, '--json');
    assert.equal(result.code, 0, result.stderr);
    const view = parseJson(result);
    assert.equal(view.outcome, 'APPROVED');
    assert.equal(view.totalCents, 17800);
    assert.equal(view.state.status, 'COMPLETED');
  });

  it('a rejected order: result shows REJECTED with the reason and the compensations in the order run', async () => {
    const started = await run(...startArgs('ord-cli-broke', 'cust-broke'));
    assert.equal(started.code, 0, started.stderr);
    const r = await run('result', 'ord-cli-broke');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^REJECTED: order ord-cli-broke: charge-payment: /m);
    const lines = r.stdout.split('\n');
    const compensations = lines
      .filter((l) => /^\s+✔ (cancel-shipment|release-inventory|reject-order)\s/.test(l))
      .map((l) => l.trim().split(/\s+/)[1]);
    assert.deepEqual(compensations, ['cancel-shipment', 'release-inventory', 'reject-order']);
    assert.match(r.stdout, /^Compensations \(rejected\), in the order run:$/m);

    const json = parseJson(await run('--json', 'result', 'ord-cli-broke'));
    assert.equal(json.outcome, 'REJECTED');
    assert.deepEqual(
      json.state.compensations.map((c: { name: string; status: string }) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
  });

  it('status renders the timeline: marks, kinds with the pivot, failure message, compensations, cancellability', async () => {
    const happy = await run('status', 'ord-cli-happy');
    assert.equal(happy.code, 0, happy.stderr);
    assert.match(happy.stdout, /Order ord-cli-happy: saga COMPLETED \(workflow COMPLETED\)/);
    assert.match(happy.stdout, /not cancellable/);
    assert.match(happy.stdout, /^ {2}✔ create-order\s+compensatable$/m);
    // The parallel groups: one "parallel" line, the members indented under it.
    assert.match(
      happy.stdout,
      /^ {2}⇉ parallel \(2 at once\)\n {4}✔ reserve-inventory\s+compensatable\n {4}✔ schedule-shipment\s+compensatable\n {2}✔ charge-payment/m,
    );
    assert.match(
      happy.stdout,
      /^ {2}⇉ parallel \(3 at once\)\n {4}✔ confirm-reservation\s+retriable\n {4}✔ confirm-shipment\s+retriable\n {4}✔ approve-order\s+retriable$/m,
    );
    assert.match(happy.stdout, /^ {2}✔ charge-payment\s+PIVOT/m);
    assert.doesNotMatch(happy.stdout, /Compensations/);

    const broke = await run('status', 'ord-cli-broke');
    assert.equal(broke.code, 0, broke.stderr);
    assert.match(broke.stdout, /saga COMPENSATED/);
    assert.match(broke.stdout, /^ {2}✘ charge-payment\s+PIVOT.*— \S+/m, 'the failed step with its message');
    assert.match(broke.stdout, /^ {4}· confirm-reservation\s+retriable$/m, 'steps never run stay pending');
    assert.match(broke.stdout, /^Compensations \(rejected: charge-payment: insufficient funds/m);
    assert.match(broke.stdout, /^ {2}✔ release-inventory\s+undoes reserve-inventory/m);

    const json = parseJson(await run('--json', 'status', 'ord-cli-broke'));
    assert.equal(json.workflowStatus, 'COMPLETED');
    assert.equal(json.state.status, 'COMPENSATED');
  });

  it('cancels a slow saga before its pivot: the result says cancelled, with its compensations', async () => {
    const orderId = 'ord-cli-cancel';
    assert.equal((await run(...startArgs(orderId, 'cust-alice', '--fault', 'schedule-shipment=delay:10000'))).code, 0);
    await waitFor(
      'schedule-shipment to run',
      () => state(orderId),
      (s) => s.steps[2].status === 'RUNNING',
    );

    const status = await run('status', orderId);
    // The reservation, run at the same time, is done; the shipment still runs.
    assert.match(status.stdout, /^ {4}✔ reserve-inventory\s+compensatable\n {4}▶ schedule-shipment\s+compensatable$/m);
    assert.match(status.stdout, /now: schedule-shipment/);
    assert.match(status.stdout, /^ {2}· charge-payment\s+PIVOT/m);
    assert.match(status.stdout, /\n {2}cancellable/);
    // The unwind preview: what a failure now would undo, the running step's compensation included.
    assert.match(status.stdout, /^If it failed now: cancel-shipment → release-inventory → reject-order$/m);

    const cancel = await run('cancel', orderId);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /Cancellation requested for order ord-cli-cancel/);

    const result = await run('result', orderId);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^CANCELLED: order ord-cli-cancel/);
    assert.match(result.stdout, /^Compensations \(cancelled\), in the order run:$/m);
    assert.match(result.stdout, /✔ cancel-order\s+undoes create-order/);
    // The shipment was still being scheduled when it was cancelled: there was nothing to cancel yet.
    assert.match(result.stdout, /✔ cancel-shipment\s+undoes schedule-shipment\s+\(no-op/);

    const again = await run('cancel', orderId);
    assert.equal(again.code, 3);
    assert.match(again.stdout, /already ended/);
  });

  it('refuses to cancel a saga past its pivot, with exit code 2; the saga completes', async () => {
    const orderId = 'ord-cli-pivot';
    // 12 s: long enough for two cancel calls on a loaded machine, short enough to answer within the 15 s step timeout.
    assert.equal((await run(...startArgs(orderId, 'cust-alice', '--fault', 'approve-order=delay:12000'))).code, 0);
    await waitFor(
      'the saga to commit',
      () => state(orderId),
      (s) => s.status === 'COMMITTED',
    );

    const cancel = await run('cancel', orderId);
    assert.equal(cancel.code, 2, cancel.stdout + cancel.stderr);
    assert.match(cancel.stdout, /Cannot cancel order ord-cli-pivot: the saga is past its pivot/);

    const json = parseJson(await run('--json', 'cancel', orderId));
    assert.equal(json.cancelled, false);
    assert.equal(json.refusal, 'past-pivot');

    const result = await run('result', orderId);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^APPROVED: order ord-cli-pivot/);
  });

  it('cancel while the pivot runs: refused with exit 2 (it will complete or compensate by itself)', async () => {
    const orderId = 'ord-cli-at-pivot';
    assert.equal((await run(...startArgs(orderId, 'cust-alice', '--fault', 'charge-payment=delay:10000'))).code, 0);
    await waitFor(
      'the pivot to run',
      () => state(orderId),
      (s) => s.currentStep === 'charge-payment' && !s.cancellable,
    );
    const cancel = await run('cancel', orderId);
    assert.equal(cancel.code, 2, cancel.stdout + cancel.stderr);
    assert.match(
      cancel.stdout,
      /^Cannot cancel order ord-cli-at-pivot: the saga is at its pivot \(charge-payment is running\)/,
    );
    assert.match((await run('result', orderId)).stdout, /^APPROVED: order ord-cli-at-pivot/);
  });

  it('cancel while the saga compensates: nothing to cancel, exit 3', async () => {
    const orderId = 'ord-cli-compensating';
    assert.equal(
      (
        await run(
          ...startArgs(
            orderId,
            'cust-alice',
            '--fault',
            'charge-payment=reject',
            '--fault',
            'cancel-shipment=delay:10000',
          ),
        )
      ).code,
      0,
    );
    await waitFor(
      'the saga to compensate',
      () => state(orderId),
      (s) => s.status === 'COMPENSATING',
    );
    const cancel = await run('cancel', orderId);
    assert.equal(cancel.code, 3, cancel.stdout + cancel.stderr);
    assert.match(cancel.stdout, /^Cannot cancel order ord-cli-compensating: the saga is already compensating \(/);
    assert.match((await run('result', orderId)).stdout, /^REJECTED: order ord-cli-compensating/);
  });

  it('a compensation that fails: the saga waits for an operator (NEEDS_ATTENTION, exit 4) until it is resolved', async () => {
    const orderId = 'ord-cli-failed';
    // The inventory refuses the release (a business rejection: no retries): it is dead-lettered at once.
    const r = await run(
      ...startArgs(
        orderId,
        'cust-alice',
        '--fault',
        'charge-payment=reject',
        '--fault',
        'release-inventory=reject',
        '--wait',
      ),
    );
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^NEEDS_ATTENTION: order ord-cli-failed has not ended: it waits for an operator: release-inventory dead-lettered/m,
    );
    assert.match(r.stdout, /^ {2}✔ cancel-shipment\s+undoes schedule-shipment$/m);
    assert.match(
      r.stdout,
      /^ {2}⚠ release-inventory\s+undoes reserve-inventory\s+— dead-lettered \(#\d+, round 1\) after 1 attempt\(s\): injected_rejection: /m,
    );
    assert.match(
      r.stdout,
      /^ {6}waits for an operator: dead-letters retry ord-cli-failed, or dead-letters resolve ord-cli-failed --reason TEXT$/m,
    );
    assert.match(r.stdout, /^ {2}· reject-order\s+undoes create-order$/m, 'the next compensation waits its turn');

    const status = await run('status', orderId);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^Order ord-cli-failed: saga NEEDS_ATTENTION \(workflow RUNNING\), now: release-inventory$/m,
    );
    assert.match(status.stdout, /^ {2}not cancellable: compensating, and waits for an operator$/m);
    assert.match(status.stdout, /^ {2}⚠ waits for an operator: release-inventory dead-lettered/m);

    // Nothing was charged: cancel says it is already compensating and waits for an operator (exit 3), not "past its pivot".
    const cancel = await run('cancel', orderId);
    assert.equal(cancel.code, 3, cancel.stdout + cancel.stderr);
    assert.match(
      cancel.stdout,
      /^Cannot cancel order ord-cli-failed: the saga is already compensating \(.*\) and waits for an operator \(release-inventory dead-lettered\): see dead-letters list\.$/m,
    );
    assert.doesNotMatch(cancel.stdout, /pivot|charged/);
    assert.equal(parseJson(await run('--json', 'cancel', orderId)).refusal, 'needs-attention');

    const waiting = await waitFor(
      'the saga to be listed as NEEDS_ATTENTION',
      async () => parseJson(await run('--json', 'list', '--status', 'needs_attention')),
      (doc) => doc.sagas.some((s: { workflowId: string }) => s.workflowId === orderId),
    );
    assert.ok(waiting.sagas.every((s: { sagaStatus: string }) => s.sagaStatus === 'NEEDS_ATTENTION'));

    // Resolved by hand: the saga goes on with the remaining compensation and ends REJECTED.
    const resolved = await run('dead-letters', 'resolve', orderId, '--reason', 'released by hand', '--wait');
    assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
    assert.match(resolved.stdout, /^REJECTED: order ord-cli-failed: charge-payment: /m);
    assert.match(
      resolved.stdout,
      /^ {2}✍ release-inventory\s+undoes reserve-inventory\s+— resolved by an operator: released by hand$/m,
    );
    assert.match(resolved.stdout, /^ {2}✔ reject-order\s+undoes create-order$/m);
  });

  it('list shows the sagas, filtered by saga status', async () => {
    const all = await waitFor(
      'the sagas to be listed',
      () => run('list', '--limit', '50'),
      (r) => ['ord-cli-happy', 'ord-cli-broke', 'ord-cli-cancel', 'ord-cli-pivot'].every((id) => r.stdout.includes(id)),
    );
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^SAGA\s+ID\s+WORKFLOW\s+STATUS\s+STARTED$/m);
    assert.match(all.stdout, /^order\s+ord-cli-happy\s+COMPLETED\s+COMPLETED\s+\d{4}-\d\d-\d\dT/m);
    assert.match(all.stdout, /^order\s+ord-cli-cancel\s+CANCELLED\s+COMPENSATED\s/m);
    // --saga NAME: one saga's list (every registered saga by default); an unknown saga is a usage error.
    const orders = parseJson(await run('--json', 'list', '--saga', 'order', '--limit', '50'));
    assert.ok(
      orders.sagas.length >= 4 && orders.sagas.every((s: { saga: string }) => s.saga === 'order'),
      JSON.stringify(orders),
    );
    const unknownSaga = await run('list', '--saga', 'ordr');
    assert.equal(unknownSaga.code, 64);
    assert.match(unknownSaga.stderr, /unknown saga "ordr"; one of: order/);

    const compensated = parseJson(await run('--json', 'list', '--status', 'compensated'));
    const ids = compensated.sagas.map((s: { workflowId: string }) => s.workflowId);
    assert.ok(ids.includes('ord-cli-broke') && ids.includes('ord-cli-cancel'), ids.join());
    assert.ok(!ids.includes('ord-cli-happy'), ids.join());
    assert.ok(compensated.sagas.every((s: { sagaStatus: string }) => s.sagaStatus === 'COMPENSATED'));

    const one = parseJson(await run('--json', 'list', '--limit', '1'));
    assert.equal(one.sagas.length, 1);
  });

  it('bad arguments: exit 64, a one-line message, and no saga started', async () => {
    const cases: [string, string[], RegExp][] = [
      ['bad --item', startArgs('ord-cli-bad-item', 'cust-alice', '--item', 'LT-005'), /--item .*expected SKU:QTY/],
      [
        'unknown fault action',
        startArgs('ord-cli-bad-fault', 'cust-alice', '--fault', 'charge-card=reject'),
        /unknown action "charge-card"/,
      ],
      [
        'misspelt step',
        startArgs('ord-cli-typo', 'cust-alice', '--fault', 'reserve-inventry=transient:1'),
        /unknown action "reserve-inventry" of the order saga; one of: create-order, /,
      ],
      [
        'bad fault spec',
        startArgs('ord-cli-bad-spec', 'cust-alice', '--fault', 'charge-payment=explode'),
        /--fault .*charge-payment: invalid fault entry "explode"/,
      ],
      [
        'invalid order input',
        startArgs('ord-cli-bad-country', 'cust-alice').map((a) => (a === SHIP_TO ? 'A|B|C|D|Germany' : a)),
        /invalid order: .*destination\.country/,
      ],
      [
        'duplicate sku',
        startArgs('ord-cli-bad-dup', 'cust-alice', '--item', 'KB-001:2'),
        /invalid order: .*each sku may appear only once/,
      ],
    ];
    for (const [label, args, message] of cases) {
      const r = await run(...args);
      assert.equal(r.code, 64, `${label}: ${r.stderr}`);
      assert.match(r.stderr, message, label);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${label}: no stack trace`);
      assert.equal(r.stdout, '', label);
      const orderId = args[args.indexOf('--order') + 1];
      await assert.rejects(
        stack.client.workflow.getHandle(orderId).describe(),
        WorkflowNotFoundError,
        `${label}: nothing started`,
      );
    }
    const json = await run('--json', ...startArgs('ord-cli-bad-json', 'cust-alice', '--item', 'nope'));
    assert.equal(json.code, 64);
    assert.equal(parseJson(json).error.kind, 'usage');
  });

  it('an unknown order: "no saga with id X", exit 1; a duplicate order id is refused', async () => {
    for (const command of ['status', 'result', 'cancel']) {
      const r = await run(command, 'ord-cli-nope');
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      assert.equal(r.stderr, 'error: no saga with id ord-cli-nope\n');
    }
    const duplicate = await run(...startArgs('ord-cli-happy', 'cust-alice'));
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);
  });

  it('an unreachable server: exit 69 with one clear line, within a few seconds', async () => {
    const port = await getFreePort();
    for (const args of [['status', 'x'], startArgs('ord-cli-unreachable', 'cust-alice')]) {
      const r = await cli(args, { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
      assert.equal(r.code, 69, r.stderr);
      assert.equal(
        r.stderr,
        `error: cannot reach the Temporal server at 127.0.0.1:${port} (set TEMPORAL_ADDRESS or --address)\n`,
      );
      assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
    }
    const r = await run('--address', `127.0.0.1:${port}`, '--json', 'list');
    assert.equal(r.code, 69);
    assert.equal(parseJson(r).error.kind, 'unavailable');
  });
});
