/**
 * The kit's compile-time rules (type-errors.ts), checked with the TypeScript compiler in one program: the file as
 * written has no error (every `@ts-expect-error` is used), and the same file with its markers taken out has an
 * error on exactly the marked lines, so no marker is silenced by some unrelated error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const FILE = path.join(__dirname, 'type-errors.ts');
const UNMARKED = path.join(__dirname, 'type-errors.unmarked.ts');
const MARKER = /\/\/ @ts-expect-error (.*)$/;

describe('saga kit types (type-errors.ts, compiled by tsc)', function () {
  this.timeout(60_000);

  it('refuses each marked line at compile time, and nothing else', () => {
    const text = readFileSync(FILE, 'utf8');
    const lines = text.split('\n');
    // The line after each marker, and what the marker says it refuses.
    const expected = new Map(
      lines.flatMap((line, i) => (MARKER.test(line) ? [[i + 1, MARKER.exec(line)![1]] as const] : [])),
    );
    assert.ok(expected.size >= 8, `only ${expected.size} markers`);
    const unmarked = lines.map((line) => line.replace(MARKER, '//')).join('\n');

    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(__dirname, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    )!;
    const host = ts.createCompilerHost(config.options);
    const readFile = host.readFile.bind(host);
    host.readFile = (name) => (path.resolve(name) === UNMARKED ? unmarked : readFile(name));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => path.resolve(name) === UNMARKED || fileExists(name);
    const program = ts.createProgram([FILE, UNMARKED], config.options, host);
    const errors = (file: string) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ({
        line: d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line : -1,
        message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
      }));

    assert.deepEqual(
      errors(FILE),
      [],
      'type-errors.ts as written must compile (an unused @ts-expect-error is an error)',
    );
    const found = errors(UNMARKED);
    const lines_ = [...new Set(found.map((e) => e.line))].sort((a, b) => a - b);
    assert.deepEqual(
      lines_,
      [...expected.keys()],
      `errors on other lines than the marked ones:\n${found.map((e) => `  line ${e.line + 1}: ${e.message}`).join('\n')}`,
    );
  });
});
