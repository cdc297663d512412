// The session runtime against the real embedded authorization server: every
// flow in every storage mode, request counts, files, errors.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { AccessDeniedError, Auth, DeviceCodeExpiredError, AbortedError, LoginTimeoutError, StateError, Session, TokenRequestError, type ObjectStorageProvider } from '../generated/src/index.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { M2M_BASIC_CLIENT_ID, M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { browserCommand } from './support/env.js';
import { expireTokenFile, expiredToken } from './support/scenarios.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const fixture = useEmbeddedServer({ BROWSER: browserCommand(), PLANET_TEST_BROWSER: 'scripted' });
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

/** Application storage kept in a Map, counting every call. */
class MapStorage implements ObjectStorageProvider {
  readonly objects = new Map<string, Record<string, unknown>>();
  calls = 0;
  async loadObj(key: string) {
    this.calls++;
    const v = this.objects.get(key);
    if (!v) throw new Error(`no object ${key}`);
    return structuredClone(v);
  }
  async saveObj(key: string, data: Record<string, unknown>) {
    this.calls++;
    this.objects.set(key, structuredClone(data));
  }
  async objExists(key: string) {
    this.calls++;
    return this.objects.has(key);
  }
  async mtime(key: string) {
    this.calls++;
    if (!this.objects.has(key)) throw new Error(`no object ${key}`);
    return Date.now() / 1000;
  }
  async objRename(src: string, dst: string) {
    this.calls++;
    const v = this.objects.get(src);
    if (!v) throw new Error(`no object ${src}`);
    this.objects.set(dst, v);
    this.objects.delete(src);
  }
  async deleteObj(key: string) {
    this.calls++;
    this.objects.delete(key);
  }
}

type Storage = 'memory' | 'disk' | 'provider';
type Flow = 'authcode' | 'device' | 'm2m';

function storageOptions(storage: Storage, provider: MapStorage) {
  if (storage === 'memory') return { saveStateToStorage: false };
  if (storage === 'provider') return { storageProvider: provider, profileName: 'app-profile' };
  return { profileName: 'disk-profile' };
}

function makeAuth(flow: Flow, storage: Storage, provider: MapStorage) {
  const common = storageOptions(storage, provider);
  if (flow === 'authcode') return Auth.fromOAuthUserAuthCode({ clientId: USER_CLIENT_ID, callbackUrl: 'http://127.0.0.1:0/callback', ...common });
  if (flow === 'device') return Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, ...common });
  return Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, ...common });
}

async function deviceLogin(auth: Auth): Promise<void> {
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

async function login(flow: Flow, auth: Auth): Promise<void> {
  if (flow === 'authcode') await auth.userLogin({ allowOpenBrowser: true });
  else if (flow === 'device') await deviceLogin(auth);
  else await auth.userLogin();
}

async function listSearches(auth: Auth): Promise<number> {
  const response = await new Session(auth).fetch('/data/v1/searches');
  expect(response.status).toBe(200);
  return ((await response.json()) as { searches: unknown[] }).searches.length;
}

function tokenPath(profile = 'disk-profile'): string {
  return join(home, '.planet', profile, 'token.json');
}

function expireStored(storage: Storage, provider: MapStorage): void {
  if (storage === 'disk') expireTokenFile(tokenPath());
  else {
    const key = '.planet/app-profile/token.json';
    provider.objects.set(key, expiredToken(provider.objects.get(key)!));
  }
}

const refreshGrant = (flow: Flow) => (flow === 'm2m' ? 'token:client_credentials' : 'token:refresh_token');

describe.each<[Flow, Storage]>([
  ['authcode', 'memory'],
  ['authcode', 'disk'],
  ['authcode', 'provider'],
  ['device', 'memory'],
  ['device', 'disk'],
  ['device', 'provider'],
  ['m2m', 'memory'],
  ['m2m', 'disk'],
  ['m2m', 'provider'],
])('%s flow, %s storage', (flow, storage) => {
  test('logs in, calls the API, refreshes, and a second Auth reuses the saved session', async () => {
    const provider = new MapStorage();
    const auth = makeAuth(flow, storage, provider);
    await login(flow, auth);
    expect(await listSearches(auth)).toBe(2);
    const first = await auth.getAccessToken();

    // Refresh: the API rejected the token, so the session gets a new one in one request.
    server.resetCounts();
    const second = await auth.tokenRejected(first);
    expect(second).not.toBe(first);
    expect(server.count(refreshGrant(flow))).toBe(1);
    expect(server.authServerRequests()).toBe(1);
    expect(await listSearches(auth)).toBe(2);

    if (storage === 'memory') {
      expect(readdirSync(home)).toEqual([]);
      return;
    }
    if (storage === 'provider') expect(existsSync(join(home, '.planet'))).toBe(false);

    // Warm start: a new Auth over the same storage makes no request before its API call.
    server.resetCounts();
    const again = makeAuth(flow, storage, provider);
    expect(await again.isInitialized()).toBe(true);
    expect(await listSearches(again)).toBe(2);
    expect(server.authServerRequests()).toBe(0);

    // Expired access token: exactly one request (no discovery: metadata is kept with the profile).
    expireStored(storage, provider);
    server.resetCounts();
    const third = makeAuth(flow, storage, provider);
    expect(await listSearches(third)).toBe(2);
    expect(server.count(refreshGrant(flow))).toBe(1);
    expect(server.authServerRequests()).toBe(1);
  });
});

test('1,000 concurrent session.fetch calls on an expired token make one token request', async () => {
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'busy' });
  await deviceLogin(auth);
  expireTokenFile(tokenPath('busy'));
  const fresh = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'busy' });
  const session = new Session(fresh);
  server.resetCounts();
  const responses = await Promise.all(Array.from({ length: 1000 }, () => session.fetch('/data/v1/searches')));
  expect(responses.every((r) => r.status === 200)).toBe(true);
  expect(server.count('token:refresh_token')).toBe(1);
  expect(server.authServerRequests()).toBe(1);
}, 60_000);

test('the rotated refresh token is saved, and the spent one is never sent again', async () => {
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'rotate' });
  await deviceLogin(auth);
  const before = JSON.parse(readFileSync(tokenPath('rotate'), 'utf8')) as Record<string, string>;
  await auth.refresh();
  const after = JSON.parse(readFileSync(tokenPath('rotate'), 'utf8')) as Record<string, string>;
  expect(after['refresh_token']).not.toBe(before['refresh_token']);
  // Further refreshes keep working: the grant was not revoked by reuse.
  await auth.refresh();
  await auth.refresh();
  expect(await listSearches(auth)).toBe(2);
  expect(server.count('token:refresh_token')).toBe(3);
});

test('files are 0600 in 0700 folders, written in the CLI format', async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'Perms' });
  await auth.ensureInitialized();
  const folder = join(home, '.planet', 'perms');
  expect(statSync(folder).mode & 0o777).toBe(0o700);
  expect(statSync(join(home, '.planet')).mode & 0o777).toBe(0o700);
  for (const name of readdirSync(folder)) {
    if (name === 'session.lock') continue;
    expect(statSync(join(folder, name)).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(folder, name), 'utf8');
    const data = JSON.parse(text) as Record<string, unknown>;
    expect(text).toBe(JSON.stringify(Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1))), null, 2) + '\n');
  }
  const token = JSON.parse(readFileSync(join(folder, 'token.json'), 'utf8')) as Record<string, unknown>;
  expect(Object.keys(token)).toEqual(['_exp', '_iat', 'access_token', 'expires_in', 'scope', 'token_type']);
  const client = JSON.parse(readFileSync(join(folder, 'auth_client.json'), 'utf8')) as Record<string, unknown>;
  expect(client).toEqual({ audiences: [server.audience], auth_server: server.issuer, client_id: M2M_CLIENT_ID, client_secret: M2M_CLIENT_SECRET, client_type: 'oidc_client_credentials_secret', scopes: ['planet'] });
});

test('a profile written by hand in the Python CLI format is read, refreshed and used', async () => {
  // Real tokens from a login kept in memory, then saved by hand the way the Python CLI saves them.
  const source = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
  await deviceLogin(source);
  const captured = new MapStorage();
  const copy = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, storageProvider: captured, profileName: 'x' });
  await deviceLogin(copy);
  const tokens = captured.objects.get('.planet/x/token.json')!;
  const folder = join(home, '.planet', 'py-user');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'auth_client.json'),
    JSON.stringify({ audiences: [server.audience], auth_server: server.issuer, client_id: USER_CLIENT_ID, client_type: 'oidc_device_code', scopes: ['planet', 'offline_access'] }, null, 2),
  );
  const { access_token, refresh_token, expires_in, scope, token_type, _iat, _exp } = tokens;
  writeFileSync(join(folder, 'token.json'), JSON.stringify({ _exp, _iat, access_token, expires_in, refresh_token, scope, token_type }, null, 2));

  server.resetCounts();
  const auth = Auth.fromProfile('PY-USER');
  expect(await auth.isInitialized()).toBe(true);
  expect(await listSearches(auth)).toBe(2);
  expect(server.authServerRequests()).toBe(0);

  // Expired: no metadata was saved by the Python CLI, so one discovery and one refresh.
  expireTokenFile(join(folder, 'token.json'));
  server.resetCounts();
  expect(await listSearches(Auth.fromProfile('py-user'))).toBe(2);
  expect(server.count('token:refresh_token')).toBe(1);
  expect(server.count('discovery')).toBe(1);
});

test('logout revokes the refresh token and forgets the session, keeping the client config', async () => {
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'leaving' });
  await deviceLogin(auth);
  const { refresh_token } = JSON.parse(readFileSync(tokenPath('leaving'), 'utf8')) as { refresh_token: string };
  await auth.logout();
  expect(server.count('revocation')).toBe(1);
  expect(existsSync(tokenPath('leaving'))).toBe(false);
  expect(existsSync(join(home, '.planet', 'leaving', 'auth_client.json'))).toBe(true);
  expect(await auth.isInitialized()).toBe(false);
  const response = await fetch(`${server.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id: USER_CLIENT_ID }),
  });
  expect(response.status).toBe(400);
  expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
});

test('a corrupt token file is an error naming it, and it is left untouched', async () => {
  const folder = join(home, '.planet', 'broken');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'token.json'), '{"access_token": "abc", ');
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'broken' });
  const error = await auth.getAccessToken().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StateError);
  expect((error as StateError).code).toBe('ERR_STATE_CORRUPT');
  expect((error as Error).message).toContain(join(folder, 'token.json'));
  expect(readFileSync(join(folder, 'token.json'), 'utf8')).toBe('{"access_token": "abc", ');
  expect(server.authServerRequests()).toBe(0);
});

test('secrets and tokens stay out of util.inspect and JSON', async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
  const token = await auth.getAccessToken();
  for (const text of [inspect(auth, { depth: 10, showHidden: true }), JSON.stringify(auth), inspect(new Session(auth))]) {
    expect(text).not.toContain(M2M_CLIENT_SECRET);
    expect(text).not.toContain(token);
  }
});

test('client_secret_basic service accounts log in with HTTP Basic', async () => {
  const settings = {
    ...SDK_SETTINGS,
    flows: [
      ...SDK_SETTINGS.flows,
      { id: 'basic', factory: 'fromBasic', grant: 'client_credentials' as const, clientType: 'basic', tokenEndpointAuthMethod: 'client_secret_basic' as const, options: SDK_SETTINGS.flows[2]!.options },
    ],
  };
  const auth = new AuthCore(settings, 'basic', { clientId: M2M_BASIC_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
  expect(await listSearches(auth)).toBe(2);
  expect(server.count('token:client_credentials')).toBe(1);
});

describe('device flow polling', () => {
  test('slow_down adds 5 s to the interval, then the login completes', async () => {
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    const info = await auth.deviceUserLoginInitiate();
    server.injectDevicePollErrors(['slow_down']);
    const started = Date.now();
    const done = auth.deviceUserLoginComplete(info);
    await scriptedUserLogin(info.verificationUriComplete!);
    await done;
    // The first poll gets slow_down; the next waits the announced interval + 5 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
  }, 30_000);

  test('expired_token and access_denied become typed errors', async () => {
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    server.injectDevicePollErrors(['expired_token']);
    await expect(auth.deviceUserLoginComplete(await auth.deviceUserLoginInitiate())).rejects.toBeInstanceOf(DeviceCodeExpiredError);
    server.injectDevicePollErrors(['access_denied']);
    await expect(auth.deviceUserLoginComplete(await auth.deviceUserLoginInitiate())).rejects.toBeInstanceOf(AccessDeniedError);
  });

  test('an AbortSignal stops the polling', async () => {
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    const info = await auth.deviceUserLoginInitiate();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(auth.deviceUserLoginComplete(info, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('authorization code flow', () => {
  test('a refusal at the consent page is an AccessDeniedError', async () => {
    process.env['PLANET_TEST_BROWSER'] = 'deny';
    try {
      const auth = Auth.fromOAuthUserAuthCode({ clientId: USER_CLIENT_ID, callbackUrl: 'http://127.0.0.1:0/callback', saveStateToStorage: false });
      await expect(auth.userLogin({ allowOpenBrowser: true })).rejects.toBeInstanceOf(AccessDeniedError);
      expect(server.count('token:authorization_code')).toBe(0);
    } finally {
      process.env['PLANET_TEST_BROWSER'] = 'scripted';
    }
  });

  test('no callback within the timeout is a LoginTimeoutError', async () => {
    const auth = Auth.fromOAuthUserAuthCode({ clientId: USER_CLIENT_ID, callbackUrl: 'http://127.0.0.1:0/callback', saveStateToStorage: false });
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on process.stderr below
    const write = process.stderr.write;
    process.stderr.write = () => true;
    try {
      await expect(auth.userLogin({ allowOpenBrowser: false, timeoutMs: 300 })).rejects.toBeInstanceOf(LoginTimeoutError);
    } finally {
      process.stderr.write = write;
    }
  });
});

test('files readable by others are tightened to 0600 on read', async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'loose' });
  await auth.ensureInitialized();
  chmodSync(tokenPath('loose'), 0o644);
  await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'loose' }).getAccessToken();
  expect(statSync(tokenPath('loose')).mode & 0o777).toBe(0o600);
});

describe('a busy token endpoint', () => {
  test('503 and 429 with Retry-After are retried, then the login succeeds', async () => {
    server.injectTokenFaults([
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '0' } },
    ]);
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
    expect(await listSearches(auth)).toBe(2);
    expect(server.count('token:fault')).toBe(2);
    expect(server.count('token:client_credentials')).toBe(1);
  });

  test('retries are bounded: a server that stays busy gives a typed error and the saved session is kept', async () => {
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'busy-server' });
    await auth.ensureInitialized();
    const saved = readFileSync(tokenPath('busy-server'), 'utf8');
    server.injectTokenFaults(Array.from({ length: 4 }, () => ({ status: 503, headers: { 'retry-after': '0' } })));
    server.resetCounts();
    const error = await auth.tokenRejected(await auth.getAccessToken()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as TokenRequestError).status).toBe(503);
    expect(server.count('token:fault')).toBe(4);
    expect(readFileSync(tokenPath('busy-server'), 'utf8')).toBe(saved);
  });
});

test('the bearer token goes only to the API origin', async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
  const session = new Session(auth);
  // The issuer is another origin: the request goes out without the token.
  const response = await session.fetch(`${server.issuer}/.well-known/openid-configuration`);
  expect(response.status).toBe(200);
  expect(server.count('token:client_credentials')).toBe(0);
  expect((await session.fetch('/data/v1/searches')).status).toBe(200);
  expect(server.count('token:client_credentials')).toBe(1);
});
