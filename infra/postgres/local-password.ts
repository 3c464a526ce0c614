/**
 * The local stack's PostgreSQL password: random, one per data folder, kept in a 0600 file beside the cluster (not in
 * it: initdb wants an empty directory). Any local user could reach the embedded PostgreSQL's loopback port; with a
 * fixed password (postgres/postgres, as before) any of them could log in as its superuser.
 */
import path from 'node:path';
import { readOrCreateSecretFile } from '../files/private';

/** The fixed password local clusters had before; a cluster that still has it gets its own (postgres-process-main). */
export const LEGACY_LOCAL_PASSWORD = 'postgres';

export function postgresPasswordFile(dataDir: string): string {
  return path.join(dataDir, 'postgres-password');
}

/** The data folder's PostgreSQL password, made on first use. */
export function localPostgresPassword(dataDir: string): string {
  return readOrCreateSecretFile(postgresPasswordFile(dataDir));
}
