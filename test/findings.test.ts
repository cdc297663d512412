// Findings about the session engine, reproduced end to end against real
// servers on 127.0.0.1 (the simulator in test/sim covers the interleavings).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Auth, Session } from '../generated/src/index.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { FlakyStorage } from './support/engine-scenarios.js';
import { expiredToken } from './support/scenarios.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

async function deviceLogin(auth: Auth): Promise<void> {
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

/**
 * An authorization server issuing opaque access tokens without `expires_in`
 * (legal: RFC 6749 only recommends it), and an API on the same port that
 * accepts each token for `uses` calls, then answers 401 as for an expired one.
 */
async function opaqueServer(uses: number): Promise<{ url: string; http: Server; tokenRequests: () => number }> {
  let issued = 0;
  const left = new Map<string, number>();
  const http = createServer((req, res) => {
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') return json(200, { issuer: url, token_endpoint: `${url}/token`, response_types_supported: ['code'] });
    if (req.url === '/token') {
      req.resume();
      const token = `opaque-${++issued}-${Math.random().toString(36).slice(2)}`;
      left.set(token, uses);
      return json(200, { access_token: token, token_type: 'Bearer' });
    }
    const bearer = (req.headers['authorization'] ?? '').replace(/^Bearer /, '');
    const remaining = left.get(bearer) ?? 0;
    if (remaining <= 0) return json(401, { error: 'invalid_token' });
    left.set(bearer, remaining - 1);
    return json(200, { ok: true });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { url, http, tokenRequests: () => issued };
}

test('opaque tokens without expires_in: the second expiry heals like the first (no 401 for good)', async () => {
  const opaque = await opaqueServer(3);
  try {
    const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, issuer: opaque.url, apiBaseUrl: opaque.url, saveStateToStorage: false });
    const session = new Session(auth);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await session.fetch('/items')).status);
    expect(statuses).toEqual(Array(12).fill(200));
    // One login, then one request per expiry (after every third call).
    expect(opaque.tokenRequests()).toBe(4);
  } finally {
    opaque.http.close();
  }
});

test("a token's lifetime counts from when its request was sent, not from when the slow answer arrived", async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'slow' });
  const hold = server.holdTokenRequests(1);
  const sentBefore = Math.floor(Date.now() / 1000);
  const token = auth.getAccessToken();
  await hold.arrived;
  // Answer well over a second later: the saved _iat must still be the sending time.
  await new Promise((r) => setTimeout(r, 1_500));
  hold.release();
  await token;
  const saved = JSON.parse(readFileSync(join(home, '.planet/slow/token.json'), 'utf8')) as { _iat: number; _exp: number; expires_in: number };
  expect(saved._iat).toBeLessThanOrEqual(sentBefore);
  expect(saved._exp - saved._iat).toBe(saved.expires_in);
});

test('a session the server ended costs one request, then fails fast until newer tokens appear in storage', async () => {
  const first = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'ended' });
  await deviceLogin(first);
  const path = join(home, '.planet/ended/token.json');
  const good = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, JSON.stringify(expiredToken({ ...good, refresh_token: 'revoked-at-the-server' })), { mode: 0o600 });
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'ended' });
  server.resetCounts();
  for (let i = 0; i < 20; i++) await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'ERR_NOT_LOGGED_IN' });
  expect(server.count('token:refresh_token')).toBe(1);
  // Another process logged in meanwhile: its tokens are taken up at once.
  writeFileSync(path, JSON.stringify(good), { mode: 0o600 });
  await expect(auth.getAccessToken()).resolves.toBe(good['access_token']);
});

test('storage that refuses writes: the refresh token is not spent, so the next process still has the session', async () => {
  const storage = new FlakyStorage();
  const make = () => Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, storageProvider: storage, profileName: 'readonly' });
  await deviceLogin(make());
  const key = '.planet/readonly/token.json';
  storage.objects.set(key, expiredToken(storage.objects.get(key)!));
  server.resetCounts();
  storage.failWrites = 1_000;
  await expect(make().getAccessToken()).rejects.toMatchObject({ code: 'ERR_STORAGE' });
  // The next process, with storage writable again, refreshes with the saved refresh token: the server sees no reuse.
  storage.failWrites = 0;
  await expect(make().getAccessToken()).resolves.toEqual(expect.any(String));
  expect(server.tokenErrors()).toBe(0);
  await expect(make().refresh()).resolves.toBeUndefined();
  expect(server.tokenErrors()).toBe(0);
});

test('a process paused longer than its request deadline does not time out on the answer waiting for it', async () => {
  const auth = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false, requestTimeoutSeconds: 2 });
  const hold = server.holdTokenRequests(1);
  const token = auth.getAccessToken();
  await hold.arrived;
  // The whole process stops for 3 s (no timer runs, as under SIGSTOP), and the answer is on its way when it goes on.
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    // paused
  }
  hold.release();
  await expect(token).resolves.toEqual(expect.any(String));
  expect(server.count('token:client_credentials')).toBe(1);
});
