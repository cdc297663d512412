// npm run stress: the long versions of the reliability tests, printed as a
// table of figures. Everything runs against the embedded server on 127.0.0.1.
import { Auth } from '../generated/src/index.js';
import { LOCK_STALE_MS } from '../generated/src/runtime/lock.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, startAuthServer } from './server/auth-server.js';
import { tempHome } from './support/env.js';
import { fuzzSpecs } from './support/fuzz-run.js';
import { lockTakeover, pausedRefresh, takeoverRace } from './support/lock-scenarios.js';
import { clockSkewRuns, writeFailureRounds } from './support/engine-scenarios.js';
import { crashKeychainWrites } from './support/keychain-scenarios.js';
import { KEYCHAIN_INSTALL_HINT, keychainToolsMissing, startKeychain, type RunningKeychain } from './support/keychain.js';
import { concurrentRound, crashWrites, inPlaceReads } from './support/scenarios.js';
import { ROOT } from './support/spec-fixture.js';
import { scriptedUserLogin } from './support/user-agent.js';

// `npm run stress -- lock` (or concurrent, engine, crash, inplace, fuzz, keychain) runs only those groups of rows.
const only = process.argv.slice(2);
const wanted = (group: string) => only.length === 0 || only.includes(group);

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

async function userLogin(profileName: string, secretStorage?: 'keychain'): Promise<void> {
  const user = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName, ...(secretStorage ? { secretStorage } : {}) });
  const info = await user.deviceUserLoginInitiate();
  const done = user.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}
const pausedProfiles = Array.from({ length: 10 }, (_, i) => `stress-paused-${i}`);
await Promise.all(['stress-user', ...(wanted('lock') ? pausedProfiles : [])].map((name) => userLogin(name)));
await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'stress-service' }).ensureInitialized();

for (const [profile, processes, rounds] of wanted('concurrent')
  ? ([
      ['stress-user', 32, 20],
      ['stress-service', 32, 5],
    ] as const)
  : []) {
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
  row(
    `${processes} processes x ${rounds} rounds on one expired ${profile === 'stress-user' ? 'user (rotating refresh token)' : 'service account'} profile`,
    `${refreshes} token requests seen (${rounds} expected), ${served}/${processes * rounds} served, ${lost} rounds with failures${problems.length ? `; ${problems[0]}` : ''}`,
    problems.length === 0,
  );
}

for (const when of wanted('lock') ? (['in-flight', 'before-send'] as const) : []) {
  const rounds = 3;
  let trials = 0;
  let served = 0;
  let processes = 0;
  let tokenRequests = 0;
  let lost = 0;
  const failures: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await pausedRefresh(server, home, pausedProfiles, when);
    trials += result.trials;
    served += result.served;
    processes += result.processes;
    tokenRequests += result.tokenRequests;
    lost += result.lost;
    failures.push(...result.failures);
  }
  row(
    `refresher paused with SIGSTOP for ${(LOCK_STALE_MS + 1500) / 1000} s ${when === 'in-flight' ? 'while its refresh request is in flight' : 'right before its refresh request is sent'}, 2 more processes waiting, ${trials} trials`,
    `${lost} sessions lost, ${served}/${processes} served, ${tokenRequests} token requests seen (${trials} expected)${failures.length ? `; ${failures[0]}` : ''}`,
    lost === 0 && served === processes && tokenRequests === trials,
  );
}

if (wanted('lock')) {
  const race = await takeoverRace(30, 6);
  row(
    `${race.contenders} processes taking over a killed holder's lock at the same moment, ${race.trials} trials`,
    `${race.overlaps} times two held the lock at once, ${race.turns}/${race.trials * race.contenders} turns taken${race.failures.length ? `; ${race.failures[0]}` : ''}`,
    race.overlaps === 0 && race.turns === race.trials * race.contenders,
  );

  const takeovers: number[] = [];
  let tookOver = 0;
  for (let trial = 0; trial < 5; trial++) {
    const result = await lockTakeover(server, home, 'stress-user');
    if (result.tookOver && result.ok) {
      tookOver++;
      takeovers.push(result.ms);
    } else console.error(`takeover trial ${trial}: ${result.detail}`);
  }
  row(
    'lock holder killed with SIGKILL while holding the lock, 5 trials',
    `${tookOver}/5 taken over; next process served after ${takeovers.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')} (process start included)`,
    tookOver === 5,
  );
}

if (wanted('engine')) {
  for (const shift of [3000, -3000, 86_400]) {
    const skew = await clockSkewRuns(server, shift, 10, 5);
    row(
      `clock ${shift > 0 ? '+' : ''}${shift} s off the server's, 10 processes in turn on one service account profile, 5 calls each`,
      `${skew.tokenRequests} token requests seen (1 expected), ${skew.failedRuns} runs handed more than one token or failed`,
      skew.tokenRequests === 1 && skew.failedRuns === 0,
    );
  }
  const writes = await writeFailureRounds(server, USER_CLIENT_ID, 20);
  row(
    'storage write failing right after each refresh of a user (rotating refresh token) session, 20 rounds',
    `${writes.storageErrors}/20 reported as ERR_STORAGE, ${writes.refreshes} token requests seen (21 expected), ${writes.lostSessions} sessions lost`,
    writes.storageErrors === 20 && writes.refreshes === 21 && writes.lostSessions === 0,
  );
}

if (wanted('crash')) {
  const crash = await crashWrites(1000, 7);
  row(
    'state writer killed with SIGKILL at random moments',
    `${crash.kills} kills, ${crash.bad.length} torn or unreadable files, ${crash.leftoverTemps} temporary files left after the next write`,
    crash.bad.length === 0 && crash.leftoverTemps === 0,
  );
}

// The concurrency and crash rows again, with the secrets in the OS keychain:
// gnome-keyring in a private D-Bus session, unlocked with a test password.
if (wanted('keychain')) {
  const missing = keychainToolsMissing();
  if (missing.length > 0) row('OS keychain rows', `not run: ${missing.join(', ')} missing; ${KEYCHAIN_INSTALL_HINT}`, false);
  else {
    const keychain: RunningKeychain = await startKeychain();
    Object.assign(process.env, keychain.env);
    try {
      await userLogin('stress-keychain-user', 'keychain');
      await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'stress-keychain-service', secretStorage: 'keychain' }).ensureInitialized();
      for (const [profile, processes, rounds] of [
        ['stress-keychain-user', 32, 20],
        ['stress-keychain-service', 32, 5],
      ] as const) {
        let refreshes = 0;
        let served = 0;
        let lost = 0;
        const problems: string[] = [];
        for (let round = 0; round < rounds; round++) {
          const result = await concurrentRound(server, home, profile, processes, keychain.env);
          refreshes += result.tokenRequests;
          served += result.ok;
          if (result.tokenRequests !== 1 || result.distinctTokens !== 1) problems.push(`round ${round}: ${result.tokenRequests} token requests, ${result.distinctTokens} tokens`);
          if (result.failures.length > 0) {
            lost++;
            problems.push(...result.failures.slice(0, 2));
          }
        }
        row(
          `keychain mode: ${processes} processes x ${rounds} rounds on one expired ${profile === 'stress-keychain-user' ? 'user (rotating refresh token)' : 'service account'} profile`,
          `${refreshes} token requests seen (${rounds} expected), ${served}/${processes * rounds} served, ${lost} rounds with failures${problems.length ? `; ${problems[0]}` : ''}`,
          problems.length === 0,
        );
      }
      const crash = await crashKeychainWrites(500, 7, keychain.env);
      row(
        'keychain mode: state writer killed with SIGKILL at random moments',
        `${crash.kills} kills, ${crash.bad.length} torn, unreadable or mismatched states${crash.bad.length ? ` (${crash.bad[0]})` : ''}, ${crash.plainRefreshTokens} refresh tokens in a file, ${crash.leftoverTemps} temporary files left after the next write`,
        crash.bad.length === 0 && crash.leftoverTemps === 0 && crash.plainRefreshTokens === 0,
      );
    } finally {
      await keychain.stop();
    }
  }
}

if (wanted('inplace')) {
  const inPlace = await inPlaceReads(1500);
  row(
    'token.json rewritten in place (truncate, then write) in a loop by another process while both readers read it',
    `${inPlace.reads} reads, ${inPlace.falseCorruption.length} reported a whole file as corrupt or gave a torn state${inPlace.falseCorruption.length ? ` (${[...new Set(inPlace.falseCorruption)].join(', ')})` : ''}`,
    inPlace.falseCorruption.length === 0,
  );
}

if (wanted('fuzz')) {
  const fuzz = fuzzSpecs(ROOT, 1, 1500);
  row(
    'seeded spec mutations',
    `${fuzz.mutations} mutations: ${fuzz.rejectedWithErrors} rejected with formatted errors, ${fuzz.generated} generated and type-checked; ${fuzz.crashes.length} crashes, ${fuzz.unformattedLines.length} unformatted lines, ${fuzz.typeErrors.length} type errors`,
    fuzz.crashes.length + fuzz.unformattedLines.length + fuzz.typeErrors.length === 0,
  );
}
await server.close();

console.log('| scenario | figures | result |');
console.log('|---|---|---|');
for (const [scenario, figures, result] of rows) console.log(`| ${scenario} | ${figures} | ${result} |`);
process.exitCode = failed ? 1 : 0;
