import fs from 'node:fs';
import path from 'node:path';
import { readMarkdown, type CodeBlock, type Located } from './markdown';
import type { Problem } from './problems';

/**
 * What a doc points at must exist: a link's file (and its heading, for an anchor into a Markdown file), a file a code
 * span names (`activities/saga-call.ts`, `broken-activity.test.ts`, `test/replay/histories/v1-*.json`), and the file
 * region an included code block copies, which must still read as the block does.
 */
export interface RepoFiles {
  root: string;
  /** Every tracked file, relative to the root, with "/" separators. */
  files: string[];
}

export function checkLinks(repo: RepoFiles, doc: string, links: Located[], anchors: Set<string>): Problem[] {
  const problems: Problem[] = [];
  for (const { text, line } of links) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(text)) continue; // http:, https:, mailto:
    const [target, anchor] = text.split('#', 2);
    const file = target ? path.resolve(path.dirname(doc), decodeURI(target)) : doc;
    if (!fs.existsSync(file)) {
      problems.push({ doc, line, message: `link to a missing file: ${text}` });
      continue;
    }
    if (anchor === undefined || !file.endsWith('.md')) continue;
    const known = file === doc ? anchors : readMarkdown(fs.readFileSync(file, 'utf8')).anchors;
    if (!known.has(anchor)) problems.push({ doc, line, message: `link to a missing heading: ${text}` });
  }
  return problems;
}

/** A code span that is a path: a file with one of these extensions, or a folder (ending in "/"). */
const FILE_LIKE = /^[\w.@-]+(\/[\w.*@-]+)*\.(ts|tsx|js|mjs|cjs|json|ya?ml|md|sql|prisma|sh|toml|svg|png|txt)$/;
const FOLDER_LIKE = /^[\w.@-]+(\/[\w.@-]+)*\/$/;

export function checkFileNames(repo: RepoFiles, doc: string, spans: Located[]): Problem[] {
  const problems: Problem[] = [];
  for (const { text, line } of spans) {
    const name = text.replace(/:\d+(-\d+)?$/, ''); // file.ts:42
    if (FOLDER_LIKE.test(name)) {
      // A folder: checked when its first segment is one of the repository's own (not "node_modules/", "/tmp/").
      const first = name.split('/')[0];
      if (repo.files.some((f) => f.startsWith(`${first}/`)) && !repo.files.some((f) => f.startsWith(name)))
        problems.push({ doc, line, message: `names a missing folder: ${name}` });
      continue;
    }
    if (!FILE_LIKE.test(name)) continue;
    if (!exists(repo, doc, name)) problems.push({ doc, line, message: `names a missing file: ${name}` });
  }
  return problems;
}

function exists(repo: RepoFiles, doc: string, name: string): boolean {
  const pattern = new RegExp(`(^|/)${name.split('*').map(escape).join('[^/]*')}$`);
  if (name.includes('/')) {
    // Relative to the repository's root or to the doc's folder; a glob must match at least one file.
    const fromDoc = path
      .relative(repo.root, path.resolve(path.dirname(doc), name))
      .split(path.sep)
      .join('/');
    const anchored = (p: string) => new RegExp(`^${p.split('*').map(escape).join('[^/]*')}$`);
    // A path given from a folder the text names around it ("fixtures/broken-sagas.ts" in test/explore/): a suffix.
    return repo.files.some((f) => anchored(name).test(f) || anchored(fromDoc).test(f) || pattern.test(f));
  }
  // A bare file name: some tracked file has it.
  return repo.files.some((f) => pattern.test(f));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `<!-- include: path#region -->`: the block must equal the file, or the lines between `#region name` markers. */
export function checkInclude(repo: RepoFiles, doc: string, block: CodeBlock): Problem[] {
  const wanted = includedText(repo.root, block.include!);
  if ('problem' in wanted) return [{ doc, line: block.line, message: wanted.problem }];
  if (wanted.text.trimEnd() === block.text.trimEnd()) return [];
  return [{ doc, line: block.line, message: `included block differs from ${block.include} (run npm run docs:sync)` }];
}

export function includedText(root: string, include: string): { text: string } | { problem: string } {
  const [file, region] = include.split('#', 2);
  const full = path.join(root, file);
  if (!fs.existsSync(full)) return { problem: `include of a missing file: ${file}` };
  const lines = fs.readFileSync(full, 'utf8').split('\n');
  if (region === undefined) return { text: lines.join('\n') };
  const start = lines.findIndex((l) => l.trim() === `// #region ${region}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === `// #endregion ${region}`);
  if (start < 0 || end < 0) return { problem: `include of a missing region: ${include}` };
  return { text: dedent(lines.slice(start + 1, end)).join('\n') };
}

function dedent(lines: string[]): string[] {
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
}
