import assert from 'node:assert/strict';
import { Connection, type Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { bundleSagaWorkflows } from '../../runtime/saga-worker';
import {
  awaitSagaResult,
  createSagaClient,
  getSagaState,
  recoverSagas,
  startSaga,
  type SagaRequest,
} from '../../cli/saga-client';
import type { InProcessStack } from '../../infra/stack/in-process';
import type { ServiceName } from '../../services/catalog';
import { orderProfile, returnProfile, type ExploreProfile } from '../../scripts/explore/profiles';
import { ServiceClient } from '../../activities/service-client';
import { orderSaga } from '../../workflows/order-saga';
import { returnSaga } from '../../workflows/return-saga';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { waitFor } from '../reliability/observe';
import { runCli } from '../support/cli';
import { installQuietRuntime, quietLogger, startTestServices } from '../support/saga-stack';
import { startTestTemporal, type TestTemporal } from '../support/temporal-target';
import { TEST_SERVICE_TOKEN } from '../support/services';

/**
 * Runs that Temporal ends without the saga's consent, recovered by the kit's recovery sweep (real dev server, real
 * services, real databases): terminated before the pivot, during compensation, at the pivot with the charge's outcome
 * unknown and after the pivot; a run timeout; a run stuck on a non-determinism error after a bad deploy. In each the
 * saga's invariants hold on the services' rows (the explorer's and chaos run's checks: nothing held, charged or
 * scheduled for an order that is not APPROVED, every idempotency key recorded once), and every request the recovery
 * made carried the ended run's keys, so nothing happened twice.
 */
describe('recovery of sagas Temporal ended without their consent (dev server)', function () {
  this.timeout(180_000);
  let temporal: TestTemporal;
  let stack: InProcessStack;
  let client: Client;
  let connection: Connection;
  let worker: Worker;
  let n = 0;
  const ctx = () => ({ client, taskQueue: stack.taskQueue, services: services() });
  const services = () =>
    new ServiceClient({
      urls: stack.urls,
      requestTimeoutMs: 10_000,
      authToken: TEST_SERVICE_TOKEN,
    });
  const databaseUrls = () =>
    Object.fromEntries(Object.entries(stack.services).map(([name, s]) => [name, s.databaseUrl])) as Record<
      ServiceName,
      string
    >;

  before(async () => {
    installQuietRuntime();
    // Temporal marks a run whose workflow task keeps failing after this many failures (its default is 5).
    temporal = await startTestTemporal({
      dynamicConfig: { 'system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute': 2 },
    });
    stack = await startTestServices(temporal, 'recovery');
    worker = await stack.startWorker();
    connection = await Connection.connect({ address: temporal.address });
    client = createSagaClient(connection, temporal.namespace);
  });
  after(async () => {
    await connection?.close();
    await stack?.stop();
  });

  const stateWhen = (sagaId: string, what: string, ok: (s: SagaView) => boolean) =>
    waitFor(what, async () => {
      const state = await getSagaState(client, sagaId);
      return ok(state) ? state : undefined;
    });
  const stepIs = (name: string, status: string) => (s: SagaView) =>
    s.steps.some((x) => x.name === name && x.status === status);

  /** Sweeps until the run is recovered (visibility is eventually consistent), and returns that sweep's report. */
  async function sweepRecovers(sagaId: string, options: Parameters<typeof recoverSagas>[2] = {}) {
    return waitFor('the sweep to recover ' + sagaId, async () => {
      const report = await recoverSagas(client, stack.taskQueue, options);
      return report.recovered.find((r) => r.sagaId === sagaId) ? report : undefined;
    });
  }

  /** The business outcome of the saga's latest run (the recovery run), and the invariants on the rows. */
  async function checkRecovered<Rows>(profile: ExploreProfile<Rows>, input: unknown, sagaId: string) {
    const ended = await awaitSagaResult(client, sagaId);
    const outcome = profile.outcome(
      ended.outcome === 'completed'
        ? { result: ended.result }
        : ended.outcome === 'cancelled'
          ? { cancelled: true }
          : { failed: ended.message },
    );
    const rows = await profile.readRows(databaseUrls(), input);
    assert.deepEqual(profile.check(input, String(outcome), rows), [], `invariants after recovery (${outcome})`);
    return { outcome, rows, keys: profile.requestKeys(rows) };
  }

  /** Every request of the saga (its run and its recovery run) was keyed by the first run's id. */
  function assertKeyedByRun(keys: string[], sagaId: string, runId: string) {
    const ofSaga = keys.filter((k) => k.startsWith(`${sagaId}:`));
    assert.ok(ofSaga.length > 0, 'the saga made requests');
    for (const key of ofSaga) assert.ok(key.startsWith(`${sagaId}:${runId}:`), `${key} has the first run's key root`);
  }

  async function startOrder(label: string, faults: Record<string, string>, customerId = 'cust-alice') {
    const orderId = `ord-recover-${label}-${++n}`;
    const input = { ...((await orderProfile.input(orderId, ctx())) as object), customerId } as SagaRequest<
      typeof orderSaga
    >;
    const handle = await startSaga(client, stack.taskQueue, orderSaga, { ...input, faults } as never);
    return { orderId, input, runId: handle.firstExecutionRunId };
  }

  const terminate = (sagaId: string, reason: string) => client.workflow.getHandle(sagaId).terminate(reason);
  const cliEnv = () => ({
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
  });

  it('terminated before the pivot: the recovery run compensates what took effect; status says so before and after', async () => {
    // The shipment request waits 3 s in the service: the run is terminated while it is in flight.
    const { orderId, input, runId } = await startOrder('before-pivot', { 'schedule-shipment': 'delay:3000' });
    await stateWhen(orderId, 'the shipment to be scheduling', stepIs('schedule-shipment', 'RUNNING'));
    await terminate(orderId, 'operator: looked stuck');

    const before = await runCli(['status', orderId], cliEnv());
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /Temporal ended this run \(terminated\) while the saga was RUNNING/);
    assert.match(before.stdout, /it left: create-order, reserve-inventory, schedule-shipment/);

    const report = await sweepRecovers(orderId);
    const entry = report.recovered.find((r) => r.sagaId === orderId)!;
    assert.equal(entry.ended, 'TERMINATED');
    assert.equal(entry.runId, runId);

    const { outcome, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'REJECTED');
    assertKeyedByRun(keys, orderId, runId);
    const state = await getSagaState(client, orderId);
    assert.equal(state.status, 'COMPENSATED');
    assert.equal(state.recovery?.runId, runId);
    assert.equal(state.recovery?.source, 'state');
    assert.deepEqual(state.recovery?.left, ['cancel-shipment', 'release-inventory', 'reject-order']);
    assert.match(state.compensationCause!.reason, /^saga terminated: operator: looked stuck$/);

    const after = await runCli(['status', orderId], cliEnv());
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, new RegExp(`recovery run ${entry.recoveryRunId} of run ${runId}, terminated`));
    assert.match(after.stdout, /it undoes: cancel-shipment, release-inventory, reject-order/);

    // A second sweep finds nothing more to do for it.
    const again = await recoverSagas(client, stack.taskQueue, {});
    assert.ok(!again.recovered.some((r) => r.sagaId === orderId), 'recovered once only');
  });

  it('terminated during compensation: the recovery finishes the unwinding with the same reason, nothing twice', async () => {
    // cust-broke cannot pay: the charge is refused and the saga compensates; releasing the stock takes 3 s.
    const { orderId, input, runId } = await startOrder(
      'compensating',
      { 'release-inventory': 'delay:3000' },
      'cust-broke',
    );
    const compensating = await stateWhen(orderId, 'release-inventory to run', (s) =>
      s.compensations.some((c) => c.name === 'release-inventory' && c.status === 'RUNNING'),
    );
    await terminate(orderId, 'operator: terminate during compensation');
    await sweepRecovers(orderId);

    const { outcome, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'REJECTED');
    assertKeyedByRun(keys, orderId, runId);
    const state = await getSagaState(client, orderId);
    // The reason the first run gave its compensations, kept: a replayed request with another reason would be refused.
    assert.equal(state.compensationCause!.reason, compensating.compensationCause!.reason);
    assert.deepEqual(
      state.compensations.map((c) => [c.name, c.status]),
      [
        ['cancel-shipment', 'COMPLETED'],
        ['release-inventory', 'COMPLETED'],
        ['reject-order', 'COMPLETED'],
      ],
    );
    assert.deepEqual(state.recovery?.left, ['release-inventory', 'reject-order']);
  });

  it('terminated while compensating a cancellation: the recovery run ends cancelled, as the run would have', async () => {
    // Cancelled while the reservation is in flight: the saga compensates with cancel-order, which takes 3 s.
    const { orderId, input, runId } = await startOrder('cancelled-compensating', {
      'reserve-inventory': 'delay:2500',
      'cancel-order': 'delay:3000',
    });
    await stateWhen(orderId, 'the reservation to be in flight', stepIs('reserve-inventory', 'RUNNING'));
    await client.workflow.getHandle(orderId).cancel();
    await stateWhen(orderId, 'cancel-order to run', (s) =>
      s.compensations.some((c) => c.name === 'cancel-order' && c.status === 'RUNNING'),
    );
    await terminate(orderId, 'operator: terminate a cancelled saga');
    await sweepRecovers(orderId);

    // The order row says CANCELLED (cancel-order ran): the saga's outcome must say so too, not REJECTED.
    const { outcome, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'CANCELLED');
    assertKeyedByRun(keys, orderId, runId);
    const state = await getSagaState(client, orderId);
    assert.equal(state.status, 'COMPENSATED');
    assert.equal(state.compensationCause?.cause, 'cancelled');
  });

  it('terminated at the pivot with the charge in flight: the charge happens, then is refunded with the rest', async () => {
    const { orderId, input, runId } = await startOrder('at-pivot', { 'charge-payment': 'delay:2000' });
    await stateWhen(orderId, 'the charge to be in flight', stepIs('charge-payment', 'RUNNING'));
    await terminate(orderId, 'operator: terminate at the pivot');
    // The charge request still arrives and takes effect after the run ended.
    await waitFor('the charge to take effect', async () => {
      const rows = await orderProfile.readRows(databaseUrls(), input);
      return rows.payments.some((p) => p.status === 'CHARGED') ? true : undefined;
    });
    await sweepRecovers(orderId);

    const { outcome, rows, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'REJECTED');
    assert.equal(rows.payments[0]?.status, 'REFUNDED');
    assertKeyedByRun(keys, orderId, runId);
  });

  it('terminated after the pivot: the recovery run drives the saga forward to APPROVED, charged once', async () => {
    const { orderId, input, runId } = await startOrder('after-pivot', { 'confirm-shipment': 'delay:2000' });
    await stateWhen(orderId, 'the saga to pass its pivot', (s) => s.status === 'COMMITTED');
    await terminate(orderId, 'operator: terminate after the pivot');
    await sweepRecovers(orderId);

    const { outcome, rows, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'APPROVED');
    assert.equal(rows.payments.length, 1);
    assertKeyedByRun(keys, orderId, runId);
    const state = await getSagaState(client, orderId);
    assert.equal(state.recovery?.direction, 'forward');
    assert.equal(state.status, 'COMPLETED');
  });

  it('a run timeout before the pivot: recovered like a passed deadline', async () => {
    const orderId = `ord-recover-timeout-${++n}`;
    const input = (await orderProfile.input(orderId, ctx())) as SagaRequest<typeof orderSaga>;
    const handle = await startSaga(
      client,
      stack.taskQueue,
      orderSaga,
      // The first compensation is slow too: should the shipment's attempt time out first (Temporal caps it at the
      // run's timeout) and the saga start compensating, the run still times out before it can end.
      { ...input, faults: { 'schedule-shipment': 'delay:4000', 'cancel-shipment': 'delay:4000' } },
      { workflowRunTimeout: '2s' },
    );
    await waitFor('the run to time out', async () =>
      (await client.workflow.getHandle(orderId).describe()).status.name === 'TIMED_OUT' ? true : undefined,
    );
    const report = await sweepRecovers(orderId);
    assert.equal(report.recovered.find((r) => r.sagaId === orderId)!.ended, 'TIMED_OUT');

    const { outcome, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'REJECTED');
    assertKeyedByRun(keys, orderId, handle.firstExecutionRunId);
    const state = await getSagaState(client, orderId);
    assert.equal(state.recovery?.ended, 'TIMED_OUT');
    // Temporal caps an activity's timeout at the run's: the shipment's attempt may time out first and the run start
    // compensating (cause failed) before the run itself times out; else the recovery unwinds for the deadline.
    assert.ok(['deadline', 'failed'].includes(state.compensationCause!.cause), JSON.stringify(state));
  });

  it('the return saga terminated before its pivot: compensated, its invariants hold', async () => {
    const returnId = `ret-recover-${++n}`;
    const input = (await returnProfile.input(returnId, ctx())) as SagaRequest<typeof returnSaga>;
    const step = returnSaga.meta.stepNames[1];
    const handle = await startSaga(client, stack.taskQueue, returnSaga, {
      ...input,
      faults: { [step]: 'delay:2500' },
    } as never);
    await stateWhen(returnId, `${step} to run`, stepIs(step, 'RUNNING'));
    await terminate(returnId, 'operator: terminate a return');
    await sweepRecovers(returnId);
    const { keys } = await checkRecovered(returnProfile, input, returnId);
    assertKeyedByRun(keys, returnId, handle.firstExecutionRunId);
  });

  it('stuck on a non-determinism error after a bad deploy: reported, then terminated and recovered from its history', async () => {
    const { orderId, input, runId } = await startOrder('stuck', { 'schedule-shipment': 'delay:1500' });
    await stateWhen(orderId, 'the shipment to be scheduling', stepIs('schedule-shipment', 'RUNNING'));
    // The bad deploy: the old worker goes, one with changed code takes the task queue over.
    await worker.shutdown();
    const badBundle = await bundleSagaWorkflows({
      workflowsPath: require.resolve('../support/bad-deploy-workflows'),
      logger: quietLogger,
    });
    worker = await stack.startWorker({ workflowBundle: badBundle });

    // A team that fixes forward: the sweep only reports the stuck run.
    const reported = await waitFor('the run to be reported stuck', async () => {
      const report = await recoverSagas(client, stack.taskQueue, { stuckAfter: '1s', recoverStuck: false });
      return report.stuck.find((s) => s.sagaId === orderId);
    });
    assert.equal(reported.terminated, false);
    assert.ok(
      reported.problems.some((p) => /NonDeterministic|WorkflowTaskFailed/i.test(p)),
      reported.problems.join(),
    );
    assert.equal((await client.workflow.getHandle(orderId).describe()).status.name, 'RUNNING');

    // Past the threshold, the sweep terminates the run and recovers it.
    const report = await sweepRecovers(orderId, { stuckAfter: '2s' });
    assert.ok(report.stuck.find((s) => s.sagaId === orderId)?.terminated, JSON.stringify(report.stuck));
    assert.equal(report.recovered.find((r) => r.sagaId === orderId)!.ended, 'STUCK');

    const { outcome, keys } = await checkRecovered(orderProfile, input, orderId);
    assert.equal(outcome, 'REJECTED');
    assertKeyedByRun(keys, orderId, runId);
    const state = await getSagaState(client, orderId);
    // The run cannot be replayed with the new code, so its progress came from its history's events.
    assert.equal(state.recovery?.source, 'history');
    assert.equal(state.recovery?.ended, 'STUCK');
  });
});
