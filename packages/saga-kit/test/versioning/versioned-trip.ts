import { patched } from '@temporalio/workflow';
import { activitiesOf, defineSaga } from 'temporal-saga-kit/workflow';
import type { TripActivities } from '../trip-activities';

/**
 * One saga at two versions, for the versioning test (versioning.test.ts): a trip that books a hotel, charges the card
 * and sends the itinerary (v1); at v2 the last step also emails a receipt. The change is gated with Temporal's
 * patched(), the way the package README says to version a running saga: a saga started on v1 replays on v2 without
 * the new activity; one started on v2 records the marker and sends the receipt. `v2-ungated` is the same change
 * without the gate, which a v1 history must refuse to replay.
 */
export const RECEIPT_PATCH = 'trip-receipt';

export function defineVersionedTrip(version: 'v1' | 'v2' | 'v2-ungated') {
  return defineSaga({
    name: 'versioned-trip',
    activities: activitiesOf<TripActivities>(),
    key: (trip: { tripId: string }) => trip.tripId,
    summary: (trip) => `Trip ${trip.tripId}`,
    steps: (saga) =>
      saga
        .compensatable('book-hotel', {
          run: async ({ input, act }) => ({
            hotelCents: (await act.book({ kind: 'hotel', tripId: input.tripId, cents: 10_000 })).cents,
          }),
          compensate: {
            name: 'cancel-hotel',
            run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }),
          },
        })
        .pivot('charge-card', {
          run: async ({ input, data, act }) => {
            await act.book({ kind: 'charge', tripId: input.tripId, cents: data.hotelCents });
          },
        })
        .retriable('send-itinerary', {
          run: async ({ input, act }) => {
            const itinerary = (await act.book({ kind: 'itinerary', tripId: input.tripId, cents: 0 })).ref;
            // v2: one more activity. Gated, so that a saga recorded on v1 (no marker) replays without it.
            const withReceipt = version === 'v2-ungated' || (version === 'v2' && patched(RECEIPT_PATCH));
            if (!withReceipt) return { itinerary, receipt: undefined };
            return { itinerary, receipt: (await act.book({ kind: 'receipt', tripId: input.tripId, cents: 0 })).ref };
          },
        }),
    completed: ({ data }) => ({ status: 'BOOKED', itinerary: data.itinerary, receipt: data.receipt }),
    compensated: ({ why }) => ({ status: 'NOT_BOOKED', reason: why.reason }),
  });
}
