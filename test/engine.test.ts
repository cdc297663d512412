// The session engine under stress from outside: storage that fails, clocks
// that disagree, servers that hang, lie or shout, APIs that reject every
// token, and the configuration an application passes in code.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { AbortedError, Auth, ConfigError, NetworkError, Session, StateError, TokenRequestError } from '../generated/src/index.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import type { LogRecord } from '../generated/src/runtime/hooks.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, issuedSecrets, startAuthServer, type RunningServer } from './server/auth-server.js';
import { expiredToken } from './support/scenarios.js';
import { FlakyStorage, clockSkewRuns, runNode, writeFailureRounds } from './support/engine-scenarios.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

const TOKEN_KEY = (profile: string) => `.planet/${profile}/token.json`;

async function deviceLogin(auth: Auth): Promise<void> {
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number; oauthError?: string; hint?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );
}

/** A server on 127.0.0.1 answering every request with `handler`'s status and body. */
async function tinyServer(handler: (url: string) => { status: number; body?: string; headers?: Record<string, string> }): Promise<{ url: string; server: Server; hits: () => number }> {
  let hits = 0;
  const http = createServer((req, res) => {
    hits++;
    const { status, body, headers } = handler(req.url ?? '/');
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body ?? '{}');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, server: http, hits: () => hits };
}

describe('new tokens are never dropped', () => {
  test('a write that fails after a refresh keeps the new tokens in memory, says so with ERR_STORAGE, and saves them on the next call', async () => {
    const storage = new FlakyStorage();
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, storageProvider: storage, profileName: 'flaky' });
    await deviceLogin(auth);
    const first = storage.objects.get(TOKEN_KEY('flaky'))!;
    storage.objects.set(TOKEN_KEY('flaky'), expiredToken(first));
    const later = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, storageProvider: storage, profileName: 'flaky' });
    server.resetCounts();
    storage.passWrites = 1;
    storage.failWrites = 1;
    const error = await rejection(later.getAccessToken());
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toMatch(/kept in memory/);
    expect(server.count('token:refresh_token')).toBe(1);
    // The spent refresh token is still what storage holds; the new one lives in memory only.
    expect(storage.objects.get(TOKEN_KEY('flaky'))!['refresh_token']).toBe(first['refresh_token']);
    await new Promise((r) => setTimeout(r, 1100));
    const token = await later.getAccessToken();
    expect(server.count('token:refresh_token')).toBe(1);
    expect(storage.objects.get(TOKEN_KEY('flaky'))!['access_token']).toBe(token);
    expect(storage.objects.get(TOKEN_KEY('flaky'))!['refresh_token']).not.toBe(first['refresh_token']);
    // The grant was not revoked: the saved refresh token still works.
    await later.refresh();
    expect(server.count('token:refresh_token')).toBe(2);
  });

  test('three rounds of failed writes right after refreshes lose no session', async () => {
    expect(await writeFailureRounds(server, USER_CLIENT_ID, 3)).toEqual({ rounds: 3, storageErrors: 3, refreshes: 4, lostSessions: 0 });
  });

  test('errors of application storage are typed', async () => {
    const storage = new FlakyStorage();
    storage.failReads = true;
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, storageProvider: storage, profileName: 'offline' });
    const error = await rejection(auth.getAccessToken());
    expect(error).toBeInstanceOf(StateError);
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).toContain('storage offline');
  });
});

describe('refresh timing does not depend on this machine agreeing with the server clock', () => {
  test.each([3000, -3000])('clock shifted %i s: no extra refresh in one process or the next', async (shift) => {
    expect(await clockSkewRuns(server, shift, 2)).toEqual({ shiftSeconds: shift, runs: 2, failedRuns: 0, tokenRequests: 1 });
  });
});

describe('a slow or dead server never delays callers while the token is valid', () => {
  test('in the early-refresh window the current token is handed out at once and refreshed in the background', async () => {
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'early', requestTimeoutSeconds: 2 });
    const token = await auth.getAccessToken();
    const path = join(home, '.planet/early/token.json');
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
    const now = Math.floor(Date.now() / 1000);
    // Four fifths of its life gone: due for refresh, still valid for a while.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, JSON.stringify({ ...saved, _iat: now - 800, _exp: now + 200 }), { mode: 0o600 });
    const later = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'early', requestTimeoutSeconds: 2 });
    server.resetCounts();
    server.injectTokenFaults([{ status: 0, hang: true }]);
    expect(await later.getAccessToken()).toBe(token);
    expect(await later.getAccessToken()).toBe(token);
    // One background attempt reached the (hanging) server; no caller waited for it.
    while (server.count('token:fault') === 0) await new Promise((r) => setTimeout(r, 20));
    expect(await later.getAccessToken()).toBe(token);
    expect(server.count('token:fault')).toBe(1);
  });
});

describe('tokens with no stated lifetime and APIs that reject tokens', () => {
  test('an opaque token without expires_in is used until the API rejects it; then one refresh', async () => {
    server.injectTokenFaults([{ status: 200, body: JSON.stringify({ access_token: 'opaque-token-without-lifetime', token_type: 'Bearer' }) }]);
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
    for (let i = 0; i < 5; i++) expect(await auth.getAccessToken()).toBe('opaque-token-without-lifetime');
    expect(server.count('token:fault')).toBe(1);
    const response = await new Session(auth).fetch('/data/v1/searches');
    expect(response.status).toBe(200);
    expect(server.count('token:client_credentials')).toBe(1);
  });

  test('an API that rejects every token gets one refresh per rejected token, and the second 401 goes back to the caller', async () => {
    const api = await tinyServer(() => ({ status: 401, body: '{"error":"invalid_token"}' }));
    try {
      const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, apiBaseUrl: api.url });
      const session = new Session(auth);
      expect((await session.fetch('/x')).status).toBe(401);
      expect((await session.fetch('/x')).status).toBe(401);
      expect((await session.fetch('/x')).status).toBe(401);
      expect(server.count('token:client_credentials')).toBe(2);
      expect(api.hits()).toBe(4);
    } finally {
      api.server.close();
    }
  });
});

describe('bounds on what the SDK reads', () => {
  test('a 50 MB token response is refused before anything is stored', async () => {
    const huge = JSON.stringify({ access_token: 'x'.repeat(50 * 1024 * 1024), token_type: 'Bearer', expires_in: 3600 });
    server.injectTokenFaults([{ status: 200, body: huge }]);
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'huge' });
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe('ERR_SERVER');
    expect(error.message).toMatch(/bytes/);
    expect(existsSync(join(home, '.planet/huge/token.json'))).toBe(false);
  });

  test('20,000 levels of nesting are refused without overflowing the stack', async () => {
    const deep = `{"access_token":"a","token_type":"Bearer","expires_in":3600,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    server.injectTokenFaults([{ status: 200, body: deep }]);
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'deep' });
    const error = await rejection(auth.getAccessToken());
    expect(error.code).toBe('ERR_SERVER');
    expect(error.message).toMatch(/nests JSON/);
    expect(existsSync(join(home, '.planet/deep/token.json'))).toBe(false);
  });
});

describe('errors say what happened and what to do', () => {
  const m2m = (extra: Record<string, unknown> = {}) => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, ...extra });

  test('a wrong secret at a client_secret_basic server (401 with a Basic challenge)', async () => {
    server.injectTokenFaults([{ status: 401, headers: { 'www-authenticate': 'Basic realm="token", error="invalid_client", error_description="client authentication failed"' }, body: '{"error":"invalid_client"}' }]);
    const error = await rejection(m2m().getAccessToken());
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.code).toBe('ERR_TOKEN_REQUEST');
    expect(error.status).toBe(401);
    expect(error.oauthError).toBe('invalid_client');
    expect(error.message).toMatch(/refused the client's credentials/);
    expect(error.hint).toMatch(/client ID and secret/);
  });

  test('a discovery 404 says to check the issuer URL', async () => {
    const error = await rejection(m2m({ issuer: `${server.apiBaseUrl}/no-issuer-here` }).getAccessToken());
    expect(error.code).toBe('ERR_TOKEN_REQUEST');
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/HTTP 404.*check the issuer URL/);
  });

  test('a 503 asking to come back in two minutes is reported at once, not as a timeout', async () => {
    server.injectTokenFaults([{ status: 503, headers: { 'retry-after': '120' } }]);
    const error = await rejection(m2m().getAccessToken());
    expect(error.code).toBe('ERR_SERVER');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/try again in 120 s/);
    expect(server.count('token:fault')).toBe(1);
  });

  test('escape sequences in error_description never reach the terminal, and an uncaught error prints in a few lines', async () => {
    server.injectTokenFaults([{ status: 400, body: JSON.stringify({ error: 'invalid_scope', error_description: '\u001b[2J\u001b[31mred\u0007 alert\r\nforged line' }) }]);
    const error = await rejection(m2m().getAccessToken());
    expect(error.message).toContain('invalid_scope');
    // eslint-disable-next-line no-control-regex -- asserts no control character reaches the message
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(inspect(error).split('\n').length).toBeLessThanOrEqual(5);
  });
});

describe('logout', () => {
  test('with the server unreachable the session is kept, unless forgetLocally says otherwise', async () => {
    const other = await startAuthServer();
    try {
      const options = { clientId: USER_CLIENT_ID, profileName: 'away', issuer: other.issuer, apiBaseUrl: other.apiBaseUrl, audience: other.audience };
      const auth = Auth.fromOAuthUserDeviceCode(options);
      await deviceLogin(auth);
      const path = join(home, '.planet/away/token.json');
      const saved = readFileSync(path, 'utf8');
      await other.close();
      const error = await rejection(Auth.fromOAuthUserDeviceCode(options).logout());
      expect(error).toBeInstanceOf(NetworkError);
      expect(error.message).toMatch(/was kept/);
      expect(error.message).toMatch(/forgetLocally/);
      expect(readFileSync(path, 'utf8')).toBe(saved);
      const result = await Auth.fromOAuthUserDeviceCode(options).logout({ forgetLocally: true });
      expect(result.revoked).toBe(false);
      expect(result.forgotten).toBe(true);
      expect(result.warning).toMatch(/stays valid at the server/);
      expect(existsSync(path)).toBe(false);
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});

describe('the bearer token goes only over https or to this machine', () => {
  test('plain http to another host is refused unless allowed explicitly', () => {
    const options = { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, apiBaseUrl: 'http://api.example.com' };
    expect(() => new Session(Auth.fromOAuthM2M(options))).toThrow(ConfigError);
    expect(() => new Session(Auth.fromOAuthM2M({ ...options, allowInsecureHttp: true }))).not.toThrow();
    expect(() => new Session(Auth.fromOAuthM2M({ ...options, apiBaseUrl: 'https://api.example.com' }))).not.toThrow();
  });
});

describe('configuration in code', () => {
  test('issuer, apiBaseUrl and audience passed in code win over the environment', async () => {
    const saved = { ...process.env };
    process.env['PLANET_AUTH_ISSUER'] = 'https://issuer.invalid/';
    process.env['PLANET_API_URL'] = 'https://api.invalid';
    try {
      const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, issuer: server.issuer, apiBaseUrl: server.apiBaseUrl, audience: server.audience });
      expect((await new Session(auth).fetch('/data/v1/searches')).status).toBe(200);
    } finally {
      process.env['PLANET_AUTH_ISSUER'] = saved['PLANET_AUTH_ISSUER'];
      process.env['PLANET_API_URL'] = saved['PLANET_API_URL'];
    }
  });

  test('two servers in one process, each with its own session', async () => {
    const second = await startAuthServer();
    try {
      const a = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'one', issuer: server.issuer, apiBaseUrl: server.apiBaseUrl, audience: server.audience });
      const b = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'two', issuer: second.issuer, apiBaseUrl: second.apiBaseUrl, audience: second.audience });
      expect((await new Session(a).fetch('/data/v1/searches')).status).toBe(200);
      expect((await new Session(b).fetch('/data/v1/searches')).status).toBe(200);
      expect(server.count('token:client_credentials')).toBe(1);
      expect(second.count('token:client_credentials')).toBe(1);
      // Each server's token works only at its own API.
      const crossed = await fetch(`${second.apiBaseUrl}/data/v1/searches`, { headers: await a.getRequestHeaders() });
      expect(crossed.status).toBe(401);
    } finally {
      await second.close();
    }
  });

  test('a custom fetch carries every request; a signal stops the wait; onTokens never carries the refresh token unless asked', async () => {
    const seen: string[] = [];
    const counting = (input: string | URL | Request, init?: RequestInit) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    };
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false, fetch: counting });
    const events: Record<string, unknown>[] = [];
    const withRefresh: Record<string, unknown>[] = [];
    auth.onTokens((e) => events.push({ ...e }));
    const stop = auth.onTokens((e) => withRefresh.push({ ...e }), { includeRefreshToken: true });
    await deviceLogin(auth);
    expect(seen.some((p) => p.includes('.well-known'))).toBe(true);
    expect(seen.some((p) => p.includes('device'))).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]!['reason']).toBe('login');
    expect(events[0]!['accessToken']).toBe(await auth.getAccessToken());
    expect(events[0]!['refreshToken']).toBeUndefined();
    expect(typeof withRefresh[0]!['refreshToken']).toBe('string');
    const apiCalls = seen.length;
    expect((await new Session(auth).fetch('/data/v1/searches')).status).toBe(200);
    expect(seen.length).toBe(apiCalls + 1);
    stop();
    await auth.refresh();
    expect(events).toHaveLength(2);
    expect(withRefresh).toHaveLength(1);
    expect(await auth.getRequestHeaders()).toEqual({ authorization: `Bearer ${await auth.getAccessToken()}` });

    // A hanging token endpoint: the caller's signal ends its wait.
    const expired = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, requestTimeoutSeconds: 3 });
    server.injectTokenFaults([{ status: 0, hang: true }]);
    const controller = new AbortController();
    const waiting = expired.getAccessToken({ signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await rejection(waiting)).toBeInstanceOf(AbortedError);
  });

  test('the logger sees every protocol step and never a secret or token', async () => {
    const records: LogRecord[] = [];
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'logged', logger: (r) => records.push(r) });
    await auth.getAccessToken();
    await auth.refresh();
    await auth.logout();
    const text = JSON.stringify(records);
    expect(records.map((r) => r.message)).toEqual(expect.arrayContaining(['discovery', 'client credentials login', 'request to the authorization server', 'logged in']));
    const { tokens, clientSecret } = issuedSecrets();
    expect(text).not.toContain(clientSecret);
    for (const token of tokens) expect(text).not.toContain(token);
  });

  test('the debug environment variable logs to stderr, redacted', async () => {
    const script = `
      import { Auth } from ${JSON.stringify(resolve(import.meta.dirname, '../generated/dist/index.js'))};
      const auth = Auth.fromOAuthM2M({ clientId: ${JSON.stringify(M2M_CLIENT_ID)}, clientSecret: ${JSON.stringify(M2M_CLIENT_SECRET)}, saveStateToStorage: false });
      console.log(await auth.getAccessToken());`;
    const run = await runNode(['--input-type=module', '-e', script], { ...process.env, HOME: home, PLANET_AUTH_DEBUG: '1' });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/\[planet-auth\] debug: client credentials login/);
    expect(run.stderr).not.toContain(M2M_CLIENT_SECRET);
    expect(run.stderr).not.toContain(run.stdout.trim());
  });
});

describe('spec option fields take effect at run time', () => {
  const withOptions = (flowId: string, patch: (o: { name: string; required: boolean; secret: boolean; default?: unknown }) => object) => ({
    ...SDK_SETTINGS,
    flows: SDK_SETTINGS.flows.map((f) => (f.id === flowId ? { ...f, options: f.options.map((o) => ({ ...o, ...patch(o) })) } : f)),
  });

  test('a default of saveStateToStorage false keeps the session in memory', async () => {
    const settings = withOptions('oauth_m2m', (o) => (o.name === 'saveStateToStorage' ? { default: false } : {}));
    const auth = new AuthCore(settings, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET });
    await auth.getAccessToken();
    expect(existsSync(join(home, '.planet'))).toBe(false);
  });

  test('required is enforced at run time, and a secret option never shows', () => {
    const settings = withOptions('oauth_m2m', (o) => (o.name === 'profileName' ? { required: true } : {}));
    expect(() => new AuthCore(settings as typeof SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET })).toThrow(/profileName is required/);
    const auth = new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET });
    expect(inspect(auth)).not.toContain(M2M_CLIENT_SECRET);
    expect(JSON.stringify(auth)).not.toContain(M2M_CLIENT_SECRET);
    expect(() => new AuthCore(SDK_SETTINGS, 'oauth_m2m', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: 'no' as unknown as boolean })).toThrow(/must be a boolean/);
  });
});
