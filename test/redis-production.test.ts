// The Redis provider as production runs it: applications sharing one Redis,
// eviction policies, fences after lost counters and empty restarts, secrets
// at rest, passwords, ACL users, TLS with a private CA, lease keys without
// an expiry, and a lease held past its bounded work. Each against a real
// redis-server started here.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createClient } from 'redis';
import { Auth } from '../generated/src/index.js';
import { EncryptedStorageProvider, RedisStorageProvider, STORAGE_KEYS_ENV } from '../generated/examples/providers/redis_shared.js';
import { DemoStorageProvider } from '../generated/examples/providers/app_custom_storage.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, startAuthServer, type RunningServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { freePort, redisForTests, startRedis, type RunningRedis } from './support/redis.js';
import { haveOpenssl, makeTlsFiles, tlsArgs } from './support/redis-tls.js';

const haveRedis = redisForTests('the Redis production tests');
const suite = haveRedis ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');

/** Every field of every key in the server, as text: what someone reading the Redis would see. */
async function everything(url: string): Promise<string> {
  const raw = createClient({ url });
  await raw.connect();
  try {
    const parts: string[] = [];
    for (const key of await raw.keys('*')) {
      const type = await raw.type(key);
      parts.push(key, type === 'hash' ? JSON.stringify(await raw.hGetAll(key)) : String(await raw.get(key)));
    }
    return parts.join('\n');
  } finally {
    await raw.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error & { code?: string }) => error,
  );
}

suite('Redis provider in production settings', () => {
  let redis: RunningRedis;
  const providers: RedisStorageProvider[] = [];
  const provider = (...args: ConstructorParameters<typeof RedisStorageProvider>) => {
    const p = new RedisStorageProvider(...args);
    providers.push(p);
    return p;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await redis.stop();
  });

  describe('isolation', () => {
    let server: RunningServer;
    const saved: Record<string, string | undefined> = {};
    beforeAll(async () => {
      server = await startAuthServer();
      for (const [k, v] of Object.entries({ ...server.env(), HOME: tempHome() })) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
    });
    afterAll(async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await server.close();
    });

    test('two applications with the same profile name in one Redis never share a token: each logs in once and keeps its own', async () => {
      const appA = provider(redis.url, { application: 'reports-a' });
      const appB = provider(redis.url, { application: 'reports-b' });
      const auth = (storageProvider: RedisStorageProvider) => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'my-app-service', storageProvider });
      server.resetCounts();
      const tokenA = await auth(appA).getAccessToken();
      const tokenB = await auth(appB).getAccessToken();
      expect(tokenB).not.toBe(tokenA);
      expect(server.count('token:client_credentials')).toBe(2);
      // A new worker of each application finds its own session: no further login.
      expect(await auth(provider(redis.url, { application: 'reports-a' })).getAccessToken()).toBe(tokenA);
      expect(await auth(provider(redis.url, { application: 'reports-b' })).getAccessToken()).toBe(tokenB);
      expect(server.count('token:client_credentials')).toBe(2);
      // The service account's secret went to Redis encrypted (the test server's environment names the key).
      const dump = await everything(redis.url);
      expect(dump).toContain('reports-a');
      expect(dump).toContain('client_secret');
      expect(dump).not.toContain(M2M_CLIENT_SECRET);
    });

    test('copied examples: the same profile name and the same Redis, no application set, two issuers: each session keeps its own tokens', async () => {
      const other = await startAuthServer();
      try {
        const shared = provider(redis.url);
        const auth = (issuer: string, storageProvider: RedisStorageProvider) => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'copied-example', issuer, storageProvider });
        server.resetCounts();
        other.resetCounts();
        const tokenA = await auth(server.issuer, shared).getAccessToken();
        const tokenB = await auth(other.issuer, shared).getAccessToken();
        expect(tokenB).not.toBe(tokenA);
        expect([server.count('token:client_credentials'), other.count('token:client_credentials')]).toEqual([1, 1]);
        // New workers, each with its own connection, find their own session again: no further login.
        expect(await auth(server.issuer, provider(redis.url)).getAccessToken()).toBe(tokenA);
        expect(await auth(other.issuer, provider(redis.url)).getAccessToken()).toBe(tokenB);
        expect([server.count('token:client_credentials'), other.count('token:client_credentials')]).toEqual([1, 1]);
      } finally {
        await other.close();
      }
    });

    test('a worker whose fetch never settles (it ignores its abort signal) fails within its request timeout with a clear error; its lease is bounded and the other workers are served', async () => {
      const profileName = 'hung-fetch';
      let arrived!: () => void;
      const hungArrived = new Promise<void>((resolve) => (arrived = resolve));
      const neverSettles = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        if (init?.method !== 'POST') return fetch(input, init);
        arrived();
        return new Promise<Response>(() => undefined);
      };
      const worker = (hangs: boolean) =>
        Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName, storageProvider: provider(redis.url), requestTimeoutSeconds: 1, ...(hangs ? { fetch: neverSettles } : {}) });
      server.resetCounts();
      const hung = worker(true);
      const hungCall = rejection(hung.getAccessToken());
      await hungArrived;
      // The hung worker holds the lease, taken with the bound the SDK passes: twice the request timeout plus 10 s.
      const raw = createClient({ url: redis.url });
      await raw.connect();
      const [leaseKey] = await raw.keys('*{.planet/hung-fetch}/session.lease');
      const [fence, holdUntil] = (await raw.get(leaseKey!))!.split(' ').map(Number);
      await raw.close();
      expect(holdUntil! - Math.floor(fence! / 1000)).toBe(12_000);
      const others = [worker(false), worker(false), worker(false)];
      const tokens = await Promise.all(others.map((w) => w.getAccessToken()));
      expect(new Set(tokens).size).toBe(1);
      const error = await hungCall;
      expect(error.code).toBe('ERR_NETWORK');
      expect(error.message).toContain('no answer within 1 s');
      // The hung request never reached the server; the others logged in once between them.
      expect(server.count('token:client_credentials')).toBe(1);
    });

    test('sessions bound to a client and issuer (forSession) are kept apart, and a record naming another client or issuer is refused, saying which', async () => {
      const shared = provider(redis.url, { application: 'bound' });
      const mine = shared.forSession({ clientId: 'client-a', issuer: 'https://issuer.example/' });
      expect(shared.forSession({ clientId: 'client-a', issuer: 'https://issuer.example' })).toBe(mine);
      const theirs = shared.forSession({ clientId: 'client-b', issuer: 'https://issuer.example' });
      const key = '.planet/shared-name/token.json';
      await mine.saveObj(key, { access_token: 'a-token' });
      expect(await theirs.objExists(key)).toBe(false);
      await theirs.saveObj(key, { access_token: 'b-token' });
      expect(await mine.loadObj(key)).toEqual({ access_token: 'a-token' });

      // A record that landed under this session's key but was written for another client (copied by hand, say).
      const raw = createClient({ url: redis.url });
      await raw.connect();
      const redisKey = (await raw.keys('planet-auth:bound:*{.planet/shared-name}/token.json')).sort();
      expect(redisKey).toHaveLength(2);
      const before = await Promise.all(redisKey.map((k) => raw.hGetAll(k)));
      for (const k of redisKey) await raw.hSet(k, 'client', 'intruder');
      for (const store of [mine, theirs]) {
        const refused = await rejection(store.loadObj(key));
        expect(refused.code).toBe('ERR_STATE_UNSAFE');
        expect(refused.message).toContain('belongs to client "intruder"');
        // Neither read nor replaced: a write there is refused too.
        await expect(store.saveObj(key, { access_token: 'overwrite' })).rejects.toMatchObject({ code: 'ERR_STATE_UNSAFE' });
      }
      const after = await Promise.all(redisKey.map((k) => raw.hGetAll(k)));
      expect(after.map((h) => h['data'])).toEqual(before.map((h) => h['data']));

      // A client configuration naming another issuer is refused on read.
      await mine.saveObj('.planet/shared-name/auth_client.json', { client_id: 'client-a', auth_server: 'https://elsewhere.example', client_type: 'x' });
      const issuerError = await rejection(mine.loadObj('.planet/shared-name/auth_client.json'));
      expect(issuerError.message).toContain('issuer "https://elsewhere.example"');
      await raw.close();
    });
  });

  describe('eviction', () => {
    test('under maxmemory-policy allkeys-lru the provider refuses to start, naming the fix, and writes nothing; accepted in code it runs', async () => {
      const lru = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
      try {
        const refused = provider(lru.url);
        const error = await rejection(refused.saveObj('.planet/evict/token.json', { access_token: 'x' }));
        expect(error.code).toBe('ERR_CONFIG');
        expect(error.message).toContain('maxmemory-policy allkeys-lru');
        expect(error.message).toContain('noeviction');
        expect(error.message).toContain('acceptEviction: true');
        // Every later call says the same, and nothing reached the server.
        expect((await rejection(refused.acquireLease('.planet/evict/session.lease', 1000))).code).toBe('ERR_CONFIG');
        expect(await everything(lru.url)).toBe('');
        const accepted = provider(lru.url, { acceptEviction: true });
        await accepted.saveObj('.planet/evict/token.json', { access_token: 'x' });
        expect(accepted.evictionPolicy).toBe('allkeys-lru');
      } finally {
        await lru.stop();
      }
    });

    test('a user that may not run CONFIG (managed Redis) still works; the policy is reported as unknown', async () => {
      const managed = await startRedis({ args: ['--user', 'app', 'on', '>app-pass-7', '~planet-auth:*', '+@all', '-config', '--user', 'default', 'off'] });
      try {
        const store = provider(`redis://app:app-pass-7@127.0.0.1:${managed.port}`);
        await store.saveObj('.planet/managed/token.json', { access_token: 'x' });
        expect(await store.loadObj('.planet/managed/token.json')).toEqual({ access_token: 'x' });
        expect(store.evictionPolicy).toBe('unknown');
      } finally {
        await managed.stop();
      }
    });
  });

  describe('fences', () => {
    test('a fence is never handed out twice, even after its counter is deleted right after a release', async () => {
      const store = provider(redis.url);
      const key = '.planet/fence-evicted/session.lease';
      const raw = createClient({ url: redis.url });
      await raw.connect();
      const seen: number[] = [];
      try {
        // As fast as the server answers: acquire, release, lose the counter (as eviction would), acquire again.
        for (let i = 0; i < 50; i++) {
          const fence = (await store.acquireLease(key, 5000))!;
          seen.push(fence);
          await store.releaseLease(key, fence);
          expect(await raw.del('planet-auth:{.planet/fence-evicted}/session.lease.fence')).toBe(1);
        }
      } finally {
        await raw.close();
      }
      for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
      expect(Number.isSafeInteger(seen.at(-1))).toBe(true);
    });

    test('after Redis restarts without persistence (every key gone) the next fence is still larger, and the old holder cannot write', async () => {
      const empty = await startRedis({ appendOnly: false });
      try {
        const store = provider(empty.url, { commandTimeoutMs: 1000 });
        const key = '.planet/fence-restart/session.lease';
        const old = (await store.acquireLease(key, 60_000))!;
        await empty.kill('SIGKILL');
        await empty.restart();
        let next: number | undefined;
        for (let i = 0; i < 100 && next === undefined; i++) {
          next = await store.acquireLease(key, 60_000).catch(() => undefined);
          if (next === undefined) await sleep(100);
        }
        expect(next).toBeGreaterThan(old);
        expect(await store.saveObjFenced('.planet/fence-restart/token.json', { access_token: 'old' }, key, old)).toBe(false);
        expect(await store.saveObjFenced('.planet/fence-restart/token.json', { access_token: 'new' }, key, next!)).toBe(true);
      } finally {
        await empty.stop();
      }
    }, 30_000);

    test('an object keeps the fence that wrote it and refuses a write with a lower one', async () => {
      const store = provider(redis.url);
      const lease = '.planet/fence-kept/session.lease';
      const token = '.planet/fence-kept/token.json';
      const fence = (await store.acquireLease(lease, 5000))!;
      expect(await store.saveObjFenced(token, { access_token: 'a' }, lease, fence)).toBe(true);
      const raw = createClient({ url: redis.url });
      await raw.connect();
      // As if a later holder (on a server whose clock ran ahead) had written it.
      await raw.hSet('planet-auth:{.planet/fence-kept}/token.json', 'fence', String(fence + 1000));
      await raw.close();
      expect(await store.saveObjFenced(token, { access_token: 'b' }, lease, fence)).toBe(false);
      expect(await store.loadObj(token)).toEqual({ access_token: 'a' });
    });
  });

  describe('leases', () => {
    test('a lease key left without an expiry is given one and then ends by itself', async () => {
      const store = provider(redis.url);
      const key = '.planet/no-ttl/session.lease';
      const raw = createClient({ url: redis.url });
      await raw.connect();
      await raw.set('planet-auth:{.planet/no-ttl}/session.lease', '42');
      expect(await raw.pTTL('planet-auth:{.planet/no-ttl}/session.lease')).toBe(-1);
      expect(await store.acquireLease(key, 300)).toBeUndefined();
      const ttl = await raw.pTTL('planet-auth:{.planet/no-ttl}/session.lease');
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
      await raw.close();
      let fence: number | undefined;
      for (let i = 0; i < 100 && fence === undefined; i++) {
        fence = await store.acquireLease(key, 5000);
        if (fence === undefined) await sleep(50);
      }
      expect(fence).toBeGreaterThan(42);
    });

    test('a holder that keeps renewing past its longest hold loses the lease, and another worker takes it', async () => {
      const stuck = provider(redis.url);
      const other = provider(redis.url);
      const key = '.planet/held-too-long/session.lease';
      const fence = (await stuck.acquireLease(key, 1500, 1000))!;
      let renewals = 0;
      while (await stuck.renewLease(key, fence, 1500)) {
        renewals++;
        await sleep(100);
      }
      expect(renewals).toBeGreaterThan(1);
      // Renewing stopped extending it at its longest hold: it is gone, and the next worker takes it at once.
      expect(await other.acquireLease(key, 5000)).toBeGreaterThan(fence);
      expect(await stuck.saveObjFenced('.planet/held-too-long/token.json', { access_token: 'late' }, key, fence)).toBe(false);
    });

    test("the provider's maxLeaseHoldMs bounds a lease whose caller asks for no limit", async () => {
      const stuck = provider(redis.url, { maxLeaseHoldMs: 1000 });
      const key = '.planet/held-default/session.lease';
      const fence = (await stuck.acquireLease(key, 1500))!;
      let renewals = 0;
      for (; renewals < 300 && (await stuck.renewLease(key, fence, 1500)); renewals++) await sleep(100);
      expect(renewals).toBeGreaterThan(1);
      expect(renewals).toBeLessThan(300);
    });
  });

  describe('secrets at rest', () => {
    const keys = { current: 'k1', keys: { k1: KEY_1 } };

    test('refresh tokens and client secrets are encrypted in Redis and read back as they were', async () => {
      const store = provider(redis.url, { secrets: keys });
      await store.saveObj('.planet/enc/token.json', { access_token: 'at-visible', refresh_token: 'rt-secret-9f2c' });
      await store.saveObj('.planet/enc/auth_client.json', { client_id: 'c', client_secret: 'cs-secret-77ab' });
      const dump = await everything(redis.url);
      expect(dump).not.toContain('rt-secret-9f2c');
      expect(dump).not.toContain('cs-secret-77ab');
      expect(dump).toContain('aes-256-gcm');
      expect(await store.loadObj('.planet/enc/token.json')).toEqual({ access_token: 'at-visible', refresh_token: 'rt-secret-9f2c' });
      expect(await store.loadObj('.planet/enc/auth_client.json')).toEqual({ client_id: 'c', client_secret: 'cs-secret-77ab' });
    });

    test('key rotation: a record written with the old key id is read with it and rewritten with the new one', async () => {
      await provider(redis.url, { secrets: keys }).saveObj('.planet/rotate/token.json', { refresh_token: 'rt-rotate' });
      const rotated = provider(redis.url, { secrets: { current: 'k2', keys: { k2: KEY_2, k1: KEY_1 } } });
      const record = await rotated.loadObj('.planet/rotate/token.json');
      expect(record).toEqual({ refresh_token: 'rt-rotate' });
      await rotated.saveObj('.planet/rotate/token.json', record);
      expect(await everything(redis.url)).toMatch(/\\"kid\\":\\"k2\\"/);
      const onlyNew = provider(redis.url, { secrets: { current: 'k2', keys: { k2: KEY_2 } } });
      expect(await onlyNew.loadObj('.planet/rotate/token.json')).toEqual({ refresh_token: 'rt-rotate' });
    });

    test('a wrong or missing key fails closed with an error naming the key id, and the record is left as it is', async () => {
      await provider(redis.url, { secrets: keys }).saveObj('.planet/wrong-key/token.json', { refresh_token: 'rt-kept' });
      const stored = async () => (await everything(redis.url)).split('\n').filter((line, i, all) => all[i - 1]?.endsWith('{.planet/wrong-key}/token.json') || line.endsWith('{.planet/wrong-key}/token.json'));
      const before = await stored();
      expect(before).toHaveLength(2);
      const wrong = await rejection(provider(redis.url, { secrets: { current: 'k1', keys: { k1: KEY_2 } } }).loadObj('.planet/wrong-key/token.json'));
      expect(wrong.code).toBe('ERR_STATE_UNSAFE');
      expect(wrong.message).toContain('does not decrypt with key id "k1"');
      const unknown = await rejection(provider(redis.url, { secrets: { current: 'k9', keys: { k9: KEY_2 } } }).loadObj('.planet/wrong-key/token.json'));
      expect(unknown.message).toContain('key id "k1", which is not among the keys given (k9)');
      const none = await rejection(provider(redis.url, { secrets: 'plain' }).loadObj('.planet/wrong-key/token.json'));
      expect(none.code).toBe('ERR_STATE_UNSAFE');
      expect(await stored()).toEqual(before);
      for (const error of [wrong, unknown, none]) expect(`${error.message} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain(KEY_1);
    });

    test('without keys a secret is not written unless plain storage is chosen in code', async () => {
      const saved = process.env[STORAGE_KEYS_ENV];
      delete process.env[STORAGE_KEYS_ENV];
      try {
        const keyless = provider(redis.url);
        const error = await rejection(keyless.saveObj('.planet/keyless/token.json', { refresh_token: 'rt-plain' }));
        expect(error.code).toBe('ERR_CONFIG');
        expect(error.message).toContain(STORAGE_KEYS_ENV);
        expect(error.message).toContain("secrets: 'plain'");
        expect(await keyless.objExists('.planet/keyless/token.json')).toBe(false);
        await keyless.saveObj('.planet/keyless/metadata.json', { issuer: 'no secret here' });
        await provider(redis.url, { secrets: 'plain' }).saveObj('.planet/keyless/token.json', { refresh_token: 'rt-plain' });
        expect(await everything(redis.url)).toContain('rt-plain');
      } finally {
        if (saved !== undefined) process.env[STORAGE_KEYS_ENV] = saved;
      }
    });

    test(`keys from ${STORAGE_KEYS_ENV}: the first is current, the others still read; a malformed one is refused without echoing it`, async () => {
      const saved = process.env[STORAGE_KEYS_ENV];
      try {
        process.env[STORAGE_KEYS_ENV] = `k1:${KEY_1}`;
        await provider(redis.url).saveObj('.planet/env-keys/token.json', { refresh_token: 'rt-env' });
        process.env[STORAGE_KEYS_ENV] = `k2:${KEY_2},k1:${KEY_1}`;
        expect(await provider(redis.url).loadObj('.planet/env-keys/token.json')).toEqual({ refresh_token: 'rt-env' });
        process.env[STORAGE_KEYS_ENV] = 'k1:c2hvcnQ=';
        let thrown: (Error & { code?: string }) | undefined;
        try {
          new RedisStorageProvider(redis.url);
        } catch (error) {
          thrown = error as Error & { code?: string };
        }
        expect(thrown?.code).toBe('ERR_CONFIG');
        expect(thrown?.message).toContain('5 bytes long; AES-256 needs 32');
        expect(thrown?.message).not.toContain('c2hvcnQ=');
      } finally {
        if (saved === undefined) delete process.env[STORAGE_KEYS_ENV];
        else process.env[STORAGE_KEYS_ENV] = saved;
      }
    });

    test('EncryptedStorageProvider wraps any application storage: the files hold no secret, reads give it back', async () => {
      const root = mkdtempSync(join(tmpdir(), 'planet-enc-'));
      const store = new EncryptedStorageProvider(new DemoStorageProvider(root), keys);
      await store.saveObj('.planet/app/token.json', { access_token: 'at', refresh_token: 'rt-in-a-file' });
      const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(readFileSync(join(file.parentPath, file.name), 'utf8')).not.toContain('rt-in-a-file');
      expect(await store.loadObj('.planet/app/token.json')).toEqual({ access_token: 'at', refresh_token: 'rt-in-a-file' });
      await expect(new EncryptedStorageProvider(new DemoStorageProvider(root), { current: 'k1', keys: { k1: KEY_2 } }).loadObj('.planet/app/token.json')).rejects.toMatchObject({
        code: 'ERR_STATE_UNSAFE',
      });
    });
  });

  describe('refusals by the server', () => {
    let locked: RunningRedis;
    beforeAll(async () => {
      locked = await startRedis({
        args: ['--user', 'default', 'off', '--user', 'app', 'on', '>right-pass-31', '~planet-auth:*', '+@all', '--user', 'reader', 'on', '>reader-pass-52', '~*', '+@read', '+config|get', '+ping', '+hello', '+client'],
      });
    });
    afterAll(async () => {
      await locked.stop();
    });

    test('no password: NOAUTH named, with the fix', async () => {
      const store = provider(`redis://127.0.0.1:${locked.port}`, { commandTimeoutMs: 1500 });
      const error = await rejection(store.objExists('.planet/auth/token.json'));
      await store.close();
      expect(error.code).toBe('ERR_STORAGE');
      expect(error.message).toMatch(/NOAUTH|WRONGPASS/);
      expect(error.message).toContain('redis://user:password@host:port');
    });

    test('a wrong password: WRONGPASS named, the password in no message, inspect or JSON, and reconnects back off', async () => {
      // Connections the server accepted, sampled from before the provider's first attempt: the gaps between its attempts grow.
      const raw = createClient({ url: `redis://app:right-pass-31@127.0.0.1:${locked.port}` });
      raw.on('error', () => undefined);
      await raw.connect();
      const connections = async () => Number(/total_connections_received:(\d+)/.exec(await raw.info('stats'))![1]);
      const times: number[] = [];
      let last = await connections();
      const store = provider(`redis://app:wrong-pass-19@127.0.0.1:${locked.port}`, { commandTimeoutMs: 1500 });
      try {
        const error = await rejection(store.objExists('.planet/auth/token.json'));
        expect(error.message).toContain('refused the user name or password (WRONGPASS)');
        for (const text of [error.message, inspect(error), JSON.stringify(error), inspect(store), JSON.stringify(store), String((error as { cause?: unknown }).cause)]) {
          expect(text).not.toContain('wrong-pass-19');
        }
        while (times.length < 6) {
          const now = await connections();
          for (; last < now; last++) times.push(Date.now());
          await sleep(20);
        }
      } finally {
        await raw.close();
        await store.close();
      }
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      expect(gaps.at(-1)!).toBeGreaterThan(4 * gaps[0]!);
      expect(gaps.at(-1)!).toBeGreaterThan(1500);
    }, 60_000);

    test('an ACL user without a needed permission: NOPERM named, with the commands the user needs', async () => {
      const error = await rejection(provider(`redis://reader:reader-pass-52@127.0.0.1:${locked.port}`).saveObj('.planet/acl/token.json', { access_token: 'x' }));
      expect(error.code).toBe('ERR_STORAGE');
      expect(error.message).toContain('NOPERM');
      expect(error.message).toContain('ACL SETUSER');
      expect(error.message).not.toContain('reader-pass-52');
    });

    test('the right ACL user works', async () => {
      const store = provider(`redis://app:right-pass-31@127.0.0.1:${locked.port}`);
      await store.saveObj('.planet/acl/token.json', { access_token: 'x' });
      expect(await store.loadObj('.planet/acl/token.json')).toEqual({ access_token: 'x' });
    });

    test('a URL the client cannot use is refused by the constructor without its password', () => {
      let thrown: unknown;
      try {
        new RedisStorageProvider('redis://app:ctor-pass-88@127.0.0.1:notaport');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'ERR_CONFIG' });
      for (const text of [(thrown as Error).message, inspect(thrown), JSON.stringify(thrown)]) expect(text).not.toContain('ctor-pass-88');
    });
  });

  if (!haveOpenssl() && process.env['CI'] === 'true') throw new Error('openssl is missing; CI must install it (apt-get install openssl) for the TLS tests');
  const tlsSuite = haveOpenssl() ? describe : describe.skip;
  tlsSuite('TLS', () => {
    let tlsRedis: RunningRedis;
    let tlsPort: number;
    let files: ReturnType<typeof makeTlsFiles>;
    beforeAll(async () => {
      files = makeTlsFiles();
      tlsPort = await freePort();
      tlsRedis = await startRedis({ args: tlsArgs(files, tlsPort) });
    });
    afterAll(async () => {
      await tlsRedis.stop();
    });

    test('rediss:// with the private CA given works', async () => {
      const store = provider(`rediss://127.0.0.1:${tlsPort}`, {}, { socket: { tls: true, ca: files.caPem } });
      await store.saveObj('.planet/tls/token.json', { access_token: 'over-tls' });
      expect(await store.loadObj('.planet/tls/token.json')).toEqual({ access_token: 'over-tls' });
    });

    test('rediss:// without the CA: the certificate check is named, with the fix', async () => {
      const store = provider(`rediss://127.0.0.1:${tlsPort}`, { commandTimeoutMs: 2000 });
      const error = await rejection(store.objExists('.planet/tls/token.json'));
      await store.close();
      expect(error.code).toBe('ERR_STORAGE');
      expect(error.message).toContain('did not pass the TLS check');
      expect(error.message).toContain('ca');
    });
  });
});
