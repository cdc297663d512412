// The fleet on the Redis deployments production uses: a Cluster of three
// masters with a replica each, and a Sentinel set (one master, one replica,
// three sentinels). 16 workers serve one rotating user session while the
// master holding it is killed and a replica takes over. Short runs here;
// `npm run stress:fleet` runs longer ones and more trials, and counts the
// acknowledged writes a promoted replica lacks (a measurement, not a check).
import { createCluster, createSentinel } from 'redis';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { startAuthServer, type RunningServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { serveThroughFailover, type FailoverRun } from './support/failover.js';
import { redisForTests } from './support/redis.js';
import { startCluster, startSentinel, type RunningCluster, type RunningSentinel } from './support/redis-deploy.js';

const haveRedis = redisForTests('the Redis Cluster and Sentinel tests');
const suite = haveRedis ? describe : describe.skip;
const TTL = 5;
const SECONDS = Number(process.env['FAILOVER_SECONDS'] ?? 16);

function expectServedThrough(run: FailoverRun): void {
  console.log(JSON.stringify(run));
  expect({ failedAfterWindow: run.failedAfterWindow, lostSessions: run.lostSessions, tokenErrors: run.tokenErrors }).toEqual({ failedAfterWindow: 0, lostSessions: 0, tokenErrors: 0 });
  // Calls were served after the window and its grace (the run goes on until they were), so the count of failed ones there means something.
  expect(run.servedAfterWindow).toBeGreaterThanOrEqual(run.workers * 3);
  // Never more than one refresh per token lifetime (plus the one a failover may cost): a refresh token spent twice would also show as a lost session.
  expect(run.tokenRequests).toBeGreaterThanOrEqual(1);
  expect(run.tokenRequests).toBeLessThanOrEqual(Math.ceil(run.lifetimes) + 1);
}

suite('fleet on Redis Cluster and Sentinel, master failed over while 16 workers serve', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startAuthServer({ accessTokenTtl: TTL });
    Object.assign(process.env, server.env(), { HOME: tempHome() });
  });
  afterAll(async () => {
    await server.close();
  });

  describe('Cluster', () => {
    let cluster: RunningCluster;
    beforeAll(async () => {
      cluster = await startCluster();
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop();
    });
    const provider = () => new RedisStorageProvider(createCluster({ rootNodes: [...cluster.rootNodes] }));

    test(
      'the master holding the session is killed mid-run: no call fails after the failover window, the session survives',
      async () => {
        const run = await serveThroughFailover(server, TTL, provider, () => cluster.failOver('planet-auth:{.planet/cluster-fleet}/token.json'), {
          profile: 'cluster-fleet',
          durationMs: SECONDS * 1000,
          failAtMs: (SECONDS * 1000) / 4,
        }).finally(() => cluster.rejoin());
        expectServedThrough(run);
      },
      (SECONDS + 240) * 1000,
    );
  });

  describe('Sentinel', () => {
    let sentinel: RunningSentinel;
    beforeAll(async () => {
      sentinel = await startSentinel();
    }, 60_000);
    afterAll(async () => {
      await sentinel?.stop();
    });
    const provider = () => new RedisStorageProvider(createSentinel({ name: sentinel.name, sentinelRootNodes: [...sentinel.sentinels] }));

    test(
      'the master is killed mid-run and the sentinels promote the replica: no call fails after the failover window, the session survives',
      async () => {
        const run = await serveThroughFailover(server, TTL, provider, () => sentinel.failOver(), {
          profile: 'sentinel-fleet',
          durationMs: SECONDS * 1000,
          failAtMs: (SECONDS * 1000) / 4,
        });
        expectServedThrough(run);
      },
      (SECONDS + 240) * 1000,
    );
  });
});
