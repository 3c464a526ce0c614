/**
 * `temporal-saga-kit/client`: a typed client over your sagas, and what presents their state.
 *
 * @packageDocumentation
 */
export {
  SagaClient,
  SagaInputError,
  SagaAlreadyStartedError,
  OperatorDecisionRefusedError,
  type SagaResult,
} from './saga-client';
export type { FaultPlan } from '../workflow/headers';
export { SAGA_STATUS } from '../workflow/search-attributes';
