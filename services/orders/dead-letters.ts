import { IllegalTransitionError, NotFoundError } from '../shared/errors';
import type { OrdersDb, OrdersTx } from './db';

/**
 * The dead-letter log: compensations that did not succeed within their retry policy, recorded by the saga before it
 * waits for an operator. The saga itself holds the wait (durably, in Temporal); this table is the audit record an
 * operator, a report or the chaos run's invariant checker reads, and it outlives the workflow's retention.
 *
 * OPEN → RETRIED (the operator asked the saga to run the compensation again) or OPEN → RESOLVED (done by hand, with
 * the operator's reason). Both are final; a retry that fails again opens a new entry with the next round.
 */
export interface RecordInput {
  sagaId: string;
  step: string;
  forStep: string;
  round: number;
  errorType: string;
  lastError: string;
  attempts: number;
}

export type CloseOutcome = { status: 'RETRIED' } | { status: 'RESOLVED'; resolution: string };

export async function record(tx: OrdersTx, input: RecordInput) {
  // One row per (saga, step, round), whatever the idempotency key: the saga's retried request finds the first row.
  await tx.deadLetter.createMany({ data: [input], skipDuplicates: true });
  return tx.deadLetter.findUniqueOrThrow({ where: { sagaId_step_round: { sagaId: input.sagaId, step: input.step, round: input.round } } });
}

export async function close(tx: OrdersTx, id: number, outcome: CloseOutcome) {
  const { count } = await tx.deadLetter.updateMany({
    where: { id, status: 'OPEN' },
    data: { status: outcome.status, resolution: outcome.status === 'RESOLVED' ? outcome.resolution : null, closedAt: new Date() },
  });
  const entry = await tx.deadLetter.findUnique({ where: { id } });
  if (!entry) throw new NotFoundError('unknown_dead_letter', `unknown dead letter: ${id}`);
  if (count === 0 && entry.status !== outcome.status) {
    throw new IllegalTransitionError(`dead letter ${id} is already ${entry.status.toLowerCase()}`, { status: entry.status });
  }
  return entry;
}

export function list(db: OrdersDb, filter: { status?: 'OPEN' | 'RETRIED' | 'RESOLVED'; sagaId?: string; limit: number }) {
  return db.deadLetter.findMany({
    where: { status: filter.status, sagaId: filter.sagaId },
    orderBy: { id: 'desc' },
    take: filter.limit,
  });
}
