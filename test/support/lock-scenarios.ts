// Scenarios around the session lock, shared by the tests (short runs) and
// `npm run stress` (long runs): a holder paused with SIGSTOP, a holder killed
// with SIGKILL, contenders racing to take over a dead holder's lock.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auth } from '../../generated/src/index.js';
import { LOCK_FOLDER, LOCK_STALE_MS } from '../../generated/src/runtime/lock.js';
import type { RunningServer } from '../server/auth-server.js';
import { expireTokenFile, start, type Child } from './scenarios.js';

/** The lock of a profile folder as it is on disk: its highest generation, who owns it, and whether it was released. */
export function lockOnDisk(folder: string): { generation: number; pid: number | undefined; released: boolean } | undefined {
  const dir = join(folder, LOCK_FOLDER);
  const generations = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => b - a)
    : [];
  const top = generations[0];
  if (top === undefined) return undefined;
  let pid: number | undefined;
  try {
    pid = (JSON.parse(readFileSync(join(dir, String(top), 'owner.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    pid = undefined;
  }
  return { generation: top, pid, released: existsSync(join(dir, String(top), 'released')) };
}

/** Resolves with `promise`, or rejects naming `what` when a child exits first or nothing happens within `ms`. */
async function before<T>(promise: Promise<T>, children: readonly Child[], what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms / 1000} s`)), ms);
    for (const child of children) void child.exited.then(async () => reject(new Error(`${what}: a process exited first: ${(await child.stdout).trim()}`)));
  });
  try {
    return await Promise.race([promise, failed]);
  } finally {
    clearTimeout(timer);
  }
}

function lastLine(text: string): { ok: boolean; code?: string; message?: string } {
  const line = text.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as { ok: boolean; code?: string; message?: string };
  } catch {
    return { ok: false, code: 'NO_OUTPUT', message: line };
  }
}

export interface PauseResult {
  readonly trials: number;
  readonly processes: number;
  readonly served: number;
  readonly failures: string[];
  /** Token requests the server saw during the trials: one per trial when no refresh token was spent twice. */
  readonly tokenRequests: number;
  /** Sessions whose saved refresh token the server no longer accepts afterwards. */
  readonly lost: number;
}

/**
 * One trial per profile, all at once: a process refreshing the expired token
 * of its profile is paused with SIGSTOP for longer than LOCK_STALE_MS, either
 * while its refresh request is in flight (the server holds the request until
 * every refresher is stopped) or right before the request is sent; meanwhile
 * `waiters` more processes per profile ask for the token. Then it is resumed.
 */
export async function pausedRefresh(server: RunningServer, home: string, profiles: readonly string[], when: 'in-flight' | 'before-send', waiters = 2): Promise<PauseResult> {
  for (const profile of profiles) expireTokenFile(join(home, '.planet', profile, 'token.json'));
  server.resetCounts();
  const env = { ...server.env(), HOME: home };
  const hold = when === 'in-flight' ? server.holdTokenRequests(profiles.length) : undefined;
  const refreshers = profiles.map((profile) => start('token-worker.mjs', when === 'in-flight' ? [profile, '0'] : [profile, '0', 'pause-before-token-request'], env));
  if (hold) {
    await before(hold.arrived, refreshers, 'waiting for the refresh requests');
    for (const child of refreshers) child.signal('SIGSTOP');
    // Answered while the refreshers are stopped: the new tokens wait in their sockets.
    hold.release();
  } else {
    await before(Promise.all(refreshers.map((child) => child.firstLine)), refreshers, 'waiting for the refreshers to pause');
  }
  const others = profiles.flatMap((profile) => Array.from({ length: waiters }, () => start('token-worker.mjs', [profile, '0'], env)));
  await new Promise((resolve) => setTimeout(resolve, LOCK_STALE_MS + 1500));
  for (const child of refreshers) child.signal('SIGCONT');
  const results = (await Promise.all([...refreshers, ...others].map((child) => child.stdout))).map(lastLine);
  const tokenRequests = Object.entries(server.counts())
    .filter(([key]) => key.startsWith('token:'))
    .reduce((n, [, v]) => n + v, 0);
  let lost = 0;
  for (const profile of profiles) {
    // Spends the saved refresh token: the server refuses it when reuse detection revoked the grant.
    await Auth.fromProfile(profile)
      .refresh()
      .catch(() => lost++);
  }
  return {
    trials: profiles.length,
    processes: results.length,
    served: results.filter((r) => r.ok).length,
    failures: results.filter((r) => !r.ok).map((r) => `${r.code}: ${r.message}`),
    tokenRequests,
    lost,
  };
}

export interface TakeoverResult {
  /** The holder held the lock when it was killed, and the next process took that lock over. */
  readonly tookOver: boolean;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

/**
 * A process takes the profile's lock and is killed with SIGKILL while it
 * holds it; then another process refreshes the expired token. Returns
 * whether that was a takeover of the killed holder's lock and how long the
 * next process took to be served.
 */
export async function lockTakeover(server: RunningServer, home: string, profile: string): Promise<TakeoverResult> {
  const folder = join(home, '.planet', profile);
  const holder = start('lock-holder.mjs', [folder], { HOME: home });
  await before(holder.firstLine, [holder], 'waiting for the lock holder');
  const held = lockOnDisk(folder);
  holder.kill();
  await holder.exited;
  const left = lockOnDisk(folder);
  expireTokenFile(join(folder, 'token.json'));
  const started = Date.now();
  const waiter = start('token-worker.mjs', [profile, '0'], { ...server.env(), HOME: home });
  const output = (await waiter.stdout).trim();
  const ms = Date.now() - started;
  const after = lockOnDisk(folder);
  const killedWhileHolding = held !== undefined && held.pid === holder.pid && !held.released && left?.generation === held.generation && !left.released;
  const tookOver = killedWhileHolding && after !== undefined && after.generation > held.generation && !existsSync(join(folder, LOCK_FOLDER, String(held.generation)));
  return { tookOver, ok: lastLine(output).ok, ms, detail: `held ${JSON.stringify(held)}, after the kill ${JSON.stringify(left)}, after the next process ${JSON.stringify(after)}: ${output}` };
}

export interface RaceResult {
  readonly trials: number;
  readonly contenders: number;
  /** Turns taken in all: each contender holds the lock once per trial. */
  readonly turns: number;
  /** Times a contender saw another holding the lock at the same moment. */
  readonly overlaps: number;
  readonly failures: string[];
}

/**
 * `trials` times: a lock holder is killed with SIGKILL, then `contenders`
 * processes ask for the lock at the same moment, each holding it for a
 * moment and counting any other holder it sees meanwhile.
 */
export async function takeoverRace(trials: number, contenders: number): Promise<RaceResult> {
  const root = mkdtempSync(join(tmpdir(), 'lock-race-'));
  const folder = join(root, 'profile');
  let turns = 0;
  let overlaps = 0;
  const failures: string[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const holder = start('lock-holder.mjs', [folder], {});
    await before(holder.firstLine, [holder], 'waiting for the lock holder');
    holder.kill();
    await holder.exited;
    const markers = mkdtempSync(join(root, 'markers-'));
    const startAt = String(Date.now() + 400 + contenders * 60);
    const outputs = await Promise.all(Array.from({ length: contenders }, () => start('lock-contender.mjs', [folder, markers, startAt], {}).stdout));
    for (const output of outputs) {
      const result = lastLine(output) as { ok: boolean; overlaps?: number; code?: string; message?: string };
      if (result.ok) {
        turns++;
        overlaps += result.overlaps ?? 0;
      } else failures.push(`trial ${trial}: ${result.code}: ${result.message}`);
    }
  }
  return { trials, contenders, turns, overlaps, failures };
}
