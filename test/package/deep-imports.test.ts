/**
 * The app imports the saga kit through its four entry points only (what a team that installs the package gets):
 * ESLint's no-restricted-imports (eslint.config.mjs) refuses a path into the package's source or build, and a
 * relative path into packages/saga-kit, anywhere outside the package.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';

const REPO = path.resolve(__dirname, '../..');

describe('temporal-saga-kit: no deep imports (ESLint)', function () {
  this.timeout(120_000);

  it('refuses src/, dist/ and relative paths into the package; the four entry points pass', async () => {
    const code = [
      "import { Saga } from 'temporal-saga-kit/src/workflow/saga';",
      "import { groupsOf } from 'temporal-saga-kit/dist/workflow/stages';",
      "import { defineSaga as d } from '../packages/saga-kit/src/workflow/define';",
      "import { defineSaga } from 'temporal-saga-kit/workflow';",
      "import { sagaActivityContext } from 'temporal-saga-kit/activity';",
      "import { sagaWorkerOptions } from 'temporal-saga-kit/worker';",
      "import { SagaClient } from 'temporal-saga-kit/client';",
      'export { Saga, groupsOf, d, defineSaga, sagaActivityContext, sagaWorkerOptions, SagaClient };',
      '',
    ].join('\n');
    // Linted as if it were one of the CLI's modules (a file of the project, so the type-aware rules apply too).
    const [result] = await new ESLint({ cwd: REPO }).lintText(code, { filePath: path.join(REPO, 'cli/run.ts') });
    const refused = result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line);
    assert.deepEqual(refused, [1, 2, 3], JSON.stringify(result.messages, null, 1));
  });
});
