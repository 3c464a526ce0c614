/**
 * The saga kit's public API: what a saga definition, a worker and a client import. See README, "The saga kit".
 */
export * from './types';
export {
  activitiesOf,
  defineSaga,
  sagaStateQuery,
  INVALID_SAGA_INPUT,
  SAGA_DEADLINE_PATCH,
  SAGA_KIT_PATCH,
  SAGA_PARALLEL_PATCH,
  GroupBuilder,
  StepsBuilder,
  type ActionName,
  type CompensateContext,
  type CompensationName,
  type CompensationSpec,
  type DataOf,
  type DeadLetterActivities,
  type InputOf,
  type ResultOf,
  type SagaConfig,
  type SagaDefinition,
  type SagaDefinitionOptions,
  type SagaView,
  type StepContext,
  type StepMeta,
  type GroupMeta,
  type StepName,
} from './define';
export { STATUS_MARKS } from './marks';
export { Saga, type SagaOutcome, type SagaHooks } from './saga';
export { validateSteps, groupsOf } from './stages';
export { renderDetails } from './details';
export { asReason, MAX_REASON_LENGTH } from './reason';
export { SAGA_COMPENSATION_FAILED, describeFailure, type FailureClassification, type StepFailure } from './failures';
export { sagaRunOptionsSchema, KIT_DEFAULTS, type SagaRunOptions, type SagaDefaults } from './run-options';
export { type FaultPlan } from './headers';
export { SAGA_STATUS, SAGA_SEARCH_ATTRIBUTES } from './search-attributes';
export {
  retryCompensationUpdate,
  resolveCompensationUpdate,
  deadLetteredActions,
  type DeadLetteredAction,
  type OperatorDecisionAck,
} from './operator';
