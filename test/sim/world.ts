// A simulated world for the session engine: simulated time, processes that
// pause and crash, shared storage with a disk lock or a lease, a model
// authorization server that revokes the whole grant when a spent refresh
// token comes back (as oidc-provider does), and an API. The engine under test
// is the SDK's own (templates/runtime/core/engine.ts), wired to these effects.
import { SessionEngine } from '../../templates/runtime/core/engine.js';
import type { Effects, TokenStore, Turns, WriteOutcome } from '../../templates/runtime/core/effects.js';
import { LockTimeoutError, LoginRequiredError, NetworkError, StateError, TokenRequestError, TurnLostError } from '../../templates/runtime/errors.js';
import type { Turn } from '../../templates/runtime/lock.js';
import type { TokenFile } from '../../templates/runtime/token.js';

/** A small seeded PRNG (mulberry32). */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

export const WALL_BASE = 1_800_000_000_000;
export const LOCK_WAIT = 30_000;
export const LEASE_TTL = 15_000;
export const REQUEST_TIMEOUT = 30_000;

interface Event {
  at: number;
  seq: number;
  proc: Proc | undefined;
  fn: () => void;
}

/** Faults of shared storage: reads or writes refused, slow answers, or an outage that refuses every command, the lease's included. */
export type StorageFaultKind = 'read-fail' | 'write-fail' | 'slow' | 'outage';

/** One process (disk) or worker (shared storage) with its own engine. */
export class Proc {
  alive = true;
  pausedUntil = 0;
  /** Spans [from, to) of simulated time it spent paused. */
  readonly pauses: [number, number][] = [];
  wallOffset = 0;
  engine!: SessionEngine;
  queue: Promise<unknown> = Promise.resolve();
  constructor(readonly id: string) {}
  pausedBetween(from: number, to: number): number {
    let sum = 0;
    for (const [a, b] of this.pauses) sum += Math.max(0, Math.min(b, to) - Math.max(a, from));
    return sum;
  }
}

export interface ServerToken {
  readonly serial: number;
  readonly kind: 'access' | 'refresh';
  readonly issuedAt: number;
  readonly expiresAt: number;
  spentBy?: string;
  spentAt?: number;
  /** When the request that spent it was sent. */
  spentSentAt?: number;
  /** Whether it reached storage. */
  saved?: boolean;
  /** What became of the answer to the request that spent it. */
  outcome?: 'received' | 'lost' | 'unusable';
  /** The refresh token that replaced it. */
  successor?: string;
  /** When the request that got it was sent. */
  sentAt?: number;
  /** Who asked for it. */
  requestedBy?: string;
  /** Whether a process (or storage) ever got it. */
  delivered?: boolean;
}

export interface EndpointFault {
  readonly kind: 'ok' | 'slow' | 'hung' | '5xx' | '429' | 'refusing' | 'unusable' | 'salvageable';
}

export class World {
  t = 0;
  readonly rng: Rng;
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  readonly excuses: string[] = [];
  #queue: Event[] = [];
  #seq = 0;
  // The model authorization server.
  readonly tokens = new Map<string, ServerToken>();
  serial = 0;
  revoked = false;
  revokedBecause: string | undefined;
  rotating = true;
  opaque = false;
  lifetimeMs = 60_000;
  endpointFaults: { from: number; to: number; fault: EndpointFault['kind'] }[] = [];
  tokenRequests = 0;
  // Shared storage.
  stored: TokenFile | undefined;
  storageFaults: { from: number; to: number; kind: StorageFaultKind }[] = [];
  /** An outage of this length starts as the first refresh request is sent: storage goes away mid-refresh. */
  outageOnRefreshMs: number | undefined;
  lockHolder: Proc | undefined;
  lease: { holder: Proc; fence: number; expiresAt: number } | undefined;
  fence = 0;
  readonly procs: Proc[] = [];
  readonly secrets = new Set<string>();
  wallSteps = 0;

  constructor(
    readonly seed: number,
    readonly mode: 'disk' | 'fleet',
  ) {
    this.rng = new Rng(seed);
  }

  log(line: string): void {
    this.trace.push(`${(this.t / 1000).toFixed(3).padStart(9)}s ${line}`);
  }

  violation(what: string): void {
    this.log(`VIOLATION ${what}`);
    this.violations.push(what);
  }

  at(proc: Proc | undefined, delay: number, fn: () => void): void {
    const event = { at: this.t + Math.max(0, delay), seq: this.#seq++, proc, fn };
    // Insert in order (the queue stays short).
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1]!.at > event.at || (this.#queue[i - 1]!.at === event.at && this.#queue[i - 1]!.seq > event.seq))) i--;
    this.#queue.splice(i, 0, event);
  }

  /** Runs events until `until`, letting every promise chain settle after each. */
  async run(until: number, check: () => void): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#queue.length > 0 && this.#queue[0]!.at <= until) {
      const event = this.#queue.shift()!;
      if (event.proc && !event.proc.alive) continue;
      if (event.proc && event.proc.pausedUntil > event.at) {
        this.#queue.push({ ...event, at: event.proc.pausedUntil, seq: this.#seq++ });
        this.#queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
        continue;
      }
      this.t = Math.max(this.t, event.at);
      event.fn();
      await new Promise<void>((resolve) => setImmediate(resolve));
      check();
    }
    this.t = Math.max(this.t, until);
  }

  readonly #waiters = new Set<() => void>();

  /** Wakes every process waiting for a turn (a release, a crash, an expiry). */
  wakeWaiters(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Waits until a turn may be free, or `ms` passed. */
  waitForTurn(proc: Proc, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const wake = () => {
        if (done) return;
        done = true;
        this.#waiters.delete(wake);
        // Contenders look again after a short, random delay, as the SDK's polling does.
        this.at(proc, this.rng.int(1, 50), resolve);
      };
      this.#waiters.add(wake);
      this.at(proc, ms, wake);
    });
  }

  sleep(proc: Proc, ms: number): Promise<void> {
    return new Promise((resolve) => this.at(proc, ms, resolve));
  }

  // ---- the model authorization server ----------------------------------------

  issue(kind: 'access' | 'refresh'): string {
    const serial = ++this.serial;
    const value = `${kind === 'access' ? 'at' : 'rt'}-${this.seed}-${serial}-${this.rng.int(100000, 999999)}`;
    this.tokens.set(value, { serial, kind, issuedAt: this.t, expiresAt: kind === 'access' ? this.t + this.lifetimeMs : Infinity });
    this.secrets.add(value);
    return value;
  }

  /** The token response of a login or refresh, as the server sends it. */
  response(withRefresh: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { access_token: this.issue('access'), token_type: 'Bearer' };
    if (!this.opaque) out['expires_in'] = this.lifetimeMs / 1000;
    if (withRefresh) out['refresh_token'] = this.issue('refresh');
    return out;
  }

  /** Server side of a refresh: rotates, or revokes the whole grant on reuse. */
  serverRefresh(refreshToken: string, by: string, late = false, sentAt = this.t): { ok: Record<string, unknown> } | { error: 'invalid_grant' } {
    this.tokenRequests++;
    const record = this.tokens.get(refreshToken);
    if (this.revoked || !record) return { error: 'invalid_grant' };
    if (record.spentBy !== undefined) {
      this.revoked = true;
      this.revokedBecause = `refresh token #${record.serial} spent by ${record.spentBy} at ${(record.spentAt! / 1000).toFixed(3)}s came back from ${by}`;
      this.log(`server: REUSE of refresh token #${record.serial} by ${by}: grant revoked`);
      if (late) this.excuses.push(`${by}'s request reached the server after ${by} had given up on it or died`);
      else this.judgeReuse(record, by, sentAt);
      return { error: 'invalid_grant' };
    }
    // At most one token request per lifetime: the newest access token must be due.
    const newest = this.newestAccess();
    // Its lifetime counts from when the request that got it was sent, as the SDK counts it.
    const born = newest?.sentAt ?? newest?.issuedAt ?? 0;
    if (newest && !late && by !== 'neighbour' && newest.requestedBy !== 'neighbour' && this.t - born < this.lifetimeMs * 0.75 - 1000 && !this.opaque && this.wallSteps === 0) {
      this.violation(`token request by ${by} while access token #${newest.serial} was ${((this.t - born) / 1000).toFixed(1)}s old (lifetime ${this.lifetimeMs / 1000}s)`);
    }
    if (this.rotating) {
      record.spentBy = by;
      record.spentAt = this.t;
      record.spentSentAt = sentAt;
    }
    const ok = this.response(this.rotating);
    const issued = this.tokens.get(ok['access_token'] as string)!;
    issued.requestedBy = by;
    issued.sentAt = sentAt;
    if (this.rotating) record.successor = ok['refresh_token'] as string;
    this.log(`server: refresh by ${by} with #${record.serial} -> access #${this.serial - (this.rotating ? 1 : 0)}`);
    return { ok };
  }

  newestAccess(): ServerToken | undefined {
    let newest: ServerToken | undefined;
    for (const record of this.tokens.values())
      if (record.kind === 'access' && record.delivered && (record.saved || this.procs.some((p) => p.alive && p.id === record.requestedBy)) && (!newest || record.serial > newest.serial)) newest = record;
    return newest;
  }

  /** A reuse is excused only where the guarantees say a session may be lost. */
  judgeReuse(record: ServerToken, by: string, sentAt: number): void {
    const first = record.spentBy!;
    if (first === 'neighbour' || by === 'neighbour') return void this.excuses.push('a lockless neighbour spent the same refresh token');
    if (record.outcome === 'lost') return void this.excuses.push('the answer to the first spend never arrived');
    if (record.outcome === 'unusable') return void this.excuses.push('the answer to the first spend could not be used');
    const successor = record.successor;
    const saved = successor !== undefined && this.savedEver.has(successor);
    const holder = this.procs.find((p) => p.id === first);
    if (!saved && holder && !holder.alive) return void this.excuses.push(`${first} died holding the only copy of rotated tokens`);
    if (!saved && holder && this.mode === 'fleet' && holder.pauses.some(([a, b]) => b > record.spentSentAt! && b - a > LEASE_TTL / 2)) {
      return void this.excuses.push(`${first} was paused past its lease holding the only copy of rotated tokens`);
    }
    const reuser = this.procs.find((p) => p.id === by);
    if (reuser && this.mode === 'fleet' && reuser.pauses.some(([a, b]) => b > sentAt && b - a > LEASE_TTL / 2)) {
      return void this.excuses.push(`${by} was paused past its lease with its refresh request in flight`);
    }
    this.violation(`session lost: ${this.revokedBecause}`);
  }

  readonly savedEver = new Set<string>();
  /** Refresh tokens the server refused, per process: a process must not send one again. */
  readonly refused = new Map<string, Set<string>>();

  apiAccepts(token: string): boolean {
    const record = this.tokens.get(token);
    return record !== undefined && record.kind === 'access' && !this.revoked && this.t < record.expiresAt;
  }

  endpointFault(): EndpointFault['kind'] {
    for (const f of this.endpointFaults) if (this.t >= f.from && this.t < f.to) return f.fault;
    return 'ok';
  }

  storageFault(kind: StorageFaultKind): boolean {
    // An outage (storage down, out of memory, paused) refuses everything: reads, writes and the lease.
    return this.storageFaults.some((f) => (f.kind === kind || (f.kind === 'outage' && kind !== 'slow')) && this.t >= f.from && this.t < f.to);
  }

  // ---- shared storage ----------------------------------------------------------

  storeWrite(file: TokenFile, by: string): void {
    const before = this.serialOf(this.stored);
    const after = this.serialOf(file);
    if (by !== 'neighbour' && after < before) this.violation(`${by} wrote access token #${after} over newer #${before}`);
    this.stored = structuredClone(file);
    const record = file.access_token ? this.tokens.get(file.access_token) : undefined;
    if (record) {
      record.delivered = true;
      record.saved = true;
    }
    if (typeof file.refresh_token === 'string') this.savedEver.add(file.refresh_token);
    this.log(`storage: ${by} wrote access #${after}`);
  }

  serialOf(file: TokenFile | undefined): number {
    return file?.access_token ? (this.tokens.get(file.access_token)?.serial ?? 0) : 0;
  }
}

/** The engine's effects in `world`, for process `proc`. */
export function simEffects(world: World, proc: Proc): Effects {
  const latency = () => world.rng.int(1, 20) + (world.storageFault('slow') ? world.rng.int(500, 5000) : 0);
  const io = <T>(work: () => T, fail: 'read-fail' | 'write-fail'): Promise<T> =>
    new Promise((resolve, reject) =>
      world.at(proc, latency(), () => {
        // Typed as the SDK's storage layer types them (session-storage.ts).
        if (world.storageFault(fail)) reject(new StateError('ERR_STORAGE', 'sim', fail === 'read-fail' ? 'reading token.json failed: storage unreachable' : 'writing token.json failed: storage refused the write'));
        else {
          try {
            resolve(work());
          } catch (error) {
            reject(error);
          }
        }
      }),
    );
  const store: TokenStore = {
    persistent: true,
    read: () => io(() => (world.stored ? structuredClone(world.stored) : undefined), 'read-fail'),
    write: (file, replaces, turn) =>
      io((): WriteOutcome => {
        if (world.mode === 'fleet' && (!world.lease || world.lease.fence !== turn.fence || world.lease.expiresAt <= world.t)) {
          throw new TurnLostError(`${proc.id} lost its lease before writing`);
        }
        if (replaces !== 'any' && !sameSimTokens(world.stored, replaces)) return { written: false, holds: world.stored ? structuredClone(world.stored) : undefined };
        world.storeWrite(file, proc.id);
        return { written: true };
      }, 'write-fail'),
  };
  const turns: Turns = {
    take<T>(fn: (turn: Turn) => Promise<T>): Promise<T> {
      // In-process queue first, as the SDK's turns do.
      const run = proc.queue.then(
        () => (world.mode === 'disk' ? diskTurn(world, proc, fn) : leaseTurn(world, proc, fn)),
        () => (world.mode === 'disk' ? diskTurn(world, proc, fn) : leaseTurn(world, proc, fn)),
      );
      proc.queue = run.catch(() => undefined);
      return run;
    },
  };
  return {
    clock: { now: () => world.t, wall: () => WALL_BASE + world.t + proc.wallOffset, sleep: (ms) => world.sleep(proc, ms) },
    store,
    turns,
    endpoint: {
      refresh: (refreshToken) => simRefresh(world, proc, refreshToken),
      login: () => Promise.reject(new Error('no unattended login in the simulation')),
    },
    host: {
      unattended: false,
      beforeLoginWrite: async () => undefined,
      tokens: () => undefined,
      secret: () => undefined,
      debug: () => undefined,
      warn: (m) => {
        if (process.env.SIM_DEBUG) world.log(`${proc.id} warn ${m}`);
      },
      noSession: () => new LoginRequiredError('profile "sim" has no session', 'log in'),
      ended: () => new LoginRequiredError('the session of profile "sim" has ended (the server refused its refresh token)', 'log in'),
      unwritable: (cause) => new StateError('ERR_STORAGE', 'sim', `storage refused a write (${(cause as Error).message}); the refresh token was not spent`),
      unsaved: (cause) => new StateError('ERR_STORAGE', 'sim', `new tokens could not be saved (${(cause as Error).message}); they are kept in memory`),
      expiredOnArrival: () => new TokenRequestError('ERR_SERVER', 'the new token expired before it could be saved', undefined, undefined),
      noAccessToken: () => new TokenRequestError('ERR_SERVER', 'no access token', 200, undefined),
    },
  };
}

function sameSimTokens(a: TokenFile | undefined, b: TokenFile): boolean {
  return a !== undefined && a.access_token === b.access_token && a.refresh_token === b.refresh_token;
}

async function diskTurn<T>(world: World, proc: Proc, fn: (turn: Turn) => Promise<T>): Promise<T> {
  const start = world.t;
  for (;;) {
    const holder = world.lockHolder;
    if (!holder || !holder.alive) break;
    // Waiting counts only time this process ran.
    const ran = world.t - start - proc.pausedBetween(start, world.t);
    if (ran > LOCK_WAIT) throw new LockTimeoutError(`${holder.id} held the lock for over ${LOCK_WAIT / 1000} s`);
    await world.waitForTurn(proc, LOCK_WAIT - ran + 1);
  }
  world.lockHolder = proc;
  world.log(`${proc.id} took the lock`);
  const turn: Turn = { fence: undefined, assertHeld: async () => undefined };
  try {
    return await fn(turn);
  } finally {
    if (world.lockHolder === proc) world.lockHolder = undefined;
    world.log(`${proc.id} released the lock`);
    world.wakeWaiters();
  }
}

async function leaseTurn<T>(world: World, proc: Proc, fn: (turn: Turn) => Promise<T>): Promise<T> {
  const start = world.t;
  for (;;) {
    const lease = world.lease;
    if (!lease || lease.expiresAt <= world.t) break;
    const ran = world.t - start - proc.pausedBetween(start, world.t);
    if (ran > LOCK_WAIT) throw new LockTimeoutError(`${lease.holder.id} held the lease for over ${LOCK_WAIT / 1000} s`);
    await world.waitForTurn(proc, Math.min(LOCK_WAIT - ran + 1, lease.expiresAt - world.t + 1));
  }
  if (world.storageFault('outage')) {
    await world.sleep(proc, world.rng.int(1, 20));
    throw new StateError('ERR_STORAGE', 'sim', 'taking the lease failed: storage unreachable');
  }
  const fence = ++world.fence;
  world.lease = { holder: proc, fence, expiresAt: world.t + LEASE_TTL };
  world.log(`${proc.id} took the lease (fence ${fence})`);
  let done = false;
  const held = () => world.lease?.fence === fence && world.lease.expiresAt > world.t;
  const renew = () => {
    if (done) return;
    if (held() && !world.storageFault('outage')) world.lease!.expiresAt = world.t + LEASE_TTL;
    world.at(proc, LEASE_TTL / 3, renew);
  };
  world.at(proc, LEASE_TTL / 3, renew);
  const turn: Turn = {
    fence,
    assertHeld: async () => {
      await world.sleep(proc, world.rng.int(1, 10));
      if (world.storageFault('outage')) throw new StateError('ERR_STORAGE', 'sim', 'checking the lease failed: storage unreachable');
      if (!held()) throw new TurnLostError(`${proc.id} lost its lease (fence ${fence})`);
      world.lease!.expiresAt = world.t + LEASE_TTL;
    },
  };
  try {
    return await fn(turn);
  } finally {
    done = true;
    if (world.lease?.fence === fence) world.lease = undefined;
    world.log(`${proc.id} released the lease (fence ${fence})`);
    world.wakeWaiters();
  }
}

/** The token endpoint as the SDK's adapter presents it, with the world's faults. */
function simRefresh(world: World, proc: Proc, refreshToken: string): Promise<Record<string, unknown>> {
  const fault = world.endpointFault();
  const sentAt = world.t;
  world.log(`${proc.id} sends a refresh with #${world.tokens.get(refreshToken)?.serial} (${fault})`);
  if (world.outageOnRefreshMs !== undefined) {
    world.storageFaults.push({ kind: 'outage', from: world.t, to: world.t + world.outageOnRefreshMs });
    world.log(`storage out for ${world.outageOnRefreshMs} ms`);
    world.outageOnRefreshMs = undefined;
  }
  if (world.refused.get(proc.id)?.has(refreshToken)) world.violation(`${proc.id} sent again a refresh token the server had refused`);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    // The request's deadline counts only time this process ran (a pause does not consume it).
    const deadline = () => {
      const ran = world.t - sentAt - proc.pausedBetween(sentAt, world.t);
      if (ran < REQUEST_TIMEOUT) return world.at(proc, REQUEST_TIMEOUT - ran, deadline);
      const record = world.tokens.get(refreshToken);
      if (record && record.spentBy === proc.id && record.spentAt! >= sentAt && record.outcome === undefined) {
        record.outcome = 'lost';
        world.excuses.push(`the answer to ${proc.id}'s refresh never arrived after the server rotated the token`);
      }
      settle(() => reject(new NetworkError(`refreshing got no answer within ${REQUEST_TIMEOUT / 1000} s`)));
    };
    world.at(proc, REQUEST_TIMEOUT, deadline);
    if (fault === 'hung') return;
    const there = world.rng.int(5, 50) + (fault === 'slow' ? world.rng.int(1000, 40_000) : 0);
    world.at(undefined, there, () => {
      if (fault === '5xx') return world.at(proc, 5, () => settle(() => reject(new TokenRequestError('ERR_SERVER', 'refreshing failed: HTTP 503', 503, undefined))));
      if (fault === '429') return world.at(proc, 5, () => settle(() => reject(new TokenRequestError('ERR_SERVER', 'refreshing failed: HTTP 429', 429, undefined, { hint: 'try again in 60 s' }))));
      if (fault === 'refusing') return world.at(proc, 5, () => settle(() => reject(new TokenRequestError('ERR_TOKEN_REQUEST', 'refreshing failed: temporarily_unavailable (HTTP 400)', 400, 'temporarily_unavailable'))));
      // A request whose sender gave up on it or died may still reach the server.
      const answer = world.serverRefresh(refreshToken, proc.id, settled || !proc.alive, sentAt);
      const record = world.tokens.get(refreshToken);
      if (settled && record?.spentBy === proc.id && 'ok' in answer) {
        record.outcome = 'lost';
        world.excuses.push(`${proc.id}'s refresh reached the server after ${proc.id} had given up on it`);
      }
      world.at(proc, world.rng.int(5, 50), () => {
        if (settled) return;
        if ('error' in answer) {
          if (!world.refused.has(proc.id)) world.refused.set(proc.id, new Set());
          world.refused.get(proc.id)!.add(refreshToken);
        }
        if ('error' in answer) return settle(() => reject(new LoginRequiredError('the session of profile "sim" has ended (the server refused its refresh token)', 'log in')));
        if (record && record.spentBy === proc.id) record.outcome = fault === 'unusable' ? 'unusable' : 'received';
        if (fault === 'unusable') {
          // As the adapter decides: a new refresh token in the refused answer means the old one is spent, so the session has ended; otherwise the old one stays.
          if (!world.rotating)
            return settle(() =>
              reject(new TokenRequestError('ERR_SERVER', 'the server answered the refresh with tokens that cannot be used; the refresh token stays as it was', 200, undefined, { hint: 'check the server' })),
            );
          world.excuses.push(`the answer to ${proc.id}'s refresh could not be used after the server rotated the token`);
          return settle(() => reject(new LoginRequiredError('the session of profile "sim" has ended: the server answered its refresh, but the answer could not be used', 'log in')));
        }
        // A refusable 200 whose tokens can be salvaged returns what the adapter keeps.
        const { access_token, refresh_token, expires_in, token_type } = answer.ok;
        const delivered = world.tokens.get(answer.ok['access_token'] as string);
        if (delivered) delivered.delivered = true;
        const kept = fault === 'salvageable' ? { access_token, token_type, ...(refresh_token ? { refresh_token } : {}), ...(expires_in ? { expires_in } : {}) } : answer.ok;
        settle(() => resolve(kept));
      });
    });
  });
}

export function newEngine(world: World, proc: Proc): SessionEngine {
  const engine = new SessionEngine(simEffects(world, proc));
  engine.onTransition = (from, event, to) => {
    if (process.env.SIM_DEBUG) world.log(`${proc.id}: ${from} --${event}--> ${to}`);
    if (to === undefined) world.violation(`${proc.id}: transition ${event} is not allowed in state ${from}`);
  };
  return engine;
}
