import { sagaActivityContext } from 'temporal-saga-kit/activity';
import type { ServiceName } from '../services/catalog';
import type { CallOptions, ServiceClient } from './service-client';

/**
 * How every saga activity of this app calls a service (the order and return sagas' activities and the dead-letter
 * port): with the step's idempotency key, the fault planned for its action and its cancellation, from the kit's
 * activity context (temporal-saga-kit/activity).
 */

/** What a compensation answers: the record, and whether there was anything to undo. */
export type Compensated<T> = T & { noop: boolean };

/**
 * `keySuffix` tells apart several calls of one activity type in one saga (the dead-letter log's entries). A fault
 * planned for this action (tests and demos) comes from the activity's headers, never from its arguments.
 */
export function sagaCallOptions(keySuffix?: string): CallOptions {
  const saga = sagaActivityContext();
  return { idempotencyKey: saga.idempotencyKey(keySuffix), faults: saga.fault, signal: saga.signal };
}

/**
 * The service client as activities use it: a failure carries the attempt number in its details (the kit's attempt
 * tag), so that a compensation given up on is recorded with the number of attempts it took.
 */
export function sagaServiceClient(serviceClient: ServiceClient): Pick<ServiceClient, 'call'> {
  return {
    call: ((...args) => sagaActivityContext().tagAttempt(() => serviceClient.call(...args))) as ServiceClient['call'],
  };
}

/**
 * The one call a saga activity makes: POST `body` (default `{}`) to `path` of `service`, with the saga's idempotency
 * key, fault plan and cancellation (sagaCallOptions), a failure tagged with its attempt (sagaServiceClient).
 */
export function sagaPost(serviceClient: ServiceClient) {
  const client = sagaServiceClient(serviceClient);
  return <T>(service: ServiceName, path: string, body: object = {}): Promise<T> =>
    client.call<T>(service, 'POST', path, body, sagaCallOptions());
}

/** A path segment from an id (ids are plain identifiers already; this keeps a path a path whatever they hold). */
export const segment = encodeURIComponent;
