import assert from 'node:assert/strict';
import { cancelAnswer, type CancelRefusal } from '../src/client/cancel-answer';
import type { SagaState } from '../src/workflow/types';

/**
 * SagaClient.cancel's answer for every saga status, from the state alone (end to end, on a real stack: the app's
 * test/cli/client.test.ts). Each refusal names its kind, which a CLI maps to an exit code.
 */
type State = Pick<SagaState, 'status' | 'cancellable' | 'currentStep' | 'compensationCause' | 'compensations'>;
const cause = {
  cause: 'step-failed',
  reason: 'charge-payment: insufficient funds',
} as unknown as SagaState['compensationCause'];
const state = (s: Partial<State>): State => ({ status: 'RUNNING', cancellable: true, compensations: [], ...s });

describe('cancel: one answer per saga status (src/client/cancel-answer.ts)', () => {
  const cases: [string, string, State | undefined, CancelRefusal | undefined, RegExp][] = [
    ['RUNNING before the pivot', 'RUNNING', state({ currentStep: 'schedule-shipment' }), undefined, /^$/],
    [
      'RUNNING at the pivot (not cancellable)',
      'RUNNING',
      state({ cancellable: false, currentStep: 'charge-payment' }),
      'at-pivot',
      /at its pivot \(charge-payment is running\)/,
    ],
    [
      'COMMITTED (after the pivot)',
      'RUNNING',
      state({ status: 'COMMITTED', cancellable: false }),
      'past-pivot',
      /past its pivot \(the pivot done, status COMMITTED\)/,
    ],
    [
      'COMPENSATING',
      'RUNNING',
      state({ status: 'COMPENSATING', cancellable: false, compensationCause: cause }),
      'compensating',
      /already compensating \(charge-payment: insufficient funds\)$/,
    ],
    [
      'NEEDS_ATTENTION (nothing was charged)',
      'RUNNING',
      state({
        status: 'NEEDS_ATTENTION',
        cancellable: false,
        compensationCause: cause,
        compensations: [{ name: 'release-inventory', forStep: 'reserve-inventory', status: 'DEAD_LETTERED' }],
      }),
      'needs-attention',
      /already compensating .* waits for an operator \(release-inventory dead-lettered\)/,
    ],
    [
      'COMPLETED, workflow still closing',
      'RUNNING',
      state({ status: 'COMPLETED', cancellable: false }),
      'ended',
      /has finished \(status COMPLETED\)/,
    ],
    [
      'COMPENSATED, workflow still closing',
      'RUNNING',
      state({ status: 'COMPENSATED', cancellable: false }),
      'ended',
      /has finished/,
    ],
    ['ended (workflow COMPLETED)', 'COMPLETED', undefined, 'ended', /already ended \(completed\)/],
    ['ended (workflow CANCELLED)', 'CANCELLED', undefined, 'ended', /already ended \(cancelled\)/],
    [
      'ended (workflow FAILED)',
      'FAILED',
      state({ status: 'COMPENSATION_FAILED', cancellable: false }),
      'ended',
      /already ended \(failed\)/,
    ],
  ];
  for (const [what, workflowStatus, s, refusal, reason] of cases) {
    it(`${what}: ${refusal ?? 'cancel'}`, () => {
      const answer = cancelAnswer(workflowStatus, s);
      if (refusal === undefined) {
        assert.deepEqual(answer, { cancel: true });
        return;
      }
      assert.equal(answer.cancel, false);
      if (answer.cancel) return;
      assert.equal(answer.refusal, refusal);
      assert.match(answer.reason, reason);
      assert.doesNotMatch(answer.reason, refusal.endsWith('pivot') ? /^$/ : /pivot done/, 'nothing was charged');
    });
  }
});
