import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import { getFreePort } from '../../runtime/ports';
import { getSagaState, startSaga } from '../../cli/saga-client';
import type { SagaRequest } from '../../cli/saga-client';

/** An order saga start: the order, and (tests only) its fault plan and run options. */
type OrderRequest = SagaRequest<typeof orderSaga>;
import type { DeadLetterStatus } from '../../services/shared/dead-letters';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { parseCliJson as parseJson, runCli as cli, waitFor } from '../support/cli';
import { httpClient } from '../support/http';
import { startSagaStack, type SagaStack } from '../support/saga-stack';

/**
 * `client.ts dead-letters list | retry | resolve` (CLI subprocess) against a real dev server, the four real services
 * and a worker in this process. Each saga is rejected at the pivot (cust-broke cannot pay), so it unwinds, and its
 * release-inventory compensation fails: the saga records a dead letter in the orders service and waits for an operator.
 */
const DESTINATION = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};
/** Two quick attempts per round, so a round of failures takes well under a second. */
const COMPENSATION_RETRY = { initialInterval: '50ms', maximumInterval: '200ms', maximumAttempts: 2 };

interface DeadLetterRow {
  id: number;
  sagaId: string;
  step: string;
  round: number;
  status: DeadLetterStatus;
  resolution: string | null;
}

describe('client.ts dead-letters (CLI subprocess against a real saga stack)', function () {
  this.timeout(120_000);
  let stack: SagaStack;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cli(args, env);
  const state = (orderId: string): Promise<SagaView> => getSagaState(stack.client, orderId);
  const deadLetterRows = async (orderId: string): Promise<DeadLetterRow[]> => {
    const res = await httpClient(stack.services.orders.url).get(`/dead-letters?sagaId=${orderId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.deadLetters;
  };
  const startOrder = (orderId: string, customerId: string, faults: OrderRequest['faults']) =>
    startSaga(stack.client, stack.taskQueue, orderSaga, {
      orderId,
      customerId,
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: DESTINATION,
      faults,
      options: { compensationRetry: COMPENSATION_RETRY },
    });
  /** A saga rejected at the pivot (cust-broke cannot pay) whose release-inventory compensation gets the fault. */
  const startFailingRelease = (orderId: string, releaseFault: string) =>
    startOrder(orderId, 'cust-broke', { 'release-inventory': releaseFault });
  const waitForOperator = (orderId: string) =>
    waitFor(
      `${orderId} to wait for an operator`,
      () => state(orderId),
      (s) => s.status === 'NEEDS_ATTENTION' && s.compensations.some((c) => c.deadLetter?.id !== undefined),
    );

  before(async () => {
    stack = await startSagaStack();
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      TEMPORAL_NAMESPACE: stack.temporal.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    };
  });
  after(() => stack?.stop());

  it('nothing waits: "no saga waits for an operator", and an empty list in --json', async () => {
    const r = await run('dead-letters', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'No saga waits for an operator.\n');
    assert.deepEqual(parseJson(await run('--json', 'dead-letters', 'list')), { deadLetters: [] });
  });

  it('a release that fails transiently: listed, retried by the operator, the saga ends REJECTED, the dead letter RETRIED', async () => {
    const orderId = 'ord-dl-retry';
    // Faults count per idempotency key: round 1's two attempts fail; the operator's retry fails once more, then succeeds.
    await startFailingRelease(orderId, 'transient:3');
    const waiting = await waitForOperator(orderId);
    const entry = waiting.compensations.find((c) => c.name === 'release-inventory')!;
    assert.equal(entry.status, 'DEAD_LETTERED');
    const id = entry.deadLetter!.id!;

    const listed = await waitFor(
      'dead-letters list to show the saga',
      () => run('dead-letters', 'list'),
      (r) => r.stdout.includes(orderId),
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^SAGA\s+ID\s+COMPENSATION\s+UNDOES\s+ROUND\s+ATTEMPTS\s+RECORDED\s+ID\s+ERROR$/m);
    assert.match(
      listed.stdout,
      new RegExp(
        `^order\\s+${orderId}\\s+release-inventory\\s+reserve-inventory\\s+1\\s+2\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+${id}\\s+\\S+: .+$`,
        'm',
      ),
    );
    // The error is cut to one short line in the table (the full text is in --json).
    assert.ok(
      entry.deadLetter!.lastError.length > 72 && !listed.stdout.includes(entry.deadLetter!.lastError),
      listed.stdout,
    );
    assert.match(listed.stdout, /ServiceUnavailable: inventory answered 503 .*…$/m);
    assert.match(listed.stdout, /^Run it again: .*dead-letters retry <id> \[--compensation NAME\]/m);
    assert.match(listed.stdout, /^Or, done by hand: .*dead-letters resolve <id> --reason TEXT/m);

    const json = parseJson(await run('--json', 'dead-letters', 'list'));
    assert.deepEqual(json.deadLetters, [
      {
        saga: 'order',
        sagaId: orderId,
        compensation: 'release-inventory',
        kind: 'compensation',
        forStep: 'reserve-inventory',
        deadLetter: entry.deadLetter,
        cause: waiting.compensationCause!.reason,
      },
    ]);
    assert.equal(json.deadLetters[0].deadLetter.attempts, 2);

    // status and result say it waits, and how to go on; result does not block on a saga that waits for an operator.
    const status = await run('status', orderId);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /saga NEEDS_ATTENTION \(workflow RUNNING\)/);
    assert.match(
      status.stdout,
      new RegExp(
        `^  ⚠ release-inventory\\s+undoes reserve-inventory\\s+— dead-lettered \\(#${id}, round 1\\) after 2 attempt\\(s\\): `,
        'm',
      ),
    );
    assert.match(
      status.stdout,
      new RegExp(
        `^      waits for an operator: dead-letters retry ${orderId}, or dead-letters resolve ${orderId} --reason TEXT$`,
        'm',
      ),
    );
    const result = await run('result', orderId);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`^NEEDS_ATTENTION: order ${orderId} has not ended`, 'm'));
    assert.equal(parseJson(await run('--json', 'result', orderId)).outcome, 'NEEDS_ATTENTION');

    assert.deepEqual(
      (await deadLetterRows(orderId)).map((r) => [r.id, r.step, r.round, r.status]),
      [[id, 'release-inventory', 1, 'OPEN']],
    );

    const retried = await run('dead-letters', 'retry', orderId, '--wait');
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    assert.match(
      retried.stdout,
      new RegExp(
        `^Retry accepted: order ${orderId} runs release-inventory again \\(dead letter #${id}, round 1\\)`,
        'm',
      ),
    );
    assert.match(retried.stdout, new RegExp(`^  follow it: .*status ${orderId}`, 'm'));
    assert.match(retried.stdout, new RegExp(`^REJECTED: order ${orderId}: charge-payment: `, 'm'));
    assert.match(
      retried.stdout,
      new RegExp(
        `^  ✔ release-inventory\\s+undoes reserve-inventory  \\(after an operator's retry of dead letter #${id}, round 1\\)$`,
        'm',
      ),
    );

    const final = parseJson(await run('--json', 'result', orderId));
    assert.equal(final.outcome, 'REJECTED');
    assert.equal(final.state.status, 'COMPENSATED');
    assert.deepEqual(
      final.state.compensations.map((c: { name: string; status: string }) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.deepEqual(
      (await deadLetterRows(orderId)).map((r) => [r.id, r.round, r.status]),
      [[id, 1, 'RETRIED']],
      'closed as retried; no second round',
    );
    const reservation = await httpClient(stack.services.inventory.url).get(`/reservations/${orderId}`);
    assert.equal(reservation.body.status, 'RELEASED');

    // The saga ended: a second retry is refused, and nothing is listed any more.
    const again = await run('dead-letters', 'retry', orderId);
    assert.equal(again.code, 2, again.stderr);
    assert.equal(
      again.stderr,
      `error: refused: the saga for order ${orderId} already ended (workflow COMPLETED); no compensation waits for an operator\n`,
    );
    await waitFor(
      'the list to be empty',
      () => run('dead-letters', 'list'),
      (r) => r.stdout === 'No saga waits for an operator.\n',
    );
  });

  it('a release the inventory refuses: resolved by hand with a reason; the saga ends, RESOLVED, the dead letter RESOLVED', async () => {
    const orderId = 'ord-dl-resolve';
    await startFailingRelease(orderId, 'reject');
    const id = (await waitForOperator(orderId)).compensations.find((c) => c.name === 'release-inventory')!.deadLetter!
      .id!;

    // Naming a compensation that does not wait is refused by the saga; nothing changes.
    const wrong = await run('dead-letters', 'resolve', orderId, '--compensation', 'reject-order', '--reason', 'x');
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.equal(
      wrong.stderr,
      `error: refused: order ${orderId}: reject-order is not waiting for an operator; waiting: release-inventory\n`,
    );
    assert.equal((await state(orderId)).status, 'NEEDS_ATTENTION');

    const resolved = await run('dead-letters', 'resolve', orderId, '--reason', '  released by hand  ');
    assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
    assert.match(
      resolved.stdout,
      new RegExp(
        `^Resolution accepted: order ${orderId}'s release-inventory \\(dead letter #${id}, round 1\\) is recorded as done by hand \\("released by hand"\\)`,
        'm',
      ),
    );

    const result = await run('result', orderId);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`^REJECTED: order ${orderId}: charge-payment: `, 'm'));
    assert.match(
      result.stdout,
      /^ {2}✍ release-inventory\s+undoes reserve-inventory\s+— resolved by an operator: released by hand$/m,
    );
    assert.match(result.stdout, /^ {2}✔ reject-order\s+undoes create-order$/m);
    const json = parseJson(await run('--json', 'result', orderId));
    const release = json.state.compensations.find((c: { name: string }) => c.name === 'release-inventory');
    assert.equal(release.status, 'RESOLVED');
    assert.equal(release.resolution, 'released by hand');
    assert.equal(json.state.status, 'COMPENSATED');

    const [row] = await deadLetterRows(orderId);
    assert.deepEqual([row.id, row.status, row.resolution], [id, 'RESOLVED', 'released by hand']);
  });

  it('a retry that fails again: retry --wait stops at the new dead letter (round 2, exit 4) instead of waiting forever', async () => {
    const orderId = 'ord-dl-again';
    await startFailingRelease(orderId, 'transient:4'); // round 1 and the operator's retry (round 2) both fail
    const id1 = (await waitForOperator(orderId)).compensations.find((c) => c.name === 'release-inventory')!.deadLetter!
      .id!;

    const retried = await run('--json', 'dead-letters', 'retry', orderId, '--wait');
    assert.equal(retried.code, 4, retried.stdout + retried.stderr);
    const doc = parseJson(retried);
    assert.equal(doc.deadLetter.id, id1);
    assert.equal(doc.result.outcome, 'NEEDS_ATTENTION');
    const again = doc.result.state.compensations.find((c: { name: string }) => c.name === 'release-inventory');
    assert.equal(again.status, 'DEAD_LETTERED');
    assert.equal(again.deadLetter.round, 2);
    assert.notEqual(again.deadLetter.id, id1);
    assert.deepEqual(
      (await deadLetterRows(orderId)).map((r) => [r.round, r.status]),
      [
        [2, 'OPEN'],
        [1, 'RETRIED'],
      ],
    );

    const resolved = await run('dead-letters', 'resolve', orderId, '--reason', 'released by hand', '--wait');
    assert.equal(resolved.code, 0, resolved.stdout + resolved.stderr);
    assert.match(resolved.stdout, new RegExp(`dead letter #${again.deadLetter.id}, round 2`));
    assert.match(
      resolved.stdout,
      /^ {2}✍ release-inventory\s+undoes reserve-inventory\s+— resolved by an operator: released by hand$/m,
    );
  });

  it('retry on a saga that waits for nothing, or an unknown order: a clear one-line refusal, non-zero exit', async () => {
    const orderId = 'ord-dl-busy';
    // A healthy saga, slow in its shipment step: running, but no compensation waits.
    await startOrder(orderId, 'cust-alice', { 'schedule-shipment': 'delay:8000' });
    await waitFor(
      'schedule-shipment to run',
      () => state(orderId),
      (s) => s.steps[2].status === 'RUNNING',
    );
    const r = await run('dead-letters', 'retry', orderId);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr,
      `error: refused: order ${orderId}: nothing is waiting for an operator (saga status RUNNING)\n`,
    );
    assert.equal(r.stdout, '');
    const json = await run('--json', 'dead-letters', 'retry', orderId, '--compensation', 'release-inventory');
    assert.equal(json.code, 2, json.stderr);
    assert.deepEqual(parseJson(json).error, {
      kind: 'refused',
      message: `refused: order ${orderId}: nothing is waiting for an operator (saga status RUNNING)`,
      exitCode: 2,
    });

    const unknown = await run('dead-letters', 'retry', 'ord-dl-nope');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'error: no saga with id ord-dl-nope\n');

    assert.equal((await run('result', orderId)).code, 0, 'the saga was not disturbed');
  });

  it('resolve without a usable --reason: usage error (64) before connecting', async () => {
    const unreachable = { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await getFreePort()}` };
    const cases: [string, string[], RegExp][] = [
      ['no --reason', [], /required option '--reason <text>' not specified/],
      ['blank', ['--reason', '   '], /^error: --reason must not be empty/],
      [
        'control characters',
        ['--reason', 'line one\nline two'],
        /^error: --reason must not contain control characters/,
      ],
      ['too long', ['--reason', 'x'.repeat(501)], /^error: --reason is 501 characters long; at most 500\n$/],
    ];
    for (const [label, extra, message] of cases) {
      const r = await cli(['dead-letters', 'resolve', 'ord-dl-resolve', ...extra], unreachable);
      assert.equal(r.code, 64, `${label}: ${r.stderr}`);
      assert.match(r.stderr, message, label);
      assert.equal(r.stdout, '', label);
    }
    const unknownCompensation = await cli(
      ['dead-letters', 'retry', 'ord-dl-resolve', '--compensation', 'undo-everything'],
      unreachable,
    );
    assert.equal(unknownCompensation.code, 64);
    assert.match(
      unknownCompensation.stderr,
      /one of: cancel-order, reject-order, release-inventory, cancel-shipment, refund-payment/,
    );
  });
});
