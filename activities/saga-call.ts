import { ApplicationFailure, Context } from '@temporalio/activity';
import { sagaActivityHeaders } from './saga-headers';
import type { ServiceName } from '../services/catalog';
import type { CallOptions, ServiceClient } from './service-client';

/**
 * How every saga activity calls a service (shared by the order and return sagas' activities and the dead-letter log).
 *
 * The idempotency key names one step of one saga: the workflow id (the saga's business key: the order id, the return
 * id), the first run id of the saga's run chain (the saga-run header) and the activity's name. It is the same across
 * Temporal's retries of the step and its re-executions of the saga (a reset, a workflow retry, continue-as-new), so a
 * retried request that already took effect gets the first answer back instead of doing it twice; and it is new for a
 * new saga that reuses the business key after Temporal forgot the first one, so that saga is never handed the stored
 * answers of the first (the participants refuse to act again on what a finished saga settled).
 */

/** What a compensation answers: the record, and whether there was anything to undo. */
export type Compensated<T> = T & { noop: boolean };

/**
 * `keySuffix` tells apart several calls of one activity type in one saga (the dead-letter log's entries). A fault
 * planned for this action (tests and demos) comes from the activity's headers, never from its arguments.
 */
export function sagaCallOptions(keySuffix?: string): CallOptions {
  const { info, cancellationSignal } = Context.current();
  const workflowId = info.workflowExecution?.workflowId;
  if (!workflowId)
    throw new Error(
      `${info.activityType} must run as part of a saga workflow (its idempotency key is the workflow id)`,
    );
  const headers = sagaActivityHeaders();
  // An activity scheduled before the kit sent the run header keeps the key its earlier attempts used.
  const saga = headers.run === undefined ? workflowId : `${workflowId}:${headers.run}`;
  const key = `${saga}:${info.activityType}${keySuffix === undefined ? '' : `:${keySuffix}`}`;
  return { idempotencyKey: key, faults: headers.fault, signal: cancellationSignal };
}

/**
 * The service client as activities use it: a failure carries the attempt number in its details, so that a
 * compensation given up on can be recorded with the number of attempts it took (the workflow sees failures, not
 * attempts).
 */
export function sagaServiceClient(serviceClient: ServiceClient): Pick<ServiceClient, 'call'> {
  return { call: ((...args) => taggedWithAttempt(() => serviceClient.call(...args))) as ServiceClient['call'] };
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

async function taggedWithAttempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    throw ApplicationFailure.create({
      type: err.type ?? undefined,
      message: err.message,
      nonRetryable: err.nonRetryable ?? undefined,
      details: [...(err.details ?? []), { attempt: Context.current().info.attempt }],
      cause: err.cause,
    });
  }
}
