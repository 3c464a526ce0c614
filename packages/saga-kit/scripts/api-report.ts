/**
 * The package's public API, one report per entry point (etc/temporal-saga-kit-<entry>.api.md), made by API
 * Extractor from the built declarations. `npm run api` (part of `npm test`) fails when the surface differs from the
 * committed reports, so that every change to it is a visible diff; `npm run api:update` rewrites them. Every exported
 * name must carry a TSDoc comment (ae-undocumented), and the four entry points together export at most MAX_NAMES.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const ENTRY_POINTS = ['workflow', 'activity', 'worker', 'client'] as const;
// 25 at 1.0; 1.1's recovery sweep is a capability of its own (a workflow to register): one name more, no other.
const MAX_NAMES = 26;
const root = path.resolve(__dirname, '..');
const local = process.argv.includes('--local');

let names = 0;
let failed = false;
/** One TypeScript program for the four reports (each would otherwise build its own). */
let compilerState: CompilerState | undefined;
for (const entry of ENTRY_POINTS) {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: `<projectFolder>/dist/${entry}/index.d.ts`,
      compiler: { tsconfigFilePath: '<projectFolder>/tsconfig.build.json' },
      apiReport: {
        enabled: true,
        reportFileName: `temporal-saga-kit-${entry}`,
        reportFolder: '<projectFolder>/etc/',
        reportTempFolder: '<projectFolder>/temp/',
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning },
          // Types reached through an exported one (the builder, the contexts) are documented where they are declared.
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.Error },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: path.join(root, 'api-extractor.json'),
    packageJsonFullPath: path.join(root, 'package.json'),
  });
  compilerState ??= CompilerState.create(config, {
    additionalEntryPoints: ENTRY_POINTS.map((e) => path.join(root, 'dist', e, 'index.d.ts')),
  });
  const result = Extractor.invoke(config, { localBuild: local, compilerState });
  names += countExports(path.join(root, 'etc', `temporal-saga-kit-${entry}.api.md`));
  if (!result.succeeded) {
    failed = true;
    console.error(
      `${entry}: ${result.errorCount} error(s), ${result.warningCount} warning(s)${result.apiReportChanged ? '; the API report changed: review it and run `npm run api:update -w temporal-saga-kit`' : ''}`,
    );
  }
}
console.log(
  `temporal-saga-kit: ${names} exported names across ${ENTRY_POINTS.length} entry points (at most ${MAX_NAMES})`,
);
if (names > MAX_NAMES) {
  console.error(`the public API grew past ${MAX_NAMES} names: fold or drop one before adding another`);
  failed = true;
}
if (failed) process.exit(1);

/** The names an API report declares at its top level. */
function countExports(report: string): number {
  return readFileSync(report, 'utf8')
    .split('\n')
    .filter((line) => /^export (declare )?(const|function|class|interface|type|enum|namespace) /.test(line)).length;
}
