/**
 * The saga kit's engine on its own: Temporal's time-skipping test server, the synthetic trip saga (trip-saga.ts,
 * written with the kit alone) and in-process partners (trip-activities.ts). No database, no service. Each test is
 * one rule of the engine (the package README's rules table). Written against the package's public entry points
 * alone; `npm test -w temporal-saga-kit` runs it.
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { SagaClient, type FaultPlan } from 'temporal-saga-kit/client';
import { bundleSagaWorkflows, sagaWorkerOptions } from 'temporal-saga-kit/worker';
import {
  activitiesOf,
  defineSaga,
  type SagaDefinition,
  type SagaRunOptions,
  type SagaTypes,
  type SagaView,
} from 'temporal-saga-kit/workflow';
import { installQuietRuntime, silentSdkLogger } from '../../../runtime/telemetry/worker-runtime';
import { startTimeSkippingServer } from '../../../infra/temporal/time-skipping-server';
import { TripPartners } from './trip-activities';
import {
  cautiousTripSaga,
  continuingTripSaga,
  parallelCompensationTripSaga,
  HOTEL_TASK_QUEUE,
  parallelTripSaga,
  stepOptionsTripSaga,
  tripInputSchema,
  tripSaga,
} from './trip-saga';

/** A start as these tests write it: the input, with the run options and the fault plan beside it. */
type SagaRequest<S extends SagaDefinition> = SagaTypes<S>['input'] & {
  options?: SagaRunOptions;
  faults?: FaultPlan<SagaTypes<S>['action']>;
};

type TripResult = { status: string; reason: string };

/** Retries short enough that a test polling in real time (time only skips while a result is awaited) is quick. */
const FAST = {
  stepRetry: { initialInterval: '50ms', maximumInterval: '50ms', maximumAttempts: 3 },
  compensationRetry: { initialInterval: '50ms', maximumInterval: '50ms', maximumAttempts: 2 },
};

describe('saga engine (time-skipping test server, synthetic trip saga, in-process activities)', function () {
  this.timeout(60_000);
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const partners = new TripPartners();
  const taskQueue = 'saga-engine';
  let n = 0;
  let sagas: SagaClient;
  // The client's calls, by the names these tests read best with.
  const awaitSagaResult = <R>(_: unknown, id: string) => sagas.result<R>(id);
  const cancelSaga = (_: unknown, id: string) => sagas.cancel(id);
  const retryCompensation = (_: unknown, id: string, compensation?: string) =>
    sagas.decide(id, { action: 'retry' }, compensation);
  const resolveCompensation = (_: unknown, id: string, reason: string, compensation?: string) =>
    sagas.decide(id, { action: 'resolve', reason }, compensation);

  before(async () => {
    installQuietRuntime();
    const [server, bundle] = await Promise.all([
      startTimeSkippingServer(),
      bundleSagaWorkflows({ workflowsPath: require.resolve('./workflows'), logger: silentSdkLogger as never }),
    ]);
    env = server;
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      ...sagaWorkerOptions({
        workflowBundle: bundle,
        activities: partners.activities(),
        deadLetters: partners.deadLetterPort(),
      }),
      // Heartbeats go out at once, so a slow partner call hears of its cancellation (trip-activities.ts).
      defaultHeartbeatThrottleInterval: '20ms',
      maxHeartbeatThrottleInterval: '20ms',
    });
    running = worker.run();
    sagas = new SagaClient({
      client: env.client,
      sagas: [
        tripSaga,
        cautiousTripSaga,
        parallelTripSaga,
        parallelCompensationTripSaga,
        continuingTripSaga,
        stepOptionsTripSaga,
      ],
      taskQueue,
    });
  });
  after(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
  });

  // Typed for the parallel variant, whose actions include every one of tripSaga's plus the receipt.
  const trip = (
    overrides: Partial<SagaRequest<typeof parallelTripSaga>> = {},
  ): SagaRequest<typeof parallelTripSaga> => ({
    tripId: `trip-${++n}`,
    traveller: 'Ada',
    nights: 2,
    options: FAST,
    ...overrides,
  });
  const start = <S extends SagaDefinition>(saga: S, request: SagaRequest<S>) => {
    const { options, faults, ...input } = request as SagaRequest<S> & Record<string, unknown>;
    return sagas.start(saga, input as SagaTypes<S>['input'], { run: options, faults });
  };
  const state = (id: string) => sagas.state(id);
  /** Awaits the saga's end (time skips meanwhile) and its result, which it must have: it completed or compensated. */
  async function finished(id: string): Promise<TripResult> {
    const ended = await awaitSagaResult<TripResult>(env.client, id);
    assert.equal(ended.outcome, 'completed', JSON.stringify(ended));
    return (ended as { result: TripResult }).result;
  }
  const compensations = (s: SagaView) => s.compensations.map((c) => `${c.name}:${c.status}`);
  async function until(id: string, what: string, ok: (s: SagaView) => boolean): Promise<SagaView> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const s = await state(id).catch(() => undefined);
      if (s && ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`${id}: timed out waiting for ${what}; state ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('happy path: every step in order, typed data flows from step to step and into the result', async () => {
    const request = trip();
    await start(tripSaga, request);
    const result = await awaitSagaResult<TripResult>(env.client, request.tripId);
    // 30000 flight + 2 nights × 10000 hotel + 5000 car, computed by the pivot from the data the steps returned.
    assert.deepEqual(result, {
      outcome: 'completed',
      result: {
        tripId: request.tripId,
        status: 'BOOKED',
        chargedCents: 55_000,
        itinerary: `ITINERARY-${request.tripId}`,
      },
    });
    assert.deepEqual(partners.actions(request.tripId), [
      'book-flight',
      'book-hotel',
      'rent-car',
      'charge-card',
      'send-itinerary',
    ]);
    const final = await state(request.tripId);
    assert.equal(final.status, 'COMPLETED');
    assert.deepEqual(final.data, {
      hotelCents: 20_000,
      carCents: 5_000,
      chargedCents: 55_000,
      itinerary: `ITINERARY-${request.tripId}`,
    });
    // The fault plan is no part of the business input or of any activity's arguments.
    for (const call of partners.calls.filter((c) => c.tripId === request.tripId))
      assert.ok(!JSON.stringify(call.args).includes('fault'), JSON.stringify(call.args));
  });

  it('reverse order: a rejection at the pivot undoes the completed steps last-first', async () => {
    const request = trip({ faults: { 'charge-card': 'reject' } });
    await start(tripSaga, request);
    const result = await finished(request.tripId);
    assert.equal(result.status, 'NOT_BOOKED');
    assert.match(result.reason, /^charge-card: charge-card declined/);
    const final = await state(request.tripId);
    assert.deepEqual(compensations(final), [
      'return-car:COMPLETED',
      'cancel-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.equal(final.compensationCause?.cause, 'rejected');
    assert.deepEqual(partners.held(request.tripId), []);
  });

  it('before-push: a step that took effect and then failed (its answer lost every time) is compensated too', async () => {
    const request = trip({ faults: { 'rent-car': 'lost-response:10' } });
    await start(tripSaga, request);
    const result = await finished(request.tripId);
    assert.equal(result.status, 'NOT_BOOKED');
    const final = await state(request.tripId);
    assert.deepEqual(compensations(final), [
      'return-car:COMPLETED',
      'cancel-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.equal(final.steps.find((s) => s.name === 'rent-car')?.status, 'FAILED');
    // The car was booked although the step failed: only the compensation registered before the step undid it.
    assert.equal(partners.bookings.get(`${request.tripId}:car`)?.status, 'CANCELLED');
    assert.deepEqual(partners.held(request.tripId), []);
  });

  it('classification: the saga says a "Declined" wrote nothing (its step is skipped); the default assumes an effect', async () => {
    const declared = trip({ faults: { 'book-hotel': 'reject' } });
    await start(tripSaga, declared);
    await awaitSagaResult<TripResult>(env.client, declared.tripId);
    assert.deepEqual(compensations(await state(declared.tripId)), ['cancel-flight:COMPLETED']);

    const cautious = trip({ faults: { 'book-hotel': 'reject' } });
    await start(cautiousTripSaga, cautious);
    await awaitSagaResult<TripResult>(env.client, cautious.tripId);
    const final = await state(cautious.tripId);
    assert.deepEqual(compensations(final), ['cancel-hotel:COMPLETED', 'cancel-flight:COMPLETED']);
    assert.equal(final.compensationCause?.cause, 'failed');
  });

  it('cancellation before the pivot: the running step is cancelled, every completed step undone (with the cancellation alternatives)', async () => {
    // The step is cancelled between two attempts (it fails, and its retry waits a minute). Cancelled while an attempt
    // runs, it would work as well, but the test server (1.x) then stops skipping time for the rest of the run.
    const request = trip({
      faults: { 'rent-car': 'transient:100' },
      options: { stepRetry: { initialInterval: '1m', maximumInterval: '1m', maximumAttempts: 100 } },
    });
    await start(tripSaga, request);
    await until(request.tripId, 'rent-car to run', (s) => s.currentStep === 'rent-car');
    while (!partners.actions(request.tripId).includes('rent-car')) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100)); // its first attempt has failed; the retry waits
    assert.deepEqual(await cancelSaga(env.client, request.tripId), { cancelled: true });
    const result = await awaitSagaResult<TripResult>(env.client, request.tripId);
    assert.equal(result.outcome, 'cancelled');
    assert.deepEqual(compensations(result.state!), [
      'return-car:COMPLETED',
      'release-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.deepEqual(partners.held(request.tripId), []);
  });

  it('after the pivot: cancellation is refused by the client and ignored by the workflow; the saga completes', async () => {
    const request = trip({ faults: { 'send-itinerary': 'delay:700' } });
    const handle = await start(tripSaga, request);
    const committed = await until(request.tripId, 'send-itinerary to run', (s) => s.currentStep === 'send-itinerary');
    assert.equal(committed.status, 'COMMITTED');
    assert.equal(committed.cancellable, false);
    const refused = await cancelSaga(env.client, request.tripId);
    assert.equal(refused.cancelled, false);
    assert.match(refused.cancelled ? '' : refused.reason, /past its pivot \(charge-card done/);
    await handle.cancel(); // the workflow itself ignores it
    const result = await finished(request.tripId);
    assert.equal(result.status, 'BOOKED');
  });

  it('deadline: a step retried for hours is cancelled when the 2 h deadline passes; skipped time, not real time', async () => {
    const request = trip({
      faults: { 'rent-car': 'transient:100' },
      options: {
        deadline: '2h',
        stepRetry: { initialInterval: '10m', maximumInterval: '10m', backoffCoefficient: 1, maximumAttempts: 1000 },
      },
    });
    const t0 = Date.now();
    await start(tripSaga, request);
    const result = await finished(request.tripId);
    assert.equal(result.status, 'NOT_BOOKED');
    assert.match(result.reason, /^saga deadline \(2h\) passed during rent-car/);
    const final = await state(request.tripId);
    assert.equal(final.compensationCause?.cause, 'deadline');
    assert.deepEqual(compensations(final), [
      'return-car:COMPLETED',
      'cancel-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms of real time`);
  });

  it('dead letter → retry: a compensation out of retries is logged, the saga waits NEEDS_ATTENTION, an operator retry resumes it', async () => {
    const request = trip({ faults: { 'charge-card': 'reject', 'cancel-hotel': 'transient:3' } });
    await start(tripSaga, request);
    const parked = await until(
      request.tripId,
      'a dead letter',
      (s) => s.status === 'NEEDS_ATTENTION' && s.compensations.some((c) => c.deadLetter?.id !== undefined),
    );
    assert.deepEqual(compensations(parked), [
      'return-car:COMPLETED',
      'cancel-hotel:DEAD_LETTERED',
      'cancel-flight:PENDING',
    ]);
    const logged = partners.deadLetters.filter((d) => d.sagaId === request.tripId);
    assert.deepEqual(
      logged.map((d) => [d.step, d.forStep, d.round, d.status]),
      [['cancel-hotel', 'book-hotel', 1, 'OPEN']],
    );
    // The update's validator refuses a compensation that does not wait, before anything reaches the history.
    await assert.rejects(
      retryCompensation(env.client, request.tripId, 'cancel-flight'),
      /cancel-flight is not waiting/,
    );
    // Round 2 fails once more (third failure), then succeeds: the saga goes on with the compensations after it.
    assert.deepEqual(await retryCompensation(env.client, request.tripId), {
      compensation: 'cancel-hotel',
      action: 'retry',
    });
    const result = await finished(request.tripId);
    assert.equal(result.status, 'NOT_BOOKED');
    const final = await state(request.tripId);
    assert.deepEqual(compensations(final), [
      'return-car:COMPLETED',
      'cancel-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.equal(final.status, 'COMPENSATED');
    assert.deepEqual(
      partners.deadLetters.filter((d) => d.sagaId === request.tripId).map((d) => d.status),
      ['RETRIED'],
    );
    assert.deepEqual(partners.held(request.tripId), []);
  });

  it('dead letter → resolve: an operator records what was done by hand; the saga finishes unwinding', async () => {
    const request = trip({ faults: { 'charge-card': 'reject', 'cancel-hotel': 'reject' } });
    await start(tripSaga, request);
    await until(request.tripId, 'a dead letter', (s) => s.compensations.some((c) => c.deadLetter?.id !== undefined));
    await assert.rejects(resolveCompensation(env.client, request.tripId, '  '), /needs a reason/);
    await resolveCompensation(env.client, request.tripId, 'hotel cancelled by phone');
    const result = await finished(request.tripId);
    assert.equal(result.status, 'NOT_BOOKED');
    const final = await state(request.tripId);
    assert.deepEqual(compensations(final), [
      'return-car:COMPLETED',
      'cancel-hotel:RESOLVED',
      'cancel-flight:COMPLETED',
    ]);
    assert.equal(final.compensations[1].resolution, 'hotel cancelled by phone');
    assert.deepEqual(
      partners.deadLetters.filter((d) => d.sagaId === request.tripId).map((d) => [d.status, d.resolution]),
      [['RESOLVED', 'hotel cancelled by phone']],
    );
  });

  it('parallel compensation: all run at once; one dead-lettered does not hold up the others', async () => {
    const request = trip({
      faults: { 'charge-card': 'reject', 'cancel-hotel': 'transient:100' },
      options: FAST,
    });
    await start(parallelCompensationTripSaga, request);
    const parked = await until(
      request.tripId,
      'the others to finish',
      (s) => s.status === 'NEEDS_ATTENTION' && s.compensations.filter((c) => c.status === 'COMPLETED').length === 2,
    );
    assert.deepEqual(compensations(parked), [
      'return-car:COMPLETED',
      'cancel-hotel:DEAD_LETTERED',
      'cancel-flight:COMPLETED',
    ]);
    await resolveCompensation(env.client, request.tripId, 'cancelled by hand', 'cancel-hotel');
    assert.equal((await finished(request.tripId)).status, 'NOT_BOOKED');
  });

  it('continue on compensation error: in order, the ones after a dead-lettered compensation still run while it waits', async () => {
    const request = trip({
      faults: { 'charge-card': 'reject', 'return-car': 'transient:100' },
      options: FAST,
    });
    await start(continuingTripSaga, request);
    const parked = await until(
      request.tripId,
      'the rest to run',
      (s) => s.compensations.filter((c) => c.status === 'COMPLETED').length === 2,
    );
    assert.deepEqual(compensations(parked), [
      'return-car:DEAD_LETTERED',
      'cancel-hotel:COMPLETED',
      'cancel-flight:COMPLETED',
    ]);
    assert.equal(parked.status, 'NEEDS_ATTENTION');
    await resolveCompensation(env.client, request.tripId, 'car returned at the desk');
    assert.equal((await finished(request.tripId)).status, 'NOT_BOOKED');
  });

  it('unwind preview: while it runs, the state says which compensations a failure now would run, in order; none after the pivot', async () => {
    const request = trip({ faults: { 'rent-car': 'delay:600', 'send-itinerary': 'delay:600' } });
    await start(tripSaga, request);
    const during = await until(request.tripId, 'rent-car to run', (s) => s.currentStep === 'rent-car');
    // The running step's own compensation is included: it may take effect and then fail.
    assert.deepEqual(during.unwindPreview, {
      parallel: false,
      compensations: [
        { name: 'return-car', forStep: 'rent-car' },
        { name: 'cancel-hotel', forStep: 'book-hotel' },
        { name: 'cancel-flight', forStep: 'book-flight' },
      ],
    });
    const committed = await until(request.tripId, 'send-itinerary to run', (s) => s.currentStep === 'send-itinerary');
    assert.equal(committed.unwindPreview, undefined);
    await awaitSagaResult<TripResult>(env.client, request.tripId);

    const parallel = trip({ faults: { 'book-hotel': 'delay:500' }, options: FAST });
    await start(parallelCompensationTripSaga, parallel);
    const p = await until(parallel.tripId, 'book-hotel to run', (s) => s.currentStep === 'book-hotel');
    assert.deepEqual(p.unwindPreview, {
      parallel: true,
      compensations: [
        { name: 'cancel-hotel', forStep: 'book-hotel' },
        { name: 'cancel-flight', forStep: 'book-flight' },
      ],
    });
    await awaitSagaResult<TripResult>(env.client, parallel.tripId);
  });

  it('bad input fails the workflow at once, non-retryably, before any step', async () => {
    const handle = await env.client.workflow.start(tripSaga.workflowType, {
      taskQueue,
      workflowId: 'trip-bad-input',
      args: [{ tripId: 'trip-bad-input', traveller: '', nights: 99 }],
    });
    const result = await awaitSagaResult<TripResult>(env.client, handle.workflowId);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.type, 'InvalidSagaInput');
    assert.match(result.message, /invalid trip saga input: .*traveller/);
    assert.deepEqual(partners.actions('trip-bad-input'), []);
  });

  it("per-step options: the author's task queue, timeouts and retries reach each activity; a local step runs in the workflow's worker", async () => {
    // The hotel's own workers: its task queue only, the same partners.
    const hotelWorker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: HOTEL_TASK_QUEUE,
      activities: partners.activities(),
    });
    const scheduled = await hotelWorker.runUntil(async () => {
      const request = trip({ faults: { 'charge-card': 'reject' }, options: undefined });
      await start(stepOptionsTripSaga, request);
      assert.equal((await finished(request.tripId)).status, 'NOT_BOOKED');
      const history = await env.client.workflow.getHandle(request.tripId).fetchHistory();
      return history.events!.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes;
        return a ? [a] : [];
      });
    });
    const seconds = (d: unknown) => Number((d as { seconds?: unknown } | null | undefined)?.seconds ?? 0);
    const [flight, hotel, cancelHotel, cancelFlight] = scheduled;
    assert.equal(scheduled.length, 4, 'the charge ran as a local activity: no activity task scheduled for it');
    assert.deepEqual(
      [flight.taskQueue?.name, seconds(flight.startToCloseTimeout), flight.retryPolicy?.maximumAttempts],
      [taskQueue, 15, 5],
      'the kit defaults for a forward step',
    );
    assert.deepEqual(
      [hotel.taskQueue?.name, seconds(hotel.startToCloseTimeout), hotel.retryPolicy?.maximumAttempts],
      [HOTEL_TASK_QUEUE, 42, 7],
      "the hotel's own options",
    );
    assert.deepEqual(
      [
        cancelHotel.taskQueue?.name,
        seconds(cancelHotel.scheduleToCloseTimeout),
        cancelHotel.retryPolicy?.maximumAttempts,
      ],
      [HOTEL_TASK_QUEUE, 300, 20],
      "its compensation's own options over the kit's compensation defaults",
    );
    assert.equal(cancelFlight.taskQueue?.name, taskQueue);
  });

  it('the metadata lists steps, kinds and compensations in order, for the client, the CLI and the tests', () => {
    assert.deepEqual(tripSaga.meta.steps, [
      { name: 'book-flight', kind: 'compensatable', compensations: ['cancel-flight'] },
      { name: 'book-hotel', kind: 'compensatable', compensations: ['release-hotel', 'cancel-hotel'] },
      { name: 'rent-car', kind: 'compensatable', compensations: ['return-car'] },
      { name: 'charge-card', kind: 'pivot', compensations: ['refund-card'] },
      { name: 'send-itinerary', kind: 'retriable', compensations: [] },
    ]);
    assert.equal(tripSaga.workflowType, 'tripSaga');
    assert.equal(cautiousTripSaga.workflowType, 'cautiousTripSaga');
    assert.match(
      tripSaga.details,
      /book flight → book hotel → rent car → \*\*charge card \(pivot\)\*\* → send itinerary/,
    );
  });

  describe('parallel groups (parallelTripSaga: flight, then hotel ‖ car, the charge, then itinerary ‖ receipt)', () => {
    const parallelTrip = (
      overrides: Partial<SagaRequest<typeof parallelTripSaga>> = {},
    ): SagaRequest<typeof parallelTripSaga> => ({
      tripId: `trip-${++n}`,
      traveller: 'Ada',
      nights: 2,
      options: FAST,
      ...overrides,
    });
    const steps = (s: SagaView) => s.steps.map((x) => `${x.name}:${x.status}`);

    it('members run at once; their data joins after the group; a group after the pivot runs every member to completion', async () => {
      const request = parallelTrip({
        faults: {
          'book-hotel': 'delay:400',
          'rent-car': 'delay:400',
          'send-itinerary': 'delay:400',
          'email-receipt': 'delay:400',
        },
      });
      await start(parallelTripSaga, request);
      const before = await until(
        request.tripId,
        'both members to run',
        (s) => s.steps[1].status === 'RUNNING' && s.steps[2].status === 'RUNNING',
      );
      assert.equal(before.currentStep, 'book-hotel + rent-car');
      assert.equal(before.cancellable, true);
      // Both members' compensations are registered before the group starts.
      assert.deepEqual(
        before.unwindPreview?.compensations.map((c) => c.name),
        ['return-car', 'cancel-hotel', 'cancel-flight'],
      );
      const after = await until(
        request.tripId,
        'the group after the pivot',
        (s) => s.steps[4].status === 'RUNNING' && s.steps[5].status === 'RUNNING',
      );
      assert.equal(after.status, 'COMMITTED');
      assert.equal(after.unwindPreview, undefined);
      const result = await finished(request.tripId);
      assert.deepEqual(result, {
        tripId: request.tripId,
        status: 'BOOKED',
        chargedCents: 55_000,
        itinerary: `ITINERARY-${request.tripId}`,
        receipt: `RECEIPT-${request.tripId}`,
      });
      const final = await state(request.tripId);
      assert.deepEqual(steps(final), [
        'book-flight:COMPLETED',
        'book-hotel:COMPLETED',
        'rent-car:COMPLETED',
        'charge-card:COMPLETED',
        'send-itinerary:COMPLETED',
        'email-receipt:COMPLETED',
      ]);
      assert.deepEqual(final.compensations, []);
      assert.deepEqual(partners.held(request.tripId).sort(), [
        'car',
        'charge',
        'flight',
        'hotel',
        'itinerary',
        'receipt',
      ]);
    });

    it('a member rejected: the group settles, the other member (completed after the rejection) is compensated, the rejected one is not', async () => {
      const request = parallelTrip({ faults: { 'rent-car': 'reject', 'book-hotel': 'delay:500' } });
      await start(parallelTripSaga, request);
      const during = await until(
        request.tripId,
        'the car rejected while the hotel runs',
        (s) => s.steps[2].status === 'FAILED',
      );
      assert.equal(during.steps[1].status, 'RUNNING');
      assert.equal(during.status, 'RUNNING');
      const result = await finished(request.tripId);
      assert.equal(result.status, 'NOT_BOOKED');
      assert.match(result.reason, /^rent-car: rent-car declined/);
      const final = await state(request.tripId);
      assert.deepEqual(steps(final).slice(0, 3), ['book-flight:COMPLETED', 'book-hotel:COMPLETED', 'rent-car:FAILED']);
      assert.deepEqual(compensations(final), ['cancel-hotel:COMPLETED', 'cancel-flight:COMPLETED']);
      assert.equal(final.compensationCause?.cause, 'rejected');
      assert.equal(partners.bookings.get(`${request.tripId}:hotel`)?.status, 'CANCELLED');
      assert.equal(partners.bookings.get(`${request.tripId}:car`), undefined);
      assert.deepEqual(partners.held(request.tripId), []);
    });

    it('a member timed out after its effect: it is compensated, with the other member and the steps before', async () => {
      // The car is booked at once, but its answer comes after the 1 s step timeout, on each of its 2 attempts.
      const request = parallelTrip({
        faults: { 'rent-car': 'delay:1500' },
        options: { ...FAST, stepTimeout: '1s', stepRetry: { ...FAST.stepRetry, maximumAttempts: 2 } },
      });
      await start(parallelTripSaga, request);
      const result = await finished(request.tripId);
      assert.equal(result.status, 'NOT_BOOKED');
      const final = await state(request.tripId);
      assert.equal(final.steps[2].status, 'FAILED');
      assert.match(final.steps[2].failure?.type ?? '', /^Timeout/);
      assert.deepEqual(compensations(final), [
        'return-car:COMPLETED',
        'cancel-hotel:COMPLETED',
        'cancel-flight:COMPLETED',
      ]);
      assert.equal(final.compensationCause?.cause, 'failed');
      // The car was booked although its step failed: its compensation, registered before the group, undid it.
      assert.equal(partners.bookings.get(`${request.tripId}:car`)?.status, 'CANCELLED');
      assert.deepEqual(partners.held(request.tripId), []);
    });

    it('a cancellation while the group runs cancels both members and compensates both (with the cancellation alternatives)', async () => {
      // Both members fail and wait a minute to retry (the hotel after its effect), so the cancellation finds no
      // attempt running (see the cancellation test above).
      const slowRetry = { stepRetry: { initialInterval: '1m', maximumInterval: '1m', maximumAttempts: 100 } };
      const request = parallelTrip({
        faults: { 'book-hotel': 'lost-response:100', 'rent-car': 'transient:100' },
        options: slowRetry,
      });
      await start(parallelTripSaga, request);
      await until(request.tripId, 'the group to run', (s) => s.currentStep === 'book-hotel + rent-car');
      while (!['book-hotel', 'rent-car'].every((a) => partners.actions(request.tripId).includes(a)))
        await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await cancelSaga(env.client, request.tripId), { cancelled: true });
      const result = await awaitSagaResult<TripResult>(env.client, request.tripId);
      assert.equal(result.outcome, 'cancelled');
      assert.deepEqual(steps(result.state!).slice(1, 3), ['book-hotel:FAILED', 'rent-car:FAILED']);
      assert.deepEqual(compensations(result.state!), [
        'return-car:COMPLETED',
        'release-hotel:COMPLETED',
        'cancel-flight:COMPLETED',
      ]);
      assert.equal(partners.bookings.get(`${request.tripId}:hotel`)?.status, 'CANCELLED');
      assert.deepEqual(partners.held(request.tripId), []);
    });

    it('the metadata lists the group with its members; the details and the current details show it', async () => {
      assert.deepEqual(
        parallelTripSaga.meta.plan.map((p) =>
          'members' in p ? `${p.kind}(${p.members.map((m) => m.name).join(',')})` : p.name,
        ),
        ['book-flight', 'parallel(book-hotel,rent-car)', 'charge-card', 'parallel(send-itinerary,email-receipt)'],
      );
      assert.deepEqual(parallelTripSaga.meta.steps[1], {
        name: 'book-hotel',
        kind: 'compensatable',
        compensations: ['release-hotel', 'cancel-hotel'],
        group: 'book-hotel + rent-car',
      });
      assert.equal(parallelTripSaga.meta.stepNames.length, 6);
      assert.match(
        parallelTripSaga.details,
        /book flight → \(book hotel ‖ rent car\) → \*\*charge card \(pivot\)\*\* → \(send itinerary ‖ email receipt\)/,
      );
      const request = parallelTrip();
      await start(parallelTripSaga, request);
      await finished(request.tripId);
      const described = await env.client.workflow
        .getHandle(request.tripId)
        .query<{ currentDetails: string }>('__temporal_workflow_metadata');
      assert.match(
        described.currentDetails,
        /- ⇉ parallel _\(compensatable\)_\n {2}- ✔ book-hotel _\(compensatable\)_\n {2}- ✔ rent-car/,
      );
    });

    it('a malformed group is refused where the saga is defined', () => {
      const member = { run: async () => undefined, compensate: { name: 'undo', run: async () => undefined } };
      const define = (steps: Parameters<typeof defineSaga>[0]['steps']) => () =>
        defineSaga({
          name: 'bad',
          input: tripInputSchema,
          activities: activitiesOf<object>(),
          key: () => 'k',
          summary: () => '',
          steps,
          completed: () => 0,
          compensated: () => 0,
        });
      assert.throws(
        define((s) => s.parallel((g) => g.compensatable('a', member))),
        /parallel group a needs at least two steps/,
      );
      assert.throws(
        define((s) =>
          s
            .pivot('p', { run: async () => undefined })
            .parallel((g) =>
              g
                .compensatable('a', member)
                .compensatable('b', { ...member, compensate: { ...member.compensate, name: 'undo-b' } }),
            ),
        ),
        /compensatable step a comes after the pivot/,
      );
      assert.throws(
        define((s) =>
          s
            .compensatable('c', member)
            .pivot('p', { run: async () => undefined })
            .parallel((g) => g.retriable('a', member).compensatable('b', member)),
        ),
        /compensatable step b comes after the pivot/,
      );
    });
  });
});
