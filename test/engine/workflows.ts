// The engine tests' workflow bundle: the synthetic trip sagas, under their workflow types.
import { cautiousTripSaga as cautious, tripSaga as trip } from './trip-saga';

export const tripSaga = trip.workflow;
export const cautiousTripSaga = cautious.workflow;
