import { ApplicationFailure, Context } from '@temporalio/activity';
import { sagaActivityContext, type DeadLetterEntry, type DeadLetterPort } from 'temporal-saga-kit/activity';

type DeadLetterStatus = 'OPEN' | 'RETRIED' | 'RESOLVED';

/**
 * The trip saga's partners, in process and in memory: what the engine tests run against instead of services and
 * databases. Each call honours the fault planned for its action (the kit's headers), as the real services do:
 *   reject          a "Declined" answer (non-retryable); nothing is written
 *   transient:N     the first N calls fail (retryable) before writing anything
 *   lost-response:N the effect is written, then the first N calls fail (retryable): the caller cannot tell
 *   delay:MS        the effect is written at once, the answer takes MS (real time): a step timeout shorter than that
 *                   times out after the effect. It heartbeats meanwhile, so a cancellation stops it
 * Bookings are idempotent per trip and kind, cancellations are no-ops when there is nothing to undo.
 */
export type BookingKind = 'flight' | 'hotel' | 'car' | 'charge' | 'itinerary' | 'receipt';

export interface Booking {
  kind: BookingKind;
  tripId: string;
  cents: number;
  ref: string;
  status: 'BOOKED' | 'CANCELLED';
}

export interface PartnerCall {
  tripId: string;
  /** The saga action the kit named in the activity's headers. */
  action?: string;
  activity: string;
  args: unknown[];
  attempt: number;
}

export interface DeadLetterRow extends DeadLetterEntry {
  id: number;
  status: DeadLetterStatus;
  resolution?: string;
}

/**
 * Waits, heartbeating: the heartbeat's answer is how a running activity learns that it was cancelled (the test worker
 * sends heartbeats at once rather than throttled). A cancelled call that ran on would hold the test server's
 * time-skipping back until it ended.
 */
async function slowAnswer(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    Context.current().heartbeat();
    await Context.current().sleep(Math.min(50, end - Date.now()));
  }
}

export class TripPartners {
  readonly bookings = new Map<string, Booking>();
  readonly calls: PartnerCall[] = [];
  readonly deadLetters: DeadLetterRow[] = [];

  /** Bookings of one trip that are still in effect, by kind. */
  held(tripId: string): BookingKind[] {
    return [...this.bookings.values()].filter((b) => b.tripId === tripId && b.status === 'BOOKED').map((b) => b.kind);
  }

  /** The actions (steps and compensations) that ran for a trip, in the order they were first called. */
  actions(tripId: string): string[] {
    return [...new Set(this.calls.filter((c) => c.tripId === tripId).map((c) => c.action ?? '?'))];
  }

  activities() {
    const { calls, bookings } = this;
    /** Notes the call, applies the planned fault, and returns how many earlier calls this action had. */
    async function enter(
      activity: string,
      tripId: string,
      args: unknown[],
    ): Promise<{ fault: Set<string>; count: (kind: string) => number; earlier: number }> {
      const { action, fault } = sagaActivityContext();
      const earlier = calls.filter((c) => c.tripId === tripId && c.action === action).length;
      calls.push({ tripId, action, activity, args, attempt: Context.current().info.attempt });
      const parts = (fault ?? '').split(',').filter(Boolean);
      const count = (kind: string) => Number(parts.find((p) => p.startsWith(`${kind}:`))?.split(':')[1] ?? 0);
      if (parts.includes('reject'))
        throw ApplicationFailure.create({ type: 'Declined', message: `${action} declined`, nonRetryable: true });
      if (earlier < count('transient'))
        throw ApplicationFailure.retryable(`${action}: partner unavailable`, 'PartnerUnavailable');
      return { fault: new Set(parts), count, earlier };
    }
    /** The answer, after the effect: delayed, or lost, as planned. */
    const answer = async (call: { count: (k: string) => number; earlier: number }, what: string) => {
      if (call.count('delay')) await slowAnswer(call.count('delay'));
      if (call.earlier < call.count('transient') + call.count('lost-response'))
        throw ApplicationFailure.retryable(`${what}: response lost`, 'ResponseLost');
    };

    const activities = {
      async book(input: { kind: BookingKind; tripId: string; cents: number }): Promise<Booking> {
        const call = await enter('book', input.tripId, [input]);
        const key = `${input.tripId}:${input.kind}`;
        const booking = bookings.get(key) ?? {
          ...input,
          ref: `${input.kind.toUpperCase()}-${input.tripId}`,
          status: 'BOOKED' as const,
        };
        bookings.set(key, booking);
        await answer(call, `book ${input.kind}`);
        return booking;
      },
      async cancel(input: { kind: BookingKind; tripId: string }): Promise<{ noop: boolean }> {
        const call = await enter('cancel', input.tripId, [input]);
        const booking = bookings.get(`${input.tripId}:${input.kind}`);
        const noop = booking?.status !== 'BOOKED';
        if (booking) booking.status = 'CANCELLED';
        await answer(call, `cancel ${input.kind}`);
        return { noop };
      },
    };
    return activities;
  }

  /** The partners' dead-letter log, as the worker's dead-letter port. */
  deadLetterPort(): DeadLetterPort {
    const { deadLetters } = this;
    return {
      async record(entry: DeadLetterEntry) {
        const row: DeadLetterRow = { ...entry, id: deadLetters.length + 1, status: 'OPEN' };
        deadLetters.push(row);
        return { id: row.id, createdAt: new Date().toISOString() };
      },
      async resolve(id, outcome) {
        const row = deadLetters.find((r) => r.id === id);
        if (!row) throw ApplicationFailure.nonRetryable(`no dead letter ${id}`);
        row.status = outcome.status;
        if (outcome.status === 'RESOLVED') row.resolution = outcome.resolution;
        return row;
      },
    };
  }
}

export type TripActivities = ReturnType<TripPartners['activities']>;
