// A real headless Chromium (Debian's, driven by playwright-core) that logs
// in at the provider's pages and follows the redirect to the application.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function chromiumLogin(url: string, login = 'alice@example.com'): Promise<string> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Chromium keeps its own files in a throwaway home, not in the home of the program that opened it.
    env: { ...process.env, HOME: mkdtempSync(join(tmpdir(), 'chromium-home-')) },
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const start = new URL(url).origin;
    for (let step = 0; step < 10; step++) {
      if (new URL(page.url()).origin !== start) break;
      if (await page.locator('input[name=login]').count()) {
        await page.fill('input[name=login]', login);
        await page.fill('input[name=password]', 'any-password');
      }
      const submit = page.locator('button[type=submit]').first();
      if (!(await submit.count())) break;
      // Each submit posts a form and lands on the next page (which may keep the same URL).
      await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 15_000 }), submit.click()]);
    }
    return (await page.textContent('body')) ?? '';
  } finally {
    await browser.close();
  }
}
