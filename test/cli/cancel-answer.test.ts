import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cancelRefusalExitCode, EXIT, EXIT_CODES_HELP } from '../../cli/errors';

/**
 * `cancel`'s exit code for each refusal the kit's SagaClient answers with (its answer per saga status is tested in
 * packages/saga-kit/test/cancel-answer.test.ts; end to end, with the CLI as a subprocess, in client.test.ts). The exit
 * codes are the ones docs/using-the-cli.md's table and `--help` promise.
 */
describe('cancel: one exit code per refusal (cli/errors.ts)', () => {
  const cases = [
    ['at-pivot', EXIT.CANCEL_REFUSED],
    ['past-pivot', EXIT.CANCEL_REFUSED],
    ['compensating', EXIT.NOTHING_TO_CANCEL],
    ['needs-attention', EXIT.NOTHING_TO_CANCEL],
    ['ended', EXIT.NOTHING_TO_CANCEL],
  ] as const;
  for (const [refusal, exitCode] of cases) {
    it(`${refusal}: exit ${exitCode}`, () => assert.equal(cancelRefusalExitCode(refusal), exitCode));
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
