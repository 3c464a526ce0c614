/**
 * temporal-saga-kit as a team that installs it gets it: the package is packed (npm pack), a scratch project in a temp
 * directory OUTSIDE this repository installs the tarball and the @temporalio/* packages from the registry, takes the
 * quick start from the package README (its TypeScript blocks, extracted here, never copied), compiles it with tsc
 * (the saga's definition first, alone), and runs its worker and its start script on a real Temporal dev server: one
 * trip completes, the other is compensated in reverse order. A README example that no longer compiles or runs fails.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import workerPackage from '@temporalio/worker/package.json';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const PACKAGE_DIR = path.join(REPO, 'packages/saga-kit');
/** The SDK the repository is tested with: what the scratch project installs (the package's peers allow ^1.24). */
const TEMPORAL_VERSION = workerPackage.version;
const TEMPORAL_PACKAGES = ['activity', 'client', 'common', 'worker', 'workflow'].map(
  (p) => `@temporalio/${p}@${TEMPORAL_VERSION}`,
);

/** The README's TypeScript blocks, by the file each one names on its first line (`// saga.ts`). */
function quickStartFiles(readme: string): { name: string; code: string }[] {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => {
    const code = m[1];
    const name = /^\/\/ ([\w-]+\.ts)\n/.exec(code)?.[1];
    assert.ok(name, `a README TypeScript block must name its file on its first line: ${code.slice(0, 60)}`);
    return { name, code };
  });
}

describe('temporal-saga-kit from outside the repository (npm pack, a scratch project, the README quick start)', function () {
  this.timeout(600_000);
  let scratch: string;
  let server: DevServer | undefined;
  const children: ChildProcess[] = [];

  before(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'saga-kit-scratch-'));
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await server?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('installs the tarball, compiles the quick start, and runs one saga that completes and one compensated in reverse', async () => {
    const relative = path.relative(REPO, scratch);
    assert.ok(relative.startsWith('..') || path.isAbsolute(relative), `${scratch} is outside the repository`);

    // 1. The package as published: built, then packed.
    await run('npm', ['run', 'build', '-w', 'temporal-saga-kit'], { cwd: REPO });
    const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: PACKAGE_DIR,
    });
    const [{ filename, files }] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
    assert.ok(files.some((f) => f.path === 'dist/workflow/index.js') && files.some((f) => f.path === 'README.md'));
    assert.ok(!files.some((f) => f.path.startsWith('src/') || f.path.startsWith('test/')), 'only the build ships');

    // 2. The quick start, from the README.
    const sources = quickStartFiles(await readFile(path.join(PACKAGE_DIR, 'README.md'), 'utf8'));
    assert.deepEqual(
      sources.map((s) => s.name),
      ['saga.ts', 'activities.ts', 'worker.ts', 'start.ts'],
    );
    const imports = [...sources[0].code.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    assert.ok(
      imports.every((i) => i.startsWith('temporal-saga-kit/') || i.startsWith('@temporalio/')),
      `the saga's definition imports only the package and @temporalio/*: ${imports.join(', ')}`,
    );
    for (const s of sources) await writeFile(path.join(scratch, s.name), s.code);
    const compilerOptions = {
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      outDir: 'dist',
    };
    await writeFile(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-trip', private: true }));
    await writeFile(path.join(scratch, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
    await writeFile(
      path.join(scratch, 'tsconfig.saga.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true }, files: ['saga.ts'] }),
    );

    // 3. Installed as a team would: the tarball, the SDK, the compiler. No install scripts are needed.
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--prefer-offline',
        path.join(scratch, filename),
        ...TEMPORAL_PACKAGES,
        'typescript@5.9',
        '@types/node@20',
      ],
      { cwd: scratch, maxBuffer: 16 * 1024 * 1024 },
    );

    // 4. Compiled: the saga's definition on its own, then the whole project.
    await run('npx', ['tsc', '-p', 'tsconfig.saga.json'], { cwd: scratch });
    await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: scratch });

    // 5. Run on a Temporal dev server: the README's worker, then its start script.
    server = await startDevServer({ ui: false, searchAttributes: SAGA_SEARCH_ATTRIBUTES });
    const env = { ...process.env, TEMPORAL_ADDRESS: server.address };
    const worker = spawn('node', ['dist/worker.js'], { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(worker);
    let workerOut = '';
    worker.stdout.on('data', (d: Buffer) => (workerOut += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (workerOut += d.toString()));
    const started = await run('node', ['dist/start.js'], { cwd: scratch, env, timeout: 120_000 });
    worker.kill('SIGINT');
    await new Promise((resolve) => worker.once('exit', resolve));
    console.log(`      scratch project: ${scratch}\n${started.stdout.replace(/^/gm, '      | ')}`);

    const lines = started.stdout.trim().split('\n');
    assert.equal(lines.length, 2, started.stdout);
    assert.equal(
      lines[0],
      'trip-1: COMPLETED {"outcome":"completed","result":{"booked":true,"receipt":"R-trip-1"}}; compensated: nothing',
    );
    assert.equal(
      lines[1],
      'trip-2: COMPENSATED {"outcome":"completed","result":{"booked":false,"reason":"charge-card: card declined"}}; compensated: cancel-hotel → cancel-flight',
    );
    // What the activities did for the declined trip, in order: booked, then undone last-first.
    const trip2 = [...workerOut.matchAll(/^([\w-]+) trip-2 /gm)].map((m) => m[1]);
    assert.deepEqual(trip2, ['book-flight', 'book-hotel', 'cancel-hotel', 'cancel-flight'], workerOut);
    assert.match(workerOut, /book-flight trip-1 \(idempotency key trip-1:[\w-]+:bookFlight\)/);
  });
});
