// The command the tests and the demo name in BROWSER: the SDK runs it with
// the login URL, as it would run a real browser. PLANET_TEST_BROWSER picks
// who completes the login: `chromium` (headless Chromium), `scripted` (the
// scripted user agent) or `deny` (refuses at the consent page).
import { appendFileSync } from 'node:fs';
import { chromiumLogin } from './chromium.js';
import { scriptedUserLogin } from './user-agent.js';

const url = process.argv[2];
const mode = process.env['PLANET_TEST_BROWSER'] ?? 'scripted';
const log = process.env['PLANET_TEST_BROWSER_LOG'];
const note = (line: string) => {
  if (log) appendFileSync(log, `${line}\n`);
};

try {
  if (!url) throw new Error('no URL given');
  if (mode === 'chromium') {
    const body = await chromiumLogin(url);
    note(`chromium: ${body.replace(/\s+/g, ' ').trim().slice(0, 80)}`);
  } else {
    const result = await scriptedUserLogin(url, { deny: mode === 'deny' });
    note(
      `${mode}: ${result.finalBody
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 80)}`,
    );
  }
} catch (error) {
  note(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
