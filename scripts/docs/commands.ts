import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, type ParseEntry } from 'shell-quote';
import type { Problem } from './problems';

/**
 * Shell commands in the docs must still run: an npm script a command names exists (in the root package or the
 * workspace it names with -w), a program it runs with tsx exists, and every subcommand and `--flag` given to such a
 * program is one its own `--help` lists (commander's usage, read once per command path). Other commands (curl,
 * docker, temporal...) are not ours to check.
 */
export interface ShellBlock {
  doc: string;
  line: number;
  text: string;
}

interface Invocation {
  doc: string;
  line: number;
  words: string[];
}

export async function checkCommands(root: string, blocks: ShellBlock[]): Promise<Problem[]> {
  const invocations = blocks.flatMap((b) => invocationsOf(b));
  const helps = new HelpCache(root);
  const problems: Problem[] = [];
  await pool(invocations, 4, async (inv) => problems.push(...(await checkInvocation(root, inv, helps))));
  return problems.sort((a, b) => a.doc.localeCompare(b.doc) || a.line - b.line);
}

/** The simple commands of a block, one logical line (continuations joined) at a time, comments dropped. */
function invocationsOf(block: ShellBlock): Invocation[] {
  const out: Invocation[] = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i;
    let text = lines[i];
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]}`;
    let words: string[] = [];
    const flush = () => {
      if (words.length) out.push({ doc: block.doc, line: block.line + 1 + first, words });
      words = [];
    };
    for (const entry of parse(text, (name) => `$${name}`) as ParseEntry[]) {
      if (typeof entry === 'string') words.push(entry);
      else if ('comment' in entry) break;
      else flush(); // &&, ||, ;, |, ( ...
    }
    flush();
  }
  return out;
}

async function checkInvocation(root: string, inv: Invocation, helps: HelpCache): Promise<Problem[]> {
  const words = inv.words.slice(inv.words.findIndex((w) => !/^\w+=/.test(w))); // drop VAR=value prefixes
  const problem = (message: string): Problem[] => [{ doc: inv.doc, line: inv.line, message }];
  let program: string | undefined;
  let args: string[];
  if (words[0] === 'npm') {
    const script = npmScript(words.slice(1));
    if (!script) return [];
    const dir = packageDir(root, script.workspace);
    const pkg = dir && readPackageJson(dir);
    if (!pkg) return problem(`npm workspace ${script.workspace} does not exist`);
    const command = pkg.scripts?.[script.name];
    if (command === undefined)
      return problem(`npm script "${script.name}" does not exist${script.workspace ? ` in ${script.workspace}` : ''}`);
    const tsx = /^tsx (\S+\.ts)$/.exec(command);
    if (!tsx || !script.args.length) return [];
    program = path.join(dir, tsx[1]);
    args = script.args;
  } else if ((words[0] === 'npx' && words[1] === 'tsx') || words[0] === 'tsx') {
    const file = words[words[0] === 'npx' ? 2 : 1];
    if (!file?.endsWith('.ts')) return [];
    program = path.join(root, file);
    if (!fs.existsSync(program)) return problem(`${file} does not exist`);
    args = words.slice(words[0] === 'npx' ? 3 : 2);
  } else return [];
  if (!args.length) return [];
  return (await checkArgs(program, args, helps)).flatMap(problem);
}

/** `npm run NAME [-w WS] [-- args]`, `npm start|test [-- args]`; undefined for other npm commands (ci, install...). */
function npmScript(words: string[]): { name: string; workspace?: string; args: string[] } | undefined {
  const dashes = words.indexOf('--');
  const own = dashes < 0 ? words : words.slice(0, dashes);
  const args = dashes < 0 ? [] : words.slice(dashes + 1);
  const w = own.findIndex((x) => x === '-w' || x === '--workspace');
  const workspace = w >= 0 ? own[w + 1] : undefined;
  const rest = own.filter((_, i) => w < 0 || (i !== w && i !== w + 1));
  if (rest[0] === 'run' || rest[0] === 'run-script') return rest[1] ? { name: rest[1], workspace, args } : undefined;
  if (rest[0] === 'start' || rest[0] === 'test') return { name: rest[0], workspace, args };
  return undefined;
}

type PackageJson = { name?: string; scripts?: Record<string, string>; workspaces?: string[] };

const readPackageJson = (dir: string): PackageJson | undefined => {
  const file = path.join(dir, 'package.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson) : undefined;
};

/** The folder of the root package, or of the workspace `-w` names (by its folder or by its package name). */
function packageDir(root: string, workspace?: string): string | undefined {
  if (!workspace) return root;
  // Workspace entries are folders or `folder/*` globs (every subfolder).
  const folders = (readPackageJson(root)?.workspaces ?? []).flatMap((ws) => {
    if (!ws.endsWith('/*')) return [path.join(root, ws)];
    const parent = path.join(root, ws.slice(0, -2));
    return fs.existsSync(parent) ? fs.readdirSync(parent).map((name) => path.join(parent, name)) : [];
  });
  return folders.find((dir) => path.basename(dir) === workspace || readPackageJson(dir)?.name === workspace);
}

/** Walks the arguments down the program's commands; every flag must be one the command (or a parent) lists. */
async function checkArgs(program: string, args: string[], helps: HelpCache): Promise<string[]> {
  const name = path.basename(program);
  const commands: string[] = [];
  let help = await helps.get(program, commands);
  if ('problem' in help) return [help.problem];
  const options = new Map(help.options);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') break;
    if (arg.startsWith('--')) {
      const flag = arg.split('=')[0];
      if (!options.has(flag)) {
        // A command with a default subcommand (`start` runs `start order`) passes the flag on: one of them must know it.
        const chosen = await subcommandWith(program, commands, help.commands, flag, helps);
        if (!chosen) return [`${[name, ...commands].join(' ')} has no option ${flag}`];
        commands.push(chosen.command);
        help = chosen.help;
        for (const [k, v] of help.options) options.set(k, v);
      }
      if (options.get(flag) && !arg.includes('=')) i++; // its value
    } else if (!arg.startsWith('-') && help.commands.includes(arg)) {
      commands.push(arg);
      help = await helps.get(program, commands);
      if ('problem' in help) return [help.problem];
      for (const [k, v] of help.options) options.set(k, v);
    }
  }
  return [];
}

async function subcommandWith(
  program: string,
  commands: string[],
  candidates: string[],
  flag: string,
  helps: HelpCache,
): Promise<{ command: string; help: Help } | undefined> {
  for (const command of candidates.filter((c) => c !== 'help')) {
    const help = await helps.get(program, [...commands, command]);
    if (!('problem' in help) && help.options.has(flag)) return { command, help };
  }
  return undefined;
}

interface Help {
  /** --flag → whether it takes a value. */
  options: Map<string, boolean>;
  commands: string[];
}

/** Each command path's `--help`, asked once (concurrent askers share the answer). */
class HelpCache {
  private readonly cache = new Map<string, Promise<Help | { problem: string }>>();
  constructor(private readonly root: string) {}

  get(program: string, commands: string[]): Promise<Help | { problem: string }> {
    const key = [program, ...commands].join(' ');
    let help = this.cache.get(key);
    if (!help) this.cache.set(key, (help = this.ask(program, commands)));
    return help;
  }

  private async ask(program: string, commands: string[]): Promise<Help | { problem: string }> {
    const label = [path.relative(this.root, program), ...commands].join(' ');
    const tsx = path.join(this.root, 'node_modules', '.bin', 'tsx');
    let out: string;
    try {
      ({ stdout: out } = await promisify(execFile)(tsx, [program, ...commands, '--help'], {
        cwd: this.root,
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      }));
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      out = `${stdout}${stderr}`;
    }
    if (!/^Usage:/m.test(out)) {
      // Say why: a program that fails to load prints its error instead (e.g. a package not built).
      const first = out.split('\n').find((l) => l.trim()) ?? 'nothing';
      return {
        problem: `${label} --help prints no usage (${first.trim().slice(0, 160)}): its options cannot be checked`,
      };
    }
    return parseHelp(out);
  }
}

/** Commander's help: the "Options:" lines (`--flag <value>`) and the "Commands:" lines. */
export function parseHelp(text: string): Help {
  const options = new Map<string, boolean>();
  const commands: string[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^(\w[\w ]*):\s*$/.exec(line);
    if (heading) {
      section = heading[1];
      continue;
    }
    if (/Options$/.test(section)) {
      const m = /^\s+(?:-\w, )?(--[\w-]+)(?: ([<[]))?/.exec(line);
      if (m) options.set(m[1], m[2] !== undefined);
    } else if (section === 'Commands') {
      const m = /^\s+([a-z][\w-]*)/.exec(line);
      if (m) commands.push(m[1]);
    }
  }
  return { options, commands };
}

async function pool<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) await run(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, lane));
}
