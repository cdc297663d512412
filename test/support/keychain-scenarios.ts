// Reliability scenarios of the keychain mode, shared by its tests (short runs)
// and `npm run stress` (long runs): a writer killed at random moments between
// or during its keychain and file writes.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from './scenarios.js';

/**
 * A keychain-mode writer alternating two states is killed at a random
 * moment, `iterations` times. After each kill `token.json` must parse, hold
 * no refresh token, and read back (file plus keychain) as whole states; the
 * keychain may be one write ahead of the file, never missing.
 */
export async function crashKeychainWrites(iterations: number, seed: number, env: Record<string, string>): Promise<{ kills: number; bad: string[]; leftoverTemps: number; plainRefreshTokens: number }> {
  const root = mkdtempSync(join(tmpdir(), 'crash-keychain-'));
  const path = join(root, '.planet', 'crash-keychain', 'token.json');
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const bad: string[] = [];
  let plainRefreshTokens = 0;
  let written = false;
  // The keychain is reached by child processes only: their environment names its bus.
  const child = async (mode: string) => (await start('keychain-writer.mjs', [root, mode], env).stdout).trim();
  try {
    for (let i = 0; i < iterations; i++) {
      const writer = start('keychain-writer.mjs', [root], env);
      await writer.firstLine;
      await new Promise((r) => setTimeout(r, 5 + random() * 60));
      writer.kill();
      await writer.exited;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
        written = true;
      } catch (error) {
        if (!(!written && (error as NodeJS.ErrnoException).code === 'ENOENT')) bad.push(`iteration ${i}: ${(error as Error).message}`);
        continue;
      }
      try {
        const file = JSON.parse(text) as Record<string, unknown>;
        if ('refresh_token' in file) plainRefreshTokens++;
        const read = JSON.parse(await child('read')) as { ok: boolean; message?: string; access_token?: string; refresh_token?: string; padding?: number };
        if (!read.ok) bad.push(`iteration ${i}: ${read.message}`);
        else if (!['state-a', 'state-b'].includes(String(read.access_token)) || read.padding !== 8192) bad.push(`iteration ${i}: unexpected file content`);
        else if (!['refresh-a', 'refresh-b'].includes(String(read.refresh_token))) bad.push(`iteration ${i}: unexpected refresh token in the keychain`);
      } catch (error) {
        bad.push(`iteration ${i}: ${(error as Error).message}`);
      }
    }
    // The next successful write clears the temporary files the killed writers left.
    await child('settle');
    const leftoverTemps = readdirSync(join(root, '.planet', 'crash-keychain')).filter((n) => n.endsWith('.tmp')).length;
    await child('delete');
    return { kills: iterations, bad, leftoverTemps, plainRefreshTokens };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
