// The nine generated examples, run unchanged as child processes against the
// embedded server. The browser logins are done by a real headless Chromium.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startAuthServer, type RunningServer } from './server/auth-server.js';
import { chromiumAvailable } from './support/chromium.js';
import { tempHome } from './support/env.js';
import { EXAMPLES_DIR, exampleParts, runExample, type ExampleRun } from './support/run-example.js';

const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.ts')).sort();
const haveChromium = chromiumAvailable();
if (!haveChromium && process.env['CI'] === 'true') {
  throw new Error('Chromium is missing at /usr/bin/chromium; CI must install it (apt-get install chromium) to run the browser logins');
}
if (!haveChromium) console.warn('Chromium not found: the authorization code examples are skipped (install the Debian package chromium to run them)');

const PROFILES: Record<string, string> = {
  oauth_user_authcode__with_browser: 'my-app-authcode',
  oauth_user_devicecode__external_browser: 'my-app-devicecode',
  oauth_m2m: 'my-app-service',
};

let server: RunningServer;
beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function expectSuccess(run: ExampleRun): void {
  if (run.exitCode !== 0) throw new Error(`${run.example} exited ${run.exitCode}:\n${run.stderr}\n${run.stdout}`);
  expect(run.apiItems).toBe(2);
}

test('nine examples are generated', () => {
  expect(examples).toHaveLength(9);
});

describe.each(examples)('%s', (example) => {
  const { storage, flow } = exampleParts(example);
  const needsBrowser = flow.includes('authcode');
  const run = needsBrowser && !haveChromium ? test.skip : test;

  run('runs end to end; persisted sessions are reused by a second run', async () => {
    const home = tempHome();
    const first = await runExample(server, example, home, 'chromium');
    expectSuccess(first);
    expect(first.logins).toBe(1);
    if (flow.includes('authcode')) expect(first.counts['token:authorization_code']).toBe(1);
    if (flow.includes('devicecode')) {
      expect(first.counts['device_authorization']).toBe(1);
      expect(first.deviceUser).toBe('scripted user');
    }

    const planet = join(home, '.planet');
    if (storage === 'in_memory') {
      expect(filesUnder(home)).toEqual([]);
      return;
    }
    if (storage === 'on_disk_cli_shared') {
      const folder = join(planet, PROFILES[flow]!);
      const files = filesUnder(folder).filter((f) => !f.includes('session.lock'));
      expect(files.map((f) => f.slice(folder.length + 1)).sort()).toEqual(['auth_client.json', 'auth_server_metadata.json', 'token.json']);
      for (const file of files) expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    if (storage === 'app_custom_storage') {
      expect(existsSync(planet)).toBe(false);
      const all = filesUnder(home);
      expect(all.length).toBeGreaterThan(0);
      for (const file of all) expect(file.startsWith(join(home, '.planet-demo') + '/')).toBe(true);
    }

    const second = await runExample(server, example, home, 'chromium');
    expectSuccess(second);
    expect(second.counts['authorization'] ?? 0).toBe(0);
    expect(second.counts['device_authorization'] ?? 0).toBe(0);
    expect(second.tokenRequests).toBeLessThanOrEqual(1);
    expect(second.authServerRequests).toBe(0);
  }, 180_000);
});
