import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import type { Problem } from './problems';

/**
 * TypeScript snippets in the docs compile as part of the check, against the real code: each one is a virtual module
 * placed where its imports resolve: beside the file its first line names (`// file: workflows/return-saga.ts`), else
 * in the doc's own folder. All of a check's snippets compile in one program with the repository's compiler options.
 */
export interface Snippet {
  doc: string;
  line: number;
  text: string;
}

const FILE_COMMENT = /^\/\/\s*file:\s*(\S+)/;

export function compileSnippets(root: string, snippets: Snippet[]): Problem[] {
  if (!snippets.length) return [];
  const options = compilerOptions(root);
  const virtual = new Map<string, Snippet>();
  snippets.forEach((snippet, i) => {
    const named = FILE_COMMENT.exec(snippet.text)?.[1];
    const dir = named ? path.join(root, path.dirname(named)) : path.dirname(snippet.doc);
    const base = named ? path.basename(named, path.extname(named)) : path.basename(snippet.doc, '.md');
    // A module of its own (so snippets do not share a global scope), whatever it contains.
    virtual.set(path.join(dir, `${base}.docs-snippet-${i}.ts`), { ...snippet, text: `${snippet.text}\nexport {};\n` });
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) => {
    const snippet = virtual.get(path.resolve(file));
    return snippet ? ts.createSourceFile(file, snippet.text, language) : getSourceFile(file, language, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists(file);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => virtual.get(path.resolve(file))?.text ?? readFile(file);

  const program = ts.createProgram([...virtual.keys()], options, host);
  const problems: Problem[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const snippet = diagnostic.file && virtual.get(path.resolve(diagnostic.file.fileName));
    if (!snippet) continue;
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    problems.push({
      doc: snippet.doc,
      // The fence's line, then the snippet's own lines.
      line: snippet.line + 1 + line,
      message: `snippet does not compile: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`,
    });
  }
  return problems;
}

/** The repository's compiler options (tsconfig.json), without the checks that only make sense for whole files. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = path.join(root, 'tsconfig.json');
  const base = fs.existsSync(configPath)
    ? ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root).options
    : { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true };
  return { ...base, noEmit: true, noUnusedLocals: false, noUnusedParameters: false, skipLibCheck: true };
}
