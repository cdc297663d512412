// Turn-taking for one session: whoever refreshes or writes it takes a turn,
// so a rotating refresh token is spent once. The disk takes turns on a lock
// folder; application storage with the lease capability takes them on a
// lease with a fencing value, across every machine that shares it; anything
// else takes them only within this process.
import { LockTimeoutError, PlanetAuthError, StateError, ERR_STORAGE, TurnLostError } from './errors.js';
import { LOCAL_TURN, LOCK_WAIT_MS, inProcess, withFolderLock, type Turn } from './lock.js';
import type { ObjectStore } from './store.js';

export interface TurnTaker {
  /** Runs `fn` as the session's only writer. */
  take<T>(fn: (turn: Turn) => Promise<T>): Promise<T>;
  /** What other processes share this session with: what the turns protect against. */
  readonly scope: 'machine' | 'fleet' | 'process';
}

/** How long a lease lasts unless renewed; the holder renews it at a third of that. */
export const LEASE_TTL_MS = 15_000;

/** A store that can take turns across machines. */
export type LeasingStore = ObjectStore & Required<Pick<ObjectStore, 'acquireLease' | 'renewLease' | 'releaseLease'>>;

export function canLease(store: ObjectStore): store is LeasingStore {
  return typeof store.acquireLease === 'function' && typeof store.renewLease === 'function' && typeof store.releaseLease === 'function';
}

export function folderTurns(folder: string): TurnTaker {
  return { scope: 'machine', take: (fn) => withFolderLock(folder, fn) };
}

export function processTurns(key: string): TurnTaker {
  return { scope: 'process', take: (fn) => inProcess(key, () => fn(LOCAL_TURN)) };
}

function storageError(error: unknown, what: string): PlanetAuthError {
  if (error instanceof PlanetAuthError) return error;
  return new StateError(ERR_STORAGE, what, `the application storage failed while ${what}: ${(error as Error)?.message ?? String(error)}; check that the storage is reachable`, {
    cause: error,
  });
}

/**
 * A release that failed (storage away) is tried again for as long as the
 * lease would last, so a storage that comes back does not keep every worker
 * waiting for the lease to run out. Releasing a lease no longer held does nothing.
 */
function releaseLater(store: LeasingStore, leaseKey: string, fence: number): void {
  const until = Date.now() + LEASE_TTL_MS;
  const attempt = () => {
    if (Date.now() > until) return;
    store.releaseLease(leaseKey, fence).catch(() => setTimeout(attempt, 250).unref());
  };
  setTimeout(attempt, 250).unref();
}

/**
 * Turns on a lease in application storage (`leaseKey`), queued in this
 * process first so one process asks for the lease once at a time. The
 * storage stops renewing a lease `maxHoldMs` after it was taken, so work
 * that never ends (a request that ignores its abort signal) cannot keep
 * other workers waiting: they take the lease, and the stuck holder's writes
 * are refused by its fence.
 */
export function leaseTurns(store: LeasingStore, leaseKey: string, localKey: string, maxHoldMs: number): TurnTaker {
  return {
    scope: 'fleet',
    take: (fn) =>
      inProcess(localKey, async () => {
        const deadline = Date.now() + LOCK_WAIT_MS;
        let fence: number | undefined;
        for (;;) {
          try {
            fence = await store.acquireLease(leaseKey, LEASE_TTL_MS, maxHoldMs);
          } catch (error) {
            throw storageError(error, `taking the lease ${leaseKey}`);
          }
          if (fence !== undefined) break;
          if (Date.now() > deadline) {
            throw new LockTimeoutError(`another worker has held the lease ${leaseKey} for over ${LOCK_WAIT_MS / 1000} s; it ends by itself ${LEASE_TTL_MS / 1000} s after its holder stops renewing it`);
          }
          await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 75));
        }
        const held = fence;
        let lost = false;
        const renew = async () => {
          try {
            if (!(await store.renewLease(leaseKey, held, LEASE_TTL_MS))) lost = true;
          } catch {
            // Unreachable storage: the next check before a spend or a write decides.
          }
        };
        const timer = setInterval(() => void renew(), LEASE_TTL_MS / 3);
        timer.unref();
        const turn: Turn = {
          fence: held,
          async assertHeld() {
            let still: boolean;
            try {
              still = !lost && (await store.renewLease(leaseKey, held, LEASE_TTL_MS));
            } catch (error) {
              throw storageError(error, `checking the lease ${leaseKey}`);
            }
            if (!still) {
              lost = true;
              throw new TurnLostError(`this process lost its lease ${leaseKey} (fence ${held}) to another worker, so it neither spent the refresh token nor wrote; call again`);
            }
          },
        };
        try {
          return await fn(turn);
        } finally {
          clearInterval(timer);
          await store.releaseLease(leaseKey, held).catch(() => releaseLater(store, leaseKey, held));
        }
      }),
  };
}
