// activities.ts
import { ApplicationFailure } from '@temporalio/activity';
import { sagaActivityContext } from 'temporal-saga-kit/activity';
import type { Trip, TripActivities } from './saga';

// Each step's idempotency key is the same on every retry: send it to the service you call.
const done = async (what: string, trip: Trip) =>
  console.log(`${what} ${trip.id} (idempotency key ${sagaActivityContext().idempotencyKey()})`);

export const activities: TripActivities = {
  bookFlight: (trip) => done('book-flight', trip),
  cancelFlight: (trip) => done('cancel-flight', trip),
  bookHotel: (trip) => done('book-hotel', trip),
  cancelHotel: (trip) => done('cancel-hotel', trip),
  async chargeCard(trip) {
    if (trip.card === 'declined') throw ApplicationFailure.nonRetryable('card declined', 'Declined');
    return done('charge-card', trip).then(() => ({ receipt: `R-${trip.id}` }));
  },
};
