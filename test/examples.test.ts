// Every generated example, run unchanged as child processes against
// the embedded server (a private redis-server for the Redis ones, a private
// D-Bus session with gnome-keyring for the OS keychain ones), and
// the three examples of an encrypted storage mode that a fixture spec adds.
// The browser logins are done by a real headless Chromium.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generate, projectInputs } from '../generator/pipeline.js';
import { writeOutput } from '../generator/write.js';
import { startAuthServer, type RunningServer } from './server/auth-server.js';
import { chromiumAvailable } from './support/chromium.js';
import { tempHome } from './support/env.js';
import { keychainForTests, startKeychain, type RunningKeychain } from './support/keychain.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';
import { EXAMPLES_DIR, exampleParts, runExample, type ExampleRun } from './support/run-example.js';
import { filesWithSecrets } from './support/secrets.js';
import { ROOT, scratchDir, specCopy } from './support/spec-fixture.js';

const examples = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const haveChromium = chromiumAvailable();
if (!haveChromium && process.env['CI'] === 'true') {
  throw new Error('Chromium is missing at /usr/bin/chromium; CI must install it (apt-get install chromium) to run the browser logins');
}
if (!haveChromium) console.warn('Chromium not found: the authorization code examples are skipped (install the Debian package chromium to run them)');
const haveRedis = redisForTests('the Redis examples');
const haveKeychain = keychainForTests('the OS keychain examples');

/** The profile each flow's example shared with the CLI keeps its session in, as spec/examples.yaml names it. */
const PROFILES: Record<string, string> = Object.fromEntries(
  (parse(readFileSync(join(ROOT, 'spec/examples.yaml'), 'utf8')) as { examples: { flow: string; storage: string; profileName?: string }[] }).examples
    .filter((e) => e.storage === 'on_disk_cli_shared' && e.profileName !== undefined)
    .map((e) => [e.flow, e.profileName!]),
);

let server: RunningServer;
let redis: RunningRedis | undefined;
let keychain: RunningKeychain | undefined;
beforeAll(async () => {
  server = await startAuthServer();
  if (haveRedis) redis = await startRedis();
  if (haveKeychain) keychain = await startKeychain();
});
afterAll(async () => {
  await server.close();
  await redis?.stop();
  await keychain?.stop();
});

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

test('nineteen examples are generated', () => {
  expect(examples).toHaveLength(19);
});

describe.each(examples)('%s', (example) => {
  const { storage, flow } = exampleParts(example);
  const needsBrowser = flow.includes('authcode');
  const run = (needsBrowser && !haveChromium) || (storage === 'redis_shared' && !haveRedis) || (storage === 'os_keychain' && !haveKeychain) ? test.skip : test;

  run(
    'runs end to end; persisted sessions are reused by a second run',
    async () => {
      const home = tempHome();
      const env = { PLANET_EXAMPLE_REDIS_URL: redis?.url ?? '', ...(keychain?.env ?? {}) };
      const first = await runExample(server, example, home, 'chromium', undefined, env);
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
        // Plain JSON holds the tokens, which is what the encrypted mode below must not: the scan finds them.
        expect(filesWithSecrets(home).length).toBeGreaterThan(0);
      }
      if (storage === 'redis_shared') expect(filesUnder(home)).toEqual([]);
      if (storage === 'os_keychain') {
        const folder = join(planet, `${PROFILES[flow]!}-keychain`);
        const files = filesUnder(folder).filter((f) => !f.includes('session.lock'));
        expect(files.map((f) => f.slice(folder.length + 1)).sort()).toEqual(['auth_client.json', 'auth_server_metadata.json', 'token.json']);
        // The refresh token and the client secret are in the keychain; only the short-lived access token is in a file.
        expect(filesWithSecrets(home).filter((found) => !found.endsWith('an access token'))).toEqual([]);
        const account = flow === 'oauth_m2m' ? 'client_secret' : 'refresh_token';
        expect(keychain!.secretTool(['lookup', 'service', `@planet-auth/sdk:${PROFILES[flow]!}-keychain`, 'username', account])).toBeDefined();
      }

      const second = await runExample(server, example, home, 'chromium', undefined, env);
      expectSuccess(second);
      expect(second.counts['authorization'] ?? 0).toBe(0);
      expect(second.counts['device_authorization'] ?? 0).toBe(0);
      expect(second.tokenRequests).toBeLessThanOrEqual(1);
      expect(second.authServerRequests).toBe(0);
    },
    180_000,
  );
});

describe('a storage mode that brings its own provider code: files encrypted at rest (fixture spec)', () => {
  const fixture = join(ROOT, 'test/fixtures/encrypted');
  let examplesDir = '';
  let docs = '';
  const key = randomBytes(32).toString('base64');
  beforeAll(() => {
    const dir = specCopy({
      'storage/encrypted_file.yaml': readFileSync(join(fixture, 'storage/encrypted_file.yaml'), 'utf8'),
      'storage/encrypted_file.provider.ts': readFileSync(join(fixture, 'storage/encrypted_file.provider.ts'), 'utf8'),
      'examples.yaml': readFileSync(join(fixture, 'examples.yaml'), 'utf8'),
    });
    const { files } = generate(projectInputs(ROOT, dir, 'spec'));
    docs = files.get('docs/application-managed-sessions.md')!;
    // Only the examples: they import the project's built package, as the real ones do.
    examplesDir = join(scratchDir('encrypted'), 'examples');
    writeOutput(examplesDir, new Map([...files].filter(([path]) => path.startsWith('examples/')).map(([path, text]) => [path.slice('examples/'.length), text])));
  });

  test('the provider is emitted beside the examples, which import it, and the docs quote it', () => {
    const provider = readFileSync(join(examplesDir, 'providers/encrypted_file.ts'), 'utf8');
    const source = readFileSync(join(fixture, 'storage/encrypted_file.provider.ts'), 'utf8');
    expect(provider).toContain('export class EncryptedFileStorageProvider implements ObjectStorageProvider');
    expect(provider).toContain(source);
    expect(readFileSync(join(examplesDir, 'encrypted_file__oauth_m2m.ts'), 'utf8')).toContain("import { EncryptedFileStorageProvider } from './providers/encrypted_file.js';");
    expect(docs).toContain(source);
  });

  describe.each(['oauth_user_authcode__with_browser', 'oauth_user_devicecode__external_browser', 'oauth_m2m'])('%s', (flow) => {
    const run = flow.includes('authcode') && !haveChromium ? test.skip : test;
    run(
      'runs twice on one session, and no token or secret is on disk in plain text',
      async () => {
        const home = tempHome();
        const example = join(examplesDir, `encrypted_file__${flow}.ts`);
        const first = await runExample(server, example, home, 'chromium', undefined, { PLANET_EXAMPLE_STORAGE_KEY: key });
        expectSuccess(first);
        expect(first.logins).toBe(1);
        const second = await runExample(server, example, home, 'chromium', undefined, { PLANET_EXAMPLE_STORAGE_KEY: key });
        expectSuccess(second);
        expect(second.logins).toBe(0);
        expect(second.authServerRequests).toBe(0);

        const files = filesUnder(home);
        expect(files.map((f) => f.slice(home.length + 1)).sort()).toEqual(['auth_client.json', 'auth_server_metadata.json', 'token.json'].map((n) => `.planet-encrypted/.planet/${exampleProfile(flow)}/${n}`));
        for (const file of files) expect(statSync(file).mode & 0o777).toBe(0o600);
        expect(filesWithSecrets(home)).toEqual([]);
      },
      180_000,
    );
  });

  test('a missing or wrong key is a clear error, and the encrypted files are left as they were', async () => {
    const home = tempHome();
    const example = join(examplesDir, 'encrypted_file__oauth_m2m.ts');
    expectSuccess(await runExample(server, example, home, 'scripted', undefined, { PLANET_EXAMPLE_STORAGE_KEY: key }));
    const tokenFile = join(home, '.planet-encrypted/.planet/enc-service/token.json');
    const before = readFileSync(tokenFile, 'utf8');

    const missing = await runExample(server, example, home, 'scripted', undefined, { PLANET_EXAMPLE_STORAGE_KEY: '' });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('PLANET_EXAMPLE_STORAGE_KEY is not set');

    const wrong = await runExample(server, example, home, 'scripted', undefined, { PLANET_EXAMPLE_STORAGE_KEY: randomBytes(32).toString('base64') });
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toContain('is not the key it was written with');
    expect(wrong.authServerRequests).toBe(0);

    const short = await runExample(server, example, home, 'scripted', undefined, { PLANET_EXAMPLE_STORAGE_KEY: 'c2hvcnQ=' });
    expect(short.stderr).toContain('must be exactly 32 bytes');
    expect(readFileSync(tokenFile, 'utf8')).toBe(before);
  }, 120_000);
});

function exampleProfile(flow: string): string {
  return { oauth_user_authcode__with_browser: 'enc-authcode', oauth_user_devicecode__external_browser: 'enc-devicecode', oauth_m2m: 'enc-service' }[flow]!;
}

test('an example that fails says why in a line or two, not a stack trace', async () => {
  const run = await runExample(server, 'on_disk_cli_shared__oauth_m2m.ts', tempHome(), 'scripted', 60_000, { PLANET_EXAMPLE_M2M_CLIENT_SECRET: 'not-the-secret-1234' });
  expect(run.exitCode).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines.length).toBeLessThanOrEqual(5);
  expect(lines.join('\n')).toMatch(/^TokenRequestError: the client credentials login failed: .*invalid_client.*client ID and secret/);
  expect(run.stderr).not.toContain('not-the-secret-1234');
});
