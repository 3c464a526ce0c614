import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkDocs, syncIncludes } from '../../scripts/docs/check-docs';

/**
 * The docs check catches what makes docs drift from the code: a snippet that no longer compiles, a command naming a
 * script, subcommand or flag that is gone, a link or a file name pointing at nothing, an included block that no longer
 * equals its file. Each fixture doc below breaks one rule; the real docs are checked by `npm run docs:check`.
 */
describe('docs check', function () {
  this.timeout(120_000);
  const root = path.resolve(__dirname, '..', '..');
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-check-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function check(markdown: string) {
    const doc = path.join(dir, 'doc.md');
    fs.writeFileSync(doc, markdown);
    return (await checkDocs(root, [doc])).map((p) => `${p.line}: ${p.message}`);
  }
  const block = (lang: string, text: string) => `\`\`\`${lang}\n${text}\n\`\`\`\n`;

  it('a snippet that does not compile fails; one that compiles against the real code passes', async () => {
    const problems = await check(
      `# Kit\n\n${block('ts', "const total: number = 'ninety';")}\n${block(
        'ts',
        "// file: workflows/example.ts\nimport { reasonRule } from 'temporal-saga-kit/workflow';\nimport { orderSaga } from './order-saga';\nconst reason: string = reasonRule.asReason(orderSaga.name);",
      )}`,
    );
    assert.deepEqual(problems, ["4: snippet does not compile: Type 'string' is not assignable to type 'number'."]);
  });

  it('a command naming a missing script, subcommand flag or program fails; real ones pass', async () => {
    const problems = await check(
      block(
        'bash',
        [
          'npm run no-such-script',
          'npm run client -- status ord-1 --no-such-flag',
          'npx tsx client.ts dead-letters resolve ord-1 --reason "done by hand" --compensation reject-order',
          'npx tsx client.ts start --customer cust-alice --item KB-001:2 --wait   # the default saga, order',
          'npx tsx no-such-program.ts --help',
          'SAGA_TEST_TEMPORAL=cluster npm run test:dev && curl -s http://127.0.0.1:8233',
          'npm test -w temporal-saga-kit && npm run build -w saga-kit   # a workspace by package or folder name',
          'npm run no-such-script -w temporal-saga-kit',
        ].join('\n'),
      ),
    );
    assert.deepEqual(problems, [
      '2: npm script "no-such-script" does not exist',
      '3: client.ts status has no option --no-such-flag',
      '6: no-such-program.ts does not exist',
      '9: npm script "no-such-script" does not exist in temporal-saga-kit',
    ]);
  });

  it('a link to a missing file or heading, and a file name that names nothing, fail', async () => {
    fs.writeFileSync(path.join(dir, 'other.md'), '# Other\n\n## Real heading\n');
    const problems = await check(
      [
        '# Doc',
        '',
        'See [the other page](other.md#real-heading), [a missing page](missing.md) and [a gone section](other.md#gone).',
        '',
        'The kit lives in `packages/saga-kit/src/workflow/saga.ts`; the old test `broken-activity.test.ts` and `scripts/chaos/gone.ts` do not.',
        '',
        block('text', 'npm run no-such-script   (text blocks are output: not checked)'),
        '```',
        'unlabelled',
        '```',
      ].join('\n'),
    );
    assert.deepEqual(problems, [
      '11: code block without a language (use text for output)',
      '3: link to a missing file: missing.md',
      '3: link to a missing heading: other.md#gone',
      '5: names a missing file: broken-activity.test.ts',
      '5: names a missing file: scripts/chaos/gone.ts',
    ]);
  });

  it('an included block must equal its file region; docs:sync rewrites it', async () => {
    const file = path.join('test', 'docs', 'fixtures', 'included.ts');
    const markdown = `# Doc\n\n<!-- include: ${file}#greeting -->\n${block('ts', "export const greeting = 'hello, old world';")}`;
    assert.deepEqual(await check(markdown), [
      `4: included block differs from ${file}#greeting (run npm run docs:sync)`,
    ]);
    const doc = path.join(dir, 'doc.md');
    syncIncludes([doc], root);
    assert.match(fs.readFileSync(doc, 'utf8'), /export const greeting = 'hello, world';/);
    assert.deepEqual(await check(fs.readFileSync(doc, 'utf8')), []);
  });
});
