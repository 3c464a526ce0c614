import path from 'node:path';
import { Command } from 'commander';
import { checkDocs, repositoryDocs, syncIncludes } from './check-docs';
import { formatProblem } from './problems';

/** `npm run docs:check` (and `npm run docs:sync`, which rewrites included blocks from their files first). */
const program = new Command('docs-check')
  .description("check that the docs' snippets compile, their commands and flags exist and their links resolve")
  .option('--sync', 'rewrite every included code block from its file before checking')
  .action(async (opts: { sync?: boolean }) => {
    const root = path.resolve(__dirname, '..', '..');
    const docs = repositoryDocs(root);
    if (opts.sync) for (const doc of syncIncludes(docs, root)) console.log(`synced ${path.relative(root, doc)}`);
    const problems = await checkDocs(root, docs);
    for (const problem of problems) console.error(formatProblem(root, problem));
    console.log(`docs check: ${docs.length} file(s), ${problems.length} problem(s)`);
    process.exitCode = problems.length ? 1 : 0;
  });

void program.parseAsync();
