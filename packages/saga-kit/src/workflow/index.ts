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
import { asReason, CONTROL_CHARACTER, MAX_REASON_LENGTH, parseReason, withoutControlCharacters } from './reason';

export {
  activitiesOf,
  defineSaga,
  type SagaDefinition,
  type SagaTypes,
  type SagaView,
  type StepOptions,
} from './define';
export type { CompensationContext } from './types';
export { sagaRecoverySweep } from './recovery-sweep';
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

/**
 * The kit's one rule for a reason: the text a compensation is handed (why it runs) and an operator gives (why a dead
 * letter is resolved). One line of printable text, trimmed, 1 to `maxLength` characters, no `controlCharacter`. A
 * participant accepts every reason that follows it; the kit never hands a compensation anything else (`asReason` makes
 * any text one); `parse` checks a reason someone gives; `withoutControlCharacters` cleans a text to be stored.
 */
export const reasonRule = {
  maxLength: MAX_REASON_LENGTH,
  controlCharacter: CONTROL_CHARACTER,
  asReason,
  parse: parseReason,
  withoutControlCharacters,
} as const;
