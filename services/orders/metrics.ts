import { Gauge, type Registry } from 'prom-client';
import type { OrdersDb } from './db';

/**
 * Dead letters waiting for an operator, read from the dead-letter log at each scrape. The log is the truth: a
 * counter kept by a worker would forget the waiting sagas whenever the worker restarts (replayed workflows emit no
 * metrics). Both gauges are always present (0 when nothing waits), so an alert can compare them.
 */
export function registerDeadLetterMetrics(db: OrdersDb, registry: Registry): void {
  new Gauge({
    name: 'saga_dead_letters_waiting',
    help: 'Dead-lettered compensations waiting for an operator (dead letters in status OPEN)',
    registers: [registry],
    async collect() {
      this.set(await db.deadLetter.count({ where: { status: 'OPEN' } }));
    },
  });
  new Gauge({
    name: 'saga_dead_letters_oldest_waiting_seconds',
    help: 'How long the oldest open dead letter has been waiting for an operator, in seconds (0 when none waits)',
    registers: [registry],
    async collect() {
      const oldest = await db.deadLetter.findFirst({
        where: { status: 'OPEN' },
        orderBy: { createdAt: 'asc' },
        select: { createdAt: true },
      });
      this.set(oldest ? (Date.now() - oldest.createdAt.getTime()) / 1000 : 0);
    },
  });
}
