/**
 * `temporal-saga-kit/activity`: what a step's activity needs to be a well-behaved saga participant (its idempotency
 * key, its call context), and the dead-letter port a worker may plug in.
 *
 * @packageDocumentation
 */
export { sagaActivityContext } from './saga-call';
export type { DeadLetterPort } from './dead-letters';
export type { DeadLetterEntry } from '../workflow/types';
