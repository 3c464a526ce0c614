import { defineUpdate, setHandler } from '@temporalio/workflow';
import type { Saga } from './saga';

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

/** The longest reason an operator may give (it is stored with the dead letter and printed). */
const MAX_REASON_LENGTH = 500;
// eslint-disable-next-line no-control-regex -- matching control characters (C0, DEL, C1) is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** The operator's reason, trimmed: one line of printable text, never empty, bounded; refused with why. */
function checkReason(value: unknown): string {
  const reason = typeof value === 'string' ? value.trim() : '';
  if (!reason) throw new Error('the reason must not be empty: a resolution needs a reason (what was done by hand)');
  if (reason.length > MAX_REASON_LENGTH)
    throw new Error(`the reason is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}`);
  if (CONTROL_CHARACTER.test(reason))
    throw new Error('the reason must not contain control characters (newlines, tabs, ...): one line of text');
  return reason;
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
