/**
 * Versioning a running saga, proven end to end: a saga runs to completion on v1 of its code, and its history is
 * replayed against v2 (a step that calls one more activity, gated with patched()): it replays. The same change
 * without the gate does not (DeterminismViolationError), and a saga started on v2 takes the new branch. This is the
 * procedure the package README describes ("Versioning a running saga"); the app's replay suite (test/replay) replays
 * the histories of its own sagas the same way.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { SagaClient } from 'temporal-saga-kit/client';
import { bundleSagaWorkflows, sagaWorkerOptions } from 'temporal-saga-kit/worker';
import { installQuietRuntime, silentSdkLogger } from '../../../runtime/telemetry/worker-runtime';
import { startTimeSkippingServer } from '../../../infra/temporal/time-skipping-server';
import { TripPartners } from './trip-activities';
import { defineVersionedTrip, RECEIPT_PATCH } from './versioning/versioned-trip';

type Version = 'v1' | 'v2' | 'v2-ungated';

describe('versioning a running saga: a gated change (patched) replays, an ungated one does not', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  const bundles = {} as Record<Version, WorkflowBundleWithSourceMap>;
  const partners = new TripPartners();

  before(async () => {
    installQuietRuntime();
    const versions: Version[] = ['v1', 'v2', 'v2-ungated'];
    const [server, ...built] = await Promise.all([
      startTimeSkippingServer(),
      ...versions.map((v) =>
        bundleSagaWorkflows({
          workflowsPath: require.resolve(`./versioning/workflows-${v}`),
          logger: silentSdkLogger as never,
        }),
      ),
    ]);
    env = server;
    versions.forEach((v, i) => (bundles[v] = built[i]));
  });
  after(async () => env?.teardown());

  /** Runs one saga on a worker with the given version's bundle; returns its result and its history. */
  async function runOn(version: Version, tripId: string) {
    const taskQueue = `versioning-${version}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      ...sagaWorkerOptions({ workflowBundle: bundles[version], activities: partners.activities() }),
    });
    const saga = defineVersionedTrip(version === 'v1' ? 'v1' : 'v2');
    const sagas = new SagaClient({ client: env.client, sagas: [saga], taskQueue });
    return worker.runUntil(async () => {
      await sagas.start(saga, { tripId });
      const result = await sagas.result(tripId);
      return { result, history: await env.client.workflow.getHandle(tripId).fetchHistory() };
    });
  }

  it('a v1 history replays on v1 and on the gated v2, and is refused by the ungated v2; a new saga on v2 sends the receipt', async () => {
    const v1 = await runOn('v1', 'trip-v1');
    assert.deepEqual(v1.result, {
      outcome: 'completed',
      result: { status: 'BOOKED', itinerary: 'ITINERARY-trip-v1' },
    });

    await Worker.runReplayHistory({ workflowBundle: bundles.v1 }, v1.history, 'trip-v1');
    await Worker.runReplayHistory({ workflowBundle: bundles.v2 }, v1.history, 'trip-v1');
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: bundles['v2-ungated'] }, v1.history, 'trip-v1'),
      (err: Error) => err instanceof DeterminismViolationError,
    );

    const v2 = await runOn('v2', 'trip-v2');
    assert.deepEqual(v2.result, {
      outcome: 'completed',
      result: { status: 'BOOKED', itinerary: 'ITINERARY-trip-v2', receipt: 'RECEIPT-trip-v2' },
    });
    const marker = v2.history.events?.find((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    assert.ok(marker, `the v2 saga recorded the ${RECEIPT_PATCH} marker`);
    await Worker.runReplayHistory({ workflowBundle: bundles.v2 }, v2.history, 'trip-v2');
  });
});
