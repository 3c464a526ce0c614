import { defineUpdate, setHandler } from '@temporalio/workflow';
import { parseReason } from './reason';
import type { Saga } from './saga';
import type { CompensationState, SagaState, StepState } from './types';

/**
 * What an operator can do with a saga that waits on a dead-lettered compensation. Updates rather than signals: the
 * validator refuses a decision the saga cannot take (nothing waits, wrong compensation, no reason) before anything is
 * written to the history, and the caller learns at once whether it was accepted.
 */
export interface RetryCompensationRequest {
  /** The compensation to retry; may be left out when exactly one waits. */
  compensation?: string;
}
export interface ResolveCompensationRequest {
  compensation?: string;
  /** Why the compensation may be considered done (what the operator did by hand). Recorded with the dead letter. */
  reason: string;
}
export interface OperatorDecisionAck {
  compensation: string;
  action: 'retry' | 'resolve';
}

export const retryCompensationUpdate = defineUpdate<OperatorDecisionAck, [RetryCompensationRequest]>(
  'retryCompensation',
);
export const resolveCompensationUpdate = defineUpdate<OperatorDecisionAck, [ResolveCompensationRequest]>(
  'resolveCompensation',
);

/** The operator's reason, trimmed, by the kit's one rule for reasons (reason.ts); refused with why. */
function checkReason(value: unknown): string {
  const parsed = parseReason(value);
  if ('problem' in parsed) throw new Error(`the reason ${parsed.problem}`);
  return parsed.reason;
}

/** Registers the operator's updates on a saga that has a dead-letter log. */
export function installOperatorHandlers(saga: Saga): void {
  setHandler(retryCompensationUpdate, (req) => saga.decide({ action: 'retry', compensation: req?.compensation }), {
    validator: (req) => void saga.validateDecision({ action: 'retry', compensation: req?.compensation }),
  });
  setHandler(
    resolveCompensationUpdate,
    (req) => saga.decide({ action: 'resolve', compensation: req.compensation, reason: checkReason(req.reason) }),
    {
      validator: (req) => {
        checkReason(req?.reason);
        saga.validateDecision({ action: 'resolve', compensation: req.compensation, reason: req.reason });
      },
    },
  );
}

/** A dead-lettered action as an operator sees it: a compensation (undoing `forStep`), or a step after the pivot. */
export type DeadLetteredAction = (StepState & { action: 'step' }) | (CompensationState & { action: 'compensation' });

/** What waits for an operator in a saga's state: its dead-lettered steps (after the pivot) and compensations. */
export function deadLetteredActions(state: Pick<SagaState, 'steps' | 'compensations'>): DeadLetteredAction[] {
  return [
    ...state.steps.filter((s) => s.status === 'DEAD_LETTERED').map((s) => ({ ...s, action: 'step' as const })),
    ...state.compensations
      .filter((c) => c.status === 'DEAD_LETTERED')
      .map((c) => ({ ...c, action: 'compensation' as const })),
  ];
}
