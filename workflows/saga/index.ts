export * from './types';
export { Saga, validateSteps, renderDetails, type SagaOutcome, type SagaHooks } from './saga';
export { SAGA_COMPENSATION_FAILED, describeFailure } from './failures';
