// npm run demo: starts the embedded authorization server and demo API (and a
// private redis-server for the Redis examples, and a private D-Bus session
// with gnome-keyring for the OS keychain examples), runs the generated examples
// in turn (the persisted ones twice, to show the saved session being reused),
// and prints what the server saw.
import { readdirSync, rmSync } from 'node:fs';
import { startAuthServer } from './server/auth-server.js';
import { chromiumAvailable } from './support/chromium.js';
import { tempHome } from './support/env.js';
import { KEYCHAIN_INSTALL_HINT, keychainToolsMissing, startKeychain } from './support/keychain.js';
import { REDIS_INSTALL_HINT, redisServerPath, startRedis } from './support/redis.js';
import { EXAMPLES_DIR, exampleParts, runExample, type BrowserMode } from './support/run-example.js';

const browser: BrowserMode = chromiumAvailable() ? 'chromium' : 'scripted';
const server = await startAuthServer({ deviceInterval: 1 });
const home = tempHome();
const redis = redisServerPath() ? await startRedis() : undefined;
const keychain = keychainToolsMissing().length === 0 ? await startKeychain() : undefined;
console.log(`Embedded authorization server ${server.issuer}, demo API ${server.apiBaseUrl}, HOME=${home}`);
console.log(redis ? `Redis for the shared-storage examples: ${redis.url} (a private redis-server, stopped at the end).` : `redis-server is not installed, so the Redis examples are skipped; ${REDIS_INSTALL_HINT}.`);
console.log(
  keychain
    ? 'OS keychain for the os_keychain examples: gnome-keyring in a private D-Bus session, unlocked with a test password (stopped at the end).'
    : `gnome-keyring, dbus or secret-tool is not installed, so the OS keychain examples are skipped; ${KEYCHAIN_INSTALL_HINT}.`,
);
console.log(
  browser === 'chromium'
    ? 'Browser logins: headless Chromium at /usr/bin/chromium.'
    : 'Browser logins: Chromium is not installed, so a scripted user agent completes them (install the Debian package chromium for a real browser).',
);
console.log('');

const rows: string[][] = [];
let failures = 0;
for (const example of readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const { storage, flow } = exampleParts(example);
  const runs = storage === 'in_memory' ? ['first run'] : ['first run', 'second run'];
  if (storage === 'redis_shared' && !redis) {
    rows.push([example.replace(/\.ts$/, ''), 'not run', flow, storage, '-', '-', '-', 'skipped: no redis-server']);
    continue;
  }
  if (storage === 'os_keychain' && !keychain) {
    rows.push([example.replace(/\.ts$/, ''), 'not run', flow, storage, '-', '-', '-', 'skipped: no gnome-keyring']);
    continue;
  }
  for (const label of runs) {
    const result = await runExample(server, example, home, browser, undefined, { ...(redis ? { PLANET_EXAMPLE_REDIS_URL: redis.url } : {}), ...(keychain?.env ?? {}) });
    const ok = result.exitCode === 0 && result.apiItems > 0;
    if (!ok) {
      failures++;
      console.error(`${example} (${label}) failed with exit code ${result.exitCode}:\n${result.stderr.trim().split('\n').slice(-5).join('\n')}`);
    }
    const via = flow.includes('authcode') && result.logins > 0 ? ` (${browser})` : result.deviceUser ? ` (${result.deviceUser})` : '';
    rows.push([example.replace(/\.ts$/, ''), label, flow, storage, String(result.logins) + via, String(result.tokenRequests), String(result.apiItems), ok ? 'ok' : 'FAILED']);
  }
}
await server.close();
await redis?.stop();
await keychain?.stop();
rmSync(home, { recursive: true, force: true });

const header = ['example', 'run', 'flow', 'storage', 'logins', 'token requests', 'API items', 'result'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log('');
const ran = rows.filter((r) => r[1] !== 'not run').length;
console.log(failures === 0 ? `All ${ran} runs succeeded.` : `${failures} of ${ran} runs failed.`);
if (!redis) console.log(`The Redis examples were skipped: ${REDIS_INSTALL_HINT}.`);
if (!keychain) console.log(`The OS keychain examples were skipped: ${KEYCHAIN_INSTALL_HINT}.`);
process.exitCode = failures === 0 ? 0 : 1;
