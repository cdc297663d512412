// The command's start-up path: what `print-access-token` loads (counted by
// the loader, not timed), that it reports failures as the whole CLI does, and
// `login service-account --client-secret-stdin`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, startAuthServer, type RunningServer } from './server/auth-server.js';
import { CLI_BIN, runCli } from './support/cli.js';
import { tempHome } from './support/env.js';
import { expireTokenFile } from './support/scenarios.js';
import { findLeaks } from './support/secrets.js';

const ROOT = resolve(import.meta.dirname, '..');
const TRACE = join(ROOT, 'test/support/module-trace.cjs');

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

/** Runs the CLI with `stdin` piped in; resolves with its output and, with `trace`, what it loaded. */
function run(args: string[], options: { stdin?: string; trace?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string; loaded: string[] }> {
  const traceFile = join(mkdtempSync(join(tmpdir(), 'planet-trace-')), 'loaded.txt');
  const nodeArgs = options.trace ? ['--require', TRACE] : [];
  const child = spawn(process.execPath, [...nodeArgs, CLI_BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env, ...(options.trace ? { MODULE_TRACE_FILE: traceFile } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.end(options.stdin ?? '');
  return new Promise((done) =>
    child.on('close', (code) => {
      writeFileSync(traceFile, '', { flag: 'a' });
      const loaded = readFileSync(traceFile, 'utf8').split('\n').filter(Boolean);
      done({ code, stdout, stderr, loaded });
    }),
  );
}

/** The package's own files among `loaded`, relative to generated/, and the Node modules. */
function split(loaded: string[]): { files: string[]; builtins: string[]; packages: string[] } {
  const generated = new URL('../generated/', import.meta.url).href;
  return {
    files: loaded
      .filter((u) => u.startsWith(generated))
      .map((u) => u.slice(generated.length))
      .sort(),
    builtins: loaded.filter((u) => u.startsWith('node:')),
    packages: loaded.filter((u) => u.includes('/node_modules/')).map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)![1]!),
  };
}

const LOGIN_ONLY_BUILTINS = ['node:http', 'node:https', 'node:child_process', 'node:readline', 'node:crypto'];

async function loginServiceAccount(profile: string): Promise<void> {
  const login = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', profile], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
  expect(login.code).toBe(0);
  server.resetCounts();
}

describe('print-access-token with a valid saved token', () => {
  test('loads two files of the package and nothing a login needs, and asks the server nothing', async () => {
    await loginServiceAccount('lean');
    const result = await run(['print-access-token', '--profile', 'lean'], { trace: true });
    expect(result.code).toBe(0);
    const saved = JSON.parse(readFileSync(join(home, '.planet/lean/token.json'), 'utf8')) as { access_token: string };
    expect(result.stdout).toBe(`${saved.access_token}\n`);
    expect(result.stderr).toBe('');
    const { files, builtins, packages } = split(result.loaded);
    expect(files).toEqual(['bin/cli.cjs', 'dist/bundle/planet-auth.cjs']);
    expect(builtins.filter((b) => LOGIN_ONLY_BUILTINS.includes(b))).toEqual([]);
    expect(packages).toEqual([]);
    expect(server.authServerRequests()).toBe(0);
  });

  test("loads none of Node's internal modules that only a write, a turn, a key or the keychain needs", async () => {
    await loginServiceAccount('lean');
    // process.moduleLoadList names Node's own modules as they load, the internal ones a require hook never sees.
    const dir = mkdtempSync(join(tmpdir(), 'planet-modules-'));
    const preload = join(dir, 'modules.cjs');
    const listed = join(dir, 'modules.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listed)}, process.moduleLoadList.join('\\n')));\n`);
    const child = spawn(process.execPath, ['--require', preload, CLI_BIN, 'print-access-token', '--profile', 'lean'], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    expect(await new Promise((done) => child.on('close', done))).toBe(0);
    const modules = readFileSync(listed, 'utf8').split('\n');
    const heavy = ['NativeModule internal/crypto/webcrypto', 'NativeModule internal/fs/promises', 'NativeModule module', 'NativeModule timers/promises', 'NativeModule os', 'NativeModule stream'];
    expect(modules.filter((m) => heavy.includes(m))).toEqual([]);
    expect(server.authServerRequests()).toBe(0);
  });

  test('the default profile (from ~/.planet.json) and --profile=NAME take the same path', async () => {
    await loginServiceAccount('lean');
    for (const args of [['print-access-token'], ['print-access-token', '--profile=lean']]) {
      const result = await run(args, { trace: true });
      expect(result.code).toBe(0);
      expect(split(result.loaded).files).toEqual(['bin/cli.cjs', 'dist/bundle/planet-auth.cjs']);
    }
    expect(server.authServerRequests()).toBe(0);
  });

  test('the trace sees what a refresh loads: openid-client, from the package folder', async () => {
    await loginServiceAccount('lean');
    const result = await run(['print-access-token', '--profile', 'lean', '--refresh'], { trace: true });
    expect(result.code).toBe(0);
    expect(split(result.loaded).packages).toContain('openid-client');
    expect(server.count('token:client_credentials')).toBe(1);
  });
});

describe('print-access-token failures on the start-up path are reported as the whole CLI reports them', () => {
  test('an expired token whose server is gone: one line, a hint naming the command again, exit 1', async () => {
    const gone = await startAuthServer();
    env = { ...env, ...gone.env() };
    const login = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'lean'], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
    expect(login.code).toBe(0);
    await gone.close();
    expireTokenFile(join(home, '.planet/lean/token.json'));
    const result = await run(['print-access-token', '--profile', 'lean']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^planet-auth: error: /);
    expect(lines[1]).toMatch(/^planet-auth: hint: .*"planet-auth print-access-token --profile lean" again/);
  });

  test('a profile that does not exist goes to the whole CLI, which names a login command', async () => {
    const result = await run(['print-access-token', '--profile', 'nobody']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/hint: log in with "planet-auth login device --profile nobody"/);
  });
});

describe('login service-account --client-secret-stdin', () => {
  test('reads the secret from a pipe, drops one trailing line break, and logs in', async () => {
    const result = await run(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--client-secret-stdin', '--profile', 'piped'], { stdin: `${M2M_CLIENT_SECRET}\n` });
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(1);
    expect(findLeaks({ what: 'login --client-secret-stdin', stdout: result.stdout, stderr: result.stderr })).toEqual([]);
    const token = await run(['print-access-token', '--profile', 'piped']);
    expect(token.code).toBe(0);
    expect(server.count('token:client_credentials')).toBe(1);
  });

  test('wins over PL_AUTH_CLIENT_SECRET', async () => {
    env = { ...env, PL_AUTH_CLIENT_SECRET: 'not-the-secret' };
    const result = await run(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--client-secret-stdin', '--profile', 'piped'], { stdin: M2M_CLIENT_SECRET });
    expect(result.code).toBe(0);
  });

  test('an empty input is refused with a hint that pipes a file in', async () => {
    const result = await run(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--client-secret-stdin', '--profile', 'piped'], { stdin: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('planet-auth: error: --client-secret-stdin read no secret: standard input was empty');
    expect(result.stderr).toContain('planet-auth: hint: pipe it in, such as "planet-auth login service-account --client-secret-stdin < secret.txt"');
    expect(server.authServerRequests()).toBe(0);
  });

  test('conflicts with --client-secret', async () => {
    const result = await run(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--client-secret-stdin', '--client-secret', 'x', '--profile', 'piped'], { stdin: M2M_CLIENT_SECRET });
    expect(result.code).toBe(2);
    expect(server.authServerRequests()).toBe(0);
  });
});
