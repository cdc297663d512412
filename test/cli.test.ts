// The CLI against the embedded server, sharing sessions with the SDK and the
// examples through ~/.planet, in the Python CLI's format.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_SPEC } from '../generated/src/cli.js';
import { commandTable, printable } from '../generated/src/runtime/cli.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { CLI_BIN, cliOnPath, runCli, type CliRun } from './support/cli.js';
import { browserCommand, tempHome } from './support/env.js';
import { expireTokenFile } from './support/scenarios.js';
import { runExample } from './support/run-example.js';
import { scriptedUserLogin } from './support/user-agent.js';
import { expect } from '@jest/globals';

let server: RunningServer;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startAuthServer();
});
afterAll(() => server.close());
beforeEach(() => {
  home = tempHome();
  env = { ...server.env(), HOME: home, BROWSER: browserCommand(), PLANET_TEST_BROWSER: 'scripted' };
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

async function serviceLogin(profile: string, extraEnv: Record<string, string> = {}, extraArgs: string[] = []): Promise<CliRun> {
  const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', profile, ...extraArgs], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET, ...extraEnv });
  expect(run).toMatchObject({ code: 0 });
  return run;
}

async function deviceLogin(profile: string, extraArgs: string[] = []): Promise<CliRun> {
  let started = false;
  let user: Promise<unknown> | undefined;
  const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', profile, ...extraArgs], env, (stderr) => {
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
    for (const profile of ['alpha', 'beta', 'gamma', 'delta']) await serviceLogin(profile);
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
  test('then PL_AUTH_CLIENT_ID with PL_AUTH_CLIENT_SECRET, an ad hoc service account, when ~/.planet.json names no profile', async () => {
    // As for the Python CLI, a profile named in ~/.planet.json (the first login made "alpha" the default) comes first.
    expect((await chosen([], { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET })).profile).toBe('alpha');
    writeFileSync(join(home, '.planet.json'), '{}\n');
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
  writeFileSync(
    join(python, 'auth_client.json'),
    JSON.stringify({ auth_server: server.issuer, client_id: M2M_CLIENT_ID, client_secret: M2M_CLIENT_SECRET, client_type: 'oidc_client_credentials_secret', scopes: ['planet'] }, null, 2),
    { mode: 0o600 },
  );
  writeFileSync(
    join(python, 'token.json'),
    JSON.stringify({ _exp: token['_exp'], _iat: token['_iat'], access_token: token['access_token'], expires_in: token['expires_in'], scope: 'planet', token_type: 'Bearer' }, null, 2),
    { mode: 0o600 },
  );
  server.resetCounts();
  const status = await runCli(['status', '--profile', 'from-python', '--json'], env);
  expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'from-python', flow: 'oauth_m2m', logged_in: true, access_token_valid: true });
  const printed = await runCli(['print-access-token', '--profile', 'from-python'], env);
  expect(printed.stdout).toBe(`${String(token['access_token'])}\n`);
  expect(server.authServerRequests()).toBe(0);
}, 60_000);

describe('bad input: one line saying what happened, one naming the fix, the documented exit code, no file changed', () => {
  const lines = (run: CliRun) => run.stderr.trim().split('\n');

  test('unknown profile', async () => {
    await serviceLogin('present');
    const before = snapshot(home);
    const run = await runCli(['status', '--profile', 'absent'], env);
    expect(run.code).toBe(3);
    expect(lines(run)).toEqual([
      expect.stringMatching(/^planet-auth: error: profile "absent" does not exist/),
      'planet-auth: hint: log in with "planet-auth login device --profile absent" (or another login command), or see "planet-auth profile list"',
    ]);
    expect(snapshot(home)).toEqual(before);
  });

  test('corrupt token.json', async () => {
    await serviceLogin('corrupt');
    const path = join(home, '.planet', 'corrupt', 'token.json');
    writeFileSync(path, '{"access_token": ');
    const before = snapshot(home);
    const run = await runCli(['print-access-token', '--profile', 'corrupt'], env);
    expect(run.code).toBe(1);
    expect(lines(run)).toHaveLength(2);
    expect(run.stderr).toContain(`${path} is not valid JSON; it was left as it is`);
    expect(lines(run)[1]).toContain('planet-auth login service-account --profile corrupt');
    expect(snapshot(home)).toEqual(before);
  });

  test('a profile name with a path separator', async () => {
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', '../escape'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(run.code).toBe(2);
    expect(lines(run)).toHaveLength(2);
    expect(run.stderr).toContain('profile name "../escape" is not allowed');
    expect(snapshot(home)).toEqual({});
  });

  test('missing client secret', async () => {
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'nosecret'], env);
    expect(run.code).toBe(2);
    expect(lines(run)).toEqual(['planet-auth: error: missing client secret', 'planet-auth: hint: set PL_AUTH_CLIENT_SECRET (or pass --client-secret); see "planet-auth help login service-account"']);
    expect(snapshot(home)).toEqual({});
    expect(server.authServerRequests()).toBe(0);
  });

  test('a profile of a type this SDK cannot use is listed with the reason, and commands on it say so', async () => {
    await serviceLogin('usable');
    const legacy = join(home, '.planet', 'legacy');
    mkdirSync(legacy, { recursive: true, mode: 0o700 });
    writeFileSync(join(legacy, 'auth_client.json'), JSON.stringify({ client_type: 'planet_legacy', auth_server: 'https://api.planet.com/v0/auth', api_key: 'PLAK-not-a-real-key' }), { mode: 0o600 });
    const before = snapshot(home);
    const list = await runCli(['profile', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ {2}legacy +cannot be used: .+$/m);
    expect(list.stdout).toMatch(/^\* usable +oidc_client_credentials_secret +logged in$/m);
    const json = JSON.parse((await runCli(['profile', 'list', '--json'], env)).stdout) as { profile: string; usable: boolean; reason?: string }[];
    expect(json.find((p) => p.profile === 'legacy')).toMatchObject({ usable: false, reason: expect.any(String) });
    expect(json.find((p) => p.profile === 'usable')).toMatchObject({ usable: true, default: true, logged_in: true });
    const status = await runCli(['status', '--profile', 'legacy'], env);
    expect(status.code).toBe(1);
    // A valid profile of the Python CLI: the message says what it is and to keep using it there, so no hint to remove it.
    expect(lines(status)).toEqual([expect.stringContaining('profile "legacy" is a Planet legacy profile'), 'planet-auth: hint: see "planet-auth profile list"']);
    expect(snapshot(home)).toEqual(before);
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
  expect(print.stderr).toContain('planet-auth: hint: run "planet-auth login device --profile leaving"');
}, 60_000);

const visibleCommands = commandTable(CLI_SPEC)
  .filter((c) => !c.hidden)
  .map((c) => c.path.join(' '));

describe('the command line: help, suggestions, global options, refusals', () => {
  test('every command and group has help with an example and the exit codes, by --help, -h and "help <command>"', async () => {
    const groups = ['login', 'profile'];
    const runs = await Promise.all([...visibleCommands, ...groups].flatMap((c) => [runCli([...c.split(' '), '--help'], env), runCli(['help', ...c.split(' ')], env), runCli(['-h', ...c.split(' ')], env)]));
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: planet-auth /);
      expect(run.stdout).toMatch(/Examples?:\n {2}\S/);
    }
    for (let i = 0; i < runs.length; i += 3) expect(new Set([runs[i]!.stdout, runs[i + 1]!.stdout, runs[i + 2]!.stdout]).size).toBe(1);
    const main = await runCli(['--help'], env);
    expect(main.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage error, 3 not logged in or no such profile.');
    for (const name of ['PLANET_AUTH_ISSUER', 'PLANET_API_URL', 'PLANET_AUTH_AUDIENCE', 'PL_AUTH_PROFILE', 'PL_AUTH_CLIENT_ID', 'PL_AUTH_CLIENT_SECRET', 'PLANET_AUTH_SECRET_STORAGE', 'NO_COLOR']) {
      expect(main.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    }
    for (const command of visibleCommands) expect(main.stdout).toContain(`planet-auth ${command} `);
  });

  test('"Which profile" in --help is the order the CLI follows: a profile named in ~/.planet.json wins over a client ID and secret in the environment', async () => {
    const main = await runCli(['--help'], env);
    expect(main.stdout).toMatch(/else the one \$PL_AUTH_PROFILE names \(or that key in\n~\/\.planet\.json\), else an ad hoc service account when \$PL_AUTH_CLIENT_ID and\n\$PL_AUTH_CLIENT_SECRET are both found/);
    await serviceLogin('named');
    writeFileSync(join(home, '.planet.json'), JSON.stringify({ PL_AUTH_PROFILE: 'named' }), { mode: 0o600 });
    const status = await runCli(['status', '--json'], { ...env, PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ profile: 'named' });
  });

  test('each login flow has its own help, written from its spec: options, requirements, example', async () => {
    const flows = ['browser', 'device', 'service-account'];
    const [browser, device, service] = (await Promise.all(flows.map((f) => runCli(['help', 'login', f], env)))).map((r) => r.stdout);
    const specOf = (file: string) => readFileSync(join(import.meta.dirname, '..', 'spec', 'flows', file), 'utf8');
    const requirement = (file: string) => /requirements:\n {2}- (.+)/.exec(specOf(file))![1]!.replace(/`/g, '');
    expect(browser).toContain(requirement('auth_code.yaml'));
    expect(device).toContain(requirement('device_code.yaml'));
    expect(service).toContain(requirement('m2m.yaml'));
    expect(browser).toMatch(/--callback-url URL +Loopback redirect URI registered for the client/);
    expect(browser).toContain('--no-open-browser');
    expect(device).toContain('--show-qr-code');
    expect(service).toMatch(/--client-secret SECRET +Client secret of the service account/);
    expect(service).not.toContain('--open-browser');
    // Accepted for a device login as the Python CLI accepts them.
    expect(device).toContain('--no-open-browser');
    for (const other of [browser, service]) expect(other).not.toContain('--show-qr-code');
    for (const other of [browser, device]) expect(other).not.toContain('--client-secret');
    expect(service).toContain('PL_AUTH_CLIENT_SECRET=... planet-auth login service-account --client-id my-client --profile work');
    expect(browser).toContain('planet-auth login browser --client-id my-client --callback-url http://127.0.0.1:8080/callback --profile work');
  });

  test('mistyped commands and options get a suggestion; the exit code is 2', async () => {
    const cases: [string[], string][] = [
      [['statsu'], 'unknown command "statsu"; did you mean "status"?'],
      [['profile', 'lsit'], 'unknown "profile" command "lsit"; did you mean "list"?'],
      [['login', 'devcie'], 'unknown "login" command "devcie"; did you mean "device"?'],
      [['print-access-token', '--refesh'], 'unknown option "--refesh"; did you mean "--refresh"?'],
      [['status', '--jsno'], 'unknown option "--jsno"; did you mean "--json"?'],
      [['status', '--refresh'], 'option --refresh does not apply to "status"'],
      [['help', 'stauts'], 'unknown command "stauts"; did you mean "status"?'],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, env)));
    runs.forEach((run, i) => {
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(`planet-auth: error: ${cases[i]![1]}`);
      expect(run.stdout).toBe('');
    });
  });

  test('conflicting options, extra arguments and missing values are refused with a one-line reason and the usage', async () => {
    const cases: [string[], string, string][] = [
      [['login', 'browser', '--open-browser', '--no-open-browser'], '--open-browser and --no-open-browser cannot be used together', 'Usage: planet-auth login browser [options]'],
      [['print-access-token', '--refresh', '--no-refresh'], '--refresh and --no-refresh cannot be used together', 'Usage: planet-auth print-access-token [options]'],
      [['status', 'extra'], 'unexpected argument "extra"', 'Usage: planet-auth status'],
      [['profile', 'set', 'a', 'b'], 'unexpected argument "b"', 'Usage: planet-auth profile set NAME'],
      [['profile', 'copy', 'a'], 'missing TARGET', 'Usage: planet-auth profile copy SOURCE TARGET [options]'],
      [['print-access-token', '--profile'], 'option --profile needs a value (NAME)', 'Usage: planet-auth print-access-token [options]'],
      [['status', '--json=yes'], 'option --json takes no value (got "--json=yes")', 'Usage: planet-auth status'],
      [
        ['login', 'service-account', '--client-secret', '-starts-with-a-dash'],
        'option --client-secret needs a value (SECRET); for a value that starts with "-", write --client-secret=SECRET',
        'Usage: planet-auth login service-account [options]',
      ],
      [['status', '-xsecretish'], 'unknown option "-x"', 'Usage: planet-auth status'],
      [['status', '--profile', 'a', '--profile', 'b'], 'option --profile is given twice with different values', 'Usage: planet-auth status'],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, env)));
    runs.forEach((run, i) => {
      const [, reason, usage] = cases[i]!;
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([`planet-auth: error: ${reason}`, expect.stringMatching(/^planet-auth: hint: see "planet-auth help/), usage]);
    });
  });

  test('global options anywhere on the line; -v, --version and version', async () => {
    await serviceLogin('anywhere');
    const placements = [
      ['--profile', 'anywhere', 'status', '--json'],
      ['--json', 'status', '--profile', 'anywhere'],
      ['status', '--profile=anywhere', '--json'],
    ];
    for (const args of placements) {
      const run = await runCli(args, env);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ profile: 'anywhere', logged_in: true });
    }
    const printed = await runCli(['--profile', 'anywhere', 'print-access-token', '--no-refresh'], env);
    expect(printed.code).toBe(0);
    const version = (JSON.parse(readFileSync(join(CLI_BIN, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    for (const args of [['-v'], ['--version'], ['version'], ['status', '-v']]) expect(await runCli(args, env)).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  test('printable() drops escape sequences and control characters from text a server sent', () => {
    expect(printable('bad\u001b[2J\u001b]0;title\u0007 secret\r\nline\u009b31m')).toBe('bad[2J]0;title secret line31m');
    expect(printable('plain text: ok')).toBe('plain text: ok');
  });
});

describe('--json: every outcome is JSON on stdout, with the same exit codes as text', () => {
  interface Case {
    readonly args: string[];
    readonly setup?: () => Promise<unknown>;
    readonly env?: Record<string, string>;
    readonly text: RegExp;
    readonly code: number;
  }
  const sa = ['--profile', 'sa'];
  const cases: Case[] = [
    { args: ['login', 'service-account', '--client-id', M2M_CLIENT_ID, ...sa], env: { PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET }, text: /^Logged in: profile sa \(service-account\)\.\n$/, code: 0 },
    { args: ['login', 'browser', '--client-id', USER_CLIENT_ID, '--profile', 'web'], text: /^Logged in: profile web \(browser\)\.\n$/, code: 0 },
    { args: ['status', ...sa], setup: () => serviceLogin('sa'), text: /^profile: +sa\n/, code: 0 },
    { args: ['print-access-token', ...sa], setup: () => serviceLogin('sa'), text: /^[\w-]+\.[\w-]+\.[\w-]+\n$/, code: 0 },
    { args: ['refresh', ...sa], setup: () => serviceLogin('sa'), text: /^Refreshed: profile sa, access token valid until /, code: 0 },
    { args: ['logout', ...sa], setup: () => serviceLogin('sa'), text: /^Logged out: profile sa\.\n/, code: 0 },
    { args: ['profile', 'list'], setup: () => serviceLogin('sa'), text: /^\* sa +oidc_client_credentials_secret +logged in\n$/, code: 0 },
    { args: ['profile', 'show', 'sa'], setup: () => serviceLogin('sa'), text: /^profile +sa\n/, code: 0 },
    { args: ['profile', 'set', 'sa'], setup: () => serviceLogin('sa'), text: /^Default profile: sa\.\n$/, code: 0 },
    { args: ['profile', 'remove', 'sa', '--yes'], setup: () => serviceLogin('sa'), text: /^Removed profile sa \(session revoked\)\.\n/, code: 0 },
    { args: ['profile', 'copy', 'sa', 'sa2'], setup: () => serviceLogin('sa'), text: /^Copied the client settings of profile sa to sa2 /, code: 0 },
    { args: ['completion', 'bash'], text: /^# bash completion for planet-auth/, code: 0 },
    { args: ['help', 'status'], text: /^Usage: planet-auth status\n/, code: 0 },
    { args: ['version'], text: /^\d+\.\d+\.\d+\n$/, code: 0 },
    { args: ['status', '--profile', 'absent'], text: /^$/, code: 3 },
    { args: ['print-access-token', ...sa], setup: async () => (await serviceLogin('sa'), runCli(['logout', '--forget-secret', ...sa], env)), text: /^$/, code: 3 },
    { args: ['statsu'], text: /^$/, code: 2 },
    { args: ['profile', 'remove', 'sa'], setup: () => serviceLogin('sa'), text: /^$/, code: 2 },
    { args: ['login', 'browser', '--client-id', USER_CLIENT_ID, '--profile', 'web'], env: { PLANET_TEST_BROWSER: 'deny' }, text: /^$/, code: 1 },
  ];

  // One test per case, each with its own bound, then one for what they covered together.
  const covered = new Set<string>();
  test.each(cases.map((c) => [`${c.args.join(' ')} (exit ${c.code})`, c] as const))(
    '%s, in text and in JSON, from a fresh home',
    async (_, c) => {
      const what = c.args.join(' ');
      const outcomes: CliRun[] = [];
      for (const json of [false, true]) {
        home = tempHome();
        env = { ...env, HOME: home };
        await c.setup?.();
        const run = await runCli(json ? [...c.args, '--json'] : c.args, { ...env, ...c.env });
        outcomes.push(run);
      }
      const [text, json] = outcomes as [CliRun, CliRun];
      expect({ what, code: text.code }).toEqual({ what, code: c.code });
      expect({ what, code: json.code }).toEqual({ what, code: c.code });
      expect(text.stdout).toMatch(c.text);
      const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
      if (c.code === 0) expect(parsed).not.toHaveProperty('error');
      else {
        expect(Object.keys(parsed)).toEqual(['error']);
        const error = parsed['error'] as { code: string; message: string; hint: string };
        expect(error).toEqual({ code: expect.stringMatching(/^ERR_[A-Z_]+$/), message: expect.any(String), hint: expect.stringContaining('planet-auth ') });
        const anyHome = (t: string) => t.replace(/planet-home-\w+/g, 'planet-home-X');
        expect(anyHome(text.stderr)).toContain(anyHome(`planet-auth: error: ${error.message}`));
        expect(anyHome(text.stderr)).toContain(anyHome(`planet-auth: hint: ${error.hint}`));
      }
      const command = visibleCommands.filter((v) => what.startsWith(v)).sort((a, b) => b.length - a.length)[0];
      if (command && c.code === 0) covered.add(command);
    },
    60_000,
  );

  test('the cases above ran every visible command successfully', () => {
    expect([...covered].sort()).toEqual([...visibleCommands].filter((c) => !c.startsWith('login device')).sort());
  });

  test('login device, in text and in JSON', async () => {
    const text = await deviceLogin('dev');
    expect(text).toMatchObject({ code: 0, stdout: 'Logged in: profile dev (device).\n' });
    home = tempHome();
    env = { ...env, HOME: home };
    const json = await deviceLogin('dev', ['--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ profile: 'dev', flow: 'oauth_user_devicecode__external_browser', logged_in: true, default_profile: true });
  }, 60_000);
});

describe('completion', () => {
  test('the bash script, loaded in a real bash, completes a command, a subcommand, an option and a profile name', async () => {
    for (const profile of ['alpha', 'alps', 'beta']) await serviceLogin(profile);
    const bin = cliOnPath();
    const complete = (line: string) => {
      const words = line.split(' ');
      const script = `source <(planet-auth completion bash)\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length - 1}\n_planet_auth\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { env: { ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
      return out.split('\n').filter(Boolean);
    };
    expect(complete('planet-auth sta')).toEqual(['status']);
    expect(complete('planet-auth profile re')).toEqual(['remove']);
    expect(complete('planet-auth login ')).toEqual([...new Set(CLI_SPEC.logins.map((l) => l.command))]);
    expect(complete('planet-auth print-access-token --no')).toEqual(['--no-refresh']);
    expect(complete('planet-auth status --profile al')).toEqual(['alpha', 'alps']);
    expect(complete('planet-auth profile remove ')).toEqual(['alpha', 'alps', 'beta']);
    expect(complete('planet-auth completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete('planet-auth help profile c')).toEqual(['copy']);
  }, 60_000);

  test('zsh and fish scripts call the same completion command', async () => {
    for (const shell of ['zsh', 'fish']) {
      const run = await runCli(['completion', shell], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('planet-auth __complete');
    }
    expect((await runCli(['completion', 'tcsh'], env)).stderr).toContain('unknown shell "tcsh"; use one of bash, zsh, fish');
  });
});

describe('profiles: remove, copy; login --scope; service-account logout', () => {
  test('profile remove asks on a terminal, refuses without one and without --yes, and revokes first', async () => {
    await deviceLogin('gone');
    const refused = await runCli(['profile', 'remove', 'gone'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('planet-auth: hint: run "planet-auth profile remove gone --yes"');
    expect(existsSync(join(home, '.planet/gone'))).toBe(true);
    expect(server.count('revocation')).toBe(0);

    const removed = await runCli(['profile', 'remove', 'gone', '--yes'], env);
    expect(removed).toMatchObject({ code: 0, stdout: 'Removed profile gone (session revoked).\nIt was the default profile; choose another with "planet-auth profile set NAME".\n' });
    expect(server.count('revocation')).toBe(1);
    expect(existsSync(join(home, '.planet/gone'))).toBe(false);
    expect(JSON.parse(readFileSync(join(home, '.planet.json'), 'utf8'))).toEqual({});
    expect((await runCli(['profile', 'remove', 'gone', '--yes'], env)).code).toBe(3);
  }, 60_000);

  test('profile copy copies the client settings, every field kept, and no tokens', async () => {
    await serviceLogin('source');
    const client = join(home, '.planet/source/auth_client.json');
    writeFileSync(client, JSON.stringify({ ...JSON.parse(readFileSync(client, 'utf8')), organization: 'org-1', _comment: 'kept' }), { mode: 0o600 });
    const copy = await runCli(['profile', 'copy', 'source', 'Target'], env);
    expect(copy.code).toBe(0);
    expect(JSON.parse(readFileSync(join(home, '.planet/target/auth_client.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(client, 'utf8')));
    expect(readdirSync(join(home, '.planet/target'))).toEqual(['auth_client.json']);
    expect(statSync(join(home, '.planet/target/auth_client.json')).mode & 0o777).toBe(0o600);
    const again = await runCli(['profile', 'copy', 'source', 'target'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('profile "target" already exists; it was left as it is');
    server.resetCounts();
    // The copy logs in with the copied settings on first use.
    expect((await runCli(['print-access-token', '--profile', 'target'], env)).code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(1);
  }, 60_000);

  test('login --scope, repeatable, is what is requested and saved', async () => {
    await serviceLogin('scoped', {}, ['--scope', 'planet', '--scope', 'openid']);
    const client = JSON.parse(readFileSync(join(home, '.planet/scoped/auth_client.json'), 'utf8')) as { scopes: string[] };
    expect(client.scopes).toEqual(['planet', 'openid']);
    const status = JSON.parse((await runCli(['status', '--profile', 'scoped', '--json'], env)).stdout) as { scopes: string[] };
    expect(status.scopes).toEqual(['planet', 'openid']);
  }, 60_000);

  test('logout of a service account says the secret stays and what the next command does; --forget-secret removes it', async () => {
    await serviceLogin('robot');
    const logout = await runCli(['logout', '--profile', 'robot'], env);
    expect(logout.code).toBe(0);
    expect(logout.stdout).toBe(
      'Logged out: profile robot.\n' +
        'The client secret stays in ~/.planet/robot/auth_client.json: the next command that needs a token (such as "planet-auth print-access-token --profile robot") logs in again with it.\n' +
        'To forget the secret too: "planet-auth logout --forget-secret --profile robot".\n',
    );
    server.resetCounts();
    expect((await runCli(['print-access-token', '--profile', 'robot'], env)).code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(1);

    const forget = await runCli(['logout', '--forget-secret', '--profile', 'robot', '--json'], env);
    expect(forget.code).toBe(0);
    expect(JSON.parse(forget.stdout)).toMatchObject({ profile: 'robot', logged_out: true, client_secret: 'forgotten' });
    const client = JSON.parse(readFileSync(join(home, '.planet/robot/auth_client.json'), 'utf8')) as Record<string, unknown>;
    expect(client).not.toHaveProperty('client_secret');
    expect(client).toMatchObject({ client_id: M2M_CLIENT_ID, client_type: 'oidc_client_credentials_secret' });
    server.resetCounts();
    const next = await runCli(['print-access-token', '--profile', 'robot'], env);
    expect(next.code).toBe(3);
    expect(next.stderr).toContain('planet-auth: hint: run "PL_AUTH_CLIENT_SECRET=... planet-auth login service-account --profile robot"');
    expect(server.authServerRequests()).toBe(0);
    expect((await runCli(['logout', '--forget-secret', '--profile', 'robot'], env)).code).toBe(3);
  }, 60_000);

  test('--forget-secret on a user profile is refused', async () => {
    await deviceLogin('person');
    const run = await runCli(['logout', '--forget-secret', '--profile', 'person'], env);
    expect(run.code).toBe(2);
    expect(existsSync(join(home, '.planet/person/token.json'))).toBe(true);
  }, 60_000);

  test('print-access-token --refresh on an ended session names the CLI login command, not the SDK call', async () => {
    await deviceLogin('ended');
    const path = join(home, '.planet/ended/token.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), refresh_token: 'revoked-by-the-server' }));
    expireTokenFile(path);
    for (const args of [['print-access-token', '--refresh'], ['print-access-token'], ['refresh']]) {
      const run = await runCli([...args, '--profile', 'ended'], env);
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('planet-auth: hint: run "planet-auth login device --profile ended"');
      expect(run.stderr).not.toMatch(/userLogin|ensureInitialized/);
    }
  }, 60_000);
});

test('text a server sends reaches the terminal without control characters, in text and in JSON', async () => {
  const { createServer } = await import('node:http');
  const hostile: import('node:http').Server = createServer((request, response) => {
    const base: string = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;
    response.setHeader('content-type', 'application/json');
    if (request.url?.startsWith('/.well-known/')) return response.end(JSON.stringify({ issuer: `${base}/`, token_endpoint: `${base}/token` }));
    response.statusCode = 400;
    response.end(JSON.stringify({ error: 'invalid_client', error_description: 'forged\u001b[2J\u001b[31m red\r\nline\u0007' }));
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  const port = (hostile.address() as { port: number }).port;
  try {
    const hostileEnv = { ...env, PLANET_AUTH_ISSUER: `http://127.0.0.1:${port}/`, PL_AUTH_CLIENT_SECRET: 'not-checked' };
    const args = ['login', 'service-account', '--client-id', 'someone', '--profile', 'hostile'];
    const text = await runCli(args, hostileEnv);
    const json = await runCli([...args, '--json'], hostileEnv);
    expect(text.code).toBe(1);
    expect(json.code).toBe(1);
    expect(text.stderr).toMatch(/forged ?\[2J ?\[31m red ?line/);
    expect((JSON.parse(json.stdout) as { error: { message: string } }).error.message).toMatch(/forged ?\[2J ?\[31m red ?line/);
    // eslint-disable-next-line no-control-regex -- asserts no control character reaches the terminal
    for (const printed of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  } finally {
    hostile.close();
  }
});

describe('logout when the server cannot be reached', () => {
  test('keeps the session and exits 1 saying what to do; --forget-locally forgets it', async () => {
    const own = await startAuthServer();
    const ownEnv = { ...env, ...own.env() };
    let user: Promise<unknown> | undefined;
    const login = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'away'], ownEnv, (stderr) => {
      const match = /open (\S+)\s+and check/.exec(stderr);
      if (match && !user) user = scriptedUserLogin(match[1]!);
    });
    await user;
    expect(login.code).toBe(0);
    await own.close();
    const token = join(home, '.planet/away/token.json');
    const before = readFileSync(token, 'utf8');

    const kept = await runCli(['logout', '--profile', 'away'], ownEnv);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toMatch(/^planet-auth: error: the session of profile "away" could not be revoked \(.+\); it was kept\n/);
    expect(kept.stderr).toContain('planet-auth: hint: run "planet-auth logout --profile away" again once the server can be reached, or "planet-auth logout --forget-locally --profile away" to forget it here only');
    expect(readFileSync(token, 'utf8')).toBe(before);

    const forgot = await runCli(['logout', '--forget-locally', '--profile', 'away'], ownEnv);
    expect(forgot.code).toBe(0);
    expect(forgot.stdout).toBe('Logged out: profile away (forgotten here only, not revoked).\n');
    expect(forgot.stderr).toMatch(/^planet-auth: warning: .*cannot reach the server.*stays valid at the server until it expires\.\n$/);
    expect(existsSync(token)).toBe(false);
  }, 60_000);
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
  // openid-client or open would fail to resolve.
  const { cpSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const isolated = mkdtempSync(join(tmpdir(), 'lean-cli-'));
  for (const part of ['package.json', 'bin', 'dist']) cpSync(join(CLI_BIN, '..', '..', part), join(isolated, part), { recursive: true });
  server.resetCounts();
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, [join(isolated, 'bin', 'cli.cjs'), 'print-access-token', '--profile', 'lean'], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout.trim().split('.')).toHaveLength(3);
  expect(server.authServerRequests()).toBe(0);
});
