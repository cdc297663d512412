// Fleet rows of npm run bench: token requests per token lifetime for 48
// workers that share one session through Redis against the same workers each
// keeping its own, and the cost of getAccessToken() on a warm token when the
// session lives in Redis (an in-memory read: no Redis command per call).
import { createClient } from 'redis';
import { Auth } from '../generated/src/index.js';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, startAuthServer } from '../test/server/auth-server.js';
import { runFleet, seedSession, type FleetResult } from '../test/support/fleet.js';
import { outageTrial, type OutageKind, type OutageTrial } from '../test/support/outages.js';
import { REDIS_INSTALL_HINT, redisServerPath, startRedis } from '../test/support/redis.js';
import { medians } from './hot-path.js';

export interface FleetFigures {
  readonly shared: FleetResult;
  readonly own: FleetResult;
  readonly memoryOps: number;
  readonly redisOps: number;
  readonly redisCommandsDuringHotPath: number;
}

const TTL = 5;

/** Commands the server has processed so far, read on a connection of its own. */
async function commandsProcessed(client: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await client.info('stats'))?.[1] ?? NaN);
}

/** Undefined when redis-server is not installed (the caller prints the hint). */
export async function measureFleet(seconds: number): Promise<FleetFigures | undefined> {
  if (!redisServerPath()) {
    console.error(`redis-server is not installed, so the fleet rows are skipped; ${REDIS_INSTALL_HINT}`);
    return undefined;
  }
  const server = await startAuthServer({ accessTokenTtl: TTL });
  const redis = await startRedis();
  const saved = { ...process.env };
  Object.assign(process.env, server.env());
  try {
    await seedSession(redis, 'service', 'bench-fleet');
    const shared = await runFleet(server, redis, TTL, 'bench-fleet', { flow: 'service', durationMs: seconds * 1000 });
    const own = await runFleet(server, redis, TTL, 'bench-fleet', { flow: 'service', storage: 'own', durationMs: seconds * 1000 });

    server.setAccessTokenTtl(3600);
    const storageProvider = new RedisStorageProvider(redis.url);
    const inRedis = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'bench-hot', storageProvider });
    const inMemory = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, saveStateToStorage: false });
    await inRedis.getAccessToken();
    await inMemory.getAccessToken();
    const counter = createClient({ url: redis.url });
    await counter.connect();
    const before = await commandsProcessed(counter);
    const [memoryOps, redisOps] = await medians([() => inMemory.getAccessToken(), () => inRedis.getAccessToken()]);
    // The first INFO is counted once it has run, so it is in the difference.
    const redisCommandsDuringHotPath = (await commandsProcessed(counter)) - before - 1;
    await counter.close();
    await storageProvider.close();
    return { shared, own, memoryOps: memoryOps!, redisOps: redisOps!, redisCommandsDuringHotPath };
  } finally {
    process.env = saved;
    await server.close();
    await redis.stop();
  }
}

/**
 * Token requests per token lifetime while Redis goes away mid-refresh past
 * the lease (down, out of memory, paused), `trials` of each: one refresh is
 * due per trial, so 1.0 is the least. Undefined without redis-server.
 */
export async function measureOutages(trials: number): Promise<{ perLifetime: number; trials: readonly OutageTrial[] } | undefined> {
  if (!redisServerPath()) return undefined;
  const server = await startAuthServer();
  const redis = await startRedis({ appendOnly: true });
  const saved = { ...process.env };
  Object.assign(process.env, server.env());
  const runs: OutageTrial[] = [];
  try {
    for (const kind of ['down', 'oom', 'paused'] as OutageKind[]) {
      for (let trial = 0; trial < trials; trial++) runs.push(await outageTrial(server, redis, kind, `bench-outage-${kind}-${trial}`));
    }
  } finally {
    process.env = saved;
    await server.close();
    await redis.stop();
  }
  return { perLifetime: runs.reduce((total, t) => total + t.tokenRequests, 0) / runs.length, trials: runs };
}
