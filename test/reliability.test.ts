// Short versions of the reliability scenarios (the long ones run in
// `npm run stress`): processes sharing a profile, a paused or killed lock
// holder, contenders racing for a dead holder's lock, writers killed
// mid-write, files that cannot be trusted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { expect, jest } from '@jest/globals';
import { Auth, StateError } from '../generated/src/index.js';
import { readJsonFileSync } from '../generated/src/runtime/profile.js';
import { FileStore } from '../generated/src/runtime/store.js';
import { LOCK_FOLDER, LOCK_STALE_MS, withFolderLock } from '../generated/src/runtime/lock.js';
import { M2M_CLIENT_ID, M2M_CLIENT_SECRET, USER_CLIENT_ID, type RunningServer } from './server/auth-server.js';
import { useEmbeddedServer } from './support/server-fixture.js';
import { lockOnDisk, lockTakeover, pausedRefresh, takeoverRace } from './support/lock-scenarios.js';
import { concurrentRound, crashWrites, start } from './support/scenarios.js';
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

test('a lock holder killed with SIGKILL while it holds the lock: the next process takes the lock over and is served', async () => {
  await userProfile('orphaned');
  const result = await lockTakeover(server, home, 'orphaned');
  expect(result).toMatchObject({ tookOver: true, ok: true });
}, 60_000);

describe(`a refresher paused with SIGSTOP for longer than the stale time (${LOCK_STALE_MS} ms) keeps its turn`, () => {
  // Five trials at once here (15 processes); `npm run stress -- lock` runs 30 of each.
  const profiles = Array.from({ length: 5 }, (_, i) => `paused-${i}`);
  for (const when of ['in-flight', 'before-send'] as const) {
    test(`${when === 'in-flight' ? 'while its refresh request is in flight' : 'right before its refresh request is sent'}: 5 trials, 0 sessions lost, 0 failed runs`, async () => {
      await Promise.all(profiles.map(userProfile));
      const result = await pausedRefresh(server, home, profiles, when);
      expect(result).toEqual({ trials: 5, processes: 15, served: 15, failures: [], tokenRequests: 5, lost: 0 });
    }, 120_000);
  }
});

test("contenders taking over a dead holder's lock at the same moment never hold it together", async () => {
  const result = await takeoverRace(4, 4);
  expect(result).toEqual({ trials: 4, contenders: 4, turns: 16, overlaps: 0, failures: [] });
}, 120_000);

describe('the lock on disk', () => {
  const folder = () => join(home, 'profile');
  const generationDir = (n: number) => join(folder(), LOCK_FOLDER, String(n));
  const ownProcess = () => {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return {
      pid: process.pid,
      host: hostname(),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      pidNamespace: readlinkSync('/proc/self/ns/pid'),
      startTime: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
    };
  };
  const plant = (n: number, owner: Record<string, unknown>, released = false) => {
    mkdirSync(generationDir(n), { recursive: true });
    writeFileSync(join(generationDir(n), 'owner.json'), JSON.stringify({ token: `planted-${n}`, acquiredAt: new Date().toISOString(), ...owner }));
    if (released) writeFileSync(join(generationDir(n), 'released'), '');
  };

  test('each turn is a new, higher generation; a released one is kept until the next turn removes it', async () => {
    for (const expected of [1, 2, 3]) {
      const seen = await withFolderLock(folder(), async (turn) => {
        await turn.assertHeld();
        return lockOnDisk(folder());
      });
      expect(seen).toEqual({ generation: expected, pid: process.pid, released: false });
      expect(lockOnDisk(folder())).toEqual({ generation: expected, pid: process.pid, released: true });
      expect(readdirSync(join(folder(), LOCK_FOLDER))).toEqual([String(expected)]);
    }
  });

  test('a turn that has ended cannot be used to write', async () => {
    const turn = await withFolderLock(folder(), async (t) => t);
    await expect(turn.assertHeld()).rejects.toMatchObject({ code: 'ERR_TURN_LOST' });
  });

  test('an owner whose pid now belongs to another process (its start time differs) is taken over at once', async () => {
    plant(7, { ...ownProcess(), startTime: '1' });
    expect(await withFolderLock(folder(), async () => lockOnDisk(folder())!.generation)).toBe(8);
  });

  test('a live owner on this machine is never taken over; waiting ends when the signal aborts', async () => {
    plant(4, ownProcess());
    const error = await withFolderLock(folder(), async () => 'taken', { signal: AbortSignal.timeout(1500) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_ABORTED' });
    expect(lockOnDisk(folder())).toEqual({ generation: 4, pid: process.pid, released: false });
  });

  test('temporary folders left by dead processes are removed by the next holder', async () => {
    const dead = spawnSync('true').pid;
    const temp = join(folder(), LOCK_FOLDER, `tmp.${dead}.0123456789ab`);
    plant(2, { ...ownProcess(), pid: dead }, true);
    mkdirSync(temp);
    writeFileSync(join(temp, 'owner.json'), JSON.stringify({ ...ownProcess(), pid: dead, token: 'x' }));
    await withFolderLock(folder(), async () => undefined);
    expect(readdirSync(join(folder(), LOCK_FOLDER))).toEqual(['3']);
  });

  describe('a holder on another host (a shared home folder) is checked by its heartbeat', () => {
    /** Rewrites the holder's owner record as if it ran on another machine, where its pid means nothing here. */
    const moveToAnotherHost = () => {
      const path = join(generationDir(lockOnDisk(folder())!.generation), 'owner.json');
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), host: 'elsewhere.example', bootId: 'another-boot' }));
    };

    test('while its heartbeat goes on, it keeps the lock', async () => {
      const holder = start('lock-holder.mjs', [folder()], {});
      try {
        await holder.firstLine;
        moveToAnotherHost();
        const error = await withFolderLock(folder(), async () => 'taken', { signal: AbortSignal.timeout(LOCK_STALE_MS * 2) }).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'ERR_ABORTED' });
        holder.send('check');
        expect(JSON.parse(await holder.line(1))).toEqual({ held: true });
      } finally {
        holder.kill();
      }
    }, 30_000);

    test('once its heartbeat stops (paused), it is taken over and its assertHeld rejects with ERR_TURN_LOST', async () => {
      const holder = start('lock-holder.mjs', [folder()], {});
      try {
        await holder.firstLine;
        const generation = lockOnDisk(folder())!.generation;
        holder.signal('SIGSTOP');
        moveToAnotherHost();
        const outcomes = await withFolderLock(folder(), async (turn) => {
          const mine = lockOnDisk(folder())!.generation;
          holder.signal('SIGCONT');
          holder.send('check');
          const theirs = JSON.parse(await holder.line(1)) as { held: boolean; code?: string };
          await turn.assertHeld();
          return { mine, theirs };
        });
        expect(outcomes).toMatchObject({ mine: generation + 1, theirs: { held: false, code: 'ERR_TURN_LOST' } });
      } finally {
        holder.kill();
      }
    }, 30_000);
  });
});

// 40 kills here (each one a new process); `npm run stress -- crash` kills 1000.
test('a writer killed at random moments 40 times never leaves a torn file, and its temporary files are cleared', async () => {
  const result = await crashWrites(40);
  expect(result).toEqual({ kills: 40, bad: [], leftoverTemps: 0 });
}, 300_000);

describe('a token file rewritten in place (truncate, then write) as the Python CLI does', () => {
  // The reader's pauses between attempts run on simulated time, so how long
  // the writer takes on a busy machine does not matter: the file is completed
  // once the reader has seen it torn and is waiting to read again.
  const COMPLETE = `${JSON.stringify({ access_token: 'written-in-place', seq: 1, padding: 'x'.repeat(4096) }, null, 2)}\n`;
  const torn = { empty: '', 'half written': COMPLETE.slice(0, COMPLETE.length / 2) };
  afterEach(() => jest.useRealTimers());

  for (const [state, text] of Object.entries(torn)) {
    test.each([1, 2, 3, 4])(`a reader that finds the file ${state} and sees it completed after %i pause(s) returns the whole new state`, async (pauses) => {
      const folder = join(home, '.planet', 'in-place');
      mkdirSync(folder, { recursive: true });
      const path = join(folder, 'token.json');
      writeFileSync(path, text);
      jest.useFakeTimers({
        doNotFake: [
          'Date',
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'requestAnimationFrame',
          'cancelAnimationFrame',
          'requestIdleCallback',
          'cancelIdleCallback',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
        ],
      });
      const read = new FileStore(home).loadObj('.planet/in-place/token.json');
      let outcome: unknown;
      read.then(
        (data) => (outcome = data),
        (error: unknown) => (outcome = error),
      );
      for (let pause = 1; pause <= pauses; pause++) {
        // The reader has read the torn file and is waiting to read it again.
        while (jest.getTimerCount() === 0 && outcome === undefined) await new Promise((r) => setImmediate(r));
        expect(outcome).toBeUndefined();
        if (pause === pauses) writeFileSync(path, COMPLETE);
        jest.runOnlyPendingTimers();
      }
      jest.useRealTimers();
      expect(await read).toEqual(JSON.parse(COMPLETE));
    });
  }

  test('a reader that finds the file torn through every pause reports it as corrupt and leaves it as it is', async () => {
    const folder = join(home, '.planet', 'in-place');
    mkdirSync(folder, { recursive: true });
    const path = join(folder, 'token.json');
    writeFileSync(path, torn['half written']);
    jest.useFakeTimers({
      doNotFake: [
        'Date',
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
      ],
    });
    const read = new FileStore(home).loadObj('.planet/in-place/token.json').catch((e: unknown) => e);
    let pauses = 0;
    let settled = false;
    void read.then(() => (settled = true));
    while (!settled) {
      if (jest.getTimerCount() > 0) {
        pauses++;
        jest.runOnlyPendingTimers();
      }
      await new Promise((r) => setImmediate(r));
    }
    jest.useRealTimers();
    expect(pauses).toBeGreaterThanOrEqual(1);
    expect(await read).toMatchObject({ code: 'ERR_STATE_CORRUPT', location: path });
    expect(readFileSync(path, 'utf8')).toBe(torn['half written']);
  });

  test('a file that stays corrupt is still reported, and left as it is', async () => {
    const folder = join(home, '.planet', 'corrupt');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'token.json'), '{"access_token": "cut off');
    const error = await new FileStore(home).loadObj('.planet/corrupt/token.json').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_STATE_CORRUPT', location: join(folder, 'token.json') });
    expect(() => readJsonFileSync(join(folder, 'token.json'))).toThrow(expect.objectContaining({ code: 'ERR_STATE_CORRUPT' }));
    expect(readFileSync(join(folder, 'token.json'), 'utf8')).toBe('{"access_token": "cut off');
  });
});

describe('files that cannot be trusted are refused and left as they are', () => {
  const folder = () => join(home, '.planet', 'bad');
  const service = () => Auth.fromOAuthM2M({ clientId: M2M_CLIENT_ID, clientSecret: M2M_CLIENT_SECRET, profileName: 'bad' });

  test('a token file that is a symbolic link to elsewhere', async () => {
    mkdirSync(folder(), { recursive: true });
    const target = join(home, 'elsewhere.json');
    writeFileSync(target, '{"access_token": "planted", "_exp": 9999999999}');
    symlinkSync(target, join(folder(), 'token.json'));
    const error = await service()
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('ERR_STATE_UNSAFE');
    expect((error as Error).message).toContain('is a symbolic link');
    expect(readFileSync(target, 'utf8')).toBe('{"access_token": "planted", "_exp": 9999999999}');
  });

  test('wrong field types', async () => {
    mkdirSync(folder(), { recursive: true });
    writeFileSync(join(folder(), 'token.json'), '{"access_token": "abc", "_exp": "tomorrow"}');
    const error = await service()
      .getAccessToken()
      .catch((e: unknown) => e);
    expect((error as StateError).code).toBe('ERR_STATE_CORRUPT');
    expect((error as Error).message).toContain('field "_exp"');
    expect(readFileSync(join(folder(), 'token.json'), 'utf8')).toBe('{"access_token": "abc", "_exp": "tomorrow"}');
  });

  test('a missing folder is created (0700) at login', async () => {
    await service().ensureInitialized();
    expect(JSON.parse(readFileSync(join(folder(), 'token.json'), 'utf8'))).toHaveProperty('access_token');
  });
});
