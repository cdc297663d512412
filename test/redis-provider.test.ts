// The redis_shared storage mode's provider (generated/examples/providers),
// against a real redis-server: objects, leases, fencing, expiry, and a server
// that goes away and comes back.
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';

const haveRedis = redisForTests('the Redis provider tests');
const suite = haveRedis ? describe : describe.skip;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks again until `attempt` gives a value; the test's timeout bounds the wait. */
async function until<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    await sleep(20);
  }
}

suite('RedisStorageProvider against redis-server', () => {
  let redis: RunningRedis;
  const providers: RedisStorageProvider[] = [];
  const provider = (timeoutMs = 2000) => {
    const p = new RedisStorageProvider(redis.url, { commandTimeoutMs: timeoutMs });
    providers.push(p);
    return p;
  };
  const rawClient = async () => {
    const { createClient } = await import('redis');
    const raw = createClient({ url: redis.url });
    await raw.connect();
    return raw;
  };
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await redis.stop();
  });

  test('objects: save, load, exists, mtime, atomic rename, delete', async () => {
    const store = provider();
    const key = '.planet/objects/token.json';
    expect(await store.objExists(key)).toBe(false);
    await expect(store.loadObj(key)).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    await store.saveObj(`${key}.tmp1`, { access_token: 'a', nested: { n: 1 } });
    await store.objRename(`${key}.tmp1`, key);
    expect(await store.objExists(`${key}.tmp1`)).toBe(false);
    expect(await store.loadObj(key)).toEqual({ access_token: 'a', nested: { n: 1 } });
    const mtime = await store.mtime(key);
    expect(Math.abs(mtime - Date.now() / 1000)).toBeLessThan(60);
    await store.deleteObj(key);
    await store.deleteObj(key);
    expect(await store.objExists(key)).toBe(false);
  });

  test('an object that is not JSON is reported as corrupt and left as it is', async () => {
    const store = provider();
    const key = '.planet/corrupt/token.json';
    await store.saveObj(key, { a: 1 });
    const { createClient } = await import('redis');
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.hSet('planet-auth:{.planet/corrupt}/token.json', 'data', '{not json');
    await expect(store.loadObj(key)).rejects.toMatchObject({ code: 'ERR_STATE_CORRUPT' });
    expect(await raw.hGet('planet-auth:{.planet/corrupt}/token.json', 'data')).toBe('{not json');
    await raw.close();
  });

  test('lease exclusivity: of 24 workers asking at once, exactly one holds the lease', async () => {
    const workers = Array.from({ length: 24 }, () => provider());
    const fences = await Promise.all(workers.map((w) => w.acquireLease('.planet/excl/session.lease', 5000)));
    expect(fences.filter((f) => f !== undefined)).toHaveLength(1);
  });

  test('fencing values only grow: release, expiry and new holders each get a larger one', async () => {
    const a = provider();
    const b = provider();
    const key = '.planet/fence/session.lease';
    const first = (await a.acquireLease(key, 60_000))!;
    expect(await b.acquireLease(key, 60_000)).toBeUndefined();
    await a.releaseLease(key, first);
    const second = (await b.acquireLease(key, 50))!;
    expect(second).toBeGreaterThan(first);
    // Once b's lease has run out, a gets the next one.
    const third = await until(() => a.acquireLease(key, 60_000));
    expect(third).toBeGreaterThan(second);
  });

  test('a holder that lost its lease cannot renew, release the new holder, or write', async () => {
    const slow = provider();
    const fast = provider();
    const lease = '.planet/lost/session.lease';
    const token = '.planet/lost/token.json';
    const old = (await slow.acquireLease(lease, 60_000))!;
    expect(await slow.saveObjFenced(token, { access_token: 'first' }, lease, old)).toBe(true);
    // The holder stalls past its lease: it runs out (shortened to 1 ms here), and another worker takes the next one.
    expect(await slow.renewLease(lease, old, 1)).toBe(true);
    const current = await until(() => fast.acquireLease(lease, 60_000));
    expect(current).toBeGreaterThan(old);
    expect(await fast.saveObjFenced(token, { access_token: 'newer' }, lease, current)).toBe(true);

    expect(await slow.renewLease(lease, old, 60_000)).toBe(false);
    expect(await slow.saveObjFenced(token, { access_token: 'stale' }, lease, old)).toBe(false);
    await slow.releaseLease(lease, old);
    expect(await slow.acquireLease(lease, 60_000)).toBeUndefined();
    expect(await fast.loadObj(token)).toEqual({ access_token: 'newer' });
    expect(await fast.renewLease(lease, current, 60_000)).toBe(true);
  });

  test('a lease runs out after its time to live, and renewing extends it', async () => {
    const a = provider();
    const b = provider();
    const key = '.planet/ttl/session.lease';
    const raw = await rawClient();
    const ttlLeft = () => raw.pTTL('planet-auth:{.planet/ttl}/session.lease');
    const fence = (await a.acquireLease(key, 60_000))!;
    const granted = await ttlLeft();
    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThanOrEqual(60_000);
    expect(await b.acquireLease(key, 60_000)).toBeUndefined();
    expect(await a.renewLease(key, fence, 120_000)).toBe(true);
    expect(await ttlLeft()).toBeGreaterThan(60_000);
    expect(await b.acquireLease(key, 60_000)).toBeUndefined();
    // Renewed to a short time to live, the lease runs out and b gets the next one.
    expect(await a.renewLease(key, fence, 50)).toBe(true);
    expect(await ttlLeft()).toBeLessThanOrEqual(50);
    expect(await until(() => b.acquireLease(key, 60_000))).toBeGreaterThan(fence);
    expect(await a.renewLease(key, fence, 60_000)).toBe(false);
    await raw.close();
  });

  test('a lease never outlives its holding limit: taken for longer than the limit, it expires at the limit, and a holder that never renews frees it then', async () => {
    const limited = new RedisStorageProvider(redis.url, { commandTimeoutMs: 2000, maxLeaseHoldMs: 1000 });
    providers.push(limited);
    const other = provider();
    const raw = await rawClient();
    const key = '.planet/hold/session.lease';
    const ttlLeft = () => raw.pTTL('planet-auth:{.planet/hold}/session.lease');
    const fence = (await limited.acquireLease(key, 15_000))!;
    expect(fence).toBeGreaterThan(0);
    expect(await ttlLeft()).toBeLessThanOrEqual(1000);
    // The SDK's own, smaller limit wins too.
    expect(await until(() => other.acquireLease(key, 15_000, 500))).toBeGreaterThan(fence);
    expect(await ttlLeft()).toBeLessThanOrEqual(500);
    await raw.close();
  });

  test('a lease granted after the caller gave up waiting is given back, not left to block every worker until it expires', async () => {
    const impatient = provider(200);
    const other = provider();
    const key = '.planet/late/session.lease';
    // Connected first (on a busy machine that may take longer than its 200 ms; it tries again).
    await until(() => impatient.objExists(key).catch(() => undefined));
    const raw = await rawClient();
    // Writes held back, as an overloaded Redis would be: the lease is granted only after the caller gave up.
    await raw.sendCommand(['CLIENT', 'PAUSE', '600000', 'WRITE']);
    try {
      await expect(impatient.acquireLease(key, 60_000)).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    } finally {
      await raw.sendCommand(['CLIENT', 'UNPAUSE']);
    }
    // The late grant is given back at once; without that, the lease would block every worker for 60 s.
    const fence = await until(() => other.acquireLease(key, 5000));
    expect(fence).toBeGreaterThan(1);
    await raw.close();
  });

  test('Redis killed: calls fail with ERR_STORAGE instead of hanging; after a restart the same provider works and the data survived', async () => {
    const store = provider(1000);
    await until(() =>
      store.saveObj('.planet/restart/token.json', { access_token: 'kept' }).then(
        () => true,
        () => undefined,
      ),
    );
    await redis.kill('SIGKILL');
    await expect(store.loadObj('.planet/restart/token.json')).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    await expect(store.acquireLease('.planet/restart/session.lease', 1000)).rejects.toMatchObject({ code: 'ERR_STORAGE' });
    const message = await store.objExists('.planet/restart/token.json').catch((e: Error) => e.message);
    expect(message).toContain(redis.url);
    await redis.restart();
    let loaded: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !loaded; i++) {
      loaded = await store.loadObj('.planet/restart/token.json').catch(() => undefined);
      if (!loaded) await sleep(100);
    }
    expect(loaded).toEqual({ access_token: 'kept' });
  }, 30_000);

  test('a provider that never reached Redis fails its first call within its timeout', async () => {
    const nowhere = new RedisStorageProvider('redis://user:hunter2@127.0.0.1:1', { commandTimeoutMs: 500 });
    providers.push(nowhere);
    const error = (await nowhere.objExists('.planet/x/token.json').catch((e: unknown) => e)) as { code?: string; message?: string };
    expect(error.code).toBe('ERR_STORAGE');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('redis://127.0.0.1:1');
  });
});
