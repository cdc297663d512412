// Fleet runs: groups of workers standing in for machines (a process each,
// its own HOME, nothing shared but Redis) on one session in Redis, while the
// embedded server counts what it sees. `runFleet` runs them for a time with
// short-lived tokens (`npm run stress:fleet`, `npm run bench`);
// `startFleetRounds` runs them in steps the tests drive, one call per worker
// per step, so what they assert does not depend on how fast the machine is.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { Auth } from '../../generated/src/index.js';
import { REFRESH_AT_LIFETIME_SHARE } from '../../generated/src/runtime/token.js';
import { RedisStorageProvider } from '../../generated/examples/providers/redis_shared.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from '../server/auth-server.js';
import { tempHome } from './env.js';
import type { RunningRedis } from './redis.js';
import { expiredToken } from './scenarios.js';
import { scriptedUserLogin } from './user-agent.js';

const GROUP = resolve(import.meta.dirname, 'workers', 'fleet-group.ts');

export interface FleetOptions {
  readonly flow: 'user' | 'service';
  readonly storage?: 'redis' | 'own';
  readonly groups?: number;
  readonly workersPerGroup?: number;
  readonly durationMs: number;
  /** Pause between one worker's API calls. */
  readonly pauseMs?: number;
  /** Called once the groups are running, with the time they started; the run waits for it. */
  readonly during?: (startedAt: number) => Promise<void>;
}

export interface FleetResult {
  readonly workers: number;
  readonly seconds: number;
  readonly apiOk: number;
  readonly failures: Record<string, number>;
  readonly failedCalls: number;
  readonly lostSessions: number;
  /** Refreshes (user) or client-credentials logins (service account) the server saw. */
  readonly tokenRequests: number;
  /** Token requests the server refused (a reused refresh token among them). */
  readonly tokenErrors: number;
  /** Interactive logins the server saw (device authorizations). */
  readonly logins: number;
  /**
   * Token lifetimes in the run: its length over the time a token is used
   * before it is renewed, 3/4 of its lifetime counted from the whole second
   * it arrived in (the saved `_iat`), so half a second less on average.
   */
  readonly lifetimes: number;
  /** Fewest token lifetimes the run could hold (each token renewed a whole second early). */
  readonly maxLifetimes: number;
  /** Shortest time between two token requests: a token renewed twice would show as a few milliseconds. */
  readonly shortestGapMs: number;
  readonly groupsFailed: string[];
}

/** Puts a session for `profile` in Redis, as one login before the fleet starts. */
export async function seedSession(redis: RunningRedis, flow: 'user' | 'service', profile: string): Promise<void> {
  const storageProvider = new RedisStorageProvider(redis.url);
  try {
    if (flow === 'user') {
      const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: profile, storageProvider });
      const info = await auth.deviceUserLoginInitiate();
      const done = auth.deviceUserLoginComplete(info);
      await scriptedUserLogin(info.verificationUriComplete!);
      await done;
    } else {
      await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: profile, storageProvider }).ensureInitialized();
    }
  } finally {
    await storageProvider.close();
  }
}

export async function runFleet(server: RunningServer, redis: RunningRedis, ttlSeconds: number, profile: string, options: FleetOptions): Promise<FleetResult> {
  const groups = options.groups ?? 3;
  const workersPerGroup = options.workersPerGroup ?? 16;
  const storage = options.storage ?? 'redis';
  server.resetCounts();
  const startAt = Date.now() + 1500;
  const children = Array.from({ length: groups }, () => {
    const config = {
      flow: options.flow,
      storage,
      profile,
      workers: workersPerGroup,
      durationMs: options.durationMs,
      pauseMs: options.pauseMs ?? 250,
      redisUrl: redis.url,
      clientId: options.flow === 'user' ? USER_CLIENT_ID : M2M_CLIENT_ID,
      clientSecret: M2M_CLIENT_SECRET,
      startAt,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', GROUP, JSON.stringify(config)], {
      env: { ...process.env, ...server.env(), HOME: tempHome() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.durationMs + 60_000);
    return new Promise<{ line: string; stderr: string; code: number | null }>((done) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ line: stdout.trim(), stderr, code });
      }),
    );
  });
  const grant = options.flow === 'user' ? 'token:refresh_token' : 'token:client_credentials';
  // The server's own count, sampled often, dates each token request to within a few milliseconds.
  const requestTimes: number[] = [];
  let sampled = 0;
  const sampler = setInterval(() => {
    const now = server.count(grant);
    for (; sampled < now; sampled++) requestTimes.push(Date.now());
  }, 10);
  if (options.during) {
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    await options.during(startAt);
  }
  const outcomes = await Promise.all(children);
  clearInterval(sampler);
  const gaps = requestTimes.slice(1).map((t, i) => t - requestTimes[i]!);
  const seconds = (Date.now() - startAt) / 1000;
  const failures: Record<string, number> = {};
  let apiOk = 0;
  let lostSessions = 0;
  const groupsFailed: string[] = [];
  for (const outcome of outcomes) {
    try {
      const counts = JSON.parse(outcome.line) as { ok: number; failures: Record<string, number>; lost: number };
      apiOk += counts.ok;
      lostSessions += counts.lost;
      for (const [reason, n] of Object.entries(counts.failures)) failures[reason] = (failures[reason] ?? 0) + n;
    } catch {
      groupsFailed.push(`exit ${outcome.code}: ${outcome.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    }
  }
  const counts = server.counts();
  const used = ttlSeconds * REFRESH_AT_LIFETIME_SHARE;
  return {
    workers: groups * workersPerGroup,
    seconds,
    apiOk,
    failures,
    failedCalls: Object.values(failures).reduce((a, b) => a + b, 0),
    lostSessions,
    tokenRequests: counts[grant] ?? 0,
    tokenErrors: server.tokenErrors(),
    logins: (counts['device_authorization'] ?? 0) + (counts['authorization'] ?? 0),
    lifetimes: options.durationMs / 1000 / (used - 0.5),
    maxLifetimes: options.durationMs / 1000 / (used - 1),
    shortestGapMs: gaps.length > 0 ? Math.min(...gaps) : Infinity,
    groupsFailed,
  };
}

/**
 * A `during` step that kills Redis with SIGKILL a third into the run, soon
 * after a refresh (so the outage falls inside the new token's validity:
 * workers must serve from it, not fail), starts it again from its
 * append-only file 0.8 s later, and counts the refreshes the server sees in
 * the half of the run after the restart.
 */
export function redisRestart(server: RunningServer, redis: RunningRedis, durationMs: number): { during: (startedAt: number) => Promise<void>; refreshesAfterRestart: () => number } {
  let after = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    during: async () => {
      await sleep(durationMs / 3);
      const seen = server.count('token:refresh_token');
      for (let i = 0; i < 400 && server.count('token:refresh_token') === seen; i++) await sleep(25);
      // Every worker picks up the new token on its next call; then Redis goes.
      await sleep(800);
      await redis.kill('SIGKILL');
      await sleep(800);
      await redis.restart();
      const atRestart = server.count('token:refresh_token');
      await sleep(durationMs / 2);
      after = server.count('token:refresh_token') - atRestart;
    },
    refreshesAfterRestart: () => after,
  };
}

/**
 * Moves the times of the session's saved token in Redis into the past, as if its access token had expired.
 * It reads and writes through the view the SDK uses for that session (bound to its client and the issuer in the environment).
 */
export async function expireInRedis(redis: RunningRedis, profile: string, flow: 'user' | 'service'): Promise<void> {
  const provider = new RedisStorageProvider(redis.url);
  const view = provider.forSession({ clientId: flow === 'user' ? USER_CLIENT_ID : M2M_CLIENT_ID, issuer: process.env['PLANET_AUTH_ISSUER']! });
  try {
    const key = `.planet/${profile}/token.json`;
    await view.saveObj(key, expiredToken(await view.loadObj(key)));
  } finally {
    await provider.close();
  }
}

export interface FleetRound {
  readonly workers: number;
  readonly ok: number;
  readonly failures: Record<string, number>;
  readonly lostSessions: number;
  /** Refreshes (user) or client-credentials logins (service account) the server saw in the round. */
  readonly tokenRequests: number;
  readonly tokenErrors: number;
  readonly logins: number;
  readonly groupsFailed: string[];
}

export interface FleetRounds {
  /** Every group starts `workersPerGroup` new workers that each make one call at the same moment. */
  round(): Promise<FleetRound>;
  close(): Promise<void>;
}

/** Starts the groups of a fleet in step mode; nothing runs until `round()`. */
export function startFleetRounds(server: RunningServer, redis: RunningRedis, profile: string, flow: 'user' | 'service', groups = 3, workersPerGroup = 16): FleetRounds {
  const children = Array.from({ length: groups }, () => {
    const config = {
      flow,
      storage: 'redis',
      profile,
      workers: workersPerGroup,
      durationMs: 0,
      pauseMs: 0,
      redisUrl: redis.url,
      clientId: flow === 'user' ? USER_CLIENT_ID : M2M_CLIENT_ID,
      clientSecret: M2M_CLIENT_SECRET,
      startAt: 0,
      rounds: true,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', GROUP, JSON.stringify(config)], {
      env: { ...process.env, ...server.env(), HOME: tempHome() },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-2000)));
    const lines: string[] = [];
    const waiting: ((line: string | undefined) => void)[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : lines.push(line)));
    const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    void closed.then(() => waiting.splice(0).forEach((w) => w(undefined)));
    const next = () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise<string | undefined>((r) => waiting.push(r)));
    return { child, next, closed, stderr: () => stderr };
  });
  const grant = flow === 'user' ? 'token:refresh_token' : 'token:client_credentials';
  return {
    async round() {
      server.resetCounts();
      for (const { child } of children) child.stdin.write('round\n');
      const outcomes = await Promise.all(children.map(async (c) => ({ line: await c.next(), stderr: c.stderr() })));
      const failures: Record<string, number> = {};
      let ok = 0;
      let lostSessions = 0;
      const groupsFailed: string[] = [];
      for (const outcome of outcomes) {
        try {
          const counts = JSON.parse(outcome.line ?? '') as { ok: number; failures: Record<string, number>; lost: number };
          ok += counts.ok;
          lostSessions += counts.lost;
          for (const [reason, n] of Object.entries(counts.failures)) failures[reason] = (failures[reason] ?? 0) + n;
        } catch {
          groupsFailed.push(`no counts: ${outcome.stderr.trim().split('\n').slice(-3).join(' / ')}`);
        }
      }
      const counts = server.counts();
      return {
        workers: groups * workersPerGroup,
        ok,
        failures,
        lostSessions,
        tokenRequests: counts[grant] ?? 0,
        tokenErrors: server.tokenErrors(),
        logins: (counts['device_authorization'] ?? 0) + (counts['authorization'] ?? 0),
        groupsFailed,
      };
    },
    async close() {
      for (const { child } of children) child.stdin.end();
      await Promise.all(children.map((c) => c.closed));
    },
  };
}
