/** Child-process entry of embedded PostgreSQL (see postgres-process.ts). */
import { startEmbeddedPostgres } from '../postgres/embedded';
import { LEGACY_LOCAL_PASSWORD } from '../postgres/local-password';
import { runKeeper } from './keeper';
import { reapPostmaster } from './orphans';
import { POSTGRES_PROCESS_CONFIG_ENV, type PostgresProcessConfig } from './postgres-process';

runKeeper('PostgreSQL', async () => {
  const config = JSON.parse(process.env[POSTGRES_PROCESS_CONFIG_ENV] ?? 'null') as PostgresProcessConfig;
  if (!config) throw new Error(`${POSTGRES_PROCESS_CONFIG_ENV} is not set`);
  const cleaned = await reapPostmaster(config.dataDir);
  if (cleaned) console.error(`PostgreSQL: ${cleaned}`);
  const postgres = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.port,
    password: config.password,
    // A data folder made before each one had its own password has the fixed one it was given then: replaced.
    legacyPasswords: [LEGACY_LOCAL_PASSWORD],
  });
  for (const db of config.databases) await postgres.ensureDatabase(db);
  return {
    ready: {
      postgresPid: postgres.pid,
      urls: Object.fromEntries(config.databases.map((db) => [db, postgres.url(db)])),
    },
    exited: postgres.exited,
    stop: () => postgres.stop(),
  };
});
