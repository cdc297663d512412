// 16 workers serving one rotating user session kept in a Redis deployment
// (Cluster or Sentinel) while its master is killed and a replica takes over;
// and how many acknowledged writes asynchronous replication loses when that
// happens. Shared by test/redis-deployments.test.ts and `npm run stress:fleet`.
import { Auth, Session } from '../../generated/src/index.js';
import type { RedisStorageProvider } from '../../generated/examples/providers/redis_shared.js';
import { USER_CLIENT_ID, type RunningServer } from '../server/auth-server.js';
import { scriptedUserLogin } from './user-agent.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After the failover window, calls may still fail this long while clients rediscover the new master. */
export const FAILOVER_GRACE_MS = 5000;

export interface FailoverRun {
  readonly workers: number;
  readonly calls: number;
  readonly failedCalls: number;
  /** Calls that failed after the window (the new master answering) plus the grace. */
  readonly failedAfterWindow: number;
  /** Calls served after the window plus the grace: the run goes on until there are enough of them. */
  readonly servedAfterWindow: number;
  /** From the kill to the first write the new master accepted. */
  readonly windowMs: number;
  readonly lostSessions: number;
  readonly tokenRequests: number;
  readonly tokenErrors: number;
  /** Token lifetimes the run held (a token is used for 3/4 of its lifetime). */
  readonly lifetimes: number;
  readonly failures: Record<string, number>;
  /** The first failure's message, to see what went wrong. */
  readonly firstFailure: string | undefined;
}

async function seed(server: RunningServer, provider: RedisStorageProvider, profile: string): Promise<void> {
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: profile, storageProvider: provider });
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

/**
 * Seeds a session, runs `workers` workers for at least `durationMs` (a call
 * every 100 ms each), and calls `failOver` at `failAtMs`. The run goes on
 * past `durationMs` until the failover window has closed and `workers * 3`
 * calls were served after it and its grace, however slow the machine is (at
 * most two minutes more). `makeProvider` gives each worker its own connection.
 */
export async function serveThroughFailover(
  server: RunningServer,
  ttlSeconds: number,
  makeProvider: () => RedisStorageProvider,
  failOver: () => Promise<unknown>,
  options: { profile: string; workers?: number; durationMs: number; failAtMs: number },
): Promise<FailoverRun> {
  const workers = options.workers ?? 16;
  const providers: RedisStorageProvider[] = [];
  const provider = () => {
    const p = makeProvider();
    providers.push(p);
    return p;
  };
  try {
    await seed(server, provider(), options.profile);
    server.resetCounts();
    const startedAt = Date.now();
    const stopAt = startedAt + options.durationMs;
    const hardStopAt = stopAt + 120_000;
    const outcomes: { at: number; error?: string }[] = [];
    let firstFailure: string | undefined;
    let window = { from: Infinity, to: Infinity };
    let servedAfterWindow = 0;
    const running = () => {
      const now = Date.now();
      return now < stopAt || (now < hardStopAt && servedAfterWindow < workers * 3);
    };
    const worker = async () => {
      const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: options.profile, storageProvider: provider() });
      const session = new Session(auth);
      while (running()) {
        try {
          const response = await session.fetch('/data/v1/searches');
          await response.arrayBuffer();
          const at = Date.now();
          outcomes.push(response.ok ? { at } : { at, error: `HTTP ${response.status}` });
          if (response.ok && at > window.to + FAILOVER_GRACE_MS) servedAfterWindow++;
        } catch (error) {
          outcomes.push({ at: Date.now(), error: (error as { code?: string }).code ?? (error as Error).name });
          firstFailure ??= `${(error as Error).message} (${Date.now() - startedAt} ms into the run)`;
        }
        await sleep(100);
      }
    };
    const fault = (async () => {
      await sleep(Math.max(0, startedAt + options.failAtMs - Date.now()));
      const from = Date.now();
      await failOver();
      // The window ends with the first write a new connection gets through.
      const probe = provider();
      for (;;) {
        try {
          await probe.saveObj(`.planet/${options.profile}/probe.json`, { at: Date.now() });
          break;
        } catch {
          await sleep(50);
        }
      }
      window = { from, to: Date.now() };
    })();
    await Promise.all([...Array.from({ length: workers }, worker), fault]);
    const ranMs = Date.now() - startedAt;
    const failures: Record<string, number> = {};
    for (const outcome of outcomes) if (outcome.error) failures[outcome.error] = (failures[outcome.error] ?? 0) + 1;
    // The session survived when a new worker can still refresh it (rotation with reuse detection revokes a spent refresh token).
    let lostSessions = 0;
    try {
      await Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: options.profile, storageProvider: provider() }).refresh();
    } catch {
      lostSessions = 1;
    }
    const tokenRequests = server.count('token:refresh_token') - 1;
    return {
      workers,
      calls: outcomes.length,
      failedCalls: outcomes.filter((o) => o.error).length,
      failedAfterWindow: outcomes.filter((o) => o.error && o.at > window.to + FAILOVER_GRACE_MS).length,
      servedAfterWindow,
      windowMs: window.to - window.from,
      lostSessions,
      tokenRequests,
      tokenErrors: server.tokenErrors(),
      lifetimes: ranMs / 1000 / (ttlSeconds * 0.75),
      failures,
      firstFailure,
    };
  } finally {
    await Promise.all(providers.map((p) => p.close()));
  }
}

/**
 * One writer saving a growing number as fast as Redis acknowledges it while
 * the master is killed: how many acknowledged saves the promoted replica
 * does not have (asynchronous replication's loss).
 */
export async function acknowledgedWritesLost(makeProvider: () => RedisStorageProvider, failOver: () => Promise<unknown>, key: string): Promise<{ acknowledged: number; survived: number; lost: number }> {
  const writer = makeProvider();
  const reader = makeProvider();
  try {
    let acknowledged = 0;
    let failing = false;
    const writing = (async () => {
      for (let n = 1; !failing; n++) {
        try {
          await writer.saveObj(key, { n });
          acknowledged = n;
        } catch {
          return;
        }
      }
    })();
    while (acknowledged < 200) await sleep(5);
    await failOver();
    failing = true;
    await writing;
    let survived: number | undefined;
    for (let i = 0; i < 400 && survived === undefined; i++) {
      survived = await reader.loadObj(key).then(
        (data) => Number(data['n']),
        () => undefined,
      );
      if (survived === undefined) await sleep(50);
    }
    if (survived === undefined) throw new Error('the new master never answered');
    return { acknowledged, survived, lost: Math.max(0, acknowledged - survived) };
  } finally {
    await Promise.all([writer.close(), reader.close()]);
  }
}
