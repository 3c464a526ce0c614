import type { Client } from '@temporalio/client';
import { actionOfScheduledActivity } from '../../cli/saga-client';

/**
 * How many attempts each activity took, read from the workflow's history. The saga's state says what succeeded,
 * not how often it was tried; the history does, because Temporal records an activity's ActivityTaskStarted event
 * once, when the activity finally completes or fails, with the number of the attempt that got there (intermediate
 * retries leave no events of their own). This is how the transient-outage scenario shows that retries happened.
 */
export async function attemptsPerStep(client: Client, orderId: string): Promise<Record<string, number>> {
  const events = (await client.workflow.getHandle(orderId).fetchHistory()).events ?? [];
  // The kit names each scheduled activity's step or compensation in a header (cli/saga-client.ts).
  const actionByScheduledId = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const event of events) {
    const action = actionOfScheduledActivity(event);
    if (action) actionByScheduledId.set(String(event.eventId), action);
    const started = event.activityTaskStartedEventAttributes;
    const step = started && actionByScheduledId.get(String(started.scheduledEventId));
    if (started && step) attempts[step] = Math.max(attempts[step] ?? 0, started.attempt ?? 1);
  }
  return attempts;
}
