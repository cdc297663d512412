// npm run stress:fleet: the fleet run for a time (60 s each by default;
// FLEET_SECONDS changes it), printed as a table. Three groups of 16 workers,
// each group a process with its own HOME, share one session through a
// private redis-server; tokens live 5 seconds. test/fleet.test.ts drives the
// same fleet in steps instead, so its checks do not depend on the clock.
import { createClient, createCluster, createSentinel } from 'redis';
import { RedisStorageProvider } from '../generated/examples/providers/redis_shared.js';
import { startAuthServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { acknowledgedWritesLost, FAILOVER_GRACE_MS, serveThroughFailover, type FailoverRun } from './support/failover.js';
import { redisRestart, runFleet, seedSession, type FleetResult } from './support/fleet.js';
import { outageTrial, pausedWriterTrial, type OutageKind, type OutageTrial, type PausedWriterTrial } from './support/outages.js';
import { REDIS_INSTALL_HINT, redisServerPath, startRedis } from './support/redis.js';
import { startCluster, startSentinel } from './support/redis-deploy.js';

if (!redisServerPath()) {
  console.error(`redis-server is not installed; ${REDIS_INSTALL_HINT}`);
  process.exit(1);
}
const TTL = 5;
const seconds = Number(process.env['FLEET_SECONDS'] ?? 60);
// `npm run stress:fleet -- deployments` runs only the Cluster, Sentinel and fence rows, `-- fences` only the fence row, `-- fleet` only the fleet rows,
// `-- outages` the rows of Redis away mid-refresh (`-- outages-down`, `-- outages-oom`, `-- outages-paused` one of them; OUTAGE_TRIALS trials each, 30 by default),
// `-- paused-writers` the row of workers paused past their lease before saving.
const only = process.argv[2];
const FAILOVER_TRIALS = Number(process.env['FAILOVER_TRIALS'] ?? 3);
const LOSS_TRIALS = Number(process.env['LOSS_TRIALS'] ?? 10);
const FAILOVER_SECONDS = 30;
const OUTAGE_TRIALS = Number(process.env['OUTAGE_TRIALS'] ?? 30);
const OUTAGES: Record<OutageKind, string> = {
  down: 'Redis down (SIGKILL, restarted from its append-only file)',
  oom: 'Redis out of memory (maxmemory 1 with noeviction: writes and EVAL refused)',
  paused: 'Redis paused (SIGSTOP)',
};

const server = await startAuthServer({ accessTokenTtl: TTL });
const redis = await startRedis({ appendOnly: true });
Object.assign(process.env, server.env(), { HOME: tempHome() });
const rows: string[][] = [];
let failed = false;

function report(scenario: string, result: FleetResult, extra = '', extraOk = true): void {
  const perLifetime = result.tokenRequests <= Math.ceil(result.maxLifetimes) && result.tokenRequests >= Math.floor(seconds / TTL) && result.shortestGapMs > TTL * 1000 * 0.4;
  const ok = extraOk && perLifetime && result.failedCalls === 0 && result.lostSessions === 0 && result.logins === 0 && result.tokenErrors === 0 && result.groupsFailed.length === 0;
  failed ||= !ok;
  const figures =
    `${result.tokenRequests} token requests for ${result.lifetimes.toFixed(1)} token lifetimes (at most ${result.maxLifetimes.toFixed(1)}; shortest gap ${(result.shortestGapMs / 1000).toFixed(2)} s), ${result.apiOk} API calls served, ` +
    `${result.failedCalls} failed, ${result.lostSessions} lost sessions, ${result.logins} logins, ${result.tokenErrors} refused token requests${extra}` +
    (result.failedCalls > 0 ? ` (${JSON.stringify(result.failures)})` : '') +
    (result.groupsFailed.length > 0 ? ` (groups failed: ${result.groupsFailed.join('; ')})` : '');
  rows.push([scenario, figures, ok ? 'ok' : 'FAILED']);
  console.error(`${ok ? 'ok' : 'FAILED'}  ${scenario}: ${figures}`);
}

/** Rows for `trials` failovers of a deployment while 16 workers serve, and for the writes replication lost. */
async function deploymentRows(name: string, makeProvider: () => RedisStorageProvider, failOver: (key: string) => Promise<unknown>, rejoin: () => Promise<void>): Promise<void> {
  const runs: FailoverRun[] = [];
  for (let trial = 0; trial < FAILOVER_TRIALS; trial++) {
    const profile = `${name.toLowerCase()}-failover-${trial}`;
    try {
      runs.push(await serveThroughFailover(server, TTL, makeProvider, () => failOver(`planet-auth:{.planet/${profile}}/token.json`), { profile, durationMs: FAILOVER_SECONDS * 1000, failAtMs: 10_000 }));
    } finally {
      await rejoin();
    }
  }
  const sum = (pick: (run: FailoverRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const ok = sum((r) => r.failedAfterWindow) === 0 && sum((r) => r.lostSessions) === 0 && sum((r) => r.tokenErrors) === 0;
  failed ||= !ok;
  const windows = runs.map((r) => (r.windowMs / 1000).toFixed(1)).join(', ');
  const figures =
    `${runs.length} trials: ${sum((r) => r.lostSessions)} sessions lost, ${sum((r) => r.failedAfterWindow)} failed calls after the failover window (+${FAILOVER_GRACE_MS / 1000} s), ` +
    `${sum((r) => r.failedCalls)} of ${sum((r) => r.calls)} calls failed in all (windows ${windows} s), ` +
    `${(sum((r) => r.tokenRequests) / sum((r) => r.lifetimes)).toFixed(2)} token requests per lifetime (${sum((r) => r.tokenRequests)} for ${sum((r) => r.lifetimes).toFixed(1)}), ${sum((r) => r.tokenErrors)} refused token requests`;
  const scenario = `${name}: master killed (SIGKILL) at 10 s of ${FAILOVER_SECONDS} s while 16 workers serve one rotating user session, ${TTL} s tokens`;
  rows.push([scenario, figures, ok ? 'ok' : 'FAILED']);
  console.error(`${ok ? 'ok' : 'FAILED'}  ${scenario}: ${figures}`);

  const losses: number[] = [];
  for (let trial = 0; trial < LOSS_TRIALS; trial++) {
    const key = `.planet/${name.toLowerCase()}-loss-${trial}/token.json`;
    try {
      losses.push((await acknowledgedWritesLost(makeProvider, () => failOver(`planet-auth:{.planet/${name.toLowerCase()}-loss-${trial}}/token.json`), key)).lost);
    } finally {
      await rejoin();
    }
  }
  const lossScenario = `${name}: one writer saving as fast as acknowledged, master killed (SIGKILL), asynchronous replication`;
  const lossFigures = `${losses.length} trials: acknowledged writes the promoted replica lacked ${losses.join(', ')} (${losses.filter((n) => n > 0).length} of ${losses.length} trials lost any)`;
  rows.push([lossScenario, lossFigures, 'measured']);
  console.error(`measured  ${lossScenario}: ${lossFigures}`);
}

try {
  if (only === undefined || only === 'deployments') {
    const cluster = await startCluster();
    try {
      await deploymentRows(
        'Cluster (3 masters, a replica each)',
        () => new RedisStorageProvider(createCluster({ rootNodes: [...cluster.rootNodes] })),
        (key) => cluster.failOver(key),
        () => cluster.rejoin(),
      );
    } finally {
      await cluster.stop();
    }
    const sentinel = await startSentinel();
    try {
      await deploymentRows(
        'Sentinel (master, replica, 3 sentinels)',
        () => new RedisStorageProvider(createSentinel({ name: sentinel.name, sentinelRootNodes: [...sentinel.sentinels] })),
        () => sentinel.failOver(),
        () => sentinel.rejoin(),
      );
    } finally {
      await sentinel.stop();
    }
  }
  if (only === undefined || only === 'deployments' || only === 'fences') await fenceRows();
  if (only === undefined || only === 'fleet') await fleetRows();
  for (const kind of ['down', 'oom', 'paused'] as const) if (only === undefined || only === 'outages' || only === `outages-${kind}`) await outageRow(kind);
  if (only === undefined || only === 'paused-writers') await pausedWriterRow();
} finally {
  await server.close();
  await redis.stop();
}

/** Fences after the counter is deleted (as eviction would) and after Redis restarts without persistence. */
async function fenceRows(): Promise<void> {
  const trials = 30;
  const empty = await startRedis();
  const store = new RedisStorageProvider(empty.url, { commandTimeoutMs: 1000, secrets: 'plain' });
  const raw = createClient({ url: empty.url });
  raw.on('error', () => undefined);
  let reusedAfterDelete = 0;
  let reusedAfterRestart = 0;
  let staleWrites = 0;
  try {
    await raw.connect();
    for (let trial = 0; trial < trials; trial++) {
      const lease = `.planet/fence-${trial}/session.lease`;
      const before = (await store.acquireLease(lease, 60_000))!;
      await store.releaseLease(lease, before);
      await raw.del(`planet-auth:{.planet/fence-${trial}}/session.lease.fence`);
      const after = (await store.acquireLease(lease, 60_000))!;
      if (!(after > before)) reusedAfterDelete++;
    }
    await raw.close();
    for (let trial = 0; trial < trials; trial++) {
      const lease = `.planet/restart-${trial}/session.lease`;
      const before = (await store.acquireLease(lease, 60_000))!;
      await empty.kill('SIGKILL');
      await empty.restart();
      let after: number | undefined;
      while (after === undefined) after = await store.acquireLease(lease, 60_000).catch(() => new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)));
      if (!(after > before)) reusedAfterRestart++;
      if (await store.saveObjFenced(`.planet/restart-${trial}/token.json`, { access_token: 'stale' }, lease, before)) staleWrites++;
    }
  } finally {
    await store.close();
    await empty.stop();
  }
  const ok = reusedAfterDelete === 0 && reusedAfterRestart === 0 && staleWrites === 0;
  failed ||= !ok;
  rows.push([
    `fencing counter deleted (as eviction would), ${trials} trials; Redis restarted without persistence (every key gone), ${trials} trials`,
    `${reusedAfterDelete} fences handed out twice after the delete; ${reusedAfterRestart} after the restart, ${staleWrites} writes by the holder from before the restart accepted`,
    ok ? 'ok' : 'FAILED',
  ]);
  console.error(`${ok ? 'ok' : 'FAILED'}  fences: ${rows.at(-1)![1]}`);
}

/** A row of `OUTAGE_TRIALS` trials of Redis away mid-refresh, past the holder's lease, with four workers on one rotating session. */
async function outageRow(kind: OutageKind): Promise<void> {
  const trials: OutageTrial[] = [];
  // Tokens that outlive the trial: one refresh per trial, the one Redis went away under.
  server.setAccessTokenTtl(3600);
  try {
    for (let trial = 0; trial < OUTAGE_TRIALS; trial++) {
      trials.push(await outageTrial(server, redis, kind, `outage-${kind}-${trial}`));
      console.error(`  ${kind} trial ${trial + 1}: ${JSON.stringify(trials.at(-1))}`);
    }
  } finally {
    server.setAccessTokenTtl(TTL);
  }
  const sum = (pick: (t: OutageTrial) => number) => trials.reduce((total, t) => total + pick(t), 0);
  const lost = sum((t) => (t.lost ? 1 : 0));
  const unsaved = sum((t) => (t.saved ? 0 : 1));
  const perLifetime = sum((t) => t.tokenRequests) / trials.length;
  const ok = lost === 0 && unsaved === 0 && perLifetime <= 1.1;
  failed ||= !ok;
  rows.push([
    `${OUTAGES[kind]} as a refresh is answered, past the lease; 4 workers, ${trials.length} trials`,
    `${trials.length} trials, ${lost} sessions lost, ${sum((t) => t.failedCalls)} failed calls (others' refreshes while Redis was away), ${perLifetime.toFixed(2)} token requests per lifetime, ${sum((t) => t.tokenErrors)} refused token requests, ${unsaved} holders' tokens not saved after Redis returned`,
    ok ? 'ok' : 'FAILED',
  ]);
  console.error(`${ok ? 'ok' : 'FAILED'}  ${rows.at(-1)![0]}: ${rows.at(-1)![1]}`);
}

/** A row of `OUTAGE_TRIALS` service-account workers paused with SIGSTOP past their lease, between their token's answer and its save. */
async function pausedWriterRow(): Promise<void> {
  const trials: PausedWriterTrial[] = [];
  server.setAccessTokenTtl(3600);
  try {
    for (let trial = 0; trial < OUTAGE_TRIALS; trial++) {
      trials.push(await pausedWriterTrial(server, redis, `paused-writer-${trial}`));
      console.error(`  paused writer trial ${trial + 1}: ${JSON.stringify(trials.at(-1))}`);
    }
  } finally {
    server.setAccessTokenTtl(TTL);
  }
  const overwritten = trials.filter((t) => t.overwritten).length;
  const unserved = trials.filter((t) => !t.othersServed).length;
  const logins = trials.reduce((total, t) => total + t.logins, 0);
  const ok = overwritten === 0 && unserved === 0 && logins === 2 * trials.length;
  failed ||= !ok;
  rows.push([
    `a worker paused (SIGSTOP) past its lease between its token's answer and its save, then going on and asking 3 more times; ${trials.length} trials`,
    `${trials.length} trials, ${overwritten} newer tokens overwritten (late write or retry), ${unserved} trials where the other worker was not served, ${logins} logins (2 per trial)`,
    ok ? 'ok' : 'FAILED',
  ]);
  console.error(`${ok ? 'ok' : 'FAILED'}  ${rows.at(-1)![0]}: ${rows.at(-1)![1]}`);
}

async function fleetRows(): Promise<void> {
  await seedSession(redis, 'user', 'fleet-user');
  report(`3 machines x 16 workers, one rotating user session, ${TTL} s tokens, ${seconds} s`, await runFleet(server, redis, TTL, 'fleet-user', { flow: 'user', durationMs: seconds * 1000 }));
  await seedSession(redis, 'service', 'fleet-service');
  report(`3 machines x 16 workers, one service account, ${TTL} s tokens, ${seconds} s`, await runFleet(server, redis, TTL, 'fleet-service', { flow: 'service', durationMs: seconds * 1000 }));
  await seedSession(redis, 'user', 'fleet-restart');
  const restart = redisRestart(server, redis, seconds * 1000);
  const result = await runFleet(server, redis, TTL, 'fleet-restart', { flow: 'user', durationMs: seconds * 1000, during: restart.during });
  report(
    `as the first row, Redis killed with SIGKILL at ${(seconds / 3).toFixed(0)} s and restarted from its append-only file`,
    result,
    `, ${restart.refreshesAfterRestart()} refreshes after the restart`,
    restart.refreshesAfterRestart() >= 1,
  );
}

console.log('| scenario | figures | result |');
console.log('|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exitCode = failed ? 1 : 0;
