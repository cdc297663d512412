// The session engine: keeps one session's tokens fresh and saved, through
// the effects of effects.ts only, moving between the states of machine.ts.
// What it guarantees (and the docs page states):
// - a token's lifetime counts from when its request was sent, on the
//   monotonic clock; persisted times are wall-clock and a token that looks
//   issued in the future counts as expired;
// - one refresh at a time: in this process callers share it, across
//   processes they take turns (disk lock or lease);
// - a refresh token is spent only after storage took a write in the same
//   turn, and new tokens are held in memory and the turn kept until they
//   are saved; every write is fenced by the tokens it replaces, so an older
//   token never overwrites a newer one;
// - a refresh answer that cannot be used but replaced the refresh token (a
//   DPoP session's tokens came back unbound) leaves its new refresh token
//   in the spent one's place, and nothing else of it;
// - a rejected token is remembered per token; a server-ended session fails
//   fast until a login or newer tokens in storage;
// - with leases (shared storage), the write before a spend marks the stored
//   tokens as being spent; another worker does not spend them while the
//   mark is recent, so a holder whose new tokens storage could not take
//   (storage away, longer than its lease) keeps them authoritative and
//   saves them when storage returns, in a new turn if its lease ran out.
import { LockTimeoutError, LoginRequiredError, TurnLostError } from '../errors.js';
import type { Turn } from '../lock.js';
import { holdsString, lifetimeSeconds, tokenFileFromResponse, valueInHand, type TokenFile } from '../token.js';
import { RefusedAfterRotation, type Effects, type WriteOutcome } from './effects.js';
import { handable, next, storedTimes, tokenTimes, type HeldToken, type SessionEvent, type SessionState } from './machine.js';

/**
 * A token the server issued right after the API rejected its predecessor,
 * rejected again within this long and never accepted, goes back to the
 * caller without a refresh (an API that rejects every token); later, a 401
 * for it is an expiry like any other.
 */
export const SUSPECT_MS = 60_000;
/** A failed background refresh is tried again after this long, not on every call. */
export const BACKGROUND_RETRY_MS = 5_000;
/** New tokens that storage refused are tried again at most this often by callers, and by the turn holder at growing intervals up to the last. */
export const WRITE_RETRY_MS = 1_000;
const SAVE_BACKOFF_MAX_MS = 5_000;
/** How long a call waits for one write attempt of unsaved tokens before it is served from memory. */
const WRITE_WAIT_MS = 2_000;

/**
 * The field of a stored token set that says a worker is spending its
 * refresh token: `<worker id>@<wall ms>`. Another worker leaves that refresh
 * token alone for this long after the mark (a storage outage plus the
 * holder's save), then takes the holder for gone and spends it.
 */
export const SPEND_MARK = '_spending';
export const SPEND_MARK_MS = 120_000;

type Token = HeldToken<TokenFile>;

/** Whether two saved token sets are the same version: the same tokens with the same times. */
export function sameTokens(a: TokenFile | undefined, b: TokenFile | undefined): boolean {
  return a !== undefined && b !== undefined && a.access_token === b.access_token && a.refresh_token === b.refresh_token && a._iat === b._iat && a._exp === b._exp;
}

export class SessionEngine {
  /** This engine in spend marks: random, so workers of different processes never share one. */
  #workerId: string | undefined;
  /** This engine's id in a spend mark, made when first needed: a run that only reads a valid token loads no crypto. */
  get #worker(): string {
    return (this.#workerId ??= Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex'));
  }
  /** Where the session stands (see machine.ts). */
  state: SessionState = 'none';
  /** Until when (monotonic ms) the hot path may hand out `hotToken` without any check. */
  hotUntil = 0;
  hotToken = '';
  /** Called with every transition; the simulator checks them. */
  onTransition: ((from: SessionState, event: SessionEvent, to: SessionState | undefined) => void) | undefined;
  readonly #fx: Effects;
  #token: Token | undefined;
  /** What storage holds, as far as this process knows: what the next write replaces. */
  #stored: TokenFile | undefined;
  /** New tokens storage has not taken yet. */
  #unsaved: TokenFile | undefined;
  /** The turn kept while tokens are unsaved. */
  #held: Turn | undefined;
  #wake: (() => void) | undefined;
  #lastWriteAt = -Infinity;
  #inflight: Promise<string> | undefined;
  #backgroundFailedAt = -Infinity;
  /** A token the API rejected: never handed out again. */
  #rejected: string | undefined;
  /** A token obtained because the API rejected its predecessor, not yet accepted by the API. */
  #suspect: string | undefined;
  #suspectUntil = 0;
  /** Token requests answered so far. */
  #requests = 0;
  /** The tokens the server refused for good. */
  #endedBase: TokenFile | undefined;

  constructor(effects: Effects) {
    this.#fx = effects;
  }

  #go(event: SessionEvent): void {
    const to = next(this.state, event);
    this.onTransition?.(this.state, event, to);
    if (to !== undefined) this.state = to;
  }

  /** The tokens at hand: unsaved ones first, then what was read or received. */
  get file(): TokenFile | undefined {
    return this.#unsaved ?? this.#token?.file;
  }

  /** The current token, when one is held. */
  get token(): Token | undefined {
    return this.#token;
  }

  // ---- handing out tokens ----------------------------------------------------

  /** A valid access token: from memory, storage, or a refresh (the slow path behind the facade's hot path). */
  async accessToken(): Promise<string> {
    if (this.#unsaved) await this.#nudgeSave();
    let token = this.#token;
    if (token === undefined && this.#fx.store.persistent && this.state !== 'ended') token = await this.load();
    const now = this.#fx.clock.now();
    if (token !== undefined && token.accessToken !== '' && token.accessToken !== this.#rejected && this.state !== 'ended') {
      if (now < token.refreshAt) {
        if (!this.#unsaved) this.#hot(token);
        return token.accessToken;
      }
      if (this.state === 'fresh') this.#go('refresh-time');
      // Due for refresh but still valid: refresh without making anyone wait for it.
      if (handable(token, now)) {
        this.#refreshInBackground();
        return token.accessToken;
      }
    }
    return this.#fresh(undefined);
  }

  /** Refreshes now, whether or not the token is due. */
  async refreshNow(): Promise<void> {
    if (!this.#token && this.#fx.store.persistent) await this.load();
    await this.#fresh(this.#token?.accessToken ?? '');
  }

  /**
   * The API rejected `rejected` (HTTP 401): a newer token, refreshing if no
   * other caller has; undefined when `rejected` came from such a refresh and
   * the API never accepted it and it is less than a minute old (an API that
   * rejects every token is not met with a refresh per call).
   */
  async tokenRejected(rejected: string): Promise<string | undefined> {
    if (rejected === this.#suspect && this.#fx.clock.now() < this.#suspectUntil) {
      // No refresh for it, but newer tokens someone else saved supersede it.
      if (this.#fx.store.persistent && !this.#unsaved) await this.load();
      return this.#usable(rejected) ? this.#token!.accessToken : undefined;
    }
    if (rejected === this.#token?.accessToken) {
      this.#rejected = rejected;
      this.hotUntil = 0;
      if (this.state === 'fresh' || this.state === 'due' || this.state === 'unsaved') this.#go('api-rejected');
    }
    const requests = this.#requests;
    const fresh = await this.#fresh(rejected);
    if (fresh === rejected) return undefined;
    // Only a token the server issued just now is suspect; one read from storage may simply be older.
    if (this.#requests !== requests) {
      this.#suspect = fresh;
      this.#suspectUntil = this.#fx.clock.now() + SUSPECT_MS;
    }
    return fresh;
  }

  /** The API accepted `token`: a later rejection of it is an expiry like any other. */
  tokenAccepted(token: string): void {
    if (token === this.#suspect) this.#suspect = undefined;
  }

  #hot(token: Token): void {
    this.hotToken = token.accessToken;
    this.hotUntil = token.refreshAt;
  }

  #refreshInBackground(): void {
    const now = this.#fx.clock.now();
    if (this.#inflight !== undefined || now - this.#backgroundFailedAt < BACKGROUND_RETRY_MS) return;
    this.#fresh(undefined).catch((error: unknown) => {
      this.#backgroundFailedAt = this.#fx.clock.now();
      this.#fx.host.warn('refresh ahead of expiry failed; the current token is used until it expires', { error: (error as Error)?.message });
    });
  }

  #fresh(rejected: string | undefined): Promise<string> {
    // One refresh at a time in this process: callers arriving meanwhile share it.
    if (this.#inflight === undefined) {
      this.#inflight = this.#obtain(rejected).finally(() => {
        this.#inflight = undefined;
      });
      return this.#inflight;
    }
    return this.#inflight.then((token) => (token === rejected ? this.#fresh(rejected) : token));
  }

  #usable(rejected: string | undefined): boolean {
    const token = this.#token;
    return token !== undefined && token.accessToken !== '' && token.accessToken !== rejected && token.accessToken !== this.#rejected && this.#fx.clock.now() < token.refreshAt;
  }

  async #obtain(rejected: string | undefined): Promise<string> {
    if (this.state === 'ended') await this.#checkEnded();
    // Storage may already hold newer tokens (another process refreshed): a read costs less than a turn.
    if (this.#fx.store.persistent && !this.#unsaved) await this.load();
    if (this.#usable(rejected)) return this.#token!.accessToken;
    return this.#inTurn(async (turn) => {
      // Another process may have refreshed while this one waited for its turn.
      if (this.#fx.store.persistent && !this.#unsaved) await this.load();
      if (this.state === 'ended') throw this.#fx.host.ended();
      if (this.#usable(rejected)) return this.#token!.accessToken;
      // A token that expired before it was saved (storage slower than its lifetime) is not handed out: once more, then an error.
      for (let attempt = 0; ; attempt++) {
        const file = this.file;
        let token: Token;
        if (holdsString(file, 'refresh_token')) token = await this.#refresh(file!, turn);
        else if (this.#fx.host.unattended) token = await this.#unattendedLogin(turn);
        else throw this.#fx.host.noSession(file);
        if (handable(token, this.#fx.clock.now())) return token.accessToken;
        if (attempt > 0) throw this.#fx.host.expiredOnArrival();
      }
    });
  }

  /**
   * In a new turn while tokens are unsaved (the last turn was lost): when
   * storage moved on meanwhile, those tokens would be written over newer
   * ones, so storage's tokens are taken instead.
   */
  async #recheckUnsaved(): Promise<void> {
    const stored = await this.#fx.store.read();
    if (stored !== undefined && !sameTokens(stored, this.#stored) && !sameTokens(stored, this.#unsaved)) {
      this.#unsaved = undefined;
      this.#go('superseded');
      this.#adopt(stored);
    }
  }

  async #checkEnded(): Promise<void> {
    if (this.#fx.store.persistent) {
      const stored = await this.#fx.store.read();
      if (stored !== undefined && !sameTokens(stored, this.#endedBase)) {
        this.#adopt(stored);
        return;
      }
    }
    throw this.#fx.host.ended();
  }

  // ---- turns, refreshes, saving ---------------------------------------------

  /**
   * Runs `fn` in a turn. While new tokens are unsaved the turn is kept (and
   * `fn` runs in it at once): nobody else may spend the refresh token these
   * tokens replaced. The caller gets `fn`'s result as soon as it has one.
   */
  #inTurn(fn: (turn: Turn) => Promise<string>): Promise<string> {
    if (this.#held) {
      // The turn is kept until this work is done too.
      const work = fn(this.#held);
      this.#heldWork.add(work);
      const done = () => this.#heldWork.delete(work);
      work.then(done, done);
      return work;
    }
    return new Promise<string>((resolve, reject) => {
      this.#fx.turns
        .take(async (turn) => {
          try {
            if (this.#unsaved && this.#fx.store.persistent) await this.#recheckUnsaved();
            resolve(await fn(turn));
          } catch (error) {
            reject(error);
          }
          if (this.#unsaved) await this.#keepSaving(turn);
        })
        .catch(reject);
    });
  }

  async #refresh(base: TokenFile, turn: Turn): Promise<Token> {
    // Read first: a refresh token kept in the keychain is read here, and a keychain that fails stops the refresh before any write.
    const refreshToken = base.refresh_token!;
    this.#fx.host.secret(refreshToken);
    // Spend the refresh token only once storage has taken a write in this turn:
    // a store that refuses writes would otherwise leave the new tokens nowhere.
    let marked = false;
    if (this.#fx.store.persistent && !this.#unsaved && this.#stored !== undefined && sameTokens(base, this.#stored)) {
      // With a lease, the write says this worker spends the token (see SPEND_MARK).
      marked = turn.fence !== undefined;
      if (marked) this.#refuseMarked(this.#stored);
      let probe;
      try {
        probe = await this.#write(marked ? { ...this.#stored, [SPEND_MARK]: `${this.#worker}@${this.#fx.clock.wall()}` } : this.#stored, 'fenced', turn);
      } catch (error) {
        throw error instanceof TurnLostError ? error : this.#fx.host.unwritable(error);
      }
      if (!probe.written) {
        if (probe.holds !== undefined) this.#adopt(probe.holds);
        if (this.#usable(undefined)) return this.#token!;
        throw this.#fx.host.noSession(probe.holds);
      }
    }
    await turn.assertHeld();
    if (this.state === 'fresh') this.#go('refresh-time');
    this.#go('request-sent');
    this.#fx.host.debug('refresh');
    const sentAt = this.#fx.clock.now();
    const sentWall = this.#fx.clock.wall();
    let response: Record<string, unknown>;
    try {
      response = await this.#fx.endpoint.refresh(refreshToken, base);
    } catch (error) {
      if (error instanceof RefusedAfterRotation) throw await this.#keepReplacement(base, error, turn);
      if (error instanceof LoginRequiredError) {
        // A service account whose refresh token is refused just logs in again.
        if (this.#fx.host.unattended) {
          this.#go('request-failed');
          return this.#unattendedLogin(turn);
        }
        this.#endedBase = base;
        this.#unsaved = undefined;
        this.#token = undefined;
        this.hotUntil = 0;
        this.#go('grant-ended');
      } else {
        this.#go(this.#unsaved ? 'tokens-unsaved' : 'request-failed');
        // No new tokens: the mark goes, so the next worker need not wait for it.
        if (marked && this.#stored !== undefined && !this.#unsaved) await this.#write(unmarked(this.#stored), 'fenced', turn).catch(() => undefined);
      }
      throw error;
    }
    return this.#take(response, base, 'refresh', sentAt, sentWall, turn);
  }

  /**
   * The server replaced the refresh token, but its answer cannot be used (a
   * DPoP session's tokens came back unbound). The new refresh token takes
   * the spent one's place beside the tokens held, saved like new tokens
   * (fenced, held in memory and tried again if storage refuses), and
   * nothing else of the answer is kept: the next refresh then spends a live
   * token, not the spent one, which a server that detects reuse answers by
   * revoking the grant. Gives back the refusal, for the caller to throw.
   */
  async #keepReplacement(base: TokenFile, refused: RefusedAfterRotation, turn: Turn): Promise<Error> {
    const { clock, host, store } = this.#fx;
    host.secret(refused.refreshToken);
    const file = unmarked({ ...base, refresh_token: refused.refreshToken });
    const held = this.#token;
    const access = typeof file.access_token === 'string' ? file.access_token : '';
    this.#token = held !== undefined && held.accessToken === access ? { ...held, file } : { accessToken: access, ...storedTimes(file._iat, file._exp, clock.wall(), clock.now()), file };
    if (!store.persistent) {
      this.#go('request-failed');
      return refused.error;
    }
    this.#unsaved = file;
    try {
      const outcome = await this.#write(file, 'fenced', turn);
      this.#lastWriteAt = clock.now();
      // A newer refresh in this turn took over meanwhile; it saves its own tokens.
      if (this.#unsaved !== file) return refused.error;
      this.#unsaved = undefined;
      if (outcome.written) {
        this.#go('request-failed');
      } else {
        this.#go('superseded');
        if (outcome.holds) this.#adopt(outcome.holds);
      }
    } catch (error) {
      // Held in memory as unsaved tokens: the turn is kept and the write tried again until it lands.
      this.#lastWriteAt = clock.now();
      this.#go('tokens-unsaved');
      host.warn('the refresh token the server issued could not be saved yet; it is kept in memory and saving is tried again', { error: (error as Error)?.message });
    }
    return refused.error;
  }

  /** Refuses to spend tokens another worker marked as being spent, while the mark is recent. */
  #refuseMarked(stored: TokenFile): void {
    const mark = stored[SPEND_MARK];
    if (typeof mark !== 'string') return;
    const at = mark.lastIndexOf('@');
    const who = mark.slice(0, at);
    const when = Number(mark.slice(at + 1));
    if (who === this.#worker || !Number.isFinite(when) || Math.abs(this.#fx.clock.wall() - when) >= SPEND_MARK_MS) return;
    throw new LockTimeoutError(
      `another worker began spending this session's refresh token ${Math.round(Math.abs(this.#fx.clock.wall() - when) / 1000)} s ago and has not saved the new tokens yet (it keeps them while shared storage is away); this call did not spend it again. Call again shortly; if that worker stopped, the refresh token is used again ${SPEND_MARK_MS / 1000} s after it began`,
    );
  }

  async #unattendedLogin(turn: Turn): Promise<Token> {
    const sentAt = this.#fx.clock.now();
    const sentWall = this.#fx.clock.wall();
    return this.#take(await this.#fx.endpoint.login(), undefined, 'login', sentAt, sentWall, turn);
  }

  /** Takes a login's tokens (the facade calls this within a turn). */
  async login(response: Record<string, unknown>, sentAt: number, sentWall: number, turn: Turn): Promise<string> {
    return (await this.#take(response, undefined, 'login', sentAt, sentWall, turn)).accessToken;
  }

  /**
   * Takes new tokens: first into memory, so they are never dropped, then to
   * storage, fenced by the tokens they replace. A write that fails is
   * reported once (the host's `unsaved` error) and tried again, holding the
   * turn, until it lands.
   */
  async #take(response: Record<string, unknown>, previous: TokenFile | undefined, reason: 'login' | 'refresh', sentAt: number, sentWall: number, turn: Turn): Promise<Token> {
    const file = tokenFileFromResponse(response, previous, sentWall);
    const access = typeof file.access_token === 'string' ? file.access_token : '';
    const { host, store } = this.#fx;
    if (access === '') {
      if (this.state === 'refreshing') this.#go('request-failed');
      throw host.noAccessToken();
    }
    host.secret(file.access_token);
    host.secret(file.refresh_token);
    host.secret(file.id_token);
    const token: Token = { accessToken: access, ...tokenTimes(sentAt, lifetimeSeconds(file, access)), file };
    this.#token = token;
    this.#requests++;
    this.#rejected = undefined;
    this.#suspect = undefined;
    this.#endedBase = undefined;
    this.hotUntil = 0;
    const saved: SessionEvent = reason === 'login' ? 'logged-in' : 'tokens-saved';
    if (!store.persistent) {
      this.#go(saved);
      this.#hot(token);
      host.tokens(reason, file);
      return token;
    }
    this.#unsaved = file;
    try {
      if (reason === 'login') await host.beforeLoginWrite(turn);
      const outcome = await this.#write(file, reason === 'login' ? 'any' : 'fenced', turn);
      this.#lastWriteAt = this.#fx.clock.now();
      if (this.#unsaved !== file) {
        // A newer refresh in this turn took over meanwhile; it saves its own tokens.
        host.tokens(reason, file);
        return token;
      }
      this.#unsaved = undefined;
      if (outcome.written) {
        this.#go(saved);
        this.#hot(token);
      } else {
        // Someone else saved newer tokens meanwhile: theirs stay; this call still gets its valid token.
        this.#go('superseded');
        if (outcome.holds) this.#adopt(outcome.holds);
      }
    } catch (error) {
      this.#lastWriteAt = this.#fx.clock.now();
      this.#go('tokens-unsaved');
      host.tokens(reason, file);
      throw error instanceof TurnLostError ? error : host.unsaved(error);
    }
    host.debug(reason === 'login' ? 'logged in' : 'refreshed');
    host.tokens(reason, file);
    return token;
  }

  /** Holds the turn and writes the unsaved tokens until they land, the turn is lost, or they are superseded. */
  async #keepSaving(turn: Turn): Promise<void> {
    this.#held = turn;
    try {
      for (;;) {
        await this.#saveLoop(turn, 250);
        if (this.#lost || this.#heldWork.size === 0) return;
        await Promise.allSettled([...this.#heldWork]);
      }
    } finally {
      this.#held = undefined;
      this.#wake = undefined;
      this.#lost = false;
      if (this.#unsaved) this.#retakeLater();
    }
  }

  #retaking = false;

  /** Unsaved tokens whose turn was lost: a new turn is taken to save them (fenced), until they land or storage moved on. */
  #retakeLater(): void {
    if (this.#retaking) return;
    this.#retaking = true;
    void this.#fx.clock.sleep(WRITE_RETRY_MS).then(() => {
      this.#retaking = false;
      if (!this.#unsaved || this.#held) return;
      this.#inTurn(() => Promise.resolve('')).then(
        () => undefined,
        () => this.#retakeLater(),
      );
    });
  }

  /** Work running in the kept turn: the turn is given up only after it. */
  #heldWork = new Set<Promise<string>>();
  /** The kept turn was lost (its lease ran out): nothing more is written in it. */
  #lost = false;

  /** Writes the unsaved tokens at growing intervals (or when a call wakes it) until they land or the turn is lost. */
  async #saveLoop(turn: Turn, backoff: number): Promise<void> {
    while (this.#unsaved) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        void this.#fx.clock.sleep(backoff).then(resolve);
      });
      this.#wake = undefined;
      if (!this.#unsaved) break;
      try {
        await this.#saveOnce(turn);
      } catch (error) {
        if (error instanceof TurnLostError) {
          this.#lost = true;
          return;
        }
        this.#fx.host.warn('saving new tokens failed again; they stay in memory and the turn is kept', { error: (error as Error)?.message });
        backoff = Math.min(backoff * 2, SAVE_BACKOFF_MAX_MS);
      }
    }
  }

  #saving: Promise<void> | undefined;

  #saveOnce(turn: Turn): Promise<void> {
    this.#saving ??= (async () => {
      const pending = this.#unsaved;
      if (!pending) return;
      this.#lastWriteAt = this.#fx.clock.now();
      const outcome = await this.#write(pending, 'fenced', turn);
      if (this.#unsaved !== pending) return;
      this.#unsaved = undefined;
      if (outcome.written) {
        this.#go('save-landed');
        if (this.#token && this.#token.file === pending) this.#hot(this.#token);
        this.#fx.host.debug('saved tokens that an earlier write could not');
      } else {
        this.#go('superseded');
        if (outcome.holds) this.#adopt(outcome.holds);
      }
    })().finally(() => {
      this.#saving = undefined;
    });
    return this.#saving;
  }

  #writes: Promise<unknown> = Promise.resolve();

  /**
   * Writes `file` after every earlier write of this engine, fenced by what
   * storage holds by then as far as this engine knows (its own last write
   * included), or over anything (a login).
   */
  #write(file: TokenFile, mode: 'fenced' | 'any', turn: Turn): Promise<WriteOutcome> {
    const run = this.#writes.then(async () => {
      const outcome = await this.#fx.store.write(file, mode === 'any' ? 'any' : (this.#stored ?? 'any'), turn);
      if (outcome.written) this.#stored = file;
      return outcome;
    });
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /** A call while tokens are unsaved: wakes the turn holder's next write (at most once a second) and waits briefly for it. */
  async #nudgeSave(): Promise<void> {
    const clock = this.#fx.clock;
    if (clock.now() - this.#lastWriteAt < WRITE_RETRY_MS) return;
    if (this.#held) {
      const turn = this.#held;
      const attempt = this.#saveOnce(turn).catch((error: unknown) => {
        this.#fx.host.warn('saving new tokens failed again; they stay in memory', { error: (error as Error)?.message });
      });
      await Promise.race([attempt, clock.sleep(WRITE_WAIT_MS)]);
      return;
    }
    // The turn was lost before the tokens landed: take one again to save them (fenced, so never over newer ones).
    this.#lastWriteAt = clock.now();
    const saved = this.#inTurn(async () => this.#token?.accessToken ?? '').catch((error: unknown) => {
      this.#fx.host.warn('saving new tokens failed again; they stay in memory', { error: (error as Error)?.message });
    });
    await Promise.race([saved, clock.sleep(WRITE_WAIT_MS)]);
  }

  // ---- storage ---------------------------------------------------------------

  /** Reads the saved tokens and takes them when they differ from what is held; undefined when there are none. */
  async load(): Promise<Token | undefined> {
    if (this.#unsaved) return this.#token;
    const stored = await this.#fx.store.read();
    if (stored === undefined) {
      this.#stored = undefined;
      if (this.state === 'none') this.#go('found-nothing');
      return this.#token;
    }
    if (sameTokens(stored, this.#stored) && this.#token) {
      // The same version; its spend mark may be new.
      this.#stored = stored;
      return this.#token;
    }
    if (this.state === 'ended' && sameTokens(stored, this.#endedBase)) return undefined;
    this.#adopt(stored);
    return this.#token;
  }

  #adopt(stored: TokenFile): void {
    const { clock, host } = this.#fx;
    host.secret(stored.access_token);
    // A refresh token kept in the keychain is read (and registered) only when a refresh spends it.
    host.secret(valueInHand(stored, 'refresh_token') as string | undefined);
    this.#stored = stored;
    const access = typeof stored.access_token === 'string' ? stored.access_token : '';
    const token: Token = { accessToken: access, ...storedTimes(stored._iat, stored._exp, clock.wall(), clock.now()), file: stored };
    this.#token = token;
    this.#endedBase = undefined;
    const now = clock.now();
    const fresh = access !== '' && now < token.refreshAt;
    if (this.state !== 'refreshing') this.#go(fresh ? 'found-fresh' : 'found-due');
    this.hotUntil = 0;
    if (fresh && !this.#unsaved) this.#hot(token);
  }

  /** Forgets the tokens here (a logout). */
  forget(): void {
    this.#token = undefined;
    this.#stored = undefined;
    this.#unsaved = undefined;
    this.#rejected = undefined;
    this.#suspect = undefined;
    this.#endedBase = undefined;
    this.hotUntil = 0;
    this.hotToken = '';
    this.#go('logged-out');
    this.#wake?.();
  }
}

/** `file` without a spend mark. */
function unmarked(file: TokenFile): TokenFile {
  const { [SPEND_MARK]: _mark, ...rest } = file;
  return rest;
}
