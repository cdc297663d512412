// DPoP sessions (RFC 9449) against the real embedded oidc-provider, whose
// token endpoint asks every proof for its nonce, and the demo API, which
// checks every proof and asks for its own nonce: login, refresh and API calls
// in memory, on disk (a second process goes on with the same key), in the OS
// keychain and in Redis; each nonce answered with exactly one retry; a token
// without its key is refused; a bearer answer to a refresh is refused but its
// rotated refresh token is kept; the key never shows.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { createClient } from 'redis';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { Auth, ConfigError, LoginRequiredError, Session, StateError, TokenRequestError, type FetchFunction, type LogRecord } from '../generated/src/index.js';
import { AuthCore } from '../generated/src/runtime/auth-core.js';
import { DpopKey } from '../generated/src/runtime/token-binding/dpop.js';
import { SDK_SETTINGS } from '../generated/src/settings.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { runCli } from './support/cli.js';
import { keychainForTests, startKeychain, type RunningKeychain } from './support/keychain.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

const WORKER = resolve(import.meta.dirname, 'support/workers/dpop-session.mjs');

async function deviceLogin(auth: Auth): Promise<void> {
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

async function searches(auth: Auth): Promise<number> {
  const response = await new Session(auth).fetch('/data/v1/searches');
  expect(response.status).toBe(200);
  return ((await response.json()) as { searches: unknown[] }).searches.length;
}

/** Runs the worker on `profile` in another process, with `env` on top of the test's. */
function otherProcess(profile: string, env: Record<string, string> = {}): Promise<{ before?: number; after?: number; keys?: string[]; error?: string; message?: string }> {
  const child = spawn(process.execPath, [WORKER, profile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((done) => child.on('close', () => done(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Awaited<ReturnType<typeof otherProcess>>)));
}

/** The key's thumbprint as the worker prints it: sha256 of the public JWK in the proof header. */
async function proofKeys(auth: Auth): Promise<string> {
  const headers = await auth.getRequestHeaders('GET', `${server.apiBaseUrl}/data/v1/searches`);
  const header = JSON.parse(Buffer.from(headers['dpop']!.split('.')[0]!, 'base64url').toString('utf8')) as { jwk: unknown };
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(JSON.stringify(header.jwk)).digest('hex');
}

/**
 * A `fetch` option that, while `drop` is set, takes the DPoP proof off
 * refresh requests (as a proxy that drops the header would), and notes the
 * unbound access tokens the server answers them with.
 */
function refreshProofDropper(): { drop: boolean; readonly unbound: string[]; readonly fetch: FetchFunction } {
  const state = {
    drop: false,
    unbound: [] as string[],
    fetch: (async (input, init) => {
      const refresh = init?.body instanceof URLSearchParams && init.body.get('grant_type') === 'refresh_token';
      if (!state.drop || !refresh) return fetch(input, init);
      const headers = new Headers(init.headers);
      headers.delete('dpop');
      const response = await fetch(input, { ...init, headers });
      const body = (await response.clone().json()) as { access_token?: string; token_type?: string };
      if (body.token_type === 'Bearer' && body.access_token !== undefined) state.unbound.push(body.access_token);
      return response;
    }) as FetchFunction,
  };
  return state;
}

function privatePart(saved: string): string {
  return (JSON.parse(saved) as { d: string }).d;
}

describe('a DPoP session in memory', () => {
  test('logs in, calls the API and refreshes with proofs; each nonce costs exactly one retry', async () => {
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    await deviceLogin(auth);
    // The token endpoint asked the first proof for its nonce once; the poll that got the tokens carried it.
    expect(server.count('token:use_dpop_nonce')).toBe(1);

    server.resetCounts();
    expect(await searches(auth)).toBe(2);
    // The API asked for its own nonce once, and the same request came again with it.
    expect(server.counts()).toMatchObject({ api: 2, 'api:use_dpop_nonce': 1, 'api:dpop': 1, 'api:ok': 1 });
    server.resetCounts();
    expect(await searches(auth)).toBe(2);
    expect(server.count('api')).toBe(1);

    // A refresh proves the same key; openid-client's handle already holds the token endpoint's nonce.
    const key = await proofKeys(auth);
    const first = await auth.getAccessToken();
    server.resetCounts();
    await auth.refresh();
    expect(server.count('token:refresh_token')).toBe(1);
    expect(server.count('token:use_dpop_nonce')).toBe(0);
    expect(await auth.getAccessToken()).not.toBe(first);
    expect(await proofKeys(auth)).toBe(key);

    // A new nonce at the API: one more retry, then 200.
    server.rotateApiDpopNonce();
    server.resetCounts();
    expect(await searches(auth)).toBe(2);
    expect(server.counts()).toMatchObject({ api: 2, 'api:use_dpop_nonce': 1, 'api:ok': 1 });
  });

  test('getRequestHeaders(method, url) gives both headers; without them a DPoP session says what to pass', async () => {
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    await deviceLogin(auth);
    const url = `${server.apiBaseUrl}/data/v1/searches`;
    const headers = await auth.getRequestHeaders('GET', url);
    expect(Object.keys(headers).sort()).toEqual(['authorization', 'dpop']);
    expect(headers['authorization']).toBe(`DPoP ${await auth.getAccessToken()}`);
    const [header, payload] = headers['dpop']!.split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(Object.keys(header!['jwk'] as object).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(payload).toMatchObject({ htm: 'GET', htu: url });
    expect(Object.keys(payload!).sort()).toEqual(['ath', 'htm', 'htu', 'iat', 'jti']);

    const bare = auth.getRequestHeaders();
    await expect(bare).rejects.toBeInstanceOf(ConfigError);
    await expect(bare).rejects.toThrow(/getRequestHeaders\(method, url\)/);

    // A bearer session keeps the form without arguments.
    const bearer = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    await deviceLogin(bearer);
    expect(await bearer.getRequestHeaders()).toEqual({ authorization: `Bearer ${await bearer.getAccessToken()}` });
    expect(await bearer.getRequestHeaders('GET', url)).toEqual({ authorization: `Bearer ${await bearer.getAccessToken()}` });
  });

  test('a stolen token is refused without its key, and with a proof of another key', async () => {
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, saveStateToStorage: false });
    await deviceLogin(auth);
    expect(await searches(auth)).toBe(2);
    const token = await auth.getAccessToken();
    const url = `${server.apiBaseUrl}/data/v1/searches`;
    server.resetCounts();
    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);
    const noProof = await fetch(url, { headers: { authorization: `DPoP ${token}` } });
    expect(noProof.status).toBe(401);
    // A thief with a key of their own and the API's current nonce still fails: the token is bound to the session's key.
    const nonce = (await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await (await DpopKey.generate()).proof('GET', new URL(url), token, undefined) } })).headers.get('dpop-nonce');
    const other = await DpopKey.generate();
    const otherKey = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await other.proof('GET', new URL(url), token, nonce ?? undefined) } });
    expect(otherKey.status).toBe(401);
    expect(await otherKey.text()).toContain('not the one the token is bound to');
    expect(server.count('api:ok')).toBe(0);
    expect(server.count('api:rejected')).toBe(4);
    // A replayed proof of the real key is refused too.
    const real = await auth.getRequestHeaders('GET', url);
    expect((await fetch(url, { headers: real })).status).toBe(200);
    expect((await fetch(url, { headers: real })).status).toBe(401);
  });

  test('a bearer answer to a DPoP login is refused, and nothing is saved', async () => {
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'bearer-answer' });
    const info = await auth.deviceUserLoginInitiate();
    server.injectTokenFaults([{ status: 200, body: JSON.stringify({ access_token: 'an-unbound-token-1234567890', token_type: 'Bearer', expires_in: 3600 }) }]);
    const failed = auth.deviceUserLoginComplete(info);
    await expect(failed).rejects.toBeInstanceOf(TokenRequestError);
    await expect(failed).rejects.toThrow(/token_type "bearer", not "DPoP".*nothing was saved/i);
    expect(existsSync(join(home, '.planet', 'bearer-answer', 'token.json'))).toBe(false);
  });

  test('a bearer answer to a refresh keeps the rotated refresh token in memory for the next refresh, and its access token is not used', async () => {
    server.bindRefreshTokensToDpopKey(false);
    try {
      const proofs = refreshProofDropper();
      const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, saveStateToStorage: false, fetch: proofs.fetch });
      await deviceLogin(auth);
      const bound = await auth.getAccessToken();
      proofs.drop = true;
      await expect(auth.refresh()).rejects.toThrow(/not bound to this session's key and was not used/);
      expect(proofs.unbound).toHaveLength(1);
      expect(await auth.getAccessToken()).toBe(bound);
      proofs.drop = false;
      server.resetCounts();
      await auth.refresh();
      expect(server.tokenErrors()).toBe(server.count('token:use_dpop_nonce'));
      expect(await auth.getAccessToken()).not.toBe(bound);
      expect(await searches(auth)).toBe(2);
    } finally {
      server.bindRefreshTokensToDpopKey(true);
    }
  });
});

test('tokenBinding dpop on a service account flow binds its tokens too; each login makes a new key', async () => {
  const m2m = SDK_SETTINGS.flows.find((f) => f.id === 'oauth_m2m')!;
  const settings = { ...SDK_SETTINGS, flows: [...SDK_SETTINGS.flows, { ...m2m, id: 'oauth_m2m_dpop', clientType: 'oidc_client_credentials_dpop', tokenBinding: 'dpop' as const }] };
  const auth = new AuthCore(settings, 'oauth_m2m_dpop', { clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
  const url = `${server.apiBaseUrl}/data/v1/searches`;
  expect((await new Session(auth).fetch(url)).status).toBe(200);
  expect(server.counts()).toMatchObject({ 'token:client_credentials': 2, 'token:use_dpop_nonce': 1, 'api:dpop': 1, 'api:ok': 1 });
  const first = await auth.getRequestHeaders('GET', url);
  expect(first['authorization']).toMatch(/^DPoP /);
  const jwkOf = (headers: Record<string, string>) => (JSON.parse(Buffer.from(headers['dpop']!.split('.')[0]!, 'base64url').toString('utf8')) as { jwk: { x: string } }).jwk.x;
  await auth.refresh();
  const second = await auth.getRequestHeaders('GET', url);
  expect(jwkOf(second)).not.toBe(jwkOf(first));
  expect((await new Session(auth).fetch(url)).status).toBe(200);
});

describe('a DPoP session on disk', () => {
  test('keeps its key in token.json (0600); another process goes on with the same key; logout deletes it', async () => {
    const records: LogRecord[] = [];
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'dpop-disk', logger: (r) => records.push(r) });
    await deviceLogin(auth);
    expect(await searches(auth)).toBe(2);
    const tokenFile = join(home, '.planet', 'dpop-disk', 'token.json');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    expect(saved['token_type']).toBe('DPoP');
    expect(typeof saved['dpop_key']).toBe('string');
    const key = await proofKeys(auth);

    // A second process: same key, a refresh and API calls with it.
    const other = await otherProcess('dpop-disk');
    expect(other).toEqual({ before: 200, after: 200, keys: [key] });
    const after = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    expect(after['dpop_key']).toBe(saved['dpop_key']);
    expect(after['access_token']).not.toBe(saved['access_token']);

    // This process takes the other one's tokens and goes on with the same key.
    const again = Auth.fromProfile('dpop-disk');
    expect(await searches(again)).toBe(2);
    expect(await proofKeys(again)).toBe(key);

    // The key never shows: not in logs, util.inspect, JSON or error messages.
    const d = privatePart(saved['dpop_key'] as string);
    const error = await auth.getRequestHeaders().catch((e: unknown) => e as Error);
    const shown = [
      JSON.stringify(records),
      inspect(auth, { depth: 10 }),
      JSON.stringify(auth),
      inspect(again, { depth: 10 }),
      error instanceof Error ? error.message : 'no error',
      inspect(error, { depth: 10 }),
      inspect(await DpopKey.load(saved['dpop_key'] as string, 'test')),
    ];
    for (const text of shown) expect(text).not.toContain(d);

    // The profile list says Planet's Python CLI cannot use it.
    const list = await runCli(['profile', 'list'], { ...(process.env as Record<string, string>), HOME: home });
    expect(list.stdout).toMatch(/dpop-disk\s+oidc_device_code_dpop\s+logged in\s+DPoP-bound/);
    expect(list.stderr).toContain("Planet's Python CLI cannot use a DPoP session");

    await again.logout();
    expect(existsSync(tokenFile)).toBe(false);
  });

  test('a DPoP flow refuses bearer tokens saved under its profile, and a login replaces them with bound ones', async () => {
    await deviceLogin(Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'dpop-mixed' }));
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'dpop-mixed' });
    const refused = new Session(auth).fetch('/data/v1/searches');
    await expect(refused).rejects.toBeInstanceOf(LoginRequiredError);
    await expect(refused).rejects.toThrow('the saved session of profile "dpop-mixed" is not bound to a DPoP key, and flow oauth_user_devicecode__dpop uses DPoP');
    expect(server.count('api')).toBe(0);
    await deviceLogin(auth);
    expect(await searches(auth)).toBe(2);
    expect(JSON.parse(readFileSync(join(home, '.planet', 'dpop-mixed', 'token.json'), 'utf8'))).toMatchObject({ token_type: 'DPoP' });
  });

  test('a refresh answered with an unbound Bearer token keeps the rotated refresh token, never uses the unbound token, and goes on once the server binds again', async () => {
    // A server that binds only access tokens rotates the refresh token on every use; a refresh whose proof does not reach it gets a Bearer token.
    server.bindRefreshTokensToDpopKey(false);
    try {
      const proofs = refreshProofDropper();
      const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'dpop-unbound', fetch: proofs.fetch });
      await deviceLogin(auth);
      const tokenFile = join(home, '.planet', 'dpop-unbound', 'token.json');
      const before = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
      const bound = await auth.getAccessToken();

      proofs.drop = true;
      server.resetCounts();
      const failed = auth.refresh();
      await expect(failed).rejects.toBeInstanceOf(TokenRequestError);
      await expect(failed).rejects.toThrow(
        /token_type "bearer", not "DPoP", so its access token is not bound to this session's key and was not used; the new refresh token it issued was kept in place of the spent one.*check the DPoP configuration/i,
      );
      expect(server.count('token:refresh_token')).toBe(1);
      expect(server.tokenErrors()).toBe(0);
      expect(proofs.unbound).toHaveLength(1);

      // The rotated refresh token is saved with the session's key; the unbound access token is nowhere.
      const after = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
      expect(after['refresh_token']).not.toBe(before['refresh_token']);
      expect(after).toMatchObject({ access_token: before['access_token'], token_type: 'DPoP', dpop_key: before['dpop_key'] });
      expect(readFileSync(tokenFile, 'utf8')).not.toContain(proofs.unbound[0]);
      expect(await auth.getAccessToken()).toBe(bound);
      expect((await auth.getRequestHeaders('GET', `${server.apiBaseUrl}/data/v1/searches`))['authorization']).toBe(`DPoP ${bound}`);

      // Once the proof reaches the server again, the saved refresh token works: the grant was not revoked.
      proofs.drop = false;
      server.resetCounts();
      await auth.refresh();
      expect(server.count('token:refresh_token') - server.count('token:use_dpop_nonce')).toBe(1);
      expect(server.tokenErrors()).toBe(server.count('token:use_dpop_nonce'));
      const again = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
      expect(again['refresh_token']).not.toBe(after['refresh_token']);
      expect(again).toMatchObject({ token_type: 'DPoP', dpop_key: before['dpop_key'] });
      expect(await searches(Auth.fromProfile('dpop-unbound'))).toBe(2);
      expect(server.counts()).toMatchObject({ 'api:dpop': 1, 'api:ok': 1 });
    } finally {
      server.bindRefreshTokensToDpopKey(true);
    }
  });

  test('a key that cannot be read is an error naming the file, which is left as it is', async () => {
    const auth = Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'dpop-broken' });
    await deviceLogin(auth);
    const tokenFile = join(home, '.planet', 'dpop-broken', 'token.json');
    const data = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(tokenFile, JSON.stringify({ ...data, dpop_key: '{"kty":"EC"}' }), { mode: 0o600 });
    const before = readFileSync(tokenFile, 'utf8');
    const reopened = Auth.fromProfile('dpop-broken');
    const failed = new Session(reopened).fetch('/data/v1/searches');
    await expect(failed).rejects.toBeInstanceOf(StateError);
    await expect(failed).rejects.toThrow(`field "dpop_key" in ${tokenFile} is not a P-256 private key`);
    await expect(reopened.refresh()).rejects.toBeInstanceOf(StateError);
    expect(readFileSync(tokenFile, 'utf8')).toBe(before);
  });
});

const describeKeychain = keychainForTests('the DPoP keychain test') ? describe : describe.skip;
describeKeychain('a DPoP session with its secrets in the OS keychain', () => {
  let keychain: RunningKeychain;
  beforeAll(async () => {
    keychain = await startKeychain();
  }, 60_000);
  afterAll(() => keychain?.stop());

  test('the key goes to the keychain beside the refresh token, is used by another process, and logout deletes it', async () => {
    const env = { ...(process.env as Record<string, string>), ...keychain.env, HOME: home };
    let user: Promise<unknown> | undefined;
    const login = await runCli(['login', 'device-dpop', '--client-id', USER_CLIENT_ID, '--profile', 'dpop-keychain', '--storage', 'keychain'], env, (stderr) => {
      const match = /open (\S+)\s+and check that it shows the code (\S+?)\./.exec(stderr);
      if (match && !user) user = scriptedUserLogin(match[1]!, { userCode: match[2]! });
    });
    await user;
    expect(login.code).toBe(0);
    const tokenFile = join(home, '.planet', 'dpop-keychain', 'token.json');
    const saved = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, unknown>;
    expect(saved['dpop_key']).toBeUndefined();
    expect(saved['_keychain']).toEqual({ service: '@planet-auth/sdk:dpop-keychain', accounts: ['refresh_token', 'dpop_key'] });
    const stored = keychain.secretTool(['lookup', 'service', '@planet-auth/sdk:dpop-keychain', 'username', 'dpop_key']);
    expect(stored).toBeDefined();
    expect(readFileSync(tokenFile, 'utf8')).not.toContain(privatePart(stored!));

    const first = await otherProcess('dpop-keychain', { ...keychain.env, HOME: home });
    expect(first).toMatchObject({ before: 200, after: 200 });
    const second = await otherProcess('dpop-keychain', { ...keychain.env, HOME: home });
    expect(second).toMatchObject({ before: 200, after: 200, keys: first.keys });
    expect(keychain.secretTool(['lookup', 'service', '@planet-auth/sdk:dpop-keychain', 'username', 'dpop_key'])).toBe(stored);

    expect((await runCli(['logout', '--profile', 'dpop-keychain'], env)).code).toBe(0);
    expect(keychain.secretTool(['lookup', 'service', '@planet-auth/sdk:dpop-keychain', 'username', 'dpop_key'])).toBeUndefined();
  }, 120_000);
});

const describeRedis = redisForTests('the DPoP Redis test') ? describe : describe.skip;
describeRedis('a DPoP session shared through Redis', () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  }, 60_000);
  afterAll(() => redis?.stop());

  async function rawValues(): Promise<string[]> {
    const client = createClient({ url: redis.url });
    await client.connect();
    const values: string[] = [];
    for await (const keys of client.scanIterator()) {
      for (const key of [keys].flat()) if ((await client.type(key)) === 'hash') values.push((await client.hGet(key, 'data')) ?? '');
    }
    await client.quit();
    return values;
  }

  test('the key is encrypted in Redis, another worker uses the same key, and logout deletes it', async () => {
    const providers: RedisStorageProvider[] = [];
    const make = () => {
      const storageProvider = new RedisStorageProvider(redis.url, { commandTimeoutMs: 2000 });
      providers.push(storageProvider);
      return Auth.fromOAuthUserDeviceCodeDPoP({ clientId: USER_CLIENT_ID, profileName: 'dpop-redis', storageProvider });
    };
    try {
      const auth = make();
      await deviceLogin(auth);
      expect(await searches(auth)).toBe(2);
      const key = await proofKeys(auth);
      const raw = (await rawValues()).filter((v) => v.includes('dpop_key'));
      expect(raw).toHaveLength(1);
      expect(raw[0]).toMatch(/"dpop_key":\{"\$sealed":"aes-256-gcm"/);

      const worker = make();
      expect(await searches(worker)).toBe(2);
      await worker.refresh();
      expect(await searches(worker)).toBe(2);
      expect(await proofKeys(worker)).toBe(key);
      // The first worker takes the refreshed tokens from Redis and proves the same key.
      await auth.refresh();
      expect(await searches(auth)).toBe(2);

      await auth.logout();
      expect((await rawValues()).filter((v) => v.includes('dpop_key'))).toEqual([]);
    } finally {
      for (const p of providers) await p.close();
    }
  }, 120_000);
});

test('the docs page shows the DPoP flow, what it means for the Python CLI, and how the key is kept', () => {
  const page = readFileSync(resolve(import.meta.dirname, '../generated/docs/application-managed-sessions.md'), 'utf8');
  expect(page).toContain('### Without a local web browser, tokens bound to a key (DPoP)');
  expect(page).toContain(
    'Its tokens are bound to a key the session holds (DPoP, RFC 9449, proofs signed with ES256; see "DPoP: tokens bound to a key" below), as `tokenBinding: dpop` in its spec asks. Planet\'s Python CLI cannot use a DPoP session',
  );
  expect(page).toContain('## DPoP: tokens bound to a key');
  expect(page).toContain('generated/examples/on_disk_cli_shared__oauth_user_devicecode__dpop.ts');
});
