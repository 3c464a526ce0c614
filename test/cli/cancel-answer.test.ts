import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cancelAnswer, cancelRefusalExitCode } from '../../cli/cancel-answer';
import { EXIT, EXIT_CODES_HELP } from '../../cli/errors';
import type { SagaState } from '../../workflows/saga/types';

/**
 * `cancel`'s answer for every saga status, from the state alone (the end-to-end cases, with the CLI as a subprocess
 * on a real stack, are in client.test.ts). The exit codes are the ones docs/using-the-cli.md's table and `--help` promise.
 */
type State = Pick<SagaState, 'status' | 'cancellable' | 'currentStep' | 'compensationCause' | 'compensations'>;
const cause = {
  cause: 'step-failed',
  reason: 'charge-payment: insufficient funds',
} as unknown as SagaState['compensationCause'];
const state = (s: Partial<State>): State => ({ status: 'RUNNING', cancellable: true, compensations: [], ...s });

describe('cancel: one answer per saga status (cli/cancel-answer.ts)', () => {
  const cases: [string, string, State | undefined, 0 | 2 | 3, RegExp][] = [
    ['RUNNING before the pivot', 'RUNNING', state({ currentStep: 'schedule-shipment' }), 0, /^$/],
    [
      'RUNNING at the pivot (not cancellable)',
      'RUNNING',
      state({ cancellable: false, currentStep: 'charge-payment' }),
      2,
      /at its pivot \(charge-payment is running\)/,
    ],
    [
      'COMMITTED (after the pivot)',
      'RUNNING',
      state({ status: 'COMMITTED', cancellable: false }),
      2,
      /past its pivot \(the pivot done, status COMMITTED\)/,
    ],
    [
      'COMPENSATING',
      'RUNNING',
      state({ status: 'COMPENSATING', cancellable: false, compensationCause: cause }),
      3,
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
      3,
      /already compensating .* waits for an operator \(release-inventory dead-lettered\)/,
    ],
    [
      'COMPLETED, workflow still closing',
      'RUNNING',
      state({ status: 'COMPLETED', cancellable: false }),
      3,
      /has finished \(status COMPLETED\)/,
    ],
    [
      'COMPENSATED, workflow still closing',
      'RUNNING',
      state({ status: 'COMPENSATED', cancellable: false }),
      3,
      /has finished/,
    ],
    ['ended (workflow COMPLETED)', 'COMPLETED', undefined, 3, /already ended \(completed\)/],
    ['ended (workflow CANCELLED)', 'CANCELLED', undefined, 3, /already ended \(cancelled\)/],
    [
      'ended (workflow FAILED)',
      'FAILED',
      state({ status: 'COMPENSATION_FAILED', cancellable: false }),
      3,
      /already ended \(failed\)/,
    ],
  ];
  for (const [what, workflowStatus, s, exitCode, reason] of cases) {
    it(`${what}: exit ${exitCode}`, () => {
      const answer = cancelAnswer(workflowStatus, s);
      if (exitCode === 0) {
        assert.deepEqual(answer, { cancel: true });
        return;
      }
      assert.equal(answer.cancel, false);
      if (answer.cancel) return;
      assert.equal(cancelRefusalExitCode(answer.refusal), exitCode);
      assert.match(answer.reason, reason);
      assert.doesNotMatch(answer.reason, exitCode === 3 ? /pivot done/ : /^$/, 'nothing was charged');
    });
  }

  it("the docs' exit-code table (docs/using-the-cli.md), --help and the CLI's exit codes list the same codes", () => {
    const readme = readFileSync(path.resolve(__dirname, '../../docs/using-the-cli.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| exit | meaning |'));
    const inReadme = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    const inHelp = [...EXIT_CODES_HELP.matchAll(/^ {2}(\d+) /gm)].map((m) => Number(m[1]));
    // 70 (EX_SOFTWARE) is a bug's exit code: neither documented as an answer nor promised.
    const used = [...new Set(Object.values(EXIT))].filter((c) => c !== EXIT.INTERNAL).sort((a, b) => a - b);
    assert.deepEqual(inReadme, used, 'the exit-code table in docs/using-the-cli.md');
    assert.deepEqual(inHelp, used, '--help');
  });

  it('--help lists the same exit codes for cancel', () => {
    assert.match(EXIT_CODES_HELP, /2 {3}refused: cancel at or past the pivot/);
    assert.match(
      EXIT_CODES_HELP,
      /3 {3}cancel had nothing to do: the saga already ended, or is already compensating \(also while it waits for an\s+operator: NEEDS_ATTENTION\)/,
    );
  });
});
