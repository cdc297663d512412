// Redis refusing writes mid-refresh for longer than the lease (down, out of
// memory, paused): the worker holding the only copy of the new tokens keeps
// them and saves them when Redis returns; no other worker spends the old
// refresh token meanwhile. One trial of each here, with leases held at most
// LEASE_HOLD_MS so the outage past the lease lasts seconds; `npm run
// stress:fleet -- outages` runs 30 of each with the production lease (15 s).
import { startAuthServer, type RunningServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { outageTrial, pausedWriterTrial, type OutageKind } from './support/outages.js';
import { redisForTests, startRedis, type RunningRedis } from './support/redis.js';

const haveRedis = redisForTests('the Redis outage tests');
const suite = haveRedis ? describe : describe.skip;
/** The longest a worker holds a lease here (the Redis provider's `maxLeaseHoldMs`). */
const LEASE_HOLD_MS = 5000;

suite('Redis away mid-refresh', () => {
  let server: RunningServer;
  let redis: RunningRedis;
  beforeAll(async () => {
    server = await startAuthServer();
    redis = await startRedis({ appendOnly: true });
    Object.assign(process.env, server.env(), { HOME: tempHome() });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  test.each<[OutageKind, string]>([
    ['down', 'killed with SIGKILL and restarted from its append-only file'],
    ['oom', 'out of memory (maxmemory with noeviction: writes and EVAL refused)'],
    ['paused', 'paused with SIGSTOP'],
  ])(
    'Redis %s (%s) past the lease: the holder saves its tokens when Redis returns, the old refresh token is never spent again',
    async (kind) => {
      const trial = await outageTrial(server, redis, kind, `outage-${kind}`, LEASE_HOLD_MS);
      expect(trial).toMatchObject({ lost: false, saved: true, tokenErrors: 0, tokenRequests: 1 });
    },
    120_000,
  );

  test('a worker paused (SIGSTOP) past its lease with an unsaved token never overwrites the newer one, by its late write or by its retries', async () => {
    const trial = await pausedWriterTrial(server, redis, 'paused-writer');
    expect(trial).toEqual({ overwritten: false, othersServed: true, logins: 2 });
  }, 120_000);
});
