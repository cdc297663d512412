// Everything the session engine does to the world goes through these few
// interfaces: the SDK wires them to the real clock, storage, lock or lease and
// token endpoint (adapters.ts); the simulator (test/sim) wires them to a
// simulated world with faults.
import type { Turn } from '../lock.js';
import type { TokenFile } from '../token.js';

/** Time as the engine sees it. */
export interface Clock {
  /** Monotonic milliseconds: lifetimes and deadlines within this process. */
  now(): number;
  /** Wall-clock milliseconds since the epoch: only for what is persisted (`_iat`, `_exp`). */
  wall(): number;
  /** Resolves after `ms` of monotonic time; never keeps the process alive by itself. */
  sleep(ms: number): Promise<void>;
}

/** Whose turn it is to refresh and write: a disk lock or a shared-storage lease, behind one shape. */
export interface Turns {
  /** Runs `fn` as the session's only writer; rejects (ERR_LOCK_TIMEOUT) when the turn does not come within its bound. */
  take<T>(fn: (turn: Turn) => Promise<T>): Promise<T>;
}

/** What a fenced write did. */
export type WriteOutcome = { readonly written: true } | { readonly written: false; readonly holds: TokenFile | undefined };

/** The session's saved tokens. */
export interface TokenStore {
  /** False for a session kept in memory only: nothing is read or written. */
  readonly persistent: boolean;
  /** The saved tokens of this session (of this client), or undefined. */
  read(): Promise<TokenFile | undefined>;
  /**
   * Saves `file` during `turn`, fenced: only while storage still holds the
   * tokens `replaces` names (undefined: whatever it holds, as a login does).
   * Otherwise nothing is written and the outcome says what storage holds.
   */
  write(file: TokenFile, replaces: TokenFile | 'any', turn: Turn): Promise<WriteOutcome>;
}

/** The authorization server's token endpoint. */
export interface TokenEndpoint {
  /**
   * Spends `refreshToken`. Rejects with `LoginRequiredError` when the server
   * ended the session (or its answer cannot be used and the token was spent),
   * and with {@link RefusedAfterRotation} when its answer cannot be used but
   * carries a new refresh token. `base` is the token set it belongs to (whose
   * DPoP key, if any, signs the proof).
   */
  refresh(refreshToken: string, base?: TokenFile): Promise<Record<string, unknown>>;
  /** Logs in without a person (client credentials); only for unattended grants. */
  login(): Promise<Record<string, unknown>>;
}

/**
 * A refresh answer that cannot be used (a DPoP session's tokens came back
 * unbound) although the server replaced the refresh token with it. The
 * engine keeps `refreshToken` in place of the spent one, and nothing else of
 * the answer, then throws `error`; it never reaches the caller itself.
 */
export class RefusedAfterRotation extends Error {
  readonly error: Error;
  // A private field: util.inspect and JSON never show it.
  readonly #refreshToken: string;

  constructor(error: Error, refreshToken: string) {
    super(error.message);
    this.error = error;
    this.#refreshToken = refreshToken;
  }

  /** The refresh token the server issued in place of the spent one. */
  get refreshToken(): string {
    return this.#refreshToken;
  }
}

/** The engine's report channel and the errors it raises, in the SDK's terms. */
export interface EngineHost {
  /** Whether the grant logs in again by itself (a service account). */
  readonly unattended: boolean;
  /** Runs before the tokens of a login are written (the client settings go first). */
  beforeLoginWrite(turn: Turn): Promise<void>;
  /** New tokens, or none after a logout. */
  tokens(reason: 'login' | 'refresh' | 'logout', file: TokenFile | undefined): void;
  /** A value never to be shown in any output. */
  secret(value: string | undefined): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** No session at hand, or one that expired without a refresh token. */
  noSession(file: TokenFile | undefined): Error;
  /** The server ended the session: fail fast until a login. */
  ended(): Error;
  /** Storage refused a write before the refresh token was spent, so it was not spent. */
  unwritable(cause: unknown): Error;
  /** New tokens are kept in memory only, for now. */
  unsaved(cause: unknown): Error;
  /** New tokens expired before they could be saved and handed out (storage or server slower than their lifetime). */
  expiredOnArrival(): Error;
  /** A token response without an access token. */
  noAccessToken(): Error;
}

/** The engine's whole world. */
export interface Effects {
  readonly clock: Clock;
  readonly store: TokenStore;
  readonly turns: Turns;
  readonly endpoint: TokenEndpoint;
  readonly host: EngineHost;
}
