// The versioning test's bundle for the trip at v2-ungated (versioned-trip.ts).
import { defineVersionedTrip } from './versioned-trip';

export const versionedTripSaga = defineVersionedTrip('v2-ungated').workflow;
