import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { checkCommands, type ShellBlock } from './commands';
import { checkFileNames, checkInclude, checkLinks, includedText, type RepoFiles } from './links';
import { readMarkdown } from './markdown';
import type { Problem } from './problems';
import { compileSnippets, type Snippet } from './snippets';

/**
 * The docs check: every code block says what it is (a language); TypeScript blocks compile against the real code (or
 * are included from a real file and still equal it); shell blocks name npm scripts, programs, subcommands and flags
 * that exist; links, anchors and file names point at what exists. `npm run docs:check` runs it on the repository's
 * docs, and `npm test` runs that.
 */
const COMPILED = new Set(['ts', 'typescript']);
const SHELL = new Set(['bash', 'sh', 'shell']);

export async function checkDocs(root: string, docs: string[]): Promise<Problem[]> {
  const repo: RepoFiles = { root, files: listFiles(root) };
  const problems: Problem[] = [];
  const snippets: Snippet[] = [];
  const shell: ShellBlock[] = [];
  for (const doc of docs) {
    const facts = readMarkdown(fs.readFileSync(doc, 'utf8'));
    for (const block of facts.blocks) {
      if (block.include) problems.push(...checkInclude(repo, doc, block));
      else if (!block.lang)
        problems.push({ doc, line: block.line, message: 'code block without a language (use text for output)' });
      else if (COMPILED.has(block.lang)) snippets.push({ doc, line: block.line, text: block.text });
      if (SHELL.has(block.lang)) shell.push({ doc, line: block.line, text: block.text });
    }
    problems.push(...checkLinks(repo, doc, facts.links, facts.anchors));
    problems.push(...checkFileNames(repo, doc, facts.codeSpans));
  }
  problems.push(...compileSnippets(root, snippets));
  problems.push(...(await checkCommands(root, shell)));
  return problems;
}

/** The docs of a repository: README.md and every Markdown file under docs/ and packages/ that git knows (API reports aside). */
export function repositoryDocs(root: string): string[] {
  return (
    listFiles(root)
      .filter((f) => f === 'README.md' || (/^(docs|packages)\//.test(f) && f.endsWith('.md')))
      .filter((f) => !f.includes('node_modules/'))
      // API Extractor's reports (packages/*/etc/*.api.md): generated declaration listings, checked by `npm run test:kit`.
      .filter((f) => !f.endsWith('.api.md'))
      .map((f) => path.join(root, f))
  );
}

/** Rewrites every included block from its file (region): what `npm run docs:sync` does after a code change. */
export function syncIncludes(docs: string[], root: string): string[] {
  const changed: string[] = [];
  for (const doc of docs) {
    const source = fs.readFileSync(doc, 'utf8');
    const synced = source.replace(
      // The block's body runs to the first fence at the start of a line (an empty block included).
      /(<!--\s*include:\s*(\S+)\s*-->\s*\n```[^\n]*\n)([\s\S]*?)(^```[ \t]*$)/gm,
      (whole, head: string, include: string, _body: string, tail: string) => {
        const wanted = includedText(root, include);
        return 'text' in wanted ? `${head}${wanted.text.trimEnd()}\n${tail}` : whole;
      },
    );
    if (synced !== source) {
      fs.writeFileSync(doc, synced);
      changed.push(doc);
    }
  }
  return changed;
}

/** The files git tracks or would add; outside a repository (the check's own tests), every file but node_modules. */
function listFiles(root: string): string[] {
  try {
    return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
  } catch {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const rel = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.name === 'node_modules' || entry.name === '.git') continue;
        if (entry.isDirectory()) walk(rel);
        else out.push(rel);
      }
    };
    walk('');
    return out;
  }
}
