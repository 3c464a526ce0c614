import type { DeadLetterEntry, DeadLetterOutcome, DeadLetterRecord } from '../workflow/types';
import type { DeadLetterActivities } from '../workflow/define';

/**
 * Where dead letters go outside Temporal: a table an operator's tools read, a ticket system, a pager. The kit keeps
 * its own record in the saga's state either way (the client's `deadLetters()` lists them); a port adds a durable
 * one. Plug it in at the worker (`sagaWorkerOptions({ deadLetters })`): its calls run as the kit's activities, so
 * `sagaActivityContext()` works inside them (use its idempotency key: a retried call must not record twice).
 */
export interface DeadLetterPort {
  /** Records a compensation the saga gave up on; called once per round, retried until it succeeds. */
  record(entry: DeadLetterEntry): Promise<DeadLetterRecord>;
  /** Closes a recorded entry once an operator decided: retried by the saga, or resolved by hand with a reason. */
  resolve(id: number, outcome: DeadLetterOutcome): Promise<unknown>;
}

/** The activities the kit's workflow calls for dead letters, over a port (or none: the saga's state is the record). */
export function deadLetterActivities(port: DeadLetterPort | undefined): DeadLetterActivities {
  return {
    recordDeadLetter: async (entry) => (port ? port.record(entry) : null),
    closeDeadLetter: async ({ id, outcome }) => port?.resolve(id, outcome),
  };
}
