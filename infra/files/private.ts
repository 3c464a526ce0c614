/**
 * Files and folders only their owner may read: the local stack's data folder (histories with street addresses, logs,
 * databases) and the secrets in it (bearer tokens, PostgreSQL's password). A mode given at creation is not enough: a
 * file or folder that already exists keeps whatever mode it had, so each of these forces the mode every time.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Creates the folder (and its parents) if missing, and makes it 0700 whatever it was. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/**
 * Writes the file with mode 0600, replacing what was there: written beside it under a temporary name created 0600, then
 * renamed over it, so the secret is never readable by others, not even for a moment in an old file's mode.
 */
export function writePrivateFile(file: string, content: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.rmSync(temporary, { force: true });
  fs.writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
  fs.renameSync(temporary, file);
}

/**
 * The secret kept in the file, made once (32 random bytes, base64url) if the file is missing. An existing file is
 * forced to 0600 before it is read.
 */
export function readOrCreateSecretFile(file: string): string {
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    const secret = fs.readFileSync(file, 'utf8').trim();
    if (secret) return secret;
  }
  const secret = randomBytes(32).toString('base64url');
  writePrivateFile(file, `${secret}\n`);
  return secret;
}
