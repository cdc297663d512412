// Turns for refreshing one session. Inside a process a queue per key; across
// processes sharing the disk, a lock folder next to the session (via
// proper-lockfile) whose holder keeps touching it, so a lock left by a
// killed process goes stale and is taken over.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LockTimeoutError } from './errors.js';

/** A lock untouched for this long is considered abandoned and taken over. */
export const LOCK_STALE_MS = 4000;
/** How often the holder touches its lock. */
const LOCK_UPDATE_MS = 1000;
/** How long a process waits for its turn before giving up. */
export const LOCK_WAIT_MS = 30_000;

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

/** Runs `fn` holding the lock of the session folder `folder`, in this process and across processes. */
export async function withFolderLock<T>(folder: string, fn: (turn: Turn) => Promise<T>): Promise<T> {
  return inProcess(`folder:${folder}`, async () => {
    const { default: lockfile } = await import('proper-lockfile');
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const lockPath = join(folder, 'session.lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    let release: (() => Promise<void>) | undefined;
    while (!release) {
      try {
        release = await lockfile.lock(folder, {
          lockfilePath: lockPath,
          realpath: false,
          stale: LOCK_STALE_MS,
          update: LOCK_UPDATE_MS,
          retries: 0,
          // Another process took the lock over after it went stale; this turn ends when fn does.
          onCompromised: () => undefined,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
        if (Date.now() > deadline) {
          throw new LockTimeoutError(`another process has held the lock ${lockPath} for over ${LOCK_WAIT_MS / 1000} s; if no other process is using this profile, remove that folder`);
        }
        await new Promise((resolve) => setTimeout(resolve, 15 + Math.random() * 35));
      }
    }
    try {
      return await fn(LOCAL_TURN);
    } finally {
      await release().catch(() => undefined);
    }
  });
}
