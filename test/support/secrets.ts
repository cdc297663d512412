// The leak check every CLI and example run in the tests goes through: no
// client secret, access token or refresh token in what a program prints,
// except access tokens on the stdout of `print-access-token`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { issuedSecrets } from '../server/auth-server.js';

export interface PrintedOutput {
  readonly what: string;
  readonly stdout: string;
  readonly stderr: string;
  /** `print-access-token` prints an access token on stdout by design. */
  readonly accessTokenOnStdout?: boolean;
}

/** Names of the leaks found (never the secret values themselves). */
export function findLeaks(output: PrintedOutput): string[] {
  const { tokens, clientSecret, privateKeys } = issuedSecrets();
  const leaks: string[] = [];
  for (const [stream, text] of [
    ['stdout', output.stdout],
    ['stderr', output.stderr],
  ] as const) {
    if (text.includes(clientSecret)) leaks.push(`${output.what}: the client secret on ${stream}`);
    for (const piece of privateKeys) if (text.includes(piece)) leaks.push(`${output.what}: a private key on ${stream}`);
    for (const token of tokens) {
      if (!text.includes(token)) continue;
      const isAccessToken = token.split('.').length === 3;
      if (stream === 'stdout' && output.accessTokenOnStdout && isAccessToken) continue;
      leaks.push(`${output.what}: ${isAccessToken ? 'an access token' : 'a refresh token'} on ${stream}`);
    }
  }
  return leaks;
}

export function assertNoLeaks(output: PrintedOutput): void {
  const leaks = findLeaks(output);
  if (leaks.length > 0) throw new Error(`secrets leaked into program output:\n${leaks.join('\n')}`);
}

/** Files under `dir` that hold an issued token, the client secret or a service account's private key in plain text (names only, never the values). */
export function filesWithSecrets(dir: string): string[] {
  const { tokens, clientSecret, privateKeys } = issuedSecrets();
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path).toString('latin1');
    if (text.includes(clientSecret)) found.push(`${path}: the client secret`);
    for (const piece of privateKeys) if (text.includes(piece)) found.push(`${path}: a private key`);
    for (const token of tokens) if (text.includes(token)) found.push(`${path}: ${token.split('.').length === 3 ? 'an access token' : 'a refresh token'}`);
  }
  return found;
}
