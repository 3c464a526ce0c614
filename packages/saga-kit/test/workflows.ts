// The engine tests' workflow bundle: the synthetic trip sagas, under their workflow types.
import {
  cautiousTripSaga as cautious,
  continuingTripSaga as continuing,
  parallelCompensationTripSaga as parallelCompensation,
  parallelTripSaga as parallel,
  stepOptionsTripSaga as stepOptions,
  tripSaga as trip,
} from './trip-saga';

export const tripSaga = trip.workflow;
export const cautiousTripSaga = cautious.workflow;
export const parallelTripSaga = parallel.workflow;
export const parallelCompensationTripSaga = parallelCompensation.workflow;
export const continuingTripSaga = continuing.workflow;
export const stepOptionsTripSaga = stepOptions.workflow;
