// The edges, tried as a user would: authorization servers configured unlike
// the embedded one, configuration that points tokens at the wrong place,
// lock folders a hostile local user prepared, the Python CLI's files, and
// text a server sends to the terminal.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBrowser } from '../generated/src/runtime/browser.js';
import { LOCK_FOLDER, LOCK_STALE_MS, withFolderLock } from '../generated/src/runtime/lock.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { protocolError, loadOidc } from '../generated/src/runtime/protocol.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { defaultSession, readJsonFileSync } from '../generated/src/runtime/profile.js';
import { FileStore } from '../generated/src/runtime/store.js';
import { ConfigError, LockTimeoutError, PlanetAuthError, ProfileError } from '../generated/src/index.js';
import { Session } from '../generated/src/runtime/session.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer, type RunningServer } from './server/auth-server.js';
import { CLI_BIN, cliOnPath, runCli } from './support/cli.js';
import { startLoopbackListener } from '../generated/src/runtime/loopback.js';
import { tempHome } from './support/env.js';
import { expireTokenFile, start } from './support/scenarios.js';
import { expect } from '@jest/globals';
import { scriptedUserLogin } from './support/user-agent.js';

let server: RunningServer;
let home: string;
let env: Record<string, string>;
let metadata: Record<string, unknown>;

beforeAll(async () => {
  server = await startAuthServer();
  metadata = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
});
afterAll(() => server.close());
beforeEach(() => {
  home = tempHome();
  env = { ...server.env(), HOME: home };
  server.resetCounts();
});

/** A script that exits with `code` (after `sleep` seconds), to stand for a browser opener. */
function exitingCommand(code: number, sleep = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'planet-opener-'));
  const file = join(dir, 'opener');
  writeFileSync(file, `#!/bin/sh\n${sleep > 0 ? `sleep ${sleep}\n` : ''}exit ${code}\n`);
  chmodSync(file, 0o755);
  return file;
}

interface Foreign {
  readonly issuer: string;
  readonly seen: string[];
  close(): Promise<void>;
}

/**
 * An authorization server configured unlike the embedded one: its own
 * issuer URL and metadata (edited by `edit`), the embedded server's
 * endpoints, and `route` for anything else it should answer.
 */
async function foreignServer(edit: (m: Record<string, unknown>) => Record<string, unknown>, route?: (req: IncomingMessage, res: ServerResponse, issuer: string) => boolean): Promise<Foreign> {
  const seen: string[] = [];
  let issuer = '';
  const http: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (route?.(req, res, issuer)) return;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(edit({ ...metadata, issuer })));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    issuer,
    seen,
    close: () => {
      http.closeAllConnections();
      return new Promise<void>((r) => http.close(() => r()));
    },
  };
}

async function rejection(fn: () => Promise<unknown>): Promise<PlanetAuthError> {
  return (await fn().then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  )) as PlanetAuthError;
}

describe('foreign servers: the browser opener', () => {
  test('an opener that exits non-zero (xdg-open without a desktop exits 3) counts as no browser', async () => {
    const failing = exitingCommand(3);
    const saved = process.env['BROWSER'];
    try {
      process.env['BROWSER'] = failing;
      expect(await openBrowser('https://example.com/')).toBe(false);
      process.env['BROWSER'] = `${failing}:${exitingCommand(0)}`;
      expect(await openBrowser('https://example.com/')).toBe(true);
      process.env['BROWSER'] = exitingCommand(3, 5);
      expect(await openBrowser('https://example.com/')).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['BROWSER'];
      else process.env['BROWSER'] = saved;
    }
  });

  test('login browser prints the URL at once and says when no browser opened', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'login', 'browser', '--client-id', USER_CLIENT_ID, '--profile', 'headless'], {
      env: { PATH: process.env['PATH'] ?? '', ...env, BROWSER: exitingCommand(3) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        if (stderr.includes('No browser could be opened')) resolve();
      });
    });
    child.kill('SIGINT');
    await new Promise((r) => child.on('close', r));
    expect(stderr).toMatch(new RegExp(`open this URL in a browser:\\s+${server.issuer.replace(/[.]/g, '\\.')}/auth\\?`));
    expect(stderr.indexOf('/auth?')).toBeLessThan(stderr.indexOf('No browser could be opened'));
  }, 30_000);
});

describe('foreign servers: endpoints the embedded server has and others lack', () => {
  test('a server without a device endpoint: a ConfigError that says so and names the browser flow, before any device request', async () => {
    const foreign = await foreignServer(({ device_authorization_endpoint: _dropped, ...m }) => m);
    try {
      const error = await rejection(() =>
        new AuthCore(SDK_SETTINGS, 'oauth_user_devicecode__external_browser', { clientId: USER_CLIENT_ID, issuer: foreign.issuer, audience: server.audience, saveStateToStorage: false }).deviceUserLoginInitiate(),
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain('does not offer device login');
      expect(error.hint).toContain('browser');
      expect(server.count('device_authorization')).toBe(0);

      const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'dev'], { ...env, PLANET_AUTH_ISSUER: foreign.issuer });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('does not offer device login');
      expect(run.stderr).toMatch(/hint: .*browser/);
      expect(run.stderr).not.toContain('as.device_authorization_endpoint');
    } finally {
      await foreign.close();
    }
  }, 30_000);

  test('logout at a server without a revocation endpoint: exit 1 and the session kept; --forget-locally forgets it, saying so', async () => {
    const foreign = await foreignServer(({ revocation_endpoint: _dropped, ...m }) => m);
    const foreignEnv = { ...env, PLANET_AUTH_ISSUER: foreign.issuer, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };
    try {
      expect((await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'svc'], foreignEnv)).code).toBe(0);
      const kept = await runCli(['logout', '--profile', 'svc'], foreignEnv);
      expect(kept.code).toBe(1);
      expect(kept.stderr).toContain('offers no revocation endpoint');
      expect(kept.stderr).toContain('--forget-locally');
      expect(kept.stdout).not.toContain('Logged out');
      expect(existsSync(join(home, '.planet/svc/token.json'))).toBe(true);
      const forgotten = await runCli(['logout', '--forget-locally', '--profile', 'svc'], foreignEnv);
      expect(forgotten.code).toBe(0);
      expect(forgotten.stdout).toContain('not revoked');
      expect(existsSync(join(home, '.planet/svc/token.json'))).toBe(false);
    } finally {
      await foreign.close();
    }
  }, 30_000);
});

describe('foreign servers: discovery redirects, Retry-After, a wrong iss', () => {
  const m2m = (issuer: string) => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, issuer, audience: server.audience, saveStateToStorage: false });

  test('discovery answered with 301 or 308 is followed', async () => {
    for (const status of [301, 308]) {
      const foreign = await foreignServer(
        (m) => m,
        (req, res) => {
          if (req.url !== '/.well-known/openid-configuration' || req.headers['x-followed']) return false;
          if (foreign.seen.filter((u) => u === req.url).length > 1) return false;
          res.writeHead(status, { location: '/.well-known/openid-configuration' }).end();
          return true;
        },
      );
      try {
        expect(typeof (await m2m(foreign.issuer).getAccessToken())).toBe('string');
        expect(foreign.seen.filter((u) => u === '/.well-known/openid-configuration')).toHaveLength(2);
      } finally {
        await foreign.close();
      }
    }
  });

  test('a discovery redirect that is not followed says where it pointed', async () => {
    const foreign = await foreignServer(
      (m) => m,
      (req, res) => {
        res.writeHead(301, { location: 'http://auth.example.com/realms/main/.well-known/openid-configuration' }).end();
        return true;
      },
    );
    try {
      const error = await rejection(() => m2m(foreign.issuer).getAccessToken());
      expect(error.message).toContain('to http://auth.example.com/realms/main/.well-known/openid-configuration');
      expect(error.hint).toContain('http://auth.example.com/realms/main');
    } finally {
      await foreign.close();
    }
  });

  test('Retry-After: 30 is reported as the server asked, not as a timeout', async () => {
    const foreign = await foreignServer(
      (m) => m,
      (_req, res) => {
        res.writeHead(503, { 'retry-after': '30' }).end();
        return true;
      },
    );
    try {
      const error = await rejection(() => m2m(foreign.issuer).getAccessToken());
      expect(error.message).toContain('asked to be called again in 30 s');
      expect(error.message).not.toContain('no answer within');
      expect(foreign.seen).toHaveLength(1);
    } finally {
      await foreign.close();
    }
  });

  test('an authorization response naming another issuer (RFC 9207) is not "try again later"', async () => {
    const oidc = await loadOidc();
    const config = new oidc.Configuration({ ...metadata, authorization_response_iss_parameter_supported: true } as never, USER_CLIENT_ID);
    oidc.allowInsecureRequests(config);
    const thrown = await oidc
      .authorizationCodeGrant(config, new URL(`http://127.0.0.1:1/callback?code=c&state=s&iss=${encodeURIComponent('https://elsewhere.example.com')}`), { expectedState: 's', pkceCodeVerifier: 'v'.repeat(43) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const error = protocolError(thrown, 'exchanging the authorization code');
    expect(error.message).toContain('"iss"');
    expect(error.hint).not.toContain('later');
    expect(error.hint).toContain('issuer URL');
    expect(server.count('token:authorization_code')).toBe(0);
  });
});

describe('local files: the lock folder a hostile local user prepared', () => {
  const folder = () => join(home, '.planet', 'locked');
  const lockDir = () => join(folder(), LOCK_FOLDER);
  const take = () => withFolderLock(folder(), async () => 'taken');

  test('a symlinked session.lock is refused and nothing in its target is removed', async () => {
    const target = mkdtempSync(join(tmpdir(), 'planet-victim-'));
    mkdirSync(join(target, '1'));
    mkdirSync(join(target, '2'));
    writeFileSync(join(target, '2', 'owner.json'), '{}');
    mkdirSync(folder(), { recursive: true });
    symlinkSync(target, lockDir());
    await expect(take()).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('symbolic link') });
    expect(readdirSync(target).sort()).toEqual(['1', '2']);
  });

  test('a lock folder writable by others (0777) or owned by another user is refused', async () => {
    mkdirSync(lockDir(), { recursive: true });
    chmodSync(lockDir(), 0o777);
    await expect(take()).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('written by other users'), hint: expect.stringContaining('remove') });
    chmodSync(lockDir(), 0o700);
    expect(await take()).toBe('taken');
    if (process.getuid?.() === 0) {
      chownSync(lockDir(), 65534, 65534);
      await expect(take()).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining('another user') });
    }
  });

  test('a planted top generation at the largest number ends at once with an error naming the folder', async () => {
    mkdirSync(join(lockDir(), '999999999999999'), { recursive: true, mode: 0o700 });
    chmodSync(lockDir(), 0o700);
    writeFileSync(join(lockDir(), '999999999999999', 'released'), '');
    await expect(take()).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE', message: expect.stringContaining(lockDir()) });
  });

  test('heartbeat and released files replaced by symbolic links are not written through', async () => {
    const victim = join(mkdtempSync(join(tmpdir(), 'planet-victim-')), 'precious');
    writeFileSync(victim, 'precious');
    await withFolderLock(folder(), async () => {
      const generation = readdirSync(lockDir()).find((n) => /^\d+$/.test(n))!;
      rmSync(join(lockDir(), generation, 'heartbeat'));
      symlinkSync(victim, join(lockDir(), generation, 'heartbeat'));
      symlinkSync(victim, join(lockDir(), generation, 'released'));
      // One heartbeat falls due while the links are in place.
      await new Promise((r) => setTimeout(r, 1200));
    });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
  });
});

describe('local files: a lock holder in another pid namespace (a container sharing ~/.planet)', () => {
  const canUnshare = spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;
  const maybe = canUnshare ? test : test.skip;

  maybe(
    `paused for longer than ${LOCK_STALE_MS} ms, it keeps its turn while it runs; once it is gone the lock is taken`,
    async () => {
      const folder = join(home, '.planet', 'container');
      const holder = spawn('unshare', ['--pid', '--fork', process.execPath, join(import.meta.dirname, 'support/workers/lock-holder.mjs'), folder], { stdio: ['pipe', 'pipe', 'inherit'] });
      const closed = new Promise((r) => holder.once('close', r));
      let out = '';
      const arrived: (() => void)[] = [];
      holder.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        for (const wake of arrived.splice(0)) wake();
      });
      const lineCount = async (n: number) => {
        while (out.split('\n').length <= n) await new Promise<void>((r) => arrived.push(r));
      };
      await lineCount(1);
      expect(out).toBe('locked\n');
      const owner = JSON.parse(readFileSync(join(folder, LOCK_FOLDER, '1', 'owner.json'), 'utf8')) as { pid: number; pidNamespace: string };
      expect(owner.pidNamespace).not.toBe(readlinkSync('/proc/self/ns/pid'));
      // The holder as this namespace sees it: the child of `unshare`.
      const hostPid = Number(readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
      process.kill(hostPid, 'SIGSTOP');
      let taken = false;
      const waiter = withFolderLock(folder, async () => {
        taken = true;
      });
      await new Promise((r) => setTimeout(r, LOCK_STALE_MS + 1500));
      expect(taken).toBe(false);
      process.kill(hostPid, 'SIGCONT');
      holder.stdin.write('check\n');
      await lineCount(2);
      expect(JSON.parse(out.split('\n')[1]!)).toEqual({ held: true });
      process.kill(hostPid, 'SIGKILL');
      await waiter;
      expect(taken).toBe(true);
      await closed;
    },
    60_000,
  );
});

describe('the Python neighbour: which profile is meant, as planet-auth 2.3 decides it', () => {
  // Columns: PL_AUTH_PROFILE in the environment, PL_AUTH_CLIENT_ID + PL_AUTH_CLIENT_SECRET in the
  // environment, PL_AUTH_PROFILE in ~/.planet.json, the client ID and secret in ~/.planet.json;
  // the profile the Python CLI (planet_auth_utils.PlanetAuthFactory) picks.
  const TABLE: [envProfile: boolean, envClient: boolean, fileProfile: boolean, fileClient: boolean, expected: string][] = [
    [false, false, false, false, 'planet-user'],
    [false, false, false, true, 'planet-m2m-file-id'],
    [false, false, true, false, 'file-prof'],
    [false, false, true, true, 'file-prof'],
    [false, true, false, false, 'planet-m2m-env-id'],
    [false, true, false, true, 'planet-m2m-env-id'],
    [false, true, true, false, 'file-prof'],
    [false, true, true, true, 'file-prof'],
    [true, false, false, false, 'env-prof'],
    [true, false, false, true, 'env-prof'],
    [true, false, true, false, 'env-prof'],
    [true, false, true, true, 'env-prof'],
    [true, true, false, false, 'env-prof'],
    [true, true, false, true, 'env-prof'],
    [true, true, true, false, 'env-prof'],
    [true, true, true, true, 'env-prof'],
  ];
  const KEYS = ['PL_AUTH_PROFILE', 'PL_AUTH_CLIENT_ID', 'PL_AUTH_CLIENT_SECRET'];
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(['HOME', ...KEYS].map((k) => [k, process.env[k]]));
    process.env['HOME'] = home;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  function arrange(envProfile: boolean, envClient: boolean, fileProfile: boolean, fileClient: boolean): void {
    for (const k of KEYS) delete process.env[k];
    if (envProfile) process.env['PL_AUTH_PROFILE'] = 'env-prof';
    if (envClient) Object.assign(process.env, { PL_AUTH_CLIENT_ID: 'env-id', PL_AUTH_CLIENT_SECRET: 'env-secret' });
    const file: Record<string, string> = {};
    if (fileProfile) file['PL_AUTH_PROFILE'] = 'file-prof';
    if (fileClient) Object.assign(file, { PL_AUTH_CLIENT_ID: 'file-id', PL_AUTH_CLIENT_SECRET: 'file-secret' });
    rmSync(join(home, '.planet.json'), { force: true });
    if (fileProfile || fileClient) writeFileSync(join(home, '.planet.json'), JSON.stringify(file), { mode: 0o600 });
  }

  test.each(TABLE)('env profile %s, env client %s, file profile %s, file client %s: %s', (envProfile, envClient, fileProfile, fileClient, expected) => {
    arrange(envProfile, envClient, fileProfile, fileClient);
    expect(defaultSession(SDK_SETTINGS).profile).toBe(expected);
  });

  test('the client ID and the secret are each taken from the environment, else the file', () => {
    arrange(false, false, false, false);
    process.env['PL_AUTH_CLIENT_ID'] = 'env-id';
    writeFileSync(join(home, '.planet.json'), JSON.stringify({ PL_AUTH_CLIENT_SECRET: 'file-secret' }), { mode: 0o600 });
    expect(defaultSession(SDK_SETTINGS)).toMatchObject({ profile: 'planet-m2m-env-id', options: { clientId: 'env-id', clientSecret: 'file-secret' } });
  });

  test('--profile wins over every other source, in the CLI', async () => {
    arrange(true, true, true, true);
    const run = await runCli(['status', '--json', '--profile', 'flag-prof'], { ...env, PL_AUTH_PROFILE: 'env-prof', PL_AUTH_CLIENT_ID: 'env-id', PL_AUTH_CLIENT_SECRET: 'env-secret' });
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { message: expect.stringContaining('"flag-prof"') } });
  });
});

describe('foreign servers: status tells the truth; a failed login leaves nothing behind', () => {
  async function deviceLogin(profile: string): Promise<void> {
    let user: Promise<unknown> | undefined;
    const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', profile], env, (stderr) => {
      const match = /open (\S+)\s+and check that it shows the code (\S+?)\./.exec(stderr);
      if (match && !user) user = scriptedUserLogin(match[1]!, { userCode: match[2]! });
    });
    await user;
    expect(run.code).toBe(0);
  }
  const tokenPath = (profile: string) => join(home, '.planet', profile, 'token.json');

  test('after the server refused the refresh token: not logged in, exit 3', async () => {
    await deviceLogin('refused');
    expireTokenFile(tokenPath('refused'));
    server.injectTokenFaults([{ status: 400, body: '{"error":"invalid_grant","error_description":"grant revoked"}', contentType: 'application/json' }]);
    const run = await runCli(['status', '--json', '--profile', 'refused'], env);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ logged_in: false, has_refresh_token: true });
  }, 30_000);

  test('an expired token with no refresh token: not logged in, exit 3; a valid one: logged in, exit 0, no request', async () => {
    await deviceLogin('expired');
    server.resetCounts();
    expect((await runCli(['status', '--profile', 'expired'], env)).code).toBe(0);
    expect(server.authServerRequests()).toBe(0);
    const saved = JSON.parse(readFileSync(tokenPath('expired'), 'utf8')) as Record<string, unknown>;
    delete saved['refresh_token'];
    writeFileSync(tokenPath('expired'), JSON.stringify(saved), { mode: 0o600 });
    expireTokenFile(tokenPath('expired'));
    const run = await runCli(['status', '--profile', 'expired'], env);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('logged in:      no (the access token has expired and there is no refresh token)');
  }, 30_000);

  test('a first login that failed leaves no folder, and profile list shows no broken profile', async () => {
    const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'failed'], { ...env, PL_AUTH_CLIENT_SECRET: 'wrong-secret' });
    expect(run.code).toBe(1);
    expect(existsSync(join(home, '.planet', 'failed'))).toBe(false);
    // A service account's automatic login (an ad hoc one here) takes the lock before it fails.
    const automatic = await runCli(['print-access-token'], { ...env, PL_AUTH_CLIENT_ID: 'refused-client', PL_AUTH_CLIENT_SECRET: 'wrong-secret' });
    expect(automatic.code).toBe(1);
    expect(existsSync(join(home, '.planet', 'planet-m2m-refused-client'))).toBe(false);
    mkdirSync(join(home, '.planet', 'leftover', LOCK_FOLDER, '1'), { recursive: true });
    const list = await runCli(['profile', 'list', '--json'], env);
    expect((JSON.parse(list.stdout) as { profile: string }[]).map((p) => p.profile)).not.toContain('leftover');
  }, 30_000);
});

describe('configuration: a token goes only where its issuer is configured to send it', () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of ['PLANET_AUTH_ISSUER', 'PLANET_AUTH_AUDIENCE', 'PLANET_API_URL']) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  test('only a custom issuer set (in code or the environment): a ConfigError naming the audience, before any request', async () => {
    const foreign = await foreignServer((m) => m);
    try {
      const inCode = () => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, issuer: foreign.issuer, saveStateToStorage: false });
      expect(inCode).toThrow(ConfigError);
      expect(inCode).toThrow(expect.objectContaining({ hint: expect.stringContaining('PLANET_AUTH_AUDIENCE') }));
      process.env['PLANET_AUTH_ISSUER'] = foreign.issuer;
      expect(() => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false })).toThrow(/audience is still the built-in/);
      expect(foreign.seen).toEqual([]);
    } finally {
      await foreign.close();
    }
  });

  test('a custom issuer and audience with the built-in API: an API session is a ConfigError naming apiBaseUrl, before any request', async () => {
    const foreign = await foreignServer((m) => m);
    try {
      const auth = new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, issuer: foreign.issuer, audience: server.audience, saveStateToStorage: false });
      expect(() => new Session(auth)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG', hint: expect.stringContaining('apiBaseUrl') }));
      expect(
        () =>
          new Session(
            new AuthCore(SDK_SETTINGS, 'oauth_m2m', {
              clientId: M2M_CLIENT_ID,
              clientSecret: M2M_CLIENT_SECRET,
              issuer: foreign.issuer,
              audience: server.audience,
              apiBaseUrl: server.apiBaseUrl,
              saveStateToStorage: false,
            }),
          ),
      ).not.toThrow();
      expect(foreign.seen).toEqual([]);
    } finally {
      await foreign.close();
    }
  });

  test('every error class carries a hint', () => {
    expect(new ConfigError('x').hint).toEqual(expect.any(String));
    expect(new ProfileError('x').hint).toEqual(expect.any(String));
    expect(new LockTimeoutError('x').hint).toEqual(expect.any(String));
    expect(new ConfigError('x', { hint: 'do y' })).toMatchObject({ hint: 'do y', message: 'x; do y' });
  });

  test("after the issuer in the environment changed, an ad hoc profile never prints or reports the old server's token", async () => {
    const other = await startAuthServer();
    try {
      const adHoc = { PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET };
      const first = await runCli(['print-access-token'], { ...env, ...adHoc });
      expect(first.code).toBe(0);
      const second = await runCli(['print-access-token'], { ...env, ...other.env(), ...adHoc });
      expect(second.code).toBe(0);
      expect(second.stdout).not.toBe(first.stdout);
      const claims = JSON.parse(Buffer.from(second.stdout.trim().split('.')[1]!, 'base64url').toString()) as { iss: string };
      expect(claims.iss).toBe(other.issuer);
      expect(other.count('token:client_credentials')).toBe(1);
    } finally {
      await other.close();
    }
  }, 30_000);
});

describe('the Python neighbour: token.json rewritten back to back', () => {
  test('400 SDK reads during back-to-back in-place rewrites see no failure', async () => {
    const folder = join(home, '.planet', 'busy');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(join(folder, 'token.json'), '{"access_token": "first"}', { mode: 0o600 });
    const writer = start('backtoback-writer.mjs', [join(folder, 'token.json')], {});
    const store = new FileStore(home);
    const failures: string[] = [];
    try {
      await writer.firstLine;
      for (let round = 0; round < 200; round++) {
        for (const read of [() => store.loadObj('.planet/busy/token.json'), async () => readJsonFileSync(join(folder, 'token.json'))]) {
          try {
            await read();
          } catch (error) {
            failures.push(`${(error as PlanetAuthError).code}: ${(error as Error).message}`);
          }
        }
      }
    } finally {
      writer.kill();
      await writer.exited;
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('the Python neighbour: logins it would not understand are refused before any request', () => {
  const write = (profile: string, data: Record<string, unknown>) => {
    mkdirSync(join(home, '.planet', profile), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.planet', profile, 'auth_client.json'), JSON.stringify(data), { mode: 0o600 });
  };

  test('a login under the name of a legacy or API-key profile: refused, nothing sent, nothing written', async () => {
    write('legacy', { client_type: 'planet_legacy', legacy_auth_endpoint: 'https://api.planet.com/v0/auth/login' });
    write('apikey', { client_type: 'static_apikey', api_key: 'PLAK-placeholder' });
    for (const profile of ['legacy', 'apikey']) {
      const before = readdirSync(join(home, '.planet', profile));
      const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', profile], { ...env, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('nothing was sent to any server');
      expect(run.stderr).toMatch(/hint: .*another profile name/);
      expect(readdirSync(join(home, '.planet', profile))).toEqual(before);
    }
    expect(server.authServerRequests()).toBe(0);
  }, 30_000);

  test('a login into planet-user with another client: refused before any request, no auth_client.json written', async () => {
    const run = await runCli(['login', 'device', '--client-id', USER_CLIENT_ID, '--profile', 'planet-user'], env);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('is built in');
    expect(existsSync(join(home, '.planet', 'planet-user', 'auth_client.json'))).toBe(false);
    expect(server.authServerRequests()).toBe(0);
  }, 30_000);

  test('login device accepts --no-open-browser, as plauth does', async () => {
    const run = await runCli(['help', 'login', 'device'], env);
    expect(run.stdout).toContain('--no-open-browser');
    const refused = await runCli(['login', 'device', '--no-open-browser', '--open-browser'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).not.toContain('unknown option');
  });

  test('token.json says token_type "Bearer", as the Python CLI writes it; ~/.planet.json holding a secret is made 0600 when read', async () => {
    writeFileSync(join(home, '.planet.json'), JSON.stringify({ PL_AUTH_CLIENT_ID: M2M_CLIENT_ID, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET }), { mode: 0o644 });
    chmodSync(join(home, '.planet.json'), 0o644);
    const run = await runCli(['print-access-token'], env);
    expect(run.code).toBe(0);
    expect(statSync(join(home, '.planet.json')).mode & 0o777).toBe(0o600);
    const token = JSON.parse(readFileSync(join(home, '.planet', `planet-m2m-${M2M_CLIENT_ID}`, 'token.json'), 'utf8')) as { token_type: string };
    expect(token.token_type).toBe('Bearer');
  }, 30_000);
});

describe('terminal and callbacks: server text is shown without control characters', () => {
  const ESC = '\u001b';
  const hostileDevice = (answer: Record<string, unknown>) =>
    foreignServer(
      (m) => ({ ...m, device_authorization_endpoint: `${m['issuer'] as string}/device` }),
      (req, res) => {
        if (req.url !== '/device') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ device_code: 'dc', expires_in: 60, interval: 5, ...answer }));
        return true;
      },
    );
  const deviceAuth = (issuer: string) => new AuthCore(SDK_SETTINGS, 'oauth_user_devicecode__external_browser', { clientId: USER_CLIENT_ID, issuer, audience: server.audience, saveStateToStorage: false });

  test('a user code with escape sequences and a spoofed terminal link is cleaned; a javascript: verification URI is refused', async () => {
    const link = `${ESC}]8;;https://evil.example.com${ESC}\\ABCD-EFGH${ESC}]8;;${ESC}\\`;
    const foreign = await hostileDevice({ user_code: `${ESC}[2J${link}`, verification_uri: 'https://login.example.com/activate' });
    try {
      const info = await deviceAuth(foreign.issuer).deviceUserLoginInitiate();
      // eslint-disable-next-line no-control-regex -- asserts no control character reaches the user code
      expect(info.userCode).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(info.userCode).toContain('ABCD-EFGH');
    } finally {
      await foreign.close();
    }
    for (const uri of ['javascript:alert(1)', 'file:///etc/passwd', 'http://evil.example.com/activate']) {
      const bad = await hostileDevice({ user_code: 'ABCD', verification_uri: uri });
      try {
        const error = await rejection(() => deviceAuth(bad.issuer).deviceUserLoginInitiate());
        expect(error.message).toContain('is not an https URL');
      } finally {
        await bad.close();
      }
    }
  });

  test("the callback's error_description reaches the error message without control characters", async () => {
    const listener = await startLoopbackListener('http://127.0.0.1:0/callback', 's', 5000);
    const failed = listener.callback.then(
      () => new Error('expected a refusal'),
      (e: unknown) => e as Error,
    );
    await fetch(`${listener.redirectUri}?state=s&error=server_error&error_description=${encodeURIComponent(`bad${ESC}[31m red${ESC}]8;;https://evil/${ESC}\\ link\r\nforged line`)}`);
    const error = await failed;
    // eslint-disable-next-line no-control-regex -- asserts no control character reaches the message
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error.message).toContain('bad');
  });
});

describe('terminal: profile names and completion', () => {
  test('control characters in a profile name are refused', async () => {
    const run = await runCli(['status', '--profile', `evil${'\u001b'}[31m`], env);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('\u001b[31m');
    expect(run.stderr).toContain('control characters');
  });

  test('bash completion inserts a profile name such as $(...) quoted, so it is never run', () => {
    const name = '$(touch pwned)';
    mkdirSync(join(home, '.planet', name), { recursive: true });
    writeFileSync(join(home, '.planet', name, 'auth_client.json'), JSON.stringify({ client_type: 'oidc_client_credentials_secret', auth_server: server.issuer, client_id: 'x' }));
    const script = `source <(planet-auth completion bash); COMP_WORDS=(planet-auth status --profile '$'); COMP_CWORD=3; _planet_auth; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['-c', script], { cwd: home, env: { PATH: `${cliOnPath()}:${process.env['PATH'] ?? ''}`, HOME: home }, encoding: 'utf8' });
    expect(result.stdout.trim()).toBe(String.raw`\$\(touch\ pwned\)`);
    // What the shell would run with that word: the name, literally.
    const echoed = spawnSync('bash', ['-c', `printf '%s' ${result.stdout.trim()}`], { cwd: home, encoding: 'utf8' });
    expect(echoed.stdout).toBe(name);
    expect(existsSync(join(home, 'pwned'))).toBe(false);
  });
});

describe("terminal: an application's listener or logger that fails does not crash the process", () => {
  test('a rejecting async onTokens listener and a rejecting async logger are contained and reported', async () => {
    const program = `
      import { AuthCore } from ${JSON.stringify(join(import.meta.dirname, '../generated/dist/runtime/auth-core.js'))};
      import { SDK_SETTINGS } from ${JSON.stringify(join(import.meta.dirname, '../generated/dist/settings.js'))};
      const auth = new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: process.env.ID, clientSecret: process.env.SECRET, saveStateToStorage: false, logger: async () => { throw new Error('logger down'); } });
      auth.onTokens(async () => { throw new Error('listener down'); });
      await auth.getAccessToken();
      await new Promise((r) => setTimeout(r, 200));
      console.log('survived');
    `;
    // Run asynchronously: the embedded server lives in this process.
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
      env: { ...process.env, ...server.env(), HOME: home, ID: M2M_CLIENT_ID, SECRET: M2M_CLIENT_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const status = await new Promise<number | null>((r) => child.on('close', r));
    const result = { stdout, stderr, status };
    expect(result.stdout).toContain('survived');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('the logger given to the SDK failed');
  });
});

describe("configuration: the CLI keeps the SDK's diagnosis and hint", () => {
  test('a discovery 404 and refused client credentials are not "run the same command again"', async () => {
    const missing = await foreignServer(
      (m) => m,
      (_req, res) => (res.writeHead(404).end(), true),
    );
    try {
      const run = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'nowhere'], { ...env, PLANET_AUTH_ISSUER: missing.issuer, PL_AUTH_CLIENT_SECRET: M2M_CLIENT_SECRET });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('HTTP 404');
      expect(run.stderr).toMatch(/hint: check the issuer URL/);
    } finally {
      await missing.close();
    }
    const refused = await runCli(['login', 'service-account', '--client-id', M2M_CLIENT_ID, '--profile', 'wrong'], { ...env, PL_AUTH_CLIENT_SECRET: 'not-the-secret' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/hint: check the client ID and secret/);
    expect(refused.stderr).not.toMatch(/hint: run .* again/);
  }, 30_000);
});
