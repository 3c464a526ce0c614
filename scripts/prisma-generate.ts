import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_NAMES } from '../services/catalog';

/**
 * Generates each service's Prisma client (prisma/<service>/generated). Runs after `npm install`.
 *
 * `prisma generate` never uses the native schema engine, but Prisma 7's CLI still tries to download it first, which
 * fails where only package registries are reachable. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
 * executable skips that download; the user's own setting, if any, is kept.
 */
const root = path.resolve(__dirname, '..');
const prismaCli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};

for (const service of SERVICE_NAMES) {
  const config = path.join(root, 'prisma', service, 'prisma.config.ts');
  if (!existsSync(config)) continue;
  execFileSync(process.execPath, [prismaCli, 'generate', '--config', config], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log(`generated the ${service} Prisma client`);
}
