import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/** What the browser tests (test/ui/) share: the Chromium they drive, where screenshots go, how long the UI may take. */

/** Debian's chromium package (scripts/install-test-tools.sh); CHROMIUM_PATH points elsewhere, e.g. on a laptop. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots for a human to look at (gitignored); one is taken of the page whenever a test fails. */
export const SHOTS = path.resolve(__dirname, '../../test-output/ui');
/** The UI loads its data after the page: generous, since a cold dev server answers its first queries slowly. */
export const UI_TIMEOUT_MS = 30_000;

/** A missing browser is a broken environment, not a reason to skip: CI installs it (scripts/install-test-tools.sh). */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM))
    assert.fail(
      `Chromium not found at ${CHROMIUM}: run scripts/install-test-tools.sh (apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary`,
    );
  fs.mkdirSync(SHOTS, { recursive: true });
}

/** A test title as a file name. */
export function slug(title: string): string {
  return title
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase()
    .slice(0, 60);
}
