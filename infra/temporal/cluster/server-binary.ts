/**
 * Finds the real Temporal server and its SQL schema tool (`temporal-sql-tool`) without any manual step, the way
 * infra/temporal/binary.ts finds the CLI.
 *
 * The server is the project's own main module, infra/temporal/cluster/server/ (go.temporal.io/server started with
 * the certificate roles of roles.go): a stock `temporal-server` cannot enforce them. No npm, PyPI or Debian package
 * ships the server, but the Go module proxy serves its source: `go build` of that module (its go.sum committed) and
 * `go install` of the schema tool build both (about 4 minutes on 2 cores the first time, seconds once Go's build
 * cache is warm). The module needs Go ≥ 1.26.10; GOTOOLCHAIN makes an older `go` fetch that toolchain from the same
 * proxy, so every build here sets it.
 *
 * Resolution order, per binary, first hit wins:
 *   (a) an explicit path in TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH (a bad path is an error; the server must be
 *       a build of infra/temporal/cluster/server);
 *   (b) `temporal-saga-server` / `temporal-sql-tool` on PATH (an image that built the module, the admin-tools image);
 *   (c) the project's own build under `<repo>/.cache/temporal-server/<version>/` (git-ignored), built if missing: the
 *       server as `saga-server-<hash of the module's sources>`, so an edit of the module builds a new one.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exeName, findOnPath, isExecutableFile, REPO_ROOT, run, withInstallLock } from '../binary';

/** The server release the cluster runs, and the Go toolchain that builds it (the module's minimum is 1.26.10). */
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const GO_TOOLCHAIN = 'go1.27.3';

export interface ServerBinaries {
  server: string;
  sqlTool: string;
}

export interface ResolveServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the project's own build goes. Default: $TEMPORAL_SERVER_BUILD_DIR, else `<repo>/.cache/temporal-server`. */
  buildDir?: string;
  /** Look on PATH (step b). Default true. */
  searchPath?: boolean;
  /** Build when missing (step c). Default true. */
  build?: boolean;
  /** Where to look for `go` besides PATH (Go's installer puts it in /usr/local/go/bin, often not on PATH). */
  goDirs?: string[];
  log?: (line: string) => void;
}

/** The project's server: a Go main module (main.go, roles.go, go.mod, go.sum) next to this file. */
export const SERVER_MODULE_DIR = path.join(__dirname, 'server');

/** The files the server is built from, hashed into its binary's name: a changed module is a new binary. */
export function serverModuleHash(dir = SERVER_MODULE_DIR): string {
  const hash = createHash('sha256');
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => /\.go$|^go\.(mod|sum)$/.test(n) && !n.endsWith('_test.go'))
    .sort())
    hash
      .update(`${name}\0`)
      .update(fs.readFileSync(path.join(dir, name)))
      .update('\0');
  return hash.digest('hex').slice(0, 12);
}

const BINARIES = {
  server: {
    envVar: 'TEMPORAL_SERVER_PATH',
    onPath: 'temporal-saga-server',
    built: () => `saga-server-${serverModuleHash()}`,
  },
  sqlTool: { envVar: 'TEMPORAL_SQL_TOOL_PATH', onPath: 'temporal-sql-tool', built: () => 'sql' },
} as const;

const defaultLog = (line: string) => process.stderr.write(`[temporal-server] ${line}\n`);

export function defaultServerBuildDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TEMPORAL_SERVER_BUILD_DIR || path.join(REPO_ROOT, '.cache', 'temporal-server'));
}

/** Both binaries, building the missing ones from the Go module (one `go install`, under a lock). */
export async function requireServerBinaries(opts: ResolveServerOptions = {}): Promise<ServerBinaries> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLog;
  const binDir = path.join(
    opts.buildDir ? path.resolve(opts.buildDir) : defaultServerBuildDir(env),
    TEMPORAL_SERVER_VERSION,
  );
  const found: Partial<ServerBinaries> = {};
  const toBuild: (keyof ServerBinaries)[] = [];
  for (const key of Object.keys(BINARIES) as (keyof ServerBinaries)[]) {
    const spec = BINARIES[key];
    const explicit = env[spec.envVar];
    if (explicit) {
      const p = path.resolve(explicit);
      if (!isExecutableFile(p)) throw new Error(`${spec.envVar}=${explicit} does not point to an executable file`);
      found[key] = p;
      continue;
    }
    const onPath = (opts.searchPath ?? true) ? findOnPath(exeName(spec.onPath), env.PATH ?? '') : undefined;
    const built = path.join(binDir, exeName(spec.built()));
    if (onPath) found[key] = onPath;
    else if (isExecutableFile(built)) found[key] = built;
    else toBuild.push(key);
  }
  if (toBuild.length) {
    if (!(opts.build ?? true)) {
      throw new Error(
        `Temporal server binaries missing (${toBuild.join(', ')}) and building is disabled; set ${toBuild.map((k) => BINARIES[k].envVar).join(' / ')}`,
      );
    }
    await withInstallLock(binDir, log, async () => {
      const still = toBuild.filter((k) => !isExecutableFile(path.join(binDir, exeName(BINARIES[k].built()))));
      if (still.length) await goBuild(binDir, still, env, log, opts.goDirs ?? ['/usr/local/go/bin']);
    });
    for (const key of toBuild) {
      const built = path.join(binDir, exeName(BINARIES[key].built()));
      if (!isExecutableFile(built)) throw new Error(`go install reported success but ${built} is missing`);
      found[key] = built;
    }
  }
  return found as ServerBinaries;
}

/**
 * Builds what is missing: the server by `go build` of the project's module (its go.sum pins every module, checked
 * against the checksum database as usual), the schema tool by `go install` of the release's cmd/tools/sql. Go's module
 * and build caches make a second build quick.
 */
async function goBuild(
  binDir: string,
  which: (keyof ServerBinaries)[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  goDirs: string[],
): Promise<void> {
  const go = findOnPath(exeName('go'), [env.PATH ?? '', ...goDirs].join(path.delimiter));
  if (!go || spawnSync(go, ['version']).status !== 0) {
    throw new Error(
      `The Temporal server is not installed and cannot be built: no Go toolchain found. Install Go (any version ≥ 1.21: ` +
        `it fetches ${GO_TOOLCHAIN} itself; scripts/install-test-tools.sh does it), or put temporal-saga-server and ` +
        `temporal-sql-tool on PATH, or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH.`,
    );
  }
  fs.mkdirSync(binDir, { recursive: true });
  const goEnv = { ...env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: binDir };
  const started = Date.now();
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} from the Go module proxy into ${binDir} (one-time; ~4 min on 2 cores, less with a warm Go cache) ...`,
  );
  const ticker = setInterval(() => log(`still building (${Math.round((Date.now() - started) / 1000)} s) ...`), 30_000);
  try {
    if (which.includes('server')) {
      // -C first: build in the module's folder (its go.mod and go.sum), whatever the current directory. No VCS stamp:
      // the module sits in this repository's checkout, which may be shallow or owned by another user (a container).
      const out = path.join(binDir, exeName(BINARIES.server.built()));
      const args = ['build', '-C', SERVER_MODULE_DIR, '-buildvcs=false', '-o', out, '.'];
      log(`$ GOTOOLCHAIN=${GO_TOOLCHAIN} go ${args.join(' ')}`);
      await run(go, args, goEnv);
      // Builds of earlier sources are 160 MB each and nothing takes them any more (a running one keeps its inode).
      for (const old of fs.readdirSync(binDir))
        if (old.startsWith('saga-server-') && path.join(binDir, old) !== out) fs.rmSync(path.join(binDir, old));
    }
    if (which.includes('sqlTool')) {
      const target = `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`;
      log(`$ GOTOOLCHAIN=${GO_TOOLCHAIN} GOBIN=${binDir} go install ${target}`);
      await run(go, ['install', target], goEnv);
    }
  } finally {
    clearInterval(ticker);
  }
  log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
