// One seeded schedule: processes or workers calling an API through the
// session engine while faults are injected, with the invariants checked
// after every step. `runSeed(seed)` is all a test or `npm run sim` needs.
import { PlanetAuthError } from '../../templates/runtime/errors.js';
import { handable } from '../../templates/runtime/core/machine.js';
import { Proc, World, newEngine, type EndpointFault, type StorageFaultKind } from './world.js';

/** The longest a call may take in time its process ran: lock wait, two requests, storage, and the wait for a save. */
export const CALL_BOUND = 30_000 + 2 * 30_000 + 30_000;

export interface Schedule {
  readonly mode: 'disk' | 'fleet';
  readonly procs: number;
  readonly rotating: boolean;
  readonly opaque: boolean;
  readonly lifetimeMs: number;
  readonly chaosMs: number;
  readonly pauses: readonly { proc: number; at: number; ms: number }[];
  readonly crashes: readonly { proc: number; at: number }[];
  readonly storageFaults: readonly { kind: StorageFaultKind; from: number; ms: number }[];
  readonly endpointFaults: readonly { kind: EndpointFault['kind']; from: number; ms: number }[];
  readonly wallSteps: readonly { proc: number; at: number; ms: number }[];
  readonly neighbour: boolean;
  /** Storage out (every command refused, the lease's too) for this long from the first refresh request on. */
  readonly outageOnRefresh?: number;
}

export interface SeedResult {
  readonly seed: number;
  readonly schedule: Schedule;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
  readonly calls: number;
  readonly served: number;
  readonly tokenRequests: number;
  readonly lost: boolean;
}

/** A schedule drawn from `seed`; `overrides` pin parts of it (the findings' regression schedules). */
export function scheduleFor(seed: number, overrides: Partial<Schedule> = {}): Schedule {
  const world = new World(seed ^ 0x5eed, 'disk');
  const r = world.rng;
  const lifetimeMs = r.pick([4_000, 60_000, 300_000]);
  const chaosMs = Math.min(Math.max(60_000, lifetimeMs * 3), 900_000);
  const procs = r.int(2, 4);
  const times = (n: number) => Array.from({ length: n }, () => r.int(0, chaosMs));
  const base: Schedule = {
    mode: r.chance(0.5) ? 'disk' : 'fleet',
    procs,
    rotating: r.chance(0.75),
    opaque: r.chance(0.2),
    lifetimeMs,
    chaosMs,
    pauses: r.chance(0.5) ? times(r.int(1, 3)).map((at) => ({ proc: r.int(0, procs - 1), at, ms: r.pick([500, 5_000, 20_000, 45_000, 120_000]) })) : [],
    crashes: r.chance(0.3) ? times(r.int(1, 2)).map((at) => ({ proc: r.int(0, procs - 1), at })) : [],
    storageFaults: r.chance(0.4) ? times(r.int(1, 2)).map((from) => ({ kind: r.pick(['read-fail', 'write-fail', 'slow', 'outage'] as const), from, ms: r.pick([1_000, 10_000, 60_000]) })) : [],
    endpointFaults: r.chance(0.5) ? times(r.int(1, 3)).map((from) => ({ kind: r.pick(['slow', 'hung', '5xx', '429', 'refusing', 'unusable', 'salvageable'] as const), from, ms: r.pick([1_000, 10_000, 60_000]) })) : [],
    wallSteps: r.chance(0.25) ? times(r.int(1, 2)).map((at) => ({ proc: r.int(0, procs - 1), at, ms: r.pick([-3_600_000, -600_000, -5_000, 5_000, 600_000]) })) : [],
    neighbour: r.chance(0.1),
  };
  return { ...base, ...overrides };
}

export async function runSeed(seed: number, overrides: Partial<Schedule> = {}): Promise<SeedResult> {
  const schedule = scheduleFor(seed, overrides);
  const world = new World(seed, schedule.mode);
  world.rotating = schedule.rotating;
  world.opaque = schedule.opaque;
  world.lifetimeMs = schedule.lifetimeMs;
  world.endpointFaults = schedule.endpointFaults.map((f) => ({ from: f.from, to: f.from + f.ms, fault: f.kind }));
  world.storageFaults = schedule.storageFaults.map((f) => ({ kind: f.kind, from: f.from, to: f.from + f.ms }));
  world.outageOnRefreshMs = schedule.outageOnRefresh;
  world.log(`schedule ${JSON.stringify(schedule)}`);
  // A logged-in session in storage.
  const login = world.response(true);
  world.storeWrite({ ...login, _iat: Math.floor((1_800_000_000_000 + world.t) / 1000), _exp: schedule.opaque ? undefined : Math.floor((1_800_000_000_000 + world.t) / 1000) + schedule.lifetimeMs / 1000 }, 'login');

  let calls = 0;
  let served = 0;
  const spawn = (id: string): Proc => {
    const proc = new Proc(id);
    proc.engine = newEngine(world, proc);
    world.procs.push(proc);
    return proc;
  };
  const procs = Array.from({ length: schedule.procs }, (_, i) => spawn(`p${i}`));
  let spawned = procs.length;

  const secretIn = (text: string) => [...world.secrets].some((s) => text.includes(s));
  const handed = (proc: Proc, token: string) => {
    const record = world.tokens.get(token);
    if (!record) return world.violation(`${proc.id} was handed a token the server never issued`);
    // Persisted times are wall-clock: after a wall step, tokens another process saved are judged by this one's clock (the documented limit).
    const acrossSteppedClocks = world.wallSteps > 0 && record.requestedBy !== proc.id;
    if (!world.opaque && !world.revoked && world.t >= record.expiresAt && !acrossSteppedClocks) {
      world.violation(`${proc.id} was handed access token #${record.serial} ${((world.t - record.expiresAt) / 1000).toFixed(1)}s after its expiry`);
    }
  };

  const call = async (proc: Proc, final = false): Promise<boolean> => {
    calls++;
    const start = world.t;
    const engine = proc.engine;
    const id = calls;
    world.log(`${proc.id} call ${id} (${engine.state})`);
    try {
      const token = world.t < engine.hotUntil ? engine.hotToken : await engine.accessToken();
      handed(proc, token);
      if (world.apiAccepts(token)) {
        engine.tokenAccepted(token);
        served++;
        return true;
      }
      world.log(`${proc.id} call ${id}: API rejected #${world.tokens.get(token)?.serial}`);
      const fresh = await engine.tokenRejected(token);
      if (fresh === undefined) return false;
      handed(proc, fresh);
      if (world.apiAccepts(fresh)) {
        engine.tokenAccepted(fresh);
        served++;
        return true;
      }
      return false;
    } catch (error) {
      const message = `${(error as Error).message} ${(error as PlanetAuthError).hint ?? ''}`;
      world.log(`${proc.id} call ${id} failed: ${(error as PlanetAuthError).code ?? ''} ${(error as Error).message}`);
      if (secretIn(message) || secretIn(JSON.stringify(error))) world.violation(`${proc.id}: a token appeared in an error message`);
      if ((error as PlanetAuthError).code === 'ERR_NOT_LOGGED_IN' && /try again/i.test(message)) world.violation(`${proc.id}: an ended session says "try again"`);
      if (!(error instanceof PlanetAuthError)) world.violation(`${proc.id}: untyped error ${(error as Error).message}`);
      if (final) world.log(`${proc.id} final call failed`);
      return false;
    } finally {
      const ran = world.t - start - proc.pausedBetween(start, world.t);
      if (ran > CALL_BOUND) world.violation(`${proc.id} call ${id} took ${(ran / 1000).toFixed(1)}s of running time`);
      world.log(`${proc.id} call ${id} done (${proc.engine.state})`);
    }
  };

  // Calls at random moments through the chaos.
  const every = Math.max(schedule.chaosMs / 12, 1_000);
  const keepCalling = (proc: Proc) => {
    world.at(proc, world.rng.int(every / 4, every), () => {
      if (world.t > schedule.chaosMs) return;
      void call(proc);
      keepCalling(proc);
    });
  };
  procs.forEach(keepCalling);
  for (const p of schedule.pauses) {
    world.at(undefined, p.at, () => {
      const proc = procs[p.proc]!;
      if (!proc.alive) return;
      const from = Math.max(world.t, proc.pausedUntil);
      proc.pausedUntil = Math.max(proc.pausedUntil, world.t + p.ms);
      if (proc.pausedUntil > from) proc.pauses.push([from, proc.pausedUntil]);
      world.log(`${proc.id} paused for ${p.ms / 1000}s`);
    });
  }
  for (const c of schedule.crashes) {
    world.at(undefined, c.at, () => {
      const proc = procs[c.proc]!;
      if (!proc.alive) return;
      proc.alive = false;
      world.log(`${proc.id} CRASHED (${proc.engine.state})`);
      world.wakeWaiters();
      const next = spawn(`p${spawned++}`);
      procs[c.proc] = next;
      world.log(`${next.id} started`);
      keepCalling(next);
    });
  }
  for (const s of schedule.wallSteps) {
    world.at(undefined, s.at, () => {
      const proc = procs[s.proc]!;
      proc.wallOffset += s.ms;
      world.wallSteps++;
      world.log(`${proc.id}'s wall clock stepped ${s.ms / 1000}s`);
    });
  }
  if (schedule.neighbour) {
    // A lockless CLI on the same profile: reads token.json and, when the token is due, refreshes and rewrites the file in place.
    const neighbour = () => {
      if (world.t > schedule.chaosMs) return;
      const stored = world.stored;
      const record = stored?.access_token ? world.tokens.get(stored.access_token) : undefined;
      if (stored?.refresh_token && record && world.t - record.issuedAt >= world.lifetimeMs * 0.75) {
        const answer = world.serverRefresh(stored.refresh_token, 'neighbour');
        if ('ok' in answer) {
          const wall = Math.floor((1_800_000_000_000 + world.t) / 1000);
          const file = { ...answer.ok, refresh_token: answer.ok['refresh_token'] ?? stored.refresh_token, _iat: wall, ...(world.opaque ? {} : { _exp: wall + world.lifetimeMs / 1000 }) };
          world.storeWrite(file as never, 'neighbour');
        }
      }
      world.at(undefined, world.rng.int(every, every * 4), neighbour);
    };
    world.at(undefined, world.rng.int(0, every * 4), neighbour);
  }

  const check = () => {
    for (const proc of world.procs) {
      const token = proc.engine.token;
      // The hot path may hand out only what is still valid.
      if (proc.alive && token && world.t < proc.engine.hotUntil && !handable(token, world.t)) world.violation(`${proc.id}'s hot path would hand out an expired token`);
    }
  };
  await world.run(schedule.chaosMs, check);
  // Calm: every fault is over, paused processes go on. Then every live process must be served, unless the session was lost in a way the guarantees allow.
  const resumed = Math.max(world.t, ...procs.map((p) => p.pausedUntil));
  await world.run(resumed + 2 * schedule.lifetimeMs + 90_000, check);
  let lost = false;
  for (const proc of procs.filter((p) => p.alive)) {
    // A stale opaque token may cost one 401 first; the second call must then be served.
    let ok: boolean | 'pending' = false;
    for (let attempt = 0; attempt < 2 && ok === false; attempt++) {
      const final = call(proc, true);
      await world.run(world.t + CALL_BOUND + 60_000, check);
      ok = await Promise.race([final, Promise.resolve('pending' as const)]);
    }
    if (ok === 'pending') world.violation(`${proc.id}'s final call never ended`);
    else if (!ok) {
      if (world.excuses.length > 0) lost = true;
      else world.violation(`session lost: ${proc.id} could not be served after the faults ended${world.revokedBecause ? ` (${world.revokedBecause})` : ''}`);
    }
  }
  return { seed, schedule, violations: world.violations, trace: world.trace, calls, served, tokenRequests: world.tokenRequests, lost };
}

/** The replay command and the trace, for a failing seed. */
export function report(result: SeedResult, traceLines = 400): string {
  const trace = result.trace.length > traceLines ? ['...', ...result.trace.slice(-traceLines)] : result.trace;
  return [`seed ${result.seed} failed: ${result.violations[0]}`, `replay: npm run sim -- --seed ${result.seed}`, ...trace].join('\n');
}
