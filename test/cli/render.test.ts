import assert from 'node:assert/strict';
import { renderDeadLetters, renderResult, renderStatus, truncate } from '../../cli/render';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { SAGA_FAILURE_TYPES } from 'temporal-saga-kit/workflow';
import type { CompensationState } from '../../workflows/saga-types';

/** cli/render.ts on its own: the cases the end-to-end CLI tests cannot easily produce. */
const deadLetter = (id: number | undefined, errorType: string, lastError: string) => ({
  id,
  round: 1,
  attempts: 20,
  errorType,
  lastError,
  recordedAt: '2025-01-01T00:00:00.000Z',
});

function sagaState(status: SagaView['status'], compensations: CompensationState[]): SagaView {
  return {
    saga: 'order',
    key: 'ord-r',
    data: {},
    status,
    cancellable: false,
    steps: [
      { name: 'create-order', kind: 'compensatable', status: 'COMPLETED' },
      { name: 'reserve-inventory', kind: 'compensatable', status: 'COMPLETED' },
      {
        name: 'charge-payment',
        kind: 'pivot',
        status: 'FAILED',
        failure: { type: 'insufficient_funds', message: 'insufficient funds', businessRejection: true },
      },
    ],
    compensations,
    compensationCause: {
      cause: 'rejected',
      reason: 'charge-payment: insufficient funds',
      failedStep: 'charge-payment',
    },
  };
}

describe('cli/render.ts', () => {
  it('two compensations waiting (parallel compensation): each hint names its compensation; a dead letter not logged says so', () => {
    const state = sagaState('NEEDS_ATTENTION', [
      {
        name: 'release-inventory',
        forStep: 'reserve-inventory',
        status: 'DEAD_LETTERED',
        deadLetter: deadLetter(7, 'ServiceUnavailable', 'inventory answered 503'),
      },
      {
        name: 'reject-order',
        forStep: 'create-order',
        status: 'DEAD_LETTERED',
        deadLetter: {
          ...deadLetter(undefined, 'injected_rejection', 'no'),
          recordedAt: undefined,
          recordError: 'orders answered 503',
        },
      },
    ]);
    const text = renderStatus({ sagaId: 'ord-r', workflowStatus: 'RUNNING', state });
    assert.match(text, /^ {2}⚠ waits for an operator: release-inventory, reject-order dead-lettered/m);
    assert.match(
      text,
      /^ {2}⚠ release-inventory {2}undoes reserve-inventory {2}— dead-lettered \(#7, round 1\) after 20 attempt\(s\): ServiceUnavailable: inventory answered 503$/m,
    );
    assert.match(
      text,
      /^ {6}waits for an operator: dead-letters retry ord-r --compensation release-inventory, or dead-letters resolve ord-r --compensation release-inventory --reason TEXT$/m,
    );
    assert.match(
      text,
      /^ {2}⚠ reject-order {7}undoes create-order {2}— dead-lettered \(round 1\) after 20 attempt\(s\): injected_rejection: no$/m,
    );
    assert.match(text, /^ {6}not in the dead-letter log: orders answered 503$/m);
    assert.match(text, /--compensation reject-order --reason TEXT$/m);
  });

  it('dead-letters list: errors on one line, cut with an ellipsis; a missing id or time shows "-"', () => {
    const long = `line one\n${'x'.repeat(200)}`;
    const text = renderDeadLetters([
      {
        saga: 'order',
        sagaId: 'ord-a',
        compensation: 'release-inventory',
        kind: 'compensation',
        forStep: 'reserve-inventory',
        deadLetter: deadLetter(3, 'Timeout.START_TO_CLOSE', long),
      },
      {
        saga: 'order',
        sagaId: 'ord-b',
        compensation: 'cancel-shipment',
        kind: 'compensation',
        forStep: 'schedule-shipment',
        deadLetter: { ...deadLetter(undefined, 'E', 'short'), recordedAt: undefined },
      },
    ]);
    const [header, a, b] = text.split('\n');
    assert.match(header, /^SAGA\s+ID\s+COMPENSATION\s+UNDOES\s+ROUND\s+ATTEMPTS\s+RECORDED\s+ID\s+ERROR$/);
    assert.match(
      a,
      /^order\s+ord-a\s+release-inventory\s+reserve-inventory\s+1\s+20\s+2025-01-01T00:00:00.000Z\s+3\s+Timeout.START_TO_CLOSE: line one x+…$/,
    );
    assert.equal(a.slice(a.indexOf('Timeout')).length, 72);
    assert.match(b, /^order\s+ord-b\s+cancel-shipment\s+schedule-shipment\s+1\s+20\s+-\s+-\s+E: short$/);
    assert.equal(renderDeadLetters([]), 'No saga waits for an operator.');
    assert.equal(truncate(' a \n b ', 10), 'a b');
  });

  it('a saga that failed to compensate (no dead-letter log: sagas started before it existed): FAILED, the aggregated message', () => {
    const state = sagaState('COMPENSATION_FAILED', [
      {
        name: 'release-inventory',
        forStep: 'reserve-inventory',
        status: 'FAILED',
        failure: { type: 'injected_rejection', message: 'refused', businessRejection: true },
      },
      { name: 'reject-order', forStep: 'create-order', status: 'NOT_RUN' },
    ]);
    const text = renderResult({
      saga: 'order',
      sagaId: 'ord-r',
      outcome: 'FAILED',
      error: {
        message: 'saga compensation failed: 1 compensation(s) did not succeed: release-inventory (refused)',
        type: SAGA_FAILURE_TYPES.compensationFailed,
      },
      state,
    });
    assert.match(text, /^FAILED: order ord-r: saga compensation failed: .*release-inventory/m);
    assert.match(text, /needs attention: not every completed step could be undone/);
    assert.match(text, /^ {2}✘ release-inventory {2}undoes reserve-inventory {2}— failed: refused$/m);
    assert.match(text, /^ {2}– reject-order {7}undoes create-order {2}— not run$/m);
  });
});
