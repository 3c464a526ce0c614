/**
 * Runs one failure point: starts one saga with the point's fault plan and run options, does what the point's drive
 * says while it runs (cancel, kill the worker, an operator's decision), waits for its end, then checks it twice:
 * against the kit's rules (the status and compensations the point expects, from the saga's state query) and
 * against the saga's own invariants (its profile's pure function over the services' rows for its key).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { isDeepStrictEqual } from 'node:util';
import { recoverSagas, resolveCompensation, retryCompensation, startSaga } from '../../cli/saga-client';
import type { SagaView } from 'temporal-saga-kit/workflow';
import type { PointEnvironment } from './time-skipping-environment';
import { heldQuery, holdSignal, releaseSignal } from './hold-interceptor';
import type { FailurePoint } from './points';
import type { Ended, ExploreProfile } from './profiles';
import { withoutRunId } from '../chaos/saga-keys';

export interface PointResult {
  point: FailurePoint;
  key: string;
  /** The business outcome (APPROVED, REJECTED, CANCELLED, …) and the saga's final status. */
  outcome: string;
  status?: string;
  violations: string[];
  ms: number;
}

const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Asks the saga's state until `ready` holds (or the saga ended, or the time is up, or `stop` is aborted). */
async function until(
  handle: WorkflowHandle,
  ready: (s: SagaView) => boolean,
  timeoutMs = 60_000,
  pollMs = 100,
  stop?: AbortSignal,
): Promise<SagaView | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (stop?.aborted) return undefined;
    const state = await handle.query<SagaView>('sagaState').catch(() => undefined);
    if (state && ready(state)) return state;
    const described = await handle.describe().catch(() => undefined);
    if (described && described.status.name !== 'RUNNING') return undefined;
    // An abort ends the wait at once (the sleep rejects; the loop's check then returns).
    await sleep(pollMs, undefined, { signal: stop }).catch(() => undefined);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for the saga's state`);
}

/**
 * The ended saga's state. A query on a closed workflow is answered by a worker replaying it; on a loaded machine
 * (or right after the worker was replaced) the first may time out: ask again.
 */
async function finalState(handle: WorkflowHandle): Promise<SagaView | undefined> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const state = await handle.query<SagaView>('sagaState').catch(() => undefined);
    if (state) return state;
    await sleep(1000);
  }
  return undefined;
}

async function untilHeld(
  handle: WorkflowHandle,
  ready: (h: { held: string[]; cancelled: boolean }) => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const h = await handle.query(heldQuery).catch(() => undefined);
    if (h && ready(h)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for the held step`);
}

async function ending(handle: WorkflowHandle): Promise<Ended> {
  try {
    return { result: await handle.result() };
  } catch (err) {
    const cause = (err as { cause?: { name?: string; message?: string } }).cause;
    if (err instanceof WorkflowFailedError && cause?.name === 'CancelledFailure') return { cancelled: true };
    return { failed: cause?.message ?? (err as Error).message };
  }
}

/**
 * The saga's end; or, when a compensation is dead-lettered with no operator left to decide (none in the point's
 * drive, or after the operator's decision), a violation and the saga terminated: it would wait forever. A
 * compensation that cannot get past a fault, e.g. one that is not idempotent (a fresh key is a fresh request to the
 * faults too), ends there.
 */
async function endingOrStuck(
  handle: WorkflowHandle,
  end: Promise<Ended>,
  violations: string[],
  decided?: { name: string; round?: number },
): Promise<Ended> {
  // The dead letter the operator decided on may still show until the saga acts on the decision: not stuck.
  const stuck = (c: SagaView['compensations'][number]) =>
    c.status === 'DEAD_LETTERED' && !(c.name === decided?.name && c.deadLetter?.round === decided.round);
  const stop = new AbortController();
  const deadLettered = until(handle, (s) => s.compensations.some(stuck), 600_000, 500, stop.signal).catch(
    () => undefined,
  );
  const first = await Promise.race([end, deadLettered.then((s) => s && { stuck: s })]);
  // No query left in flight once the point is done: the explorer closes its connection right after the last one.
  stop.abort();
  await deadLettered;
  if (!first || !('stuck' in first)) return first ?? end;
  const c = first.stuck.compensations.find(stuck)!;
  violations.push(
    `${c.name} was dead-lettered (${first.stuck.compensationCause?.reason ?? 'no cause'}): the saga waits for an operator; terminated`,
  );
  await handle.terminate('explore: a compensation dead-lettered with no operator to decide').catch(() => undefined);
  return end;
}

/** The saga's state once the compensation is dead-lettered and its dead letter recorded (or failed to be). */
async function parked(
  handle: WorkflowHandle,
  expected: { compensation: string; attempts: number },
  violations: string[],
): Promise<SagaView | undefined> {
  const state = await until(
    handle,
    (s) =>
      s.compensations.some(
        (c) =>
          c.name === expected.compensation &&
          c.status === 'DEAD_LETTERED' &&
          (c.deadLetter?.id !== undefined || c.deadLetter?.recordError !== undefined),
      ),
    300_000,
    250,
  );
  const c = state?.compensations.find((x) => x.name === expected.compensation);
  if (!c) violations.push(`${expected.compensation} was never dead-lettered`);
  else if (c.deadLetter?.recordError) violations.push(`its dead letter was not recorded: ${c.deadLetter.recordError}`);
  else if (c.deadLetter?.attempts !== expected.attempts)
    violations.push(
      `${expected.compensation} dead-lettered after ${c.deadLetter?.attempts} attempts, its policy has ${expected.attempts}`,
    );
  return state ?? (await handle.query<SagaView>('sagaState').catch(() => undefined));
}

/**
 * Terminates the run while the action runs (or once it completed), recovers it with the kit's sweep and follows the
 * recovery run to its end: that end is the point's. The recovery must name the terminated run and reuse its keys.
 */
async function terminated(
  env: PointEnvironment,
  profile: ExploreProfile,
  handle: WorkflowHandleWithFirstExecutionRunId,
  at: NonNullable<FailurePoint['drive']['terminate']>,
  { key, input }: { key: string; input: unknown },
  violations: string[],
): Promise<{ state: SagaView | undefined; outcome: string }> {
  const [action, status] = 'whileRunning' in at ? [at.whileRunning, 'RUNNING'] : [at.afterCompleted, 'COMPLETED'];
  const actionIs = (s: SagaView) =>
    [...s.steps, ...s.compensations].some((x) => x.name === action && x.status === status);
  // Polled often: "between" means before the next action got far.
  const seen = await until(handle, actionIs, 60_000, 20);
  if (!seen) {
    violations.push(`the saga ended before ${action} was ${status}: nothing was terminated`);
    return { state: await finalState(handle), outcome: profile.outcome(await ending(handle)) };
  }
  const firstRunId = handle.firstExecutionRunId;
  await handle.terminate(`explore: terminated with ${action} ${status}`);
  const recovery = env.client.workflow.getHandle(key, await recoveryRun(env, key, firstRunId));
  const ended = await endingOrStuck(recovery, ending(recovery), violations);
  const state = await finalState(recovery);
  if (state?.recovery?.runId !== firstRunId)
    violations.push(`the recovery run names run ${state?.recovery?.runId ?? 'none'}, not the terminated ${firstRunId}`);
  const rows = await profile.readRows(env.databaseUrls, input);
  violations.push(...keyedByRun(key, firstRunId, profile.requestKeys(rows)));
  return { state, outcome: profile.outcome(ended) };
}

/** Where the saga's state contradicts what the kit's rules say the point must come to. */
export function expectationViolations(point: FailurePoint, state: SagaView | undefined): string[] {
  if (!state) return ['no saga state to check'];
  const v: string[] = [];
  const { expect } = point;
  if (!expect.status.includes(state.status as never))
    v.push(`saga ended ${state.status}, expected ${expect.status.join(' or ')}`);
  if (state.status === 'COMPENSATED') {
    const done = (step: string) =>
      state.compensations.some((c) => c.forStep === step && (c.status === 'COMPLETED' || c.status === 'RESOLVED'));
    for (const step of expect.compensated) if (!done(step)) v.push(`${step} was not compensated`);
    for (const step of expect.notCompensated)
      if (done(step)) v.push(`${step} was compensated although it wrote nothing`);
  }
  if (expect.compensation) {
    const c = state.compensations.find((x) => x.name === expect.compensation!.name);
    if (c?.status !== expect.compensation.status)
      v.push(`${expect.compensation.name} is ${c?.status ?? 'absent'}, expected ${expect.compensation.status}`);
  }
  return v;
}

/**
 * The compensation under run-twice ran twice (its first answer was lost, so Temporal executed it again): an
 * idempotent one sent the same request both times, so the service recorded it under one key, its own
 * (<business key>:<activity>, activities/saga-call.ts). A key per execution means the second execution was a new
 * request: a second effect, unless the service happens to refuse it on its own.
 */
export function keyPerExecution(compensation: string, key: string, keys: string[]): string[] {
  const own = `${key}:${camel(compensation)}`;
  const its = keys.map(withoutRunId).filter((k) => k === own || k.startsWith(`${own}:`));
  if (its.length === 1 && its[0] === own) return [];
  return [
    `${compensation} executed twice sent ${its.length} idempotency key(s) (${its.join(', ') || 'none'}), not its one key ${own}: not idempotent`,
  ];
}

/** Every request of the saga (its run and its recovery run) carried the first run's id in its key (the key root). */
export function keyedByRun(key: string, firstRunId: string, keys: string[]): string[] {
  return keys
    .filter((k) => k.startsWith(`${key}:`) && !k.startsWith(`${key}:${firstRunId}:`))
    .map((k) => `${k} was not keyed by the terminated run's key root (${firstRunId})`);
}

/** An error and its causes, in one line (a failed workflow's message alone says only that it failed). */
const causes = (err: unknown): string => {
  const e = err as { message?: string; cause?: unknown } | undefined;
  return e?.cause ? `${e.message}: ${causes(e.cause)}` : String(e?.message ?? err);
};

/**
 * Runs the kit's recovery sweep until the saga's latest run is a new one (the recovery of the terminated run): the
 * sweep lists ended runs from visibility, which is eventually consistent, and another point's sweep may be the one
 * that recovers this saga (the explorer runs several at once), so the saga's latest run is what counts.
 */
async function recoveryRun(env: PointEnvironment, key: string, endedRunId: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const latest = await env.client.workflow
      .getHandle(key)
      .describe()
      .catch(() => undefined);
    if (latest && latest.runId !== endedRunId) return latest.runId;
    await recoverSagas(env.client, env.taskQueue, {}).catch((err: Error) => {
      throw new Error(`the recovery sweep failed: ${causes(err)}`);
    });
    await sleep(200);
  }
  throw new Error(`no recovery run of ${key} after ${timeoutMs} ms of sweeps`);
}

export async function runPoint(
  env: PointEnvironment,
  profile: ExploreProfile,
  point: FailurePoint,
  key: string,
): Promise<PointResult> {
  const t0 = performance.now();
  const input = await profile.input(key, { client: env.client, taskQueue: env.taskQueue, services: env.services });
  const handle = await startSaga(
    env.client,
    env.taskQueue,
    profile.saga,
    { ...(input as object), options: point.options, faults: point.faults } as never,
    { workflowTaskTimeout: '3s' },
  );
  // Awaited from the start: on the time-skipping server, a saga's result being awaited is what lets time skip.
  const end = ending(handle);
  try {
    return await drivePoint(env, profile, point, key, { t0, input, handle, end });
  } finally {
    // Never return with the saga running or its result call in flight (a dead-lettered point, a driver that failed
    // midway): the explorer closes its connection and stops the server after the last point, and a call still in
    // flight then fails, is retried by the client on the closed channel, and throws outside any caller.
    await handle.terminate('explore: the point is over').catch(() => undefined);
    await end;
  }
}

async function drivePoint(
  env: PointEnvironment,
  profile: ExploreProfile,
  point: FailurePoint,
  key: string,
  {
    t0,
    input,
    handle,
    end,
  }: { t0: number; input: unknown; handle: WorkflowHandleWithFirstExecutionRunId; end: Promise<Ended> },
): Promise<PointResult> {
  const violations: string[] = [];
  const stepIs = (name: string, status: string) => (s: SagaView) =>
    s.steps.some((x) => x.name === name && x.status === status);
  const { drive } = point;

  if (drive.cancel?.afterCompleted) {
    // The step's result held in the workflow (hold-interceptor.ts) until the saga has the cancellation.
    const step = drive.cancel.afterCompleted;
    await handle.signal(holdSignal, step);
    await untilHeld(handle, (h) => h.held.includes(step));
    await handle.cancel();
    await untilHeld(handle, (h) => h.cancelled);
    await handle.signal(releaseSignal, step);
  } else if (drive.cancel) {
    if (drive.cancel.whileRunning) await until(handle, stepIs(drive.cancel.whileRunning, 'RUNNING'));
    await handle.cancel().catch(() => undefined); // refused by an ended saga: the point's expectation says what must be
  }
  if (drive.kill) {
    if ('whileRunning' in drive.kill) {
      await until(handle, stepIs(drive.kill.whileRunning, 'RUNNING'));
      await sleep(300); // the worker has picked the activity up
    } else await until(handle, stepIs(drive.kill.afterCompleted, 'COMPLETED'));
    if (!env.worker) throw new Error(`${point.id} kills the worker: it must run on the dev server`);
    await env.worker.killAndRestart();
  }
  let decided: { name: string; round?: number } | undefined;
  if (drive.operator) {
    const { compensation, decision } = drive.operator;
    const waiting = await until(
      handle,
      (s) => s.compensations.some((c) => c.name === compensation && c.status === 'DEAD_LETTERED'),
      120_000,
    );
    const parkedOne = waiting?.compensations.find((c) => c.name === compensation);
    decided = { name: compensation, round: parkedOne?.deadLetter?.round };
    if (!waiting) violations.push(`${compensation} never waited for an operator`);
    else if (decision === 'retry') await retryCompensation(env.client, key, compensation);
    else {
      const request = profile.compensationRequest(compensation, input, waiting.compensationCause?.reason ?? 'explore');
      await env.services.call(request.service, 'POST', request.path, request.body, {
        idempotencyKey: `${key}:operator:${compensation}`,
      });
      await resolveCompensation(env.client, key, 'explore: done by hand', compensation);
    }
  }

  let state: SagaView | undefined;
  let outcome: string;
  if (drive.terminate) {
    ({ state, outcome } = await terminated(env, profile, handle, drive.terminate, { key, input }, violations));
  } else if (drive.deadLetter) {
    // Left waiting for an operator: checked there (its dead letter recorded, after every attempt of its policy).
    state = await parked(handle, drive.deadLetter, violations);
    outcome = 'NEEDS_ATTENTION';
  } else {
    const ended = await endingOrStuck(handle, end, violations, decided);
    state = await finalState(handle);
    outcome = profile.outcome(ended);
  }
  violations.push(...expectationViolations(point, state));

  if (drive.replay) {
    // The same request again (its idempotency key), then the work again under a new key: neither may change a row.
    const { compensation } = drive.replay;
    const rows = await profile.readRows(env.databaseUrls, input);
    const requestKeys = profile.requestKeys(rows);
    violations.push(...keyPerExecution(compensation, key, requestKeys));
    // The key the saga sent (with its run id), and a fresh one.
    const sent =
      requestKeys.find((k) => withoutRunId(k) === `${key}:${camel(compensation)}`) ?? `${key}:${camel(compensation)}`;
    const before = profile.effectRows(rows);
    // The compensation's request as the saga sent it: the same body, the reason being the saga's.
    const request = profile.compensationRequest(compensation, input, state?.compensationCause?.reason ?? '');
    for (const idempotencyKey of [sent, `${sent}:again`]) {
      await env.services
        .call(request.service, 'POST', request.path, request.body, { idempotencyKey })
        .catch((err: Error) => violations.push(`${compensation} replayed (${idempotencyKey}): ${err.message}`));
    }
    const after = profile.effectRows(await profile.readRows(env.databaseUrls, input));
    if (!isDeepStrictEqual(before, after))
      violations.push(
        `${compensation} run a second time changed rows: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
  }
  violations.push(...profile.check(input, outcome, await profile.readRows(env.databaseUrls, input)));
  return { point, key, outcome, status: state?.status, violations, ms: performance.now() - t0 };
}
