// The versioning test's bundle for the trip at v1 (versioned-trip.ts).
import { defineVersionedTrip } from './versioned-trip';

export const versionedTripSaga = defineVersionedTrip('v1').workflow;
