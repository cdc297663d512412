// Fleet mode: three groups of 16 workers, each group a process with its own
// HOME (three machines, nothing shared but Redis), on one session in Redis
// with 5-second tokens. Short runs here; `npm run stress` runs them for 60 s.
import { Auth } from '../generated/src/index.js';
import { REFRESH_AT_LIFETIME_SHARE } from '../generated/src/runtime/token.js';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { startAuthServer, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { redisRestart, runFleet, seedSession, type FleetResult } from './support/fleet.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';

const haveRedis = redisForTests('the fleet tests');
const suite = haveRedis ? describe : describe.skip;

const TTL = 5;
const SECONDS = Number(process.env['FLEET_SECONDS'] ?? 15);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What every fleet run must show: all calls served, no session lost, no login, no refused token request. */
function expectHealthy(result: FleetResult): void {
  expect({ groupsFailed: result.groupsFailed, failures: result.failures, lost: result.lostSessions, logins: result.logins, tokenErrors: result.tokenErrors }).toEqual({
    groupsFailed: [],
    failures: {},
    lost: 0,
    logins: 0,
    tokenErrors: 0,
  });
  expect(result.apiOk).toBeGreaterThan(result.workers * 5);
}

/**
 * One token request per lifetime: never more than the run could hold, and
 * never two for one token (a second refresh of a token would follow the
 * first within milliseconds, not seconds).
 */
function expectOnePerLifetime(result: FleetResult): void {
  expect(result.tokenRequests).toBeGreaterThanOrEqual(Math.floor(SECONDS / TTL));
  expect(result.tokenRequests).toBeLessThanOrEqual(Math.ceil(result.maxLifetimes));
  expect(result.shortestGapMs).toBeGreaterThan(TTL * 1000 * 0.4);
}

suite('fleet mode through Redis', () => {
  let server: RunningServer;
  let redis: RunningRedis;
  beforeAll(async () => {
    server = await startAuthServer({ accessTokenTtl: TTL });
    redis = await startRedis({ appendOnly: true });
    Object.assign(process.env, server.env(), { HOME: tempHome() });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  test(`48 workers on one rotating user session for ${SECONDS} s: one refresh per lifetime, every call served`, async () => {
    await seedSession(redis, 'user', 'fleet-user');
    const result = await runFleet(server, redis, TTL, 'fleet-user', { flow: 'user', durationMs: SECONDS * 1000 });
    console.log(`user fleet: ${JSON.stringify(result)}`);
    expectHealthy(result);
    expectOnePerLifetime(result);
  }, (SECONDS + 90) * 1000);

  test(`48 workers on one service account for ${SECONDS} s: one login per lifetime, every call served`, async () => {
    await seedSession(redis, 'service', 'fleet-service');
    const result = await runFleet(server, redis, TTL, 'fleet-service', { flow: 'service', durationMs: SECONDS * 1000 });
    console.log(`service fleet: ${JSON.stringify(result)}`);
    expectHealthy(result);
    expectOnePerLifetime(result);
  }, (SECONDS + 90) * 1000);

  test('Redis killed with SIGKILL mid-run and restarted from its append-only file: workers keep serving and recover without a login', async () => {
    await seedSession(redis, 'user', 'fleet-restart');
    const restart = redisRestart(server, redis, SECONDS * 1000);
    const result = await runFleet(server, redis, TTL, 'fleet-restart', { flow: 'user', durationMs: SECONDS * 1000, during: restart.during });
    console.log(`fleet across a Redis restart: ${JSON.stringify(result)}`);
    expectHealthy(result);
    expect(restart.refreshesAfterRestart()).toBeGreaterThanOrEqual(1);
  }, (SECONDS + 90) * 1000);

  test('Redis unreachable: a valid token keeps serving with no Redis round trip; an expired one gives a typed error, not a hang', async () => {
    await seedSession(redis, 'user', 'fleet-down');
    const storageProvider = new RedisStorageProvider(redis.url, { commandTimeoutMs: 1000 });
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'fleet-down', storageProvider });
    await auth.refresh();
    const token = await auth.getAccessToken();
    await redis.kill('SIGKILL');
    try {
      server.resetCounts();
      for (let i = 0; i < 1000; i++) expect(await auth.getAccessToken()).toBe(token);
      expect(server.authServerRequests()).toBe(0);
      // Past the point where a refresh is due but before expiry, the token still serves.
      const { iat, exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
      await sleep(Math.max(0, (iat + (exp - iat) * REFRESH_AT_LIFETIME_SHARE) * 1000 + 200 - Date.now()));
      expect(Date.now()).toBeLessThan(exp * 1000);
      expect(await auth.getAccessToken()).toBe(token);
      await sleep(Math.max(0, exp * 1000 + 200 - Date.now()));
      const error = (await auth.getAccessToken().then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; message?: string } | undefined;
      expect(error?.code).toBe('ERR_STORAGE');
      expect(error?.message).toContain('Redis');
    } finally {
      await storageProvider.close();
      await redis.restart();
    }
  }, 60_000);
});
