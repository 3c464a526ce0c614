// saga.ts
import { activitiesOf, defineSaga } from 'temporal-saga-kit/workflow';

export type Trip = { id: string; card: string };
export interface TripActivities {
  bookFlight(trip: Trip): Promise<void>;
  cancelFlight(trip: Trip): Promise<void>;
  bookHotel(trip: Trip): Promise<void>;
  cancelHotel(trip: Trip): Promise<void>;
  chargeCard(trip: Trip): Promise<{ receipt: string }>;
}

export const trip = defineSaga({
  name: 'trip',
  activities: activitiesOf<TripActivities>(),
  key: (trip: Trip) => trip.id, // the workflow id: one saga per trip
  summary: (trip) => `Trip ${trip.id}`,
  steps: (s) =>
    s
      .compensatable('book-flight', {
        run: ({ input, act }) => act.bookFlight(input),
        compensate: { name: 'cancel-flight', run: ({ input, act }) => act.cancelFlight(input) },
      })
      .compensatable('book-hotel', {
        run: ({ input, act }) => act.bookHotel(input),
        compensate: { name: 'cancel-hotel', run: ({ input, act }) => act.cancelHotel(input) },
      })
      .pivot('charge-card', { run: ({ input, act }) => act.chargeCard(input) }),
  completed: ({ data }) => ({ booked: true, receipt: data.receipt }),
  compensated: ({ why }) => ({ booked: false, reason: why.reason }),
});

// The worker finds workflows by name: the saga's workflow type is `tripSaga`.
export const tripSaga = trip.workflow;
