// npm run stress: the long versions of the reliability tests, printed as a
// table of figures. Everything runs against the embedded server on 127.0.0.1.
import { Auth } from '../generated/src/index.js';
import { LOCK_STALE_MS } from '../generated/src/runtime/lock.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { fuzzSpecs } from './support/fuzz-run.js';
import { concurrentRound, crashWrites, lockTakeover } from './support/scenarios.js';
import { ROOT } from './support/spec-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

const server = await startAuthServer();
const home = tempHome();
Object.assign(process.env, server.env(), { HOME: home });
const rows: [string, string, string][] = [];
let failed = false;
const row = (scenario: string, figures: string, ok: boolean) => {
  rows.push([scenario, figures, ok ? 'ok' : 'FAILED']);
  failed ||= !ok;
  console.error(`${ok ? 'ok' : 'FAILED'}  ${scenario}: ${figures}`);
};

const user = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: 'stress-user' });
const info = await user.deviceUserLoginInitiate();
const done = user.deviceUserLoginComplete(info);
await scriptedUserLogin(info.verificationUriComplete!);
await done;
await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'stress-service' }).ensureInitialized();

for (const [profile, processes, rounds] of [['stress-user', 32, 20], ['stress-service', 32, 5]] as const) {
  let refreshes = 0;
  let served = 0;
  let lost = 0;
  const problems: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await concurrentRound(server, home, profile, processes);
    refreshes += result.tokenRequests;
    served += result.ok;
    if (result.tokenRequests !== 1 || result.distinctTokens !== 1) problems.push(`round ${round}: ${result.tokenRequests} token requests, ${result.distinctTokens} tokens`);
    if (result.failures.length > 0) {
      lost++;
      problems.push(...result.failures.slice(0, 2));
    }
  }
  row(`${processes} processes x ${rounds} rounds on one expired ${profile === 'stress-user' ? 'user (rotating refresh token)' : 'service account'} profile`, `${refreshes} token requests seen (${rounds} expected), ${served}/${processes * rounds} served, ${lost} rounds with failures${problems.length ? `; ${problems[0]}` : ''}`, problems.length === 0);
}

const takeovers: number[] = [];
let takeoverOk = true;
for (let trial = 0; trial < 3; trial++) {
  const result = await lockTakeover(server, home, 'stress-user');
  takeovers.push(result.ms);
  takeoverOk &&= result.ok;
}
row('lock holder killed with SIGKILL, 3 trials', `next process served after ${takeovers.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (stale after ${LOCK_STALE_MS / 1000} s)`, takeoverOk && Math.max(...takeovers) < LOCK_STALE_MS + 6000);

const crash = await crashWrites(1000, 7);
row('state writer killed with SIGKILL at random moments', `${crash.kills} kills, ${crash.bad.length} torn or unreadable files, ${crash.leftoverTemps} temporary files left after the next write`, crash.bad.length === 0 && crash.leftoverTemps === 0);

const fuzz = fuzzSpecs(ROOT, 1, 1500);
row(
  'seeded spec mutations',
  `${fuzz.mutations} mutations: ${fuzz.rejectedWithErrors} rejected with formatted errors, ${fuzz.generated} generated and type-checked; ${fuzz.crashes.length} crashes, ${fuzz.unformattedLines.length} unformatted lines, ${fuzz.typeErrors.length} type errors`,
  fuzz.crashes.length + fuzz.unformattedLines.length + fuzz.typeErrors.length === 0,
);
await server.close();

console.log('| scenario | figures | result |');
console.log('|---|---|---|');
for (const [scenario, figures, result] of rows) console.log(`| ${scenario} | ${figures} | ${result} |`);
process.exitCode = failed ? 1 : 0;
