// Short versions of the reliability scenarios (the long ones run in
// `npm run stress`): processes sharing a profile, a killed lock holder,
// writers killed mid-write, files that cannot be trusted.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Auth, StateError } from '../generated/src/index.js';
import { LOCK_STALE_MS } from '../generated/src/runtime/lock.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { concurrentRound, crashWrites, lockTakeover } from './support/scenarios.js';
import { scriptedUserLogin } from './support/user-agent.js';

const fixture = useEmbeddedServer();
let server: RunningServer;
let home: string;
beforeEach(() => {
  server = fixture.server();
  home = fixture.home();
});

async function userProfile(profile: string): Promise<void> {
  const auth = Auth.fromOAuthUserDeviceCode({ clientId: USER_CLIENT_ID, profileName: profile });
  const info = await auth.deviceUserLoginInitiate();
  const done = auth.deviceUserLoginComplete(info);
  await scriptedUserLogin(info.verificationUriComplete!);
  await done;
}

test('8 processes on one expired user profile: one refresh per round, every process served, no session lost (3 rounds)', async () => {
  await userProfile('shared');
  for (let round = 0; round < 3; round++) {
    const result = await concurrentRound(server, home, 'shared', 8);
    expect(result).toEqual({ processes: 8, ok: 8, failures: [], tokenRequests: 1, distinctTokens: 1 });
  }
}, 120_000);

test('8 processes on one expired service account profile: one client credentials request', async () => {
  await Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'service' }).ensureInitialized();
  const result = await concurrentRound(server, home, 'service', 8);
  expect(result).toEqual({ processes: 8, ok: 8, failures: [], tokenRequests: 1, distinctTokens: 1 });
}, 60_000);

test(`a lock left by a process killed with SIGKILL is taken over (stale after ${LOCK_STALE_MS} ms)`, async () => {
  await userProfile('orphaned');
  const result = await lockTakeover(server, home, 'orphaned');
  expect(result.ok).toBe(true);
  // The bound this SDK states: staleness plus one lock update interval and start-up slack.
  expect(result.ms).toBeLessThan(LOCK_STALE_MS + 6000);
}, 60_000);

test('a writer killed at random moments 200 times never leaves a torn file, and its temporary files are cleared', async () => {
  const result = await crashWrites(200);
  expect(result).toEqual({ kills: 200, bad: [], leftoverTemps: 0 });
}, 180_000);

describe('files that cannot be trusted are refused and left as they are', () => {
  const folder = () => join(home, '.planet', 'bad');
  const service = () => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'bad' });

  test('a token file that is a symbolic link to elsewhere', async () => {
    mkdirSync(folder(), { recursive: true });
    const target = join(home, 'elsewhere.json');
    writeFileSync(target, '{"access_token": "planted", "_exp": 9999999999}');
    symlinkSync(target, join(folder(), 'token.json'));
    const error = await service().getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('ERR_STATE_UNSAFE');
    expect((error as Error).message).toContain('is a symbolic link');
    expect(readFileSync(target, 'utf8')).toBe('{"access_token": "planted", "_exp": 9999999999}');
  });

  test('wrong field types', async () => {
    mkdirSync(folder(), { recursive: true });
    writeFileSync(join(folder(), 'token.json'), '{"access_token": "abc", "_exp": "tomorrow"}');
    const error = await service().getAccessToken().catch((e: unknown) => e);
    expect((error as StateError).code).toBe('ERR_STATE_CORRUPT');
    expect((error as Error).message).toContain('field "_exp"');
    expect(readFileSync(join(folder(), 'token.json'), 'utf8')).toBe('{"access_token": "abc", "_exp": "tomorrow"}');
  });

  test('a missing folder is created (0700) at login', async () => {
    await service().ensureInitialized();
    expect(JSON.parse(readFileSync(join(folder(), 'token.json'), 'utf8'))).toHaveProperty('access_token');
  });
});
