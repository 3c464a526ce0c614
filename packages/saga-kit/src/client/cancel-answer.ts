import type { SagaState } from '../workflow/types';
import { deadLetteredActions } from '../workflow/operator';

/**
 * What a cancel answers, decided from the saga's state alone (one small function, so that every status has one
 * answer):
 *
 *   workflow status   saga status                      answer
 *   not RUNNING       any                              nothing to cancel: the saga already ended        (ended)
 *   RUNNING           RUNNING, cancellable             cancel it: the completed steps are compensated
 *   RUNNING           RUNNING, not cancellable         refused: the pivot is running                    (at-pivot)
 *   RUNNING           COMMITTED                        refused: past the pivot                          (past-pivot)
 *   RUNNING           COMPENSATING                     nothing to cancel: already compensating          (compensating)
 *   RUNNING           NEEDS_ATTENTION                  nothing to cancel: waits for an operator         (needs-attention)
 *   RUNNING           NEEDS_ATTENTION, no compensation refused: past the pivot, a step waits   (past-pivot)
 *   RUNNING           COMPLETED, COMPENSATED, …        nothing to cancel: the saga has finished         (ended)
 */
export type CancelRefusal = 'ended' | 'compensating' | 'needs-attention' | 'at-pivot' | 'past-pivot';
export type CancelAnswer = { cancel: true } | { cancel: false; refusal: CancelRefusal; reason: string };

export function cancelAnswer(
  workflowStatus: string,
  state:
    | (Pick<SagaState, 'status' | 'cancellable' | 'currentStep' | 'compensationCause' | 'compensations'> &
        Partial<Pick<SagaState, 'steps'>>)
    | undefined,
): CancelAnswer {
  const refuse = (refusal: CancelRefusal, reason: string): CancelAnswer => ({ cancel: false, refusal, reason });
  if (workflowStatus !== 'RUNNING' || !state)
    return refuse('ended', `the saga already ended (${workflowStatus.toLowerCase()})`);
  const cause = state.compensationCause?.reason ?? 'unknown cause';
  switch (state.status) {
    case 'RUNNING':
      if (state.cancellable) return { cancel: true };
      return refuse(
        'at-pivot',
        `the saga is at its pivot (${state.currentStep ?? 'the pivot step'} is running); it can no longer be cancelled and will complete or compensate by itself`,
      );
    case 'COMMITTED':
      return refuse(
        'past-pivot',
        `the saga is past its pivot (${state.steps?.find((s) => s.kind === 'pivot')?.name ?? 'the pivot'} done, status COMMITTED); it can no longer be cancelled and will complete`,
      );
    case 'COMPENSATING':
      return refuse('compensating', `the saga is already compensating (${cause})`);
    case 'NEEDS_ATTENTION': {
      const waiting = deadLetteredActions({ steps: state.steps ?? [], compensations: state.compensations }).map(
        (c) => c.name,
      );
      // A step after the pivot waits for an operator: the saga goes forward, there is nothing to cancel.
      if (!state.compensationCause)
        return refuse(
          'past-pivot',
          `the saga is past its pivot and waits for an operator (${waiting.join(', ')} dead-lettered): see dead-letters list; it can no longer be cancelled and will complete`,
        );
      return refuse(
        'needs-attention',
        `the saga is already compensating (${cause}) and waits for an operator (${waiting.join(', ') || 'a compensation'} dead-lettered): see dead-letters list`,
      );
    }
    default:
      return refuse('ended', `the saga has finished (status ${state.status})`);
  }
}
