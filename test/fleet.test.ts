// Fleet mode: three groups of 16 workers, each group a process with its own
// HOME (three machines, nothing shared but Redis), on one session in Redis.
// Here the fleet runs in steps: the session's token is expired in Redis, then
// all 48 workers call at once, and the server's counts are checked, so the
// result does not depend on the machine's speed. `npm run stress:fleet` runs
// the same fleet for 60 s with 5-second tokens.
import { Auth } from '../generated/src/index.js';
import { REFRESH_AT_LIFETIME_SHARE } from '../generated/src/runtime/token.js';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { startAuthServer, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { expireInRedis, seedSession, startFleetRounds, type FleetRound, type FleetRounds } from './support/fleet.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';

const haveRedis = redisForTests('the fleet tests');
const suite = haveRedis ? describe : describe.skip;

const TTL = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks again until `attempt` gives a value; the test's timeout bounds the wait. */
async function until<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    await sleep(50);
  }
}

/** A round in which every worker was served by `tokenRequests` token requests in all, with no session lost, no login and no refused request. */
function expectRound(round: FleetRound, tokenRequests: number): void {
  expect(round).toEqual({ workers: 48, ok: 48, failures: {}, lostSessions: 0, tokenRequests, tokenErrors: 0, logins: 0, groupsFailed: [] });
}

suite('fleet mode through Redis', () => {
  let server: RunningServer;
  let redis: RunningRedis;
  let fleet: FleetRounds | undefined;
  beforeAll(async () => {
    server = await startAuthServer();
    redis = await startRedis({ appendOnly: true });
    Object.assign(process.env, server.env(), { HOME: tempHome() });
  });
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  for (const flow of ['user', 'service'] as const) {
    test(`48 workers on 3 machines, one ${flow === 'user' ? 'rotating user session' : 'service account'} whose token expired: one ${flow === 'user' ? 'refresh' : 'login'} serves them all, and the next round reads it from Redis`, async () => {
      const profile = `fleet-${flow}`;
      await seedSession(redis, flow, profile);
      fleet = startFleetRounds(server, redis, profile, flow);
      for (let expiry = 0; expiry < 2; expiry++) {
        await expireInRedis(redis, profile, flow);
        expectRound(await fleet.round(), 1);
        expectRound(await fleet.round(), 0);
      }
    }, 120_000);
  }

  test('Redis killed with SIGKILL and restarted from its append-only file: the session survived, and the next expiry costs one refresh, no login', async () => {
    await seedSession(redis, 'user', 'fleet-restart');
    fleet = startFleetRounds(server, redis, 'fleet-restart', 'user');
    await expireInRedis(redis, 'fleet-restart', 'user');
    expectRound(await fleet.round(), 1);
    await redis.kill('SIGKILL');
    await redis.restart();
    expectRound(await fleet.round(), 0);
    await expireInRedis(redis, 'fleet-restart', 'user');
    expectRound(await fleet.round(), 1);
  }, 120_000);

  test('Redis unreachable: a valid token keeps serving with no Redis round trip; an expired one gives a typed error, not a hang', async () => {
    await seedSession(redis, 'user', 'fleet-down');
    server.setAccessTokenTtl(TTL);
    const storageProvider = new RedisStorageProvider(redis.url, { commandTimeoutMs: 1000 });
    const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'fleet-down', storageProvider });
    let down = false;
    try {
      // Each trial refreshes, then takes Redis away. A trial in which the machine
      // stalled past the token's expiry before its call in the refresh-due
      // stretch came back cannot show that stretch; it is run again.
      let servedWhileDue = false;
      while (!servedWhileDue) {
        await until(() => storageProvider.objExists('.planet/fleet-down/token.json').catch(() => undefined));
        await auth.refresh();
        const token = await auth.getAccessToken();
        // The saved expiry counts from the whole second the request was sent in; the process itself counts from
        // the moment, so its token lives up to a second past it: the expired call waits for that second too.
        const expiresAtMs = (await auth.sessionStatus()).expiresAt! * 1000;
        const refreshAtMs = expiresAtMs - TTL * 1000 * (1 - REFRESH_AT_LIFETIME_SHARE);
        await redis.kill('SIGKILL');
        down = true;
        server.resetCounts();
        for (let i = 0; i < 1000; i++) expect(await auth.getAccessToken()).toBe(token);
        expect(server.authServerRequests()).toBe(0);
        // Past the point where a refresh is due but before expiry, the token still serves.
        await sleep(Math.max(0, refreshAtMs + 200 - Date.now()));
        const due = await auth.getAccessToken().catch((e: unknown) => e);
        if (Date.now() < expiresAtMs) {
          expect(due).toBe(token);
          servedWhileDue = true;
        }
        await sleep(Math.max(0, expiresAtMs + 1200 - Date.now()));
        const error = (await auth.getAccessToken().then(
          () => undefined,
          (e: unknown) => e,
        )) as { code?: string; message?: string } | undefined;
        expect(error?.code).toBe('ERR_STORAGE');
        expect(error?.message).toContain('Redis');
        await redis.restart();
        down = false;
      }
    } finally {
      await storageProvider.close();
      if (down) await redis.restart();
      server.setAccessTokenTtl(3600);
    }
  }, 60_000);
});
