import { lexer, type Token, type Tokens } from 'marked';

/**
 * What the docs check reads of one Markdown file: its fenced code blocks (with the include marker right before one,
 * if any), its links and images, its inline code spans and its headings' anchors, each with its line. Parsed with
 * marked's lexer, so what counts as a code block or a link is what a Markdown renderer says.
 */
export interface CodeBlock {
  lang: string;
  text: string;
  /** Line of the opening fence (1-based). */
  line: number;
  /** `<!-- include: path[#region] -->` just before the block: the block must equal that file (region). */
  include?: string;
}

export interface Located {
  text: string;
  line: number;
}

export interface MarkdownFacts {
  blocks: CodeBlock[];
  /** Link and image targets. */
  links: Located[];
  codeSpans: Located[];
  /** GitHub-style anchors of the headings ("## The saga kit" → "the-saga-kit"). */
  anchors: Set<string>;
}

const INCLUDE = /^<!--\s*include:\s*(\S+)\s*-->\s*$/;

export function readMarkdown(source: string): MarkdownFacts {
  const facts: MarkdownFacts = { blocks: [], links: [], codeSpans: [], anchors: new Set() };
  const slugs = new Map<string, number>();
  let offset = 0;
  // Each top-level token's raw text follows the previous one's in the source: that gives its line.
  const lineAt = (index: number) => source.slice(0, index).split('\n').length;
  let pendingInclude: string | undefined;
  for (const token of lexer(source)) {
    const start = source.indexOf(token.raw, offset);
    const at = start >= 0 ? start : offset;
    offset = at + token.raw.length;
    const line = lineAt(at);
    if (token.type === 'html' && INCLUDE.test(token.raw.trim())) {
      pendingInclude = INCLUDE.exec(token.raw.trim())![1];
      continue;
    }
    if (token.type === 'code') {
      const code = token as Tokens.Code;
      facts.blocks.push({ lang: (code.lang ?? '').trim(), text: code.text, line, include: pendingInclude });
    } else if (token.type !== 'space') {
      if (token.type === 'heading') facts.anchors.add(uniqueSlug(slugs, (token as Tokens.Heading).text));
      walkInline(token, source.slice(at, offset), line, facts);
    }
    if (token.type !== 'space') pendingInclude = undefined;
  }
  return facts;
}

/** Links, images and code spans anywhere inside a block token (paragraphs, lists, tables, headings). */
function walkInline(token: Token, raw: string, line: number, facts: MarkdownFacts): void {
  const lineOf = (text: string) => {
    const i = raw.indexOf(text);
    return i < 0 ? line : line + raw.slice(0, i).split('\n').length - 1;
  };
  const visit = (t: Token): void => {
    if (t.type === 'link' || t.type === 'image')
      facts.links.push({ text: (t as Tokens.Link).href, line: lineOf(t.raw) });
    if (t.type === 'codespan') facts.codeSpans.push({ text: (t as Tokens.Codespan).text, line: lineOf(t.raw) });
    for (const child of children(t)) visit(child);
  };
  visit(token);
}

function children(t: Token): Token[] {
  const out: Token[] = [];
  const withTokens = t as {
    tokens?: Token[];
    items?: Token[];
    header?: { tokens: Token[] }[];
    rows?: { tokens: Token[] }[][];
  };
  if (withTokens.tokens) out.push(...withTokens.tokens);
  if (withTokens.items) out.push(...withTokens.items);
  if (withTokens.header) for (const cell of withTokens.header) out.push(...cell.tokens);
  if (withTokens.rows) for (const row of withTokens.rows) for (const cell of row) out.push(...cell.tokens);
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, "-1", "-2"... for repeats. */
export function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

function uniqueSlug(seen: Map<string, number>, heading: string): string {
  const base = slug(heading);
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}
