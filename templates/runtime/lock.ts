// Turns for refreshing one session. Inside a process a queue per key; across
// processes sharing the disk, numbered generations of a lock in the profile's
// `session.lock/` folder. The highest generation is the lock; its
// `owner.json` says who holds it (pid, host, process start time, token).
//
// Taking the lock never goes through a check-then-act window: a new
// generation is written whole into a temporary folder and renamed to the
// next number, and renaming onto an existing generation fails, so of any
// number of contenders exactly one wins. A holder alive on this machine is
// never taken over, however long it pauses; one that died is taken over at
// once. A holder on another machine (a home folder on NFS) cannot be checked
// by pid, so it rewrites a heartbeat file every second and is taken over when
// the heartbeat has not changed for LOCK_STALE_MS, measured by the waiting
// process's own clock. Releasing marks the generation `released` and keeps
// it, so numbers only grow and a number is never reused.
import { constants, promises as fs, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AbortedError, ERR_STATE_UNSAFE, ERR_STORAGE, LockTimeoutError, StateError, TurnLostError } from './errors.js';

/** Random hex digits from Web Crypto, which loads on first use: a process that only reads never loads node:crypto. */
function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

/** The folder, inside a profile's folder, that holds the lock's generations. */
export const LOCK_FOLDER = 'session.lock';
/** A holder on another machine whose heartbeat has not changed for this long is taken over. */
export const LOCK_STALE_MS = 4000;
/** How often the holder rewrites its heartbeat. */
const HEARTBEAT_MS = 1000;
/** How long a process waits for its turn before giving up. */
export const LOCK_WAIT_MS = 30_000;
/** Temporary folders older than this whose writer cannot be checked are removed. */
const TEMP_ABANDONED_MS = 10 * 60_000;

const OWNER_FILE = 'owner.json';
const HEARTBEAT_FILE = 'heartbeat';
const RELEASED_FILE = 'released';
const GENERATION = /^[1-9][0-9]{0,14}$/;
const TEMP_PREFIX = 'tmp.';

/**
 * One turn as the session's only writer. Whoever takes a turn proves it
 * still holds it right before it spends a refresh token and before it writes.
 */
export interface Turn {
  /** A fencing value from a shared store's lease; undefined for local turns. */
  readonly fence: number | undefined;
  /** Rejects with a `TurnLostError` (code ERR_TURN_LOST) when this process no longer holds the turn. */
  assertHeld(): Promise<void>;
}

/** A turn that cannot be lost: the in-process queue. */
export const LOCAL_TURN: Turn = { fence: undefined, assertHeld: async () => undefined };

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same key in this process has finished. */
export async function inProcess<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** Who holds a generation, as written in its `owner.json`. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The kernel's boot id and pid namespace: pids can be compared only when both match. */
  readonly bootId?: string;
  readonly pidNamespace?: string;
  /** Field 22 of /proc/<pid>/stat, so a pid reused by a later process is not taken for the holder. */
  readonly startTime?: string;
  readonly token: string;
  readonly acquiredAt: string;
}

function readOptional(read: () => string): string | undefined {
  try {
    return read().trim();
  } catch {
    return undefined;
  }
}

/** State (field 3) and start time (field 22) of a process, from /proc; undefined where there is no /proc. */
function processStat(pid: number | 'self'): { state: string; startTime: string } | undefined {
  const stat = readOptional(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses; fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.length > 19 ? { state: fields[0]!, startTime: fields[19]! } : undefined;
}

interface Machine {
  readonly host: string;
  readonly bootId?: string;
  readonly pidNamespace?: string;
}

let thisMachine: Machine | undefined;
function machine(): Machine {
  thisMachine ??= {
    host: process.getBuiltinModule('node:os').hostname(),
    bootId: readOptional(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOptional(() => readlinkSync('/proc/self/ns/pid')),
  };
  return thisMachine;
}

function onThisMachine(owner: Partial<LockOwner>): boolean {
  const here = machine();
  return owner.host === here.host && owner.bootId === here.bootId && owner.pidNamespace === here.pidNamespace;
}

/**
 * A holder on this kernel (same boot id) in another pid namespace, such as a
 * container sharing the home folder: its pid means nothing here, but where
 * that namespace is visible from this one (a container started from this
 * machine's namespace), /proc shows each process's pid inside its own
 * namespace (the last `NSpid` field). Returns the pid this process sees for
 * the holder, `'gone'` when the namespace is visible and the holder is not
 * in it, or `'unknown'` when the namespace cannot be seen from here.
 */
function pidInThisNamespace(owner: LockOwner): number | 'gone' | 'unknown' {
  if (owner.pidNamespace === undefined) return 'unknown';
  let namespaceSeen = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 'unknown';
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    if (readOptional(() => readlinkSync(`/proc/${entry}/ns/pid`)) !== owner.pidNamespace) continue;
    namespaceSeen = true;
    const nspid = /^NSpid:\s*(.*)$/m
      .exec(readOptional(() => readFileSync(`/proc/${entry}/status`, 'utf8')) ?? '')?.[1]
      ?.trim()
      .split(/\s+/);
    if (nspid !== undefined && Number(nspid.at(-1)) === owner.pid) return Number(entry);
  }
  return namespaceSeen ? 'gone' : 'unknown';
}

/** Whether `owner` is on this kernel, in a pid namespace other than this process's. */
function inOtherPidNamespace(owner: Partial<LockOwner>): boolean {
  const here = machine();
  return here.bootId !== undefined && owner.bootId === here.bootId && owner.pidNamespace !== undefined && owner.pidNamespace !== here.pidNamespace;
}

/** Whether the process `owner` names still runs (only meaningful on this machine). */
function ownerAlive(owner: LockOwner, pid = owner.pid): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = processStat(pid);
  // Without /proc (or where it hides other users' processes) the pid alone has to do.
  if (stat === undefined) return true;
  // A zombie has exited; only its parent has not collected it yet.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return owner.startTime === undefined || owner.startTime === stat.startTime;
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

async function listGenerations(lockDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(lockDir);
  } catch (error) {
    throw new StateError(ERR_STORAGE, lockDir, `cannot read the lock folder ${lockDir}: ${(error as Error).message}; it must be a folder this user can write`, { cause: error });
  }
  return names
    .filter((name) => GENERATION.test(name))
    .map(Number)
    .sort((a, b) => b - a);
}

/** Reads a small file of the lock; undefined unless it is a regular file (a FIFO planted here must not block the reader). */
async function readLockFile(path: string): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    return (await handle.stat()).isFile() ? await handle.readFile('utf8') : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function readOwner(generationDir: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse((await readLockFile(join(generationDir, OWNER_FILE))) ?? '') as LockOwner;
    return typeof owner === 'object' && owner !== null && Number.isSafeInteger(owner.pid) && typeof owner.host === 'string' && typeof owner.token === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}

function describeOwner(owner: LockOwner | undefined): string {
  if (owner === undefined) return 'a process that left no readable owner record';
  return onThisMachine(owner) ? `process ${owner.pid} on this machine` : `process ${owner.pid} on host ${owner.host}`;
}

/** What a waiting process remembers of generations it cannot check by pid: their heartbeat and since when it is unchanged. */
type HeartbeatSightings = Map<number, { beat: string | undefined; since: number }>;

/** Whether the top generation can be taken over; `sightings` carries heartbeat observations between polls. */
async function abandoned(generationDir: string, generation: number, owner: LockOwner | undefined, sightings: HeartbeatSightings): Promise<boolean> {
  if (await exists(join(generationDir, RELEASED_FILE))) return true;
  if (owner !== undefined && onThisMachine(owner)) return !ownerAlive(owner);
  if (owner !== undefined && inOtherPidNamespace(owner)) {
    // Checked by pid where its namespace is visible: never taken over while it runs, however long it pauses.
    const pid = pidInThisNamespace(owner);
    if (pid === 'gone') return true;
    if (pid !== 'unknown') return !ownerAlive(owner, pid);
  }
  const beat = await readLockFile(join(generationDir, HEARTBEAT_FILE));
  const seen = sightings.get(generation);
  const now = performance.now();
  if (seen === undefined || seen.beat !== beat) {
    sightings.set(generation, { beat, since: now });
    return false;
  }
  return now - seen.since >= LOCK_STALE_MS;
}

/** Writes generation `number` whole in a temporary folder and renames it into place; false when another process made it first. */
async function createGeneration(lockDir: string, number: number, owner: LockOwner): Promise<boolean> {
  const temp = join(lockDir, `${TEMP_PREFIX}${process.pid}.${randomHex(6)}`);
  try {
    await fs.mkdir(temp, { mode: 0o700 });
    await fs.writeFile(join(temp, OWNER_FILE), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    await fs.writeFile(join(temp, HEARTBEAT_FILE), '0', { mode: 0o600 });
    await fs.rename(temp, join(lockDir, String(number)));
    return true;
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    // Renaming a folder onto a folder that is not empty fails: that number is taken.
    if (isErrno(error, 'ENOTEMPTY', 'EEXIST') || (process.platform === 'win32' && isErrno(error, 'EPERM', 'EACCES'))) return false;
    throw new StateError(ERR_STORAGE, lockDir, `cannot take the session lock in ${lockDir}: ${(error as Error).message}`, { cause: error });
  }
}

/** Removes generations below `mine` and temporary folders whose writers are gone. */
async function tidy(lockDir: string, mine: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(lockDir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(lockDir, name);
    if (GENERATION.test(name)) {
      if (Number(name) < mine) await fs.rm(path, { recursive: true, force: true }).catch(() => undefined);
      continue;
    }
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const owner = await readOwner(path);
    let gone: boolean;
    if (owner !== undefined && onThisMachine(owner)) gone = !ownerAlive(owner);
    else
      gone = await fs.lstat(path).then(
        (info) => Date.now() - info.mtimeMs > TEMP_ABANDONED_MS,
        () => false,
      );
    if (gone) await fs.rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

function abortedError(signal: AbortSignal, lockDir: string): AbortedError {
  const error = new AbortedError(`waiting for the session lock ${lockDir} was cancelled`);
  Object.defineProperty(error, 'cause', { value: signal.reason, enumerable: false });
  return error;
}

interface Held {
  readonly turn: Turn;
  release(): Promise<void>;
}

/**
 * Refuses a lock folder another user could tamper with: a symbolic link
 * (its target's numbered folders would be removed), anything but a folder,
 * a folder of another user, or one others may write to.
 */
async function checkLockFolder(lockDir: string): Promise<void> {
  let info: import('node:fs').Stats;
  try {
    info = await fs.lstat(lockDir);
  } catch (error) {
    throw new StateError(ERR_STORAGE, lockDir, `cannot read the lock folder ${lockDir}: ${(error as Error).message}`, { cause: error });
  }
  const unsafe = (why: string) =>
    new StateError(ERR_STATE_UNSAFE, lockDir, `the lock folder ${lockDir} ${why}, so it cannot be trusted; it was left as it is`, {
      hint: `if no process of yours uses this profile, remove ${lockDir} (it is made again, private to you)`,
    });
  if (info.isSymbolicLink()) throw unsafe('is a symbolic link');
  if (!info.isDirectory()) throw unsafe('is not a folder');
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw unsafe(`belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o022) !== 0) throw unsafe(`can be written by other users (mode ${(info.mode & 0o777).toString(8)})`);
}

/** Waits (at most LOCK_WAIT_MS) until this process holds the lock in `lockDir`. */
async function acquire(lockDir: string, signal: AbortSignal | undefined): Promise<Held> {
  const deadline = performance.now() + LOCK_WAIT_MS;
  const sightings: HeartbeatSightings = new Map();
  await checkLockFolder(lockDir);
  for (let round = 0; ; round++) {
    if (signal?.aborted) throw abortedError(signal, lockDir);
    // Every round counts against the bound, including rounds that lost a race or met a planted generation.
    if (round > 0 && performance.now() > deadline) {
      throw new LockTimeoutError(`could not take the session lock ${lockDir} within ${LOCK_WAIT_MS / 1000} s; if no process uses this profile, remove the folder ${lockDir}`);
    }
    const top = (await listGenerations(lockDir))[0];
    const topDir = top === undefined ? undefined : join(lockDir, String(top));
    const topOwner = topDir === undefined ? undefined : await readOwner(topDir);
    if (top === undefined || (await abandoned(topDir!, top, topOwner, sightings))) {
      const mine = (top ?? 0) + 1;
      if (!GENERATION.test(String(mine))) {
        throw new StateError(ERR_STATE_UNSAFE, lockDir, `the lock folder ${lockDir} holds generation ${top}, past the largest number this SDK counts to; it was left as it is`, {
          hint: `if no process uses this profile, remove ${lockDir}`,
        });
      }
      const here = machine();
      const owner: LockOwner = {
        pid: process.pid,
        ...here,
        // /proc/self, not /proc/<pid>: in a pid namespace without its own /proc mount, the pid names another process there.
        startTime: processStat('self')?.startTime,
        token: randomHex(16),
        acquiredAt: new Date().toISOString(),
      };
      if (await createGeneration(lockDir, mine, owner)) {
        // A contender that listed before a later generation appeared may have renamed into a number already removed below it.
        if ((await listGenerations(lockDir))[0] === mine) {
          await tidy(lockDir, mine);
          return hold(lockDir, mine, owner);
        }
        await fs.rm(join(lockDir, String(mine)), { recursive: true, force: true });
      }
      continue;
    }
    if (performance.now() > deadline) {
      throw new LockTimeoutError(
        topOwner !== undefined && onThisMachine(topOwner)
          ? `${describeOwner(topOwner)} has held the session lock ${lockDir} for over ${LOCK_WAIT_MS / 1000} s; if that process is stuck, end it (kill ${topOwner.pid}) and try again`
          : `${describeOwner(topOwner)} has held the session lock ${lockDir} for over ${LOCK_WAIT_MS / 1000} s and its heartbeat is still changing; if no process uses this profile, remove the folder ${topDir}`,
      );
    }
    try {
      await pause(15 + Math.random() * 35, signal);
    } catch {
      throw abortedError(signal!, lockDir);
    }
  }
}

/** Waits `ms`; rejects when `signal` aborts (with a timer of its own: a run that takes no turn loads no timers module). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function hold(lockDir: string, generation: number, owner: LockOwner): Held {
  const dir = join(lockDir, String(generation));
  let beats = 0;
  const heartbeat = setInterval(() => {
    writeLockFile(join(dir, HEARTBEAT_FILE), String(++beats)).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let ended = false;
  const turn: Turn = {
    fence: undefined,
    async assertHeld() {
      if (ended) throw new TurnLostError(`this turn on the session lock ${lockDir} has ended; take a new one`);
      const top = (await listGenerations(lockDir))[0];
      const current = top === undefined ? undefined : await readOwner(join(lockDir, String(top)));
      if (top === generation && current?.token === owner.token && !(await exists(join(dir, RELEASED_FILE)))) return;
      throw new TurnLostError(
        `${describeOwner(current)} took the session lock ${lockDir} over while this process held it (after a pause longer than ${LOCK_STALE_MS / 1000} s, or a lock folder edited by hand); this process gave up its turn without spending a refresh token or writing. Call again to take a new turn`,
      );
    },
  };
  return {
    turn,
    async release() {
      ended = true;
      clearInterval(heartbeat);
      // Kept, not removed: the highest generation stays so the next number is always new.
      await writeLockFile(join(dir, RELEASED_FILE), '').catch(() => undefined);
    },
  };
}

/** Writes a small file of the lock without following a symbolic link planted in its place. */
async function writeLockFile(path: string, text: string): Promise<void> {
  const handle = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0), 0o600);
  try {
    if (!(await handle.stat()).isFile()) return;
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Runs `fn` holding the lock of the session folder `folder`, in this process
 * and across processes. Waits at most LOCK_WAIT_MS (then LockTimeoutError),
 * or until `options.signal` aborts (then AbortedError); once `fn` runs, the
 * signal no longer cuts the turn short.
 */
export async function withFolderLock<T>(folder: string, fn: (turn: Turn) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
  const { signal } = options;
  const lockDir = join(folder, LOCK_FOLDER);
  return new Promise<T>((resolve, reject) => {
    let started = false;
    const onAbort = () => {
      if (!started) reject(abortedError(signal!, lockDir));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    inProcess(`folder:${folder}`, async () => {
      await fs.mkdir(lockDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
        throw new StateError(ERR_STORAGE, lockDir, `cannot create the lock folder ${lockDir}: ${(error as Error).message}; the profile folder must be a folder this user can write`, { cause: error });
      });
      const held = await acquire(lockDir, signal);
      if (signal?.aborted) {
        await held.release();
        throw abortedError(signal, lockDir);
      }
      started = true;
      try {
        return await fn(held.turn);
      } finally {
        await held.release();
      }
    })
      .then(resolve, reject)
      .finally(() => signal?.removeEventListener('abort', onAbort));
  });
}
