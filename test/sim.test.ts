// The session engine (templates/runtime/core) under the deterministic
// simulator: seeded schedules of processes and workers with faults, every
// invariant checked after every step. A failure prints the replay command
// (`npm run sim -- --seed N`) and the trace.
import { report, runSeed, type Schedule } from './sim/run.js';

async function expectSeeds(from: number, count: number): Promise<void> {
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSeed(seed);
    if (result.violations.length > 0) failures.push(failures.length === 0 ? report(result, 150) : `seed ${seed}: ${result.violations[0]} (npm run sim -- --seed ${seed})`);
  }
  expect(failures).toEqual([]);
}

async function expectSchedule(seed: number, schedule: Partial<Schedule>): Promise<{ served: number; calls: number; tokenRequests: number }> {
  const result = await runSeed(seed, schedule);
  if (result.violations.length > 0) throw new Error(report(result, 150));
  return result;
}

const none = { pauses: [], crashes: [], storageFaults: [], endpointFaults: [], wallSteps: [], neighbour: false } as const;

describe('the findings, as schedules', () => {
  test('opaque tokens without expires_in: every expiry after the first heals too', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const result = await expectSchedule(seed, { ...none, mode: seed % 2 ? 'disk' : 'fleet', opaque: true, rotating: true, lifetimeMs: 4_000, chaosMs: 60_000, procs: 2 });
      // Each process pays at most one 401 per expiry; nearly every call is served.
      expect(result.served).toBeGreaterThan(result.calls * 0.6);
    }
  });

  test('a token endpoint slower than a token lives: no expired token handed out', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, { ...none, mode: seed % 2 ? 'disk' : 'fleet', lifetimeMs: 4_000, chaosMs: 60_000, endpointFaults: [{ kind: 'slow', from: 0, ms: 60_000 }] });
    }
  });

  test('shared storage refusing writes during a refresh, and workers paused past their lease', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, {
        ...none,
        mode: 'fleet',
        rotating: true,
        lifetimeMs: 60_000,
        chaosMs: 180_000,
        storageFaults: [{ kind: 'write-fail', from: 40_000 + seed * 1000, ms: 30_000 }],
        pauses: [{ proc: 0, at: 44_000 + seed * 500, ms: 20_000 }],
      });
    }
  });

  test('shared storage out (down, out of memory, paused) for up to 60 s mid-refresh, lease included: the holder keeps the new tokens and saves them when storage returns; nobody spends the old refresh token', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      await expectSchedule(seed, {
        ...none,
        mode: 'fleet',
        procs: 4,
        rotating: true,
        lifetimeMs: 60_000,
        chaosMs: 240_000,
        outageOnRefresh: [10_000, 30_000, 60_000][seed % 3]!,
      });
    }
  });

  test('storage that refuses every write: the refresh token is never spent, so the next process still has the session', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, {
        ...none,
        mode: 'disk',
        rotating: true,
        lifetimeMs: 4_000,
        chaosMs: 60_000,
        storageFaults: [{ kind: 'write-fail', from: 0, ms: 60_000 }],
        crashes: [{ proc: 0, at: 10_000 + seed * 1000 }],
      });
    }
  });

  test('a refusable 200 after rotation: salvaged tokens keep the session, an unusable answer never says "try again"', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, { ...none, rotating: seed % 3 !== 0, lifetimeMs: 4_000, chaosMs: 60_000, endpointFaults: [{ kind: seed % 2 ? 'salvageable' : 'unusable', from: 5_000, ms: 20_000 }] });
    }
  });

  test('a session the server ended costs one request per process, then fails fast', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      // A crash with rotated tokens unsaved ends the session; the invariant refuses any process sending a refused refresh token again.
      await expectSchedule(seed, { ...none, rotating: true, lifetimeMs: 4_000, chaosMs: 60_000, storageFaults: [{ kind: 'write-fail', from: 8_000, ms: 20_000 }], crashes: [{ proc: 0, at: 12_000 }] });
    }
  });

  test('wall clock steps both ways, and a disk lock holder paused past the stale time mid-refresh', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, {
        ...none,
        mode: 'disk',
        lifetimeMs: 60_000,
        chaosMs: 180_000,
        wallSteps: [
          { proc: 0, at: 30_000, ms: -3_600_000 },
          { proc: 1, at: 90_000, ms: 600_000 },
        ],
        endpointFaults: [{ kind: 'slow', from: 40_000, ms: 10_000 }],
        pauses: [{ proc: 0, at: 45_000 + seed * 200, ms: 45_000 }],
      });
    }
  });

  test('a lockless neighbour rewriting token.json in place', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      await expectSchedule(seed, { ...none, mode: 'disk', neighbour: true, lifetimeMs: 4_000, chaosMs: 60_000 });
    }
  });
});

describe('10,000 random schedules', () => {
  for (let part = 0; part < 4; part++) {
    test(`seeds ${part * 2500 + 1} to ${(part + 1) * 2500}`, () => expectSeeds(part * 2500 + 1, 2500));
  }
});
