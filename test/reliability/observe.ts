/**
 * What the reliability tests look at instead of sleeping: Temporal's view of a saga (pending activities from
 * DescribeWorkflowExecution, attempts from the history) and the services' own database rows.
 */
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { awaitSagaResult, type SagaResult } from '../../cli/saga-client';

/** Polls until check() returns a truthy value (errors count as "not yet"), and returns it. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface PendingActivity {
  type: string;
  state: 'SCHEDULED' | 'STARTED' | 'OTHER';
  attempt: number;
  lastFailure?: string;
}

/** The saga's activities that Temporal has scheduled and not yet seen finish (the history only has them once they do). */
export async function pendingActivities(client: Client, workflowId: string): Promise<PendingActivity[]> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const State = temporal.api.enums.v1.PendingActivityState;
  // Failure messages are encoded payloads (runtime/failure-converter.ts): decoded with the client's data converter.
  const converter = client.options.loadedDataConverter;
  const decoded = await Promise.all(
    (raw.pendingActivities ?? []).map((a) => decodeOptionalFailureToOptionalError(converter, a.lastFailure)),
  );
  return (raw.pendingActivities ?? []).map((a, i) => ({
    type: a.activityType?.name ?? '?',
    state:
      a.state === State.PENDING_ACTIVITY_STATE_STARTED
        ? 'STARTED'
        : a.state === State.PENDING_ACTIVITY_STATE_SCHEDULED
          ? 'SCHEDULED'
          : 'OTHER',
    attempt: a.attempt ?? 1,
    lastFailure: decoded[i]?.message ?? undefined,
  }));
}

/** Which worker last took this pending activity (its identity, `<pid>@<host>` by the SDK's default), if any did. */
export async function pendingActivityWorker(
  client: Client,
  workflowId: string,
  type: string,
): Promise<string | undefined> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  return (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type)?.lastWorkerIdentity ?? undefined;
}

/** Waits until an activity of this type is pending and satisfies the condition (default: a worker started it). */
export function waitForPendingActivity(
  client: Client,
  workflowId: string,
  type: string,
  condition: (a: PendingActivity) => boolean = (a) => a.state === 'STARTED',
  timeoutMs = 30_000,
): Promise<PendingActivity> {
  return waitFor(
    `${type} pending in ${workflowId}`,
    async () => (await pendingActivities(client, workflowId)).find((a) => a.type === type && condition(a)),
    timeoutMs,
  );
}

/** For each activity type in the finished history: the attempt that ended it (1 = no retry). */
export async function finalAttempts(client: Client, workflowId: string): Promise<Record<string, number>> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const typeByScheduledId = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeByScheduledId.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeByScheduledId.get(String(started.scheduledEventId)) ?? '?';
      attempts[type] = Math.max(attempts[type] ?? 0, started.attempt ?? 1);
    }
  }
  return attempts;
}

/** The event types of the saga's history, e.g. to see a timeout in it. */
export async function historyEventTypes(client: Client, workflowId: string): Promise<string[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return events.map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
}

/** Runs one query on a service's database (the tests read the services' tables directly, never through their API). */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The saga's history as "+ms EVENT_TYPE (activity type, attempt, timeout)" lines: for failure messages and timing. */
export async function historyTimeline(client: Client, workflowId: string): Promise<string[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    t ? Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
  const t0 = ms(events[0]?.eventTime);
  const typeByScheduledId = new Map<string, string>();
  return events.map((e) => {
    const name = temporal.api.enums.v1.EventType[e.eventType ?? 0].replace(/^EVENT_TYPE_/, '');
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeByScheduledId.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const activity = typeByScheduledId.get(
      String(
        e.activityTaskStartedEventAttributes?.scheduledEventId ??
          e.activityTaskCompletedEventAttributes?.scheduledEventId ??
          e.activityTaskFailedEventAttributes?.scheduledEventId ??
          e.activityTaskTimedOutEventAttributes?.scheduledEventId ??
          e.eventId,
      ),
    );
    const details = [
      activity && `${activity}`,
      e.activityTaskStartedEventAttributes && `attempt ${e.activityTaskStartedEventAttributes.attempt}`,
      e.workflowTaskTimedOutEventAttributes &&
        `timeout ${temporal.api.enums.v1.TimeoutType[e.workflowTaskTimedOutEventAttributes.timeoutType ?? 0]}`,
      e.activityTaskTimedOutEventAttributes && `${e.activityTaskTimedOutEventAttributes.failure?.message}`,
    ].filter(Boolean);
    return `+${Math.round(ms(e.eventTime) - t0)}ms ${name}${details.length ? ` (${details.join(', ')})` : ''}`;
  });
}

/** Waits for the saga to end and asserts how (APPROVED, REJECTED, or cancelled/failed); on a mismatch the message has the history. */
export async function assertSagaEnds(
  client: Client,
  orderId: string,
  expected: 'APPROVED' | 'REJECTED' | 'cancelled' | 'failed',
): Promise<SagaResult> {
  const result = await awaitSagaResult(client, orderId);
  const got = result.outcome === 'completed' ? result.result.status : result.outcome;
  if (got !== expected) {
    assert.fail(
      `saga ${orderId} ended ${got}, expected ${expected}: ${JSON.stringify(result)}\n${(await historyTimeline(client, orderId)).join('\n')}`,
    );
  }
  return result;
}

/** A product's stock columns, read from the inventory service's database. */
export async function stock(
  inventoryDatabaseUrl: string,
  sku: string,
): Promise<{ available: number; held: number; sold: number }> {
  const [row] = await sql<{ available: number; held: number; sold: number }>(
    inventoryDatabaseUrl,
    'SELECT available, held, sold FROM products WHERE sku = $1',
    [sku],
  );
  return row;
}

/** A customer's balance, read from the payments service's database. */
export async function balance(paymentsDatabaseUrl: string, customerId: string): Promise<number> {
  const [row] = await sql<{ balance_cents: number }>(
    paymentsDatabaseUrl,
    'SELECT balance_cents FROM customers WHERE id = $1',
    [customerId],
  );
  return row.balance_cents;
}
