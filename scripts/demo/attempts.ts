import type { Client } from '@temporalio/client';

/**
 * How many attempts each activity took, read from the workflow's history. The saga's state says what succeeded,
 * not how often it was tried; the history does, because Temporal records an activity's ActivityTaskStarted event
 * once, when the activity finally completes or fails, with the number of the attempt that got there (intermediate
 * retries leave no events of their own). This is how the transient-outage scenario shows that retries happened.
 */
export async function attemptsPerStep(client: Client, orderId: string): Promise<Record<string, number>> {
  const events = (await client.workflow.getHandle(orderId).fetchHistory()).events ?? [];
  const typeByScheduledId = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name) typeByScheduledId.set(String(event.eventId), scheduled.activityType.name);
    const started = event.activityTaskStartedEventAttributes;
    const type = started && typeByScheduledId.get(String(started.scheduledEventId));
    if (started && type) attempts[stepName(type)] = Math.max(attempts[stepName(type)] ?? 0, started.attempt ?? 1);
  }
  return attempts;
}

/** Activity types are the step names in camelCase (reserveInventory → reserve-inventory). */
function stepName(activityType: string): string {
  return activityType.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
