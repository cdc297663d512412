// The session behind the generated Auth class: a facade over the session
// engine (core/engine.ts, whose states and transitions are core/machine.ts)
// wired to the real clock, storage, turns and authorization server
// (session-wiring.ts, core/adapters.ts). How a first set of tokens is
// obtained is up to the flow's grant module (grants/).
import { performance } from 'node:perf_hooks';
import type { ClientOptions } from './client-options.js';
import type { AuthServer } from './core/adapters.js';
import type {
  DeviceLoginCompleteOptions,
  DeviceLoginInfo,
  UserLoginOptions,
  EnsureInitializedOptions,
  LogoutOptions,
  LogoutResult,
  SessionStatus,
  SignalOptions,
  TokenEvent,
  TokenListenerOptions,
} from './core/api-types.js';
import type { SessionEngine } from './core/engine.js';
import type { TokenListeners } from './core/session-host.js';
import { ConfigError, LoginRequiredError } from './errors.js';
import { completeDeviceLogin, initiateDeviceLogin } from './grants/device-code.js';
import type { Grant, GrantContext, LoginResult } from './grants/index.js';
import type { FetchFunction } from './hooks.js';
import type { SessionLog } from './log.js';
import { TOKEN_FILE } from './profile.js';
import { logoutSession } from './session-logout.js';
import type { SessionStorage } from './session-storage.js';
import { wireSession, type SessionParts } from './session-wiring.js';
import type { FlowDescriptor, SdkSettings } from './settings.js';
import { raceSignal } from './signal.js';
import { holdsString } from './token.js';

// The options and results of the public methods, and their defaults.
export * from './core/api-types.js';

/**
 * One OAuth2 session: logs in with its flow, hands out fresh access tokens,
 * and keeps the session where its options say. The generated `Auth` class
 * extends it with a factory per flow.
 *
 * @group Auth
 */
export class AuthCore {
  /** The profile this session is saved under (lowercased). */
  readonly profileName: string;
  /** The flow this session logs in with. */
  readonly flow: FlowDescriptor;
  readonly #parts: SessionParts;
  readonly #options: ClientOptions;
  readonly #grant: Grant;
  readonly #server: AuthServer;
  readonly #apiBaseUrl: string;
  readonly #scopes: readonly string[];
  readonly #storage: SessionStorage;
  readonly #engine: SessionEngine;
  readonly #log: SessionLog;
  readonly #listeners: TokenListeners;

  /**
   * A session of flow `flowId` of `settings`; the generated factories call
   * this. Throws `ConfigError` for options that cannot work.
   */
  constructor(settings: SdkSettings, flowId: string, options: ClientOptions) {
    const parts = (this.#parts = wireSession(settings, flowId, options, this));
    this.flow = parts.flow;
    this.profileName = parts.profileName;
    this.#options = parts.options;
    this.#grant = parts.grant;
    this.#server = parts.server;
    this.#apiBaseUrl = parts.apiBaseUrl;
    this.#scopes = parts.scopes;
    this.#storage = parts.storage;
    this.#engine = parts.engine;
    this.#log = parts.log;
    this.#listeners = parts.listeners;
  }

  /** Base URL of the API that receives this session's bearer token. */
  get apiBaseUrl(): string {
    return this.#apiBaseUrl;
  }

  /** The authorization server's issuer URL. */
  get issuer(): string {
    return this.#server.identity.issuer;
  }

  /** The scopes this session asks for. */
  get scopes(): readonly string[] {
    return this.#scopes;
  }

  /** The fetch this session uses for every request: the application's, or the global one. */
  get fetchFunction(): FetchFunction {
    return this.#options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Whether bearer tokens may go over plain http to a host other than this machine. */
  get allowInsecureHttp(): boolean {
    return this.#options.allowInsecureHttp === true;
  }

  /** Whether a session is at hand without logging in: a token in memory or storage, or a service account. Makes no request. */
  async isInitialized(): Promise<boolean> {
    if (this.#engine.token || this.#grant.unattended) return true;
    if (this.#storage.kind === 'memory') return false;
    return (await this.#engine.load()) !== undefined;
  }

  /**
   * A valid access token. With a valid token in memory this does no I/O.
   * From 3/4 of the token's lifetime on it is refreshed in the background
   * while the current one is handed out; callers wait only when it has
   * really expired. A service account logs in again when it must.
   */
  getAccessToken(options?: SignalOptions): Promise<string> {
    // The monotonic clock, read through perf_hooks' object: the global `performance` is an accessor on globalThis, a call more per read.
    const engine = this.#engine;
    if (performance.now() < engine.hotUntil) return Promise.resolve(engine.hotToken);
    return raceSignal(engine.accessToken(), options?.signal, 'waiting for an access token');
  }

  /**
   * The headers for a `method` request to `url` of the API, with a valid
   * access token: `Authorization: Bearer`, or for a DPoP session
   * `Authorization: DPoP` and the request's `DPoP` proof (which needs both).
   */
  async getRequestHeaders(method?: string | SignalOptions, url?: string | URL, options?: SignalOptions): Promise<Record<string, string>> {
    const token = await this.getAccessToken(typeof method === 'object' ? method : options);
    return this.headersFor(token, typeof method === 'string' ? method : undefined, url);
  }

  /** The headers that present `token` on a `method` request to `url`: a bearer token, or a DPoP-bound one with its proof (RFC 9449). */
  headersFor(token: string, method?: string, url?: string | URL): Promise<Record<string, string>> {
    return this.#server.proofs.headers(this.#engine.file, this.#storage.location(TOKEN_FILE), token, method, url);
  }

  /** Notes the API's answer to a request to `url` for the token binding (a DPoP nonce); true when it asked for a new one, so the request may go once more. */
  proofAnswered(response: Response, url: URL): boolean {
    return this.#server.proofs.answered(response, url);
  }

  /**
   * Called when the API rejected `rejected` (HTTP 401): a newer token,
   * refreshing if no other caller has; undefined when `rejected` came from
   * such a refresh and the API has not accepted it since (see
   * {@link tokenAccepted}), so an API that rejects every token is not met
   * with a refresh per call.
   */
  tokenRejected(rejected: string, options?: SignalOptions): Promise<string | undefined> {
    return raceSignal(this.#engine.tokenRejected(rejected), options?.signal, 'waiting for an access token');
  }

  /** Called when the API accepted `token`: a later 401 for it is an expiry, refreshed like any other. */
  tokenAccepted(token: string): void {
    this.#engine.tokenAccepted(token);
  }

  /** Uses the saved session, refreshes it when it expired, and logs in only when there is no usable session. */
  async ensureInitialized(options: EnsureInitializedOptions = {}): Promise<void> {
    try {
      await this.getAccessToken(options);
      return;
    } catch (error) {
      if (!(error instanceof LoginRequiredError)) throw error;
    }
    await this.userLogin(options);
  }

  /** Logs in with this session's flow: the browser for the authorization code flow, printed instructions for the device flow, the client secret for a service account. */
  async userLogin(options: UserLoginOptions = {}): Promise<void> {
    const context = await this.#server.context();
    this.#log.debug('login', { grant: this.flow.grant });
    await this.#finishLogin(await this.#grant.login(context, options), context);
  }

  /** Starts a device login (RFC 8628, section 3.1): returns what to show the user. Pass the result to {@link deviceUserLoginComplete}. */
  async deviceUserLoginInitiate(): Promise<DeviceLoginInfo> {
    this.#requireGrant('device_code', 'deviceUserLoginInitiate');
    return initiateDeviceLogin(await this.#server.context());
  }

  /** Waits until the user completed the device login, polling at the server's interval (5 s longer after each `slow_down`), until the code expires or `signal` aborts. */
  async deviceUserLoginComplete(info: DeviceLoginInfo, options: DeviceLoginCompleteOptions = {}): Promise<void> {
    this.#requireGrant('device_code', 'deviceUserLoginComplete');
    const context = await this.#server.context();
    await this.#finishLogin(await completeDeviceLogin(context, info, options.signal), context);
  }

  /**
   * Ends the session: revokes the refresh token (and an opaque access token)
   * where the server supports revocation (RFC 7009), then forgets the tokens.
   * The client configuration stays, so a later login needs no options. When
   * the server cannot be reached the session is kept and the call rejects,
   * unless `forgetLocally` is set.
   */
  logout(options: LogoutOptions = {}): Promise<LogoutResult> {
    return raceSignal(logoutSession(this.#parts, options), options.signal, 'the logout');
  }

  /** What is known about the saved session, without any request and without the tokens themselves. */
  async sessionStatus(): Promise<SessionStatus> {
    const token = this.#engine.token ?? (this.#storage.kind === 'memory' ? undefined : await this.#engine.load());
    const file = this.#engine.file;
    return {
      profile: this.profileName,
      flow: this.flow.id,
      clientType: this.flow.clientType,
      clientId: this.#server.identity.clientId,
      issuer: this.#server.identity.issuer,
      scopes: [...this.#scopes],
      storage: this.#storage.kind,
      loggedIn: file !== undefined,
      ...(file?._exp !== undefined ? { expiresAt: file._exp } : {}),
      accessTokenValid: token !== undefined && token.accessToken !== '' && performance.now() < token.expiresAt,
      hasRefreshToken: holdsString(file, 'refresh_token'),
    };
  }

  /** The saved access token as it is, even when due for refresh; undefined when there is none. Makes no request. */
  async savedAccessToken(): Promise<string | undefined> {
    if (!this.#engine.token && this.#storage.kind !== 'memory') await this.#engine.load();
    return this.#engine.token?.accessToken || undefined;
  }

  /** Refreshes now, whether or not the token is due (a service account logs in again). */
  async refresh(options?: SignalOptions): Promise<void> {
    await raceSignal(this.#engine.refreshNow(), options?.signal, 'the refresh');
  }

  /** Calls `listener` on every login, refresh and logout; the refresh token only when asked for. Returns a function that stops the calls. */
  onTokens(listener: (event: TokenEvent) => void, options: TokenListenerOptions = {}): () => void {
    const entry = { listener, includeRefreshToken: options.includeRefreshToken === true };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Hides secrets and tokens from `console.log` and `util.inspect`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} { profile: ${JSON.stringify(this.#shownProfile())}, flow: ${JSON.stringify(this.flow.id)}, storage: ${JSON.stringify(this.#storage.kind)} }`;
  }

  /** What `JSON.stringify` shows: never a secret or a token. */
  toJSON(): Record<string, string> {
    return { profile: this.#shownProfile(), flow: this.flow.id, storage: this.#storage.kind };
  }

  #shownProfile(): string {
    return this.flow.options.some((o) => o.name === 'profileName' && o.secret) ? '[redacted]' : this.profileName;
  }

  async #finishLogin(result: LoginResult, context: GrantContext): Promise<void> {
    const { mono, wall } = this.#server.sentAt;
    try {
      await this.#storage.turns.take((turn) => this.#engine.login(this.#server.loginResponse(result.response, context), mono, wall, turn));
    } catch (error) {
      result.finish?.({ ok: false, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    result.finish?.({ ok: true });
  }

  #requireGrant(grant: FlowDescriptor['grant'], method: string): void {
    if (this.flow.grant !== grant) throw new ConfigError(`${method}() is for the ${grant} flow; this session uses ${this.flow.grant}`);
  }
}
