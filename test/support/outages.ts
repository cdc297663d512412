// Redis refusing writes in the middle of a refresh, for longer than the
// lease lasts: down (SIGKILL, restarted from its append-only file), out of
// memory (`maxmemory` with `noeviction`: writes and EVAL refused) or paused
// (SIGSTOP). Four workers, each with its own connection, share one rotating
// user session; the first one's refresh request is held at the server until
// the fault is in place, so its new tokens cannot be saved. Every wait is
// for a condition (the lease key's expiry time passed, tokens in Redis).
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createClient } from 'redis';
import { Auth } from '../../generated/src/index.js';
import { RedisStorageProvider } from '../../generated/examples/providers/redis_shared.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from '../server/auth-server.js';
import { seedSession } from './fleet.js';
import type { RunningRedis } from './redis.js';

export type OutageKind = 'down' | 'oom' | 'paused';

export interface OutageTrial {
  /** The session could not be refreshed any more afterwards (a spent refresh token came back, or no worker could be served). */
  readonly lost: boolean;
  /** Calls by the other workers that failed while Redis was away or before the holder's tokens were saved. */
  readonly failedCalls: number;
  /** Refresh requests from the held one until its tokens were in Redis (one is the least possible). */
  readonly tokenRequests: number;
  /** Refresh tokens the server refused as already spent. */
  readonly tokenErrors: number;
  /** Whether the holder's new tokens reached Redis once it was back. */
  readonly saved: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WORKERS = 4;

function rawClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: false } });
}

async function raw<T>(url: string, fn: (client: ReturnType<typeof rawClient>) => Promise<T>): Promise<T> {
  const client = rawClient(url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * One trial of `kind` on profile `profile`. `maxLeaseHoldMs` bounds how long
 * a worker may hold a lease (the provider's option): a short one ends the
 * holder's lease, and so the outage past it, in seconds; without it the
 * lease lasts as in production (15 s unless renewed).
 */
export async function outageTrial(server: RunningServer, redis: RunningRedis, kind: OutageKind, profile: string, maxLeaseHoldMs?: number): Promise<OutageTrial> {
  await seedSession(redis, 'user', profile);
  const lease = maxLeaseHoldMs === undefined ? {} : { maxLeaseHoldMs };
  const providers = Array.from({ length: WORKERS }, () => new RedisStorageProvider(redis.url, { commandTimeoutMs: 1000, ...lease }));
  const workers = providers.map((storageProvider) => Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: profile, storageProvider }));
  const [holder, ...others] = workers as [Auth, ...Auth[]];
  let failedCalls = 0;
  let saved = false;
  let lost = false;
  try {
    for (const worker of workers) await worker.getAccessToken();
    server.resetCounts();
    const hold = server.holdTokenRequests(1);
    const refreshing = holder.refresh().then(
      () => undefined,
      (error: unknown) => error,
    );
    await hold.arrived;
    // The holder's lease: when it ends unless renewed (renewals fail from here on); now if it already ended.
    const leaseEnds = await raw(redis.url, async (client) => {
      const [key] = await client.keys(`*{.planet/${profile}}/session.lease`);
      return Date.now() + (key === undefined ? 0 : Math.max(0, Number(await client.pTTL(key))));
    });
    if (kind === 'down') await redis.kill('SIGKILL');
    else if (kind === 'paused') redis.signal('SIGSTOP');
    else
      await raw(redis.url, async (client) => {
        await client.configSet({ 'maxmemory-policy': 'noeviction', maxmemory: '1' });
      });
    hold.release();
    await refreshing;
    const newToken = await holder.getAccessToken();
    // The others try to refresh while Redis is away and until the lease is gone there.
    const round = () => Promise.all(others.map((worker) => worker.refresh().catch(() => failedCalls++)));
    while (Date.now() < leaseEnds + 1000) {
      await round();
      await sleep(250);
    }
    if (kind === 'down') await redis.restart();
    else if (kind === 'paused') redis.signal('SIGCONT');
    else
      await raw(redis.url, async (client) => {
        await client.configSet({ maxmemory: '0' });
      });
    // Back: the others keep asking for a refresh until the holder's tokens are in Redis.
    const reader = new RedisStorageProvider(redis.url).forSession({ clientId: USER_CLIENT_ID, issuer: server.issuer });
    for (let attempt = 0; attempt < 400 && !saved; attempt++) {
      await round();
      const stored = await reader.loadObj(`.planet/${profile}/token.json`).catch(() => undefined);
      saved = stored?.['access_token'] === newToken;
      if (!saved) await sleep(100);
    }
    await reader.close();
    const tokenRequests = server.count('token:refresh_token');
    const tokenErrors = server.tokenErrors();
    // Afterwards every worker is served, and one more refresh works: the session is alive.
    for (const worker of workers) await worker.getAccessToken().catch(() => (lost = true));
    await others[0]!.refresh().catch(() => (lost = true));
    return { lost: lost || tokenErrors > 0, failedCalls, tokenRequests, tokenErrors, saved };
  } finally {
    await Promise.all(providers.map((p) => p.close().catch(() => undefined)));
  }
}

export interface PausedWriterTrial {
  /** Whether Redis held the paused worker's token at the end instead of the newer one. */
  readonly overwritten: boolean;
  /** Whether the other worker was served while the paused one held its unsaved token. */
  readonly othersServed: boolean;
  /** Logins the server saw (two: the paused worker's and the other's). */
  readonly logins: number;
}

const PAUSED_WRITER = resolve(import.meta.dirname, 'workers', 'paused-writer.ts');

/**
 * A service account's worker (a child process) stops with SIGSTOP right
 * after its token request is answered, before it saves; once its lease is
 * gone from Redis another worker logs in and saves newer tokens; then the
 * paused one goes on and asks three more times. Its late write and every
 * retry must leave the newer tokens in place.
 */
export async function pausedWriterTrial(server: RunningServer, redis: RunningRedis, profile: string): Promise<PausedWriterTrial> {
  server.resetCounts();
  const child = spawn(process.execPath, ['--import', 'tsx', PAUSED_WRITER, redis.url, profile], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const storageProvider = new RedisStorageProvider(redis.url, { commandTimeoutMs: 2000 });
  try {
    while (!out.includes('answered\n')) {
      if (child.exitCode !== null) throw new Error(`the paused worker ended early: ${out}`);
      await sleep(20);
    }
    // Its lease runs out in Redis (it cannot renew while stopped).
    await raw(redis.url, async (client) => {
      while ((await client.keys(`*{.planet/${profile}}/session.lease`)).length > 0) await sleep(100);
    });
    const other = Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: profile, storageProvider });
    const newer = await other.getAccessToken().catch(() => undefined);
    child.kill('SIGCONT');
    await exited;
    const reader = storageProvider.forSession({ clientId: M2M_CLIENT_ID, issuer: server.issuer });
    const stored = await reader.loadObj(`.planet/${profile}/token.json`);
    return { overwritten: newer === undefined || stored['access_token'] !== newer, othersServed: newer !== undefined, logins: server.count('token:client_credentials') };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await storageProvider.close();
  }
}
