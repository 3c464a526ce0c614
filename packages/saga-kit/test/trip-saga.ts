import { z } from 'zod';
import { activitiesOf, defineSaga } from 'temporal-saga-kit/workflow';
import type { TripActivities } from './trip-activities';

/**
 * A synthetic saga written with the kit's public API alone, for the engine tests: booking a trip. It has every shape
 * the engine handles: three compensatable steps (one with a compensation that depends on why the saga unwinds), a
 * pivot with a compensation for an unknown outcome, a retriable step after it, and data that flows between steps.
 */
export const tripInputSchema = z
  .object({ tripId: z.string().min(1), traveller: z.string().min(1), nights: z.number().int().min(1).max(30) })
  .strict();

/** The definition's options besides its steps. */
type SagaDefinitionOptions = NonNullable<Parameters<typeof defineSaga>[0]['options']>;

/** The trip's steps; several sagas share them and differ only in their options (failure classification, unwinding). */
const tripSteps = (name: string, options: SagaDefinitionOptions) =>
  defineSaga({
    name,
    input: tripInputSchema,
    activities: activitiesOf<TripActivities>(),
    key: (trip) => trip.tripId,
    summary: (trip) => `Trip ${trip.tripId} for ${trip.traveller}, ${trip.nights} night(s)`,
    steps: (saga) =>
      saga
        .compensatable('book-flight', {
          // Returns nothing: later steps need nothing from the flight (a returned object would join the data).
          run: async ({ input, act }) => {
            await act.book({ kind: 'flight', tripId: input.tripId, cents: 30_000 });
          },
          compensate: {
            name: 'cancel-flight',
            run: ({ input, act }) => act.cancel({ kind: 'flight', tripId: input.tripId }),
          },
        })
        .compensatable('book-hotel', {
          run: async ({ input, act }) => {
            const hotel = await act.book({ kind: 'hotel', tripId: input.tripId, cents: 10_000 * input.nights });
            return { hotelCents: hotel.cents };
          },
          compensate: [
            {
              name: 'release-hotel',
              when: (why) => why.cause === 'cancelled',
              run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }),
            },
            { name: 'cancel-hotel', run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }) },
          ],
        })
        .compensatable('rent-car', {
          run: async ({ input, act }) => {
            const car = await act.book({ kind: 'car', tripId: input.tripId, cents: 5_000 });
            return { carCents: car.cents };
          },
          compensate: {
            name: 'return-car',
            run: ({ input, act }) => act.cancel({ kind: 'car', tripId: input.tripId }),
          },
        })
        .pivot('charge-card', {
          // Typed data: the hotel's and the car's prices, returned by the steps before.
          run: async ({ input, data, act }) => {
            const charge = await act.book({
              kind: 'charge',
              tripId: input.tripId,
              cents: 30_000 + data.hotelCents + data.carCents,
            });
            return { chargedCents: charge.cents };
          },
          compensate: {
            name: 'refund-card',
            run: ({ input, act }) => act.cancel({ kind: 'charge', tripId: input.tripId }),
          },
        })
        .retriable('send-itinerary', {
          run: async ({ input, data, act }) => {
            const sent = await act.book({ kind: 'itinerary', tripId: input.tripId, cents: data.chargedCents });
            return { itinerary: sent.ref };
          },
        }),
    completed: ({ input, data }) => ({
      tripId: input.tripId,
      status: 'BOOKED' as const,
      chargedCents: data.chargedCents,
      itinerary: data.itinerary,
    }),
    compensated: ({ input, why }) => ({ tripId: input.tripId, status: 'NOT_BOOKED' as const, reason: why.reason }),
    options,
  });

/** The trip as its partners' contract says: a "Declined" answer wrote nothing, so that step is not compensated. */
export const tripSaga = tripSteps('trip', { wroteNothing: (failure) => failure.type === 'Declined' });

/** The same trip with the kit's default classification: any failed step may have taken effect and is compensated. */
export const cautiousTripSaga = tripSteps('cautious-trip', {});

/** The trip whose author chose parallel compensation: every compensation at once. */
export const parallelCompensationTripSaga = tripSteps('parallel-compensation-trip', {
  wroteNothing: (failure) => failure.type === 'Declined',
  compensation: { parallel: true },
});

/** The trip whose author chose to go on with the other compensations while a failed one waits for an operator. */
export const continuingTripSaga = tripSteps('continuing-trip', {
  wroteNothing: (failure) => failure.type === 'Declined',
  compensation: { continueOnError: true },
});

/**
 * The trip with parallel groups: the hotel and the car do not depend on each other, so they are booked at once, and
 * so are the itinerary and the receipt after the charge. The hotel's and the car's prices join the data after their
 * group; the charge (the pivot) sums them.
 */
export const parallelTripSaga = defineSaga({
  name: 'parallel-trip',
  input: tripInputSchema,
  activities: activitiesOf<TripActivities>(),
  key: (trip) => trip.tripId,
  summary: (trip) => `Trip ${trip.tripId} for ${trip.traveller}, ${trip.nights} night(s), booked in parallel`,
  steps: (saga) =>
    saga
      .compensatable('book-flight', {
        run: async ({ input, act }) => {
          await act.book({ kind: 'flight', tripId: input.tripId, cents: 30_000 });
        },
        compensate: {
          name: 'cancel-flight',
          run: ({ input, act }) => act.cancel({ kind: 'flight', tripId: input.tripId }),
        },
      })
      .parallel((group) =>
        group
          .compensatable('book-hotel', {
            run: async ({ input, act }) => ({
              hotelCents: (await act.book({ kind: 'hotel', tripId: input.tripId, cents: 10_000 * input.nights })).cents,
            }),
            compensate: [
              {
                name: 'release-hotel',
                when: (why) => why.cause === 'cancelled',
                run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }),
              },
              { name: 'cancel-hotel', run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }) },
            ],
          })
          .compensatable('rent-car', {
            run: async ({ input, act }) => ({
              carCents: (await act.book({ kind: 'car', tripId: input.tripId, cents: 5_000 })).cents,
            }),
            compensate: {
              name: 'return-car',
              run: ({ input, act }) => act.cancel({ kind: 'car', tripId: input.tripId }),
            },
          }),
      )
      .pivot('charge-card', {
        run: async ({ input, data, act }) => ({
          chargedCents: (
            await act.book({ kind: 'charge', tripId: input.tripId, cents: 30_000 + data.hotelCents + data.carCents })
          ).cents,
        }),
        compensate: {
          name: 'refund-card',
          run: ({ input, act }) => act.cancel({ kind: 'charge', tripId: input.tripId }),
        },
      })
      .parallel((group) =>
        group
          .retriable('send-itinerary', {
            run: async ({ input, data, act }) => ({
              itinerary: (await act.book({ kind: 'itinerary', tripId: input.tripId, cents: data.chargedCents })).ref,
            }),
          })
          .retriable('email-receipt', {
            run: async ({ input, data, act }) => ({
              receipt: (await act.book({ kind: 'receipt', tripId: input.tripId, cents: data.chargedCents })).ref,
            }),
          }),
      ),
  completed: ({ input, data }) => ({
    tripId: input.tripId,
    status: 'BOOKED' as const,
    chargedCents: data.chargedCents,
    itinerary: data.itinerary,
    receipt: data.receipt,
  }),
  compensated: ({ input, why }) => ({ tripId: input.tripId, status: 'NOT_BOOKED' as const, reason: why.reason }),
  options: { wroteNothing: (failure) => failure.type === 'Declined' },
});

/** The task queue of the trip's slow partner: the hotel, served by workers of its own (stepOptionsTripSaga). */
export const HOTEL_TASK_QUEUE = 'saga-engine-hotel';

/**
 * The trip whose author gives steps options of their own: the hotel (a slow partner) gets its own task queue, a
 * longer timeout and more attempts; its cancellation a schedule-to-close limit; the charge runs as a local activity.
 */
export const stepOptionsTripSaga = defineSaga({
  name: 'step-options-trip',
  input: tripInputSchema,
  activities: activitiesOf<TripActivities>(),
  key: (trip) => trip.tripId,
  summary: (trip) => `Trip ${trip.tripId}, the hotel on its own task queue`,
  steps: (saga) =>
    saga
      .compensatable('book-flight', {
        run: async ({ input, act }) => {
          await act.book({ kind: 'flight', tripId: input.tripId, cents: 30_000 });
        },
        compensate: {
          name: 'cancel-flight',
          run: ({ input, act }) => act.cancel({ kind: 'flight', tripId: input.tripId }),
        },
      })
      .compensatable('book-hotel', {
        run: async ({ input, act }) => {
          await act.book({ kind: 'hotel', tripId: input.tripId, cents: 10_000 * input.nights });
        },
        options: { taskQueue: HOTEL_TASK_QUEUE, startToCloseTimeout: '42s', retry: { maximumAttempts: 7 } },
        compensate: {
          name: 'cancel-hotel',
          run: ({ input, act }) => act.cancel({ kind: 'hotel', tripId: input.tripId }),
          options: { taskQueue: HOTEL_TASK_QUEUE, scheduleToCloseTimeout: '5m' },
        },
      })
      .pivot('charge-card', {
        run: async ({ input, act }) => {
          await act.book({ kind: 'charge', tripId: input.tripId, cents: 1 });
        },
        options: { local: true },
      }),
  completed: () => ({ status: 'BOOKED' as const }),
  compensated: ({ why }) => ({ status: 'NOT_BOOKED' as const, reason: why.reason }),
  options: { wroteNothing: (failure) => failure.type === 'Declined' },
});
