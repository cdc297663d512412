// The CLI against the embedded server, sharing sessions with the SDK and the
// examples through ~/.planet, in the Python CLI's format.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { CLI_BIN, runCli, type CliRun } from './support/cli.js';
import { tempHome } from './support/env.js';
import { runExample } from './support/run-example.js';
import { scriptedUserLogin } from './support/user-agent.js';

let server: RunningServer;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());
beforeEach(() => {
  home = tempHome();
  env = { ...server.env(), HOME: home };
  server.resetCounts();
});


function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name)] = readFileSync(join(entry.parentPath, entry.name), 'utf8');
  }
  return out;
}

async function serviceLogin(profile: string, extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', profile], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET, ...extraEnv });
  expect(run).toMatchObject({ code: 0 });
  return run;
}

async function deviceLogin(profile: string): Promise<CliRun> {
  let started = false;
  let user: Promise<unknown> | undefined;
  const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', profile], env, (stderr) => {
    const match = /open (\S+)\s+and check that it shows the code (\S+?)\./.exec(stderr);
    if (match && !started) {
      started = true;
      user = scriptedUserLogin(match[1]!, { userCode: match[2]! });
    }
  });
  await user;
  return run;
}

test('a device login made by the CLI is used by the on-disk device example without any login', async () => {
  const login = await deviceLogin('my-app-devicecode');
  expect(login.code).toBe(0);
  expect(login.stdout).toBe('Logged in: profile my-app-devicecode (device).\n');
  const example = await runExample(server, 'on_disk_cli_shared__oauth_user_devicecode__external_browser.ts', home, 'scripted');
  expect(example.exitCode).toBe(0);
  expect(example.apiItems).toBe(2);
  expect(example.logins).toBe(0);
  expect(example.authServerRequests).toBe(0);
}, 60_000);

test('the CLI sees the sessions of on-disk examples and not those of in-memory or application storage', async () => {
  for (const example of ['on_disk_cli_shared__oauth_m2m.ts', 'app_custom_storage__oauth_m2m.ts', 'in_memory__oauth_m2m.ts']) {
    expect((await runExample(server, example, home, 'scripted')).exitCode).toBe(0);
  }
  const list = await runCli(['profile', 'list', '--json'], env);
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { profile: string }[]).map((p) => p.profile)).toEqual(['my-app-service']);

  const status = await runCli(['status', '--profile', 'my-app-service', '--json'], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'my-app-service', client_id: M2M_CLIENT_ID, logged_in: true, access_token_valid: true, has_refresh_token: false });
  expect(status.stdout).not.toContain(M2M_CLIENT_SECRET);

  server.resetCounts();
  const printed = await runCli(['print-access-token', '--profile', 'my-app-service'], env);
  expect(printed.code).toBe(0);
  const saved = JSON.parse(readFileSync(join(home, '.planet/my-app-service/token.json'), 'utf8')) as { access_token: string };
  expect(printed.stdout).toBe(`${saved.access_token}\n`);
  expect(server.authServerRequests()).toBe(0);
}, 60_000);

describe('which profile a command uses', () => {
  beforeEach(async () => {
    for (const profile of ['alpha', 'beta', 'gamma', 'planet-user']) await serviceLogin(profile);
  });
  const chosen = async (args: string[], extra: Record<string, string> = {}) => {
    const run = await runCli(['status', '--json', ...args], { ...env, ...extra });
    // An ad hoc service account has no session until its first token: status then exits 3.
    expect([0, 3]).toContain(run.code);
    return JSON.parse(run.stdout) as { profile: string; flow: string };
  };

  test('--profile comes first', async () => {
    expect((await chosen(['--profile', 'beta'], { PL_AUTH_PROFILE: 'gamma' })).profile).toBe('beta');
  });
  test('then PL_AUTH_PROFILE', async () => {
    expect((await chosen([], { PL_AUTH_PROFILE: 'gamma', PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET })).profile).toBe('gamma');
  });
  test('then PL_AUTH_CLIENT_ID with PL_AUTH_CLIENT_SECRET, an ad hoc service account', async () => {
    const run = await runCli(['print-access-token'], { ...env, PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(run.code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(5);
    // Saved where the Python CLI saves an ad hoc service account's session.
    expect((await chosen([], { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET })).profile).toBe(`planet-m2m-${M2M_CLIENT_ID}`);
  });
  test('then ~/.planet.json, which "profile set" changes', async () => {
    // The first login made "alpha" the default.
    expect(JSON.parse(readFileSync(join(home, '.planet.json'), 'utf8'))).toEqual({ PL_AUTH_PROFILE: 'alpha' });
    expect((await chosen([])).profile).toBe('alpha');
    const set = await runCli(['profile', 'set', 'beta'], env);
    expect(set).toMatchObject({ code: 0, stdout: 'Default profile: beta.\n' });
    expect(readFileSync(join(home, '.planet.json'), 'utf8')).toBe('{\n  "PL_AUTH_PROFILE": "beta"\n}\n');
    expect((await chosen([])).profile).toBe('beta');
  });
  test('then the built-in default profile', async () => {
    writeFileSync(join(home, '.planet.json'), '{}\n');
    expect((await chosen([])).profile).toBe('planet-user');
  });
});

test('files in the Python CLI format are read, and the CLI writes exactly that format', async () => {
  await serviceLogin('written');
  const folder = join(home, '.planet', 'written');
  const client = readFileSync(join(folder, 'auth_client.json'), 'utf8');
  expect(Object.keys(JSON.parse(client) as object)).toEqual(['audiences', 'auth_server', 'client_id', 'client_secret', 'client_type', 'scopes']);
  const token = JSON.parse(readFileSync(join(folder, 'token.json'), 'utf8')) as Record<string, unknown>;
  expect(Object.keys(token)).toEqual(['_exp', '_iat', 'access_token', 'expires_in', 'scope', 'token_type']);
  expect(statSync(join(folder, 'token.json')).mode & 0o777).toBe(0o600);

  // By hand, as the Python CLI writes them (no optional keys such as audiences or a refresh token).
  const python = join(home, '.planet', 'from-python');
  mkdirSync(python, { recursive: true, mode: 0o700 });
  writeFileSync(join(python, 'auth_client.json'), JSON.stringify({ auth_server: server.issuer, client_id: M2M_CLIENT_ID, client_secret: M2M_CLIENT_SECRET, client_type: 'oidc_client_credentials_secret', scopes: ['planet'] }, null, 2), { mode: 0o600 });
  writeFileSync(join(python, 'token.json'), JSON.stringify({ _exp: token['_exp'], _iat: token['_iat'], access_token: token['access_token'], expires_in: token['expires_in'], scope: 'planet', token_type: 'Bearer' }, null, 2), { mode: 0o600 });
  server.resetCounts();
  const status = await runCli(['status', '--profile', 'from-python', '--json'], env);
  expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'from-python', flow: 'oauth_m2m', logged_in: true, access_token_valid: true });
  const printed = await runCli(['print-access-token', '--profile', 'from-python'], env);
  expect(printed.stdout).toBe(`${String(token['access_token'])}\n`);
  expect(server.authServerRequests()).toBe(0);
}, 60_000);

describe('bad input: one line naming the fix, the documented exit code, no file changed', () => {
  test('unknown profile', async () => {
    await serviceLogin('present');
    const before = snapshot(home);
    const run = await runCli(['status', '--profile', 'absent'], env);
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/profile "absent" does not exist .*log in with that profile first/);
    expect(snapshot(home)).toEqual(before);
  });

  test('corrupt token.json', async () => {
    await serviceLogin('corrupt');
    const path = join(home, '.planet', 'corrupt', 'token.json');
    writeFileSync(path, '{"access_token": ');
    const before = snapshot(home);
    const run = await runCli(['print-access-token', '--profile', 'corrupt'], env);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`${path} is not valid JSON; it was left as it is`);
    expect(snapshot(home)).toEqual(before);
  });

  test('a profile name with a path separator', async () => {
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', '../escape'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('profile name "../escape" is not allowed');
    expect(snapshot(home)).toEqual({});
  });

  test('missing client secret', async () => {
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'nosecret'], env);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('missing client secret: set PL_AUTH_CLIENT_SECRET');
    expect(snapshot(home)).toEqual({});
    expect(server.authServerRequests()).toBe(0);
  });
});

test('logout revokes and keeps the profile; status then exits 3', async () => {
  await deviceLogin('leaving');
  const logout = await runCli(['logout', '--profile', 'leaving'], env);
  expect(logout).toMatchObject({ code: 0, stdout: 'Logged out: profile leaving.\n' });
  expect(server.count('revocation')).toBe(1);
  expect(existsSync(join(home, '.planet/leaving/auth_client.json'))).toBe(true);
  expect(existsSync(join(home, '.planet/leaving/token.json'))).toBe(false);
  expect((await runCli(['status', '--profile', 'leaving'], env)).code).toBe(3);
  const print = await runCli(['print-access-token', '--profile', 'leaving'], env);
  expect(print.code).toBe(3);
  expect(print.stderr).toContain('run "planet-auth login device --profile leaving"');
}, 60_000);

test('every command has --help with examples; usage errors exit 2', async () => {
  for (const command of ['login', 'logout', 'status', 'print-access-token', 'refresh', 'profile']) {
    const run = await runCli([command, '--help'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Example');
  }
  expect((await runCli(['frobnicate'], env)).code).toBe(2);
  expect((await runCli(['login', 'teleport'], env)).code).toBe(2);
});

test('print-access-token --no-refresh, refresh, and profile show without secrets', async () => {
  await serviceLogin('tools');
  const saved = () => (JSON.parse(readFileSync(join(home, '.planet/tools/token.json'), 'utf8')) as { access_token: string }).access_token;
  const before = saved();
  server.resetCounts();
  const noRefresh = await runCli(['print-access-token', '--no-refresh', '--profile', 'tools'], env);
  expect(noRefresh).toMatchObject({ code: 0, stdout: `${before}\n` });
  expect(server.authServerRequests()).toBe(0);

  const refreshed = await runCli(['refresh', '--profile', 'tools', '--json'], env);
  expect(refreshed.code).toBe(0);
  expect(server.count('token:client_credentials')).toBe(1);
  expect(saved()).not.toBe(before);
  expect(JSON.parse(refreshed.stdout)).toMatchObject({ profile: 'tools', logged_in: true, access_token_valid: true });

  const show = await runCli(['profile', 'show', 'tools', '--json'], env);
  expect(show.code).toBe(0);
  expect(JSON.parse(show.stdout)).toMatchObject({ profile: 'tools', client_id: M2M_CLIENT_ID, client_secret: '(hidden)' });
});

test('--show-qr-code draws the device login URL as a terminal QR code', async () => {
  let user: Promise<unknown> | undefined;
  const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'qr', '--show-qr-code'], env, (stderr) => {
    const match = /open (\S+)\s+and check/.exec(stderr);
    if (match && !user) user = scriptedUserLogin(match[1]!);
  });
  await user;
  expect(run.code).toBe(0);
  // The code is a block of rows drawn only with half-block characters and spaces, all as wide.
  const rows = run.stderr.split('\n').filter((line) => /^[▀▄█ ]{20,}$/.test(line));
  expect(rows.length).toBeGreaterThanOrEqual(10);
  expect(new Set(rows.map((r) => r.length)).size).toBe(1);
}, 60_000);

test('print-access-token with a valid saved token loads no third-party module and makes no request', async () => {
  await serviceLogin('lean');
  // A copy of the built package with no node_modules anywhere above it: any import of
  // openid-client, proper-lockfile or open would fail to resolve.
  const { cpSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const isolated = mkdtempSync(join(tmpdir(), 'lean-cli-'));
  for (const part of ['package.json', 'bin', 'dist']) cpSync(join(CLI_BIN, '..', '..', part), join(isolated, part), { recursive: true });
  server.resetCounts();
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, [join(isolated, 'bin', 'cli.js'), 'print-access-token', '--profile', 'lean'], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout.trim().split('.')).toHaveLength(3);
  expect(server.authServerRequests()).toBe(0);
});
