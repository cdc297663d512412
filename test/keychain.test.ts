// Sessions whose secrets live in the OS keychain: a private D-Bus session with
// gnome-keyring unlocked by a test password, the CLI and the examples of the
// three flows against the embedded server. The refresh token and the client
// secret are found by `secret-tool` and in no file under HOME.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { runCli, type CliRun } from './support/cli.js';
import { browserCommand, tempHome } from './support/env.js';
import { keychainForTests, startKeychain, type RunningKeychain } from './support/keychain.js';
import { chromiumAvailable } from './support/chromium.js';
import { runExample } from './support/run-example.js';
import { filesWithSecrets } from './support/secrets.js';
import { scriptedUserLogin } from './support/user-agent.js';
import { concurrentRound } from './support/scenarios.js';
import { crashKeychainWrites } from './support/keychain-scenarios.js';

const haveKeychain = keychainForTests('the OS keychain tests');
const haveChromium = chromiumAvailable();
if (!haveChromium && process.env['CI'] === 'true') throw new Error('Chromium is missing at /usr/bin/chromium; CI must install it (apt-get install chromium)');
const describeKeychain = haveKeychain ? describe : describe.skip;
const SERVICE = '@planet-auth/sdk';

let server: RunningServer;
let keychain: RunningKeychain;
let home: string;
let env: Record<string, string>;

/** Secrets a scan of HOME must never find: refresh tokens and the client secret (access tokens stay in token.json). */
function plainSecrets(dir: string): string[] {
  return filesWithSecrets(dir).filter((found) => !found.endsWith('an access token'));
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

async function deviceLogin(profile: string, extraArgs: string[] = []): Promise<CliRun> {
  let user: Promise<unknown> | undefined;
  const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', profile, ...extraArgs], env, (stderr) => {
    const match = /open (\S+)\s+and check that it shows the code (\S+?)\./.exec(stderr);
    if (match && !user) user = scriptedUserLogin(match[1]!, { userCode: match[2]! });
  });
  await user;
  return run;
}

/** The environment of a user whose keychain service cannot be reached. */
function unreachableKeychain(): Record<string, string> {
  return { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}` };
}

/**
 * With the keychain unreachable, `status`, `print-access-token` and the SDK's
 * `fromProfile` work from the profile's files; only spending its secret
 * (`account`, a `request` the server counts) fails, naming what to install,
 * and with the keychain back the same profile works: nothing was lost.
 */
async function keychainReadOnlyWhenSpent(profile: string, account: string, request: string): Promise<void> {
  const token = readJson(join(home, `.planet/${profile}/token.json`));
  server.resetCounts();
  const noBus = unreachableKeychain();
  const status = await runCli(['status', '--profile', profile, '--json'], noBus);
  expect(status).toMatchObject({ code: 0, stderr: '' });
  const held = account === 'refresh_token' ? { has_refresh_token: true } : {};
  expect(JSON.parse(status.stdout)).toMatchObject({ logged_in: true, access_token_valid: true, ...held });
  const printed = await runCli(['print-access-token', '--profile', profile], noBus);
  expect(printed).toMatchObject({ code: 0 });
  expect(printed.stdout.trim()).toBe(token['access_token']);
  // The SDK, as an application calls it.
  const sdk = join(import.meta.dirname, '..', 'generated', 'dist', 'index.js');
  const script = `import { Auth } from ${JSON.stringify(sdk)};
const auth = Auth.fromProfile(${JSON.stringify(profile)});
console.log(JSON.stringify({ status: await auth.sessionStatus(), token: await auth.getAccessToken() }));`;
  const app = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env['PATH'] ?? '', ...noBus }, encoding: 'utf8', timeout: 30_000 });
  expect({ code: app.status, stderr: app.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(app.stdout)).toMatchObject({ status: { loggedIn: true, accessTokenValid: true }, token: token['access_token'] });
  expect(server.counts()[request] ?? 0).toBe(0);

  const refresh = await runCli(['refresh', '--profile', profile], noBus);
  expect(refresh.code).toBe(1);
  expect(refresh.stderr).toContain(account);
  expect(refresh.stderr).toContain('gnome-keyring');
  expect(server.counts()[request] ?? 0).toBe(0);
  expect(await runCli(['refresh', '--profile', profile], env)).toMatchObject({ code: 0 });
  expect(server.counts()[request]).toBe(1);
  expect(plainSecrets(home)).toEqual([]);
}

describeKeychain('secrets in the OS keychain', () => {
  beforeAll(async () => {
    server = await startAuthServer();
    keychain = await startKeychain();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await keychain?.stop();
  });
  beforeEach(() => {
    home = tempHome();
    env = { ...server.env(), ...keychain.env, HOME: home, BROWSER: browserCommand(), PLANET_TEST_BROWSER: 'scripted' };
    server.resetCounts();
  });

  test('a service account logged in with --storage keychain keeps its secret in the keychain only; logout --forget-secret and profile remove delete it', async () => {
    const login = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-m2m', '--storage', 'keychain'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(login).toMatchObject({ code: 0 });
    expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-m2m`, 'username', 'client_secret'])).toBe(M2M_CLIENT_SECRET);
    const client = readJson(join(home, '.planet/kc-m2m/auth_client.json'));
    expect(client['client_secret']).toBeUndefined();
    expect(client['_keychain']).toEqual({ service: `${SERVICE}:kc-m2m`, accounts: ['client_secret'] });
    expect(plainSecrets(home)).toEqual([]);

    const list = await runCli(['profile', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ profile: 'kc-m2m', secrets: 'keychain', logged_in: true })]);
    const text = await runCli(['profile', 'list'], env);
    expect(text.stdout).toContain('secrets in OS keychain');
    expect(text.stderr).toContain("cannot be used by Planet's Python CLI");

    // A new process logs in again with the secret it reads from the keychain.
    server.resetCounts();
    const refreshed = await runCli(['refresh', '--profile', 'kc-m2m'], env);
    expect(refreshed).toMatchObject({ code: 0 });
    expect(server.counts()['token:client_credentials']).toBe(1);

    const logout = await runCli(['logout', '--forget-secret', '--profile', 'kc-m2m'], env);
    expect(logout).toMatchObject({ code: 0 });
    expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-m2m`, 'username', 'client_secret'])).toBeUndefined();

    await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-m2m', '--storage', 'keychain'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-m2m`, 'username', 'client_secret'])).toBe(M2M_CLIENT_SECRET);
    const removed = await runCli(['profile', 'remove', 'kc-m2m', '--yes'], env);
    expect(removed).toMatchObject({ code: 0 });
    expect(keychain.secretTool(['search', 'service', `${SERVICE}:kc-m2m`])).toBeUndefined();
  }, 90_000);

  test('a device login keeps its rotating refresh token in the keychain through refreshes; logout deletes it', async () => {
    const login = await deviceLogin('kc-device', ['--storage', 'keychain']);
    expect(login).toMatchObject({ code: 0 });
    const first = keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-device`, 'username', 'refresh_token']);
    expect(first).toBeDefined();
    const token = readJson(join(home, '.planet/kc-device/token.json'));
    expect(token['refresh_token']).toBeUndefined();
    expect(token['_keychain']).toEqual({ service: `${SERVICE}:kc-device`, accounts: ['refresh_token'] });

    const status = await runCli(['status', '--profile', 'kc-device', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ logged_in: true, has_refresh_token: true });
    server.resetCounts();
    expect(await runCli(['refresh', '--profile', 'kc-device'], env)).toMatchObject({ code: 0 });
    expect(server.counts()['token:refresh_token']).toBe(1);
    const second = keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-device`, 'username', 'refresh_token']);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    // The rotated token from the keychain works: a second refresh is honoured.
    expect(await runCli(['refresh', '--profile', 'kc-device'], env)).toMatchObject({ code: 0 });
    expect(plainSecrets(home)).toEqual([]);

    expect(await runCli(['logout', '--profile', 'kc-device'], env)).toMatchObject({ code: 0 });
    expect(keychain.secretTool(['search', 'service', `${SERVICE}:kc-device`])).toBeUndefined();
  }, 90_000);

  test('status and print-access-token, from the CLI and the SDK, read no keychain: with the keychain unreachable they still work, and only a refresh fails, naming what to install', async () => {
    expect(await deviceLogin('kc-offline', ['--storage', 'keychain'])).toMatchObject({ code: 0 });
    const text = await runCli(['status', '--profile', 'kc-offline'], unreachableKeychain());
    expect(text).toMatchObject({ code: 0 });
    expect(text.stdout).toMatch(/refresh token: +held/);
    await keychainReadOnlyWhenSpent('kc-offline', 'refresh_token', 'token:refresh_token');
  }, 90_000);

  test('a service account in keychain mode: status, print-access-token and fromProfile read no keychain; only a new token needs its secret', async () => {
    const secretEnv = { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };
    expect(await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-m2m-offline', '--storage', 'keychain'], secretEnv)).toMatchObject({ code: 0 });
    await keychainReadOnlyWhenSpent('kc-m2m-offline', 'client_secret', 'token:client_credentials');
  }, 90_000);

  test('PLANET_AUTH_SECRET_STORAGE=keychain makes the keychain the default, and profile copy --storage moves a profile between modes', async () => {
    const secretEnv = { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };
    expect(await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-default'], { ...secretEnv, PLANET_AUTH_SECRET_STORAGE: 'keychain' })).toMatchObject({ code: 0 });
    expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-default`, 'username', 'client_secret'])).toBe(M2M_CLIENT_SECRET);
    const shown = await runCli(['profile', 'show', 'kc-default'], env);
    expect(shown.stdout).toMatch(/secrets +in the OS keychain \(service "@planet-auth\/sdk:kc-default"\)/);
    // Without --storage a keychain profile stays there, whatever the default says.
    expect(await runCli(['refresh', '--profile', 'kc-default'], env)).toMatchObject({ code: 0 });
    expect(readJson(join(home, '.planet/kc-default/auth_client.json'))['client_secret']).toBeUndefined();
    // --storage file moves it back to its files, and its keychain entry goes.
    expect(await runCli(['login', 'service-account', '--profile', 'kc-default', '--storage', 'file'], secretEnv)).toMatchObject({ code: 0 });
    expect(readJson(join(home, '.planet/kc-default/auth_client.json'))['client_secret']).toBe(M2M_CLIENT_SECRET);
    expect(keychain.secretTool(['search', 'service', `${SERVICE}:kc-default`])).toBeUndefined();

    expect(await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-plain'], secretEnv)).toMatchObject({ code: 0 });
    expect(readJson(join(home, '.planet/kc-plain/auth_client.json'))['client_secret']).toBe(M2M_CLIENT_SECRET);

    const toKeychain = await runCli(['profile', 'copy', 'kc-plain', 'kc-moved', '--storage', 'keychain', '--json'], env);
    expect(JSON.parse(toKeychain.stdout)).toMatchObject({ copied: 'kc-plain', to: 'kc-moved', secrets: 'keychain' });
    expect(readJson(join(home, '.planet/kc-moved/auth_client.json'))['client_secret']).toBeUndefined();
    expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:kc-moved`, 'username', 'client_secret'])).toBe(M2M_CLIENT_SECRET);
    server.resetCounts();
    expect(await runCli(['print-access-token', '--profile', 'kc-moved'], env)).toMatchObject({ code: 0 });
    expect(server.counts()['token:client_credentials']).toBe(1);

    const back = await runCli(['profile', 'copy', 'kc-moved', 'kc-back', '--storage', 'file', '--json'], env);
    expect(JSON.parse(back.stdout)).toMatchObject({ secrets: 'file' });
    expect(readJson(join(home, '.planet/kc-back/auth_client.json'))['client_secret']).toBe(M2M_CLIENT_SECRET);

    const bad = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-bad', '--storage', 'vault'], secretEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"keychain" or "file"');
  }, 90_000);

  describe.each(['os_keychain__oauth_m2m.ts', 'os_keychain__oauth_user_devicecode__external_browser.ts', 'os_keychain__oauth_user_authcode__with_browser.ts'])('%s', (example) => {
    const run = example.includes('authcode') && !haveChromium ? test.skip : test;
    run(
      'logs in, keeps its secrets in the keychain and no file, and a second run reuses the session',
      async () => {
        const first = await runExample(server, example, home, 'chromium', undefined, keychain.env);
        if (first.exitCode !== 0) throw new Error(`${example} exited ${first.exitCode}:\n${first.stderr}`);
        expect(first.logins).toBe(1);
        expect(first.apiItems).toBe(2);
        const profile = example.includes('m2m') ? 'my-app-service-keychain' : example.includes('devicecode') ? 'my-app-devicecode-keychain' : 'my-app-authcode-keychain';
        const account = example.includes('m2m') ? 'client_secret' : 'refresh_token';
        expect(keychain.secretTool(['lookup', 'service', `${SERVICE}:${profile}`, 'username', account])).toBeDefined();
        expect(plainSecrets(home)).toEqual([]);
        const second = await runExample(server, example, home, 'chromium', undefined, keychain.env);
        expect(second.exitCode).toBe(0);
        expect(second.logins).toBe(0);
        expect(second.authServerRequests).toBe(0);
      },
      180_000,
    );
  });

  test('processes on one expired keychain profile take turns as on disk: one refresh per round, every process served (short run of npm run stress -- keychain)', async () => {
    expect(await deviceLogin('kc-many', ['--storage', 'keychain'])).toMatchObject({ code: 0 });
    for (let round = 0; round < 2; round++) {
      const result = await concurrentRound(server, home, 'kc-many', 8, keychain.env);
      expect(result.failures).toEqual([]);
      expect(result).toMatchObject({ ok: 8, tokenRequests: 1, distinctTokens: 1 });
    }
    expect(plainSecrets(home)).toEqual([]);
  }, 120_000);

  test('a keychain-mode writer killed at random moments leaves whole states that read back, and no refresh token in a file (short run)', async () => {
    const crash = await crashKeychainWrites(30, 3, keychain.env);
    expect(crash.bad).toEqual([]);
    expect(crash).toMatchObject({ leftoverTemps: 0, plainRefreshTokens: 0 });
  }, 120_000);

  test('without a keychain service a login fails naming what to install, and writes no secret to a file', async () => {
    const noBus = { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-such-bus')}`, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'kc-none', '--storage', 'keychain'], noBus);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('gnome-keyring');
    expect(run.stderr).toContain('--storage file');
    expect(plainSecrets(home)).toEqual([]);
  }, 60_000);
});
