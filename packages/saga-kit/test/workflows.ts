// The engine tests' workflow bundle: the synthetic trip sagas, under their workflow types.
import { cautiousTripSaga as cautious, parallelTripSaga as parallel, tripSaga as trip } from './trip-saga';

export const tripSaga = trip.workflow;
export const cautiousTripSaga = cautious.workflow;
export const parallelTripSaga = parallel.workflow;
