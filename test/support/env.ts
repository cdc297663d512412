// Environment for a test or demo run: a temporary HOME, the embedded server,
// and the browser command.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'planet-home-'));
}

/** BROWSER value that runs the test browser command with the project's tsx. */
export function browserCommand(): string {
  return `${process.execPath} ${join(ROOT, 'node_modules/tsx/dist/cli.mjs')} ${join(ROOT, 'test/support/browser-command.ts')}`;
}
