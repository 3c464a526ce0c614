/**
 * `temporal-saga-kit/workflow`: what a saga's definition imports. Deterministic code only, safe in Temporal's
 * workflow bundle (no Node built-ins, no I/O).
 *
 * @packageDocumentation
 */
import { resolveCompensationUpdate, retryCompensationUpdate } from './operator';
import { sagaStateQuery } from './define';
import { SAGA_COMPENSATION_FAILED } from './failures';
import { INVALID_SAGA_INPUT } from './define';

export {
  activitiesOf,
  defineSaga,
  type SagaDefinition,
  type SagaTypes,
  type SagaView,
  type StepOptions,
} from './define';
export type { CompensationContext } from './types';
export type { StepFailure } from './failures';
export { KIT_DEFAULTS, type SagaRunOptions } from './run-options';

/**
 * The query and the updates every saga answers, the same for all: its state (a SagaView), and an operator's two
 * decisions on a dead-lettered compensation (retry it; resolve it by hand, with a reason). The client uses them; a
 * workflow of your own that starts a saga as a child may too.
 */
export const sagaMessages = {
  state: sagaStateQuery,
  retryCompensation: retryCompensationUpdate,
  resolveCompensation: resolveCompensationUpdate,
} as const;

/**
 * The types of the non-retryable failures a saga ends with: `invalidInput` (its input or run options refused) and
 * `compensationFailed` (a compensation did not succeed and the saga does not dead-letter).
 */
export const SAGA_FAILURE_TYPES = {
  invalidInput: INVALID_SAGA_INPUT,
  compensationFailed: SAGA_COMPENSATION_FAILED,
} as const;
