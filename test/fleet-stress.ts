// npm run stress:fleet: the fleet run for a time (60 s each by default;
// FLEET_SECONDS changes it), printed as a table. Three groups of 16 workers,
// each group a process with its own HOME, share one session through a
// private redis-server; tokens live 5 seconds. test/fleet.test.ts drives the
// same fleet in steps instead, so its checks do not depend on the clock.
import { startAuthServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { redisRestart, runFleet, seedSession, type FleetResult } from './support/fleet.js';
import { REDIS_INSTALL_HINT, redisServerPath, startRedis } from './support/redis.js';

if (!redisServerPath()) {
  console.error(`redis-server is not installed; ${REDIS_INSTALL_HINT}`);
  process.exit(1);
}
const TTL = 5;
const seconds = Number(process.env['FLEET_SECONDS'] ?? 60);
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

try {
  await seedSession(redis, 'user', 'fleet-user');
  report(`3 machines x 16 workers, one rotating user session, ${TTL} s tokens, ${seconds} s`, await runFleet(server, redis, TTL, 'fleet-user', { flow: 'user', durationMs: seconds * 1000 }));
  await seedSession(redis, 'service', 'fleet-service');
  report(`3 machines x 16 workers, one service account, ${TTL} s tokens, ${seconds} s`, await runFleet(server, redis, TTL, 'fleet-service', { flow: 'service', durationMs: seconds * 1000 }));
  await seedSession(redis, 'user', 'fleet-restart');
  const restart = redisRestart(server, redis, seconds * 1000);
  const result = await runFleet(server, redis, TTL, 'fleet-restart', { flow: 'user', durationMs: seconds * 1000, during: restart.during });
  report(`as the first row, Redis killed with SIGKILL at ${(seconds / 3).toFixed(0)} s and restarted from its append-only file`, result, `, ${restart.refreshesAfterRestart()} refreshes after the restart`, restart.refreshesAfterRestart() >= 1);
} finally {
  await server.close();
  await redis.stop();
}

console.log('| scenario | figures | result |');
console.log('|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exitCode = failed ? 1 : 0;
