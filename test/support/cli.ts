// Runs the generated CLI as a user would: `planet-auth ...` in a child
// process with a given HOME and environment.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertNoLeaks } from './secrets.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI_BIN = join(ROOT, 'generated', 'bin', 'cli.cjs');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], env: Record<string, string>, onStderr?: (text: string) => void): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    onStderr?.(stderr);
  });
  return new Promise((done) =>
    child.on('close', (code) => {
      assertNoLeaks({ what: `planet-auth ${args[0] ?? ''}`, stdout, stderr, accessTokenOnStdout: args.includes('print-access-token') });
      done({ code, stdout, stderr });
    }),
  );
}

/** A folder holding a `planet-auth` command that runs the generated CLI, to put first on PATH. */
export function cliOnPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'planet-bin-'));
  writeFileSync(join(dir, 'planet-auth'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} "$@"\n`);
  chmodSync(join(dir, 'planet-auth'), 0o755);
  return dir;
}
