import type { DeadLetterEntry, DeadLetterOutcome, DeadLetterStatus } from '../shared/dead-letters';
import type { IdempotentCall } from '../shared/idempotency';
import { runRequestFunction, sql } from '../shared/request-functions';
import type { OrdersDb } from './db';

/**
 * The dead-letter log: compensations that did not succeed within their retry policy, recorded by the saga before it
 * waits for an operator. The saga itself holds the wait (durably, in Temporal); this table is the audit record an
 * operator, a report or the chaos run's invariant checker reads, and it outlives the workflow's retention.
 *
 * OPEN → RETRIED (the operator asked the saga to run the compensation again) or OPEN → RESOLVED (done by hand, with
 * the operator's reason). Both are final; a retry that fails again opens a new entry with the next round. The writes
 * are database functions (prisma/orders/migrations/*_request_functions): one round trip each, one row per
 * (saga, step, round) whatever the idempotency key.
 */
export function record(db: OrdersDb, call: IdempotentCall, input: DeadLetterEntry) {
  return runRequestFunction(
    db,
    sql`SELECT * FROM dead_letters_record(${call.key}, ${call.hash}, ${JSON.stringify(input)}::jsonb)`,
  );
}

/** `operation` names the request for its idempotency record. Closing again the same way answers the entry unchanged. */
function close(db: OrdersDb, call: IdempotentCall, operation: string, id: number, outcome: DeadLetterOutcome) {
  const resolution = outcome.status === 'RESOLVED' ? outcome.resolution : null;
  return runRequestFunction(
    db,
    sql`SELECT * FROM dead_letters_close(${call.key}, ${operation}, ${call.hash}, ${id}::integer, ${outcome.status}::"DeadLetterStatus", ${resolution})`,
  );
}

/** The saga ran the compensation again: RETRIED. */
export function retried(db: OrdersDb, call: IdempotentCall, { id }: { id: number }) {
  return close(db, call, 'dead-letter-retried', id, { status: 'RETRIED' });
}

/** An operator did it by hand: RESOLVED, with the operator's reason. */
export function resolved(db: OrdersDb, call: IdempotentCall, { id, reason }: { id: number; reason: string }) {
  return close(db, call, 'dead-letter-resolved', id, { status: 'RESOLVED', resolution: reason });
}

export function list(db: OrdersDb, filter: { status?: DeadLetterStatus; sagaId?: string; limit: number }) {
  return db.deadLetter.findMany({
    where: { status: filter.status, sagaId: filter.sagaId },
    orderBy: { id: 'desc' },
    take: filter.limit,
  });
}
