import {
  isGrpcDeadlineError,
  ServiceError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { CliError, EXIT } from '../errors';
import { toResultView, type SagaOutcomeView } from '../render';
import { awaitSagaEndOrOperator, describeSaga, getSagaState, sagaOf, type SentDecision } from '../saga-client';

/** What several commands share: waiting for a saga's end, query deadlines, exit codes of an outcome. */

/** A query needs a worker to answer it; without one it would wait indefinitely, so it gets a deadline. */
export const QUERY_TIMEOUT_MS = 10_000;

export function isTimeout(err: unknown): boolean {
  return (
    isGrpcDeadlineError(err) ||
    (err instanceof ServiceError && isGrpcDeadlineError(err.cause)) ||
    // an update's RPC, cut by the deadline
    (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && isGrpcDeadlineError(err.cause))
  );
}

/** Runs calls that query the saga with a deadline, and says what is probably wrong when it passes. */
export async function withQueryDeadline<T>(
  client: Client,
  sagaId: string,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, fn);
  } catch (err) {
    if (!isTimeout(err)) throw err;
    const description = await describeSaga(client, sagaId);
    throw new CliError(
      `cannot ${what} the saga ${sagaId} (workflow ${description.status.name}): no answer within ${QUERY_TIMEOUT_MS / 1000} s; is a worker polling task queue ${description.taskQueue}?`,
      EXIT.FAILED,
      'failed',
    );
  }
}

/** The registered saga a workflow runs, by its id; a workflow that is no saga is "no saga". */
export async function describeRegisteredSaga(client: Client, sagaId: string) {
  const description = await describeSaga(client, sagaId); // an unknown id is "no saga X", not a failed saga
  const saga = sagaOf(description);
  if (!saga)
    throw new CliError(
      `workflow ${sagaId} is a ${description.type}, not one of the registered sagas`,
      EXIT.FAILED,
      'not-found',
    );
  return { description, saga };
}

/**
 * Waits for the saga's end, or until it waits for an operator (a dead-lettered compensation: it would not end before
 * someone decides); the final state (best effort) says which compensations ran. `sent`: a decision just sent, whose
 * dead letter shows until the saga picks it up.
 */
export async function resultView(client: Client, sagaId: string, sent?: SentDecision): Promise<SagaOutcomeView> {
  const { saga } = await describeRegisteredSaga(client, sagaId);
  const ended = await awaitSagaEndOrOperator(client, sagaId, { sent });
  if (ended.outcome === 'needs-attention')
    return { saga: saga.name, sagaId, outcome: 'NEEDS_ATTENTION', state: ended.state };
  // Cancelled and failed outcomes carry the final state; a completed saga's result does not, so fetch it.
  const state = ended.outcome === 'completed' ? await getSagaState(client, sagaId).catch(() => undefined) : ended.state;
  return toResultView(saga.name, sagaId, ended, state);
}

export function resultExitCode(view: SagaOutcomeView): number {
  return view.outcome === 'FAILED' ? EXIT.FAILED : view.outcome === 'NEEDS_ATTENTION' ? EXIT.NEEDS_ATTENTION : EXIT.OK;
}
