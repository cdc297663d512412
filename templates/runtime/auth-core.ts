// The session engine behind the generated Auth class. It owns the session's
// lifecycle only: load what storage holds, hand out a fresh access token,
// take turns with every other writer before spending a refresh token, and
// save what it got. How a first set of tokens is obtained is up to the
// flow's grant module (grants/).
import type * as OidcClient from 'openid-client';
import type { ClientOptions } from './client-options.js';
import {
  ConfigError,
  ERR_STORAGE,
  LoginRequiredError,
  NetworkError,
  PlanetAuthError,
  StateError,
  TokenRequestError,
  TurnLostError,
} from './errors.js';
import { completeDeviceLogin, initiateDeviceLogin } from './grants/device-code.js';
import { GRANT_MODULES, type DeviceLoginInfo, type Grant, type GrantContext, type LoginResult, type UserLoginOptions } from './grants/index.js';
import type { FetchFunction } from './hooks.js';
import type { Turn } from './lock.js';
import { containAsync, sessionLog, type SessionLog } from './log.js';
import { CLIENT_FILE, METADATA_FILE, TOKEN_FILE, clientConfigToWrite, normalizeProfileName, parseClientConfig, tokenFromAnotherServer, type ClientConfigFile } from './profile.js';
import { REQUEST_TIMEOUT_SECONDS, configFromMetadata, discover, loadOidc, protocolError, refreshRefused, revocationUnsupported, type ClientIdentity } from './protocol.js';
import { resolveOptions } from './resolve-options.js';
import { raceSignal } from './signal.js';
import { flowById, refuseBuiltinDestinations, serverSettings, type FlowDescriptor, type SdkSettings } from './settings.js';
import { SessionStorage } from './session-storage.js';
import { liveToken, parseTokenFile, tokenFileFromResponse, type LiveToken, type TokenFile } from './token.js';
import type { TurnTaker } from './turns.js';

export type { DeviceLoginInfo, UserLoginOptions } from './grants/index.js';
export { BROWSER_LOGIN_TIMEOUT_MS } from './grants/authorization-code.js';

/** Options of {@link AuthCore.ensureInitialized}: those of a login, used only when one is needed. */
export type EnsureInitializedOptions = UserLoginOptions;

/** Options of a call that may wait for the authorization server. */
export interface SignalOptions {
  /** Stops waiting (the call rejects with `AbortedError`); a refresh other callers share goes on. */
  readonly signal?: AbortSignal;
}

/** Options of {@link AuthCore.deviceUserLoginComplete}. */
export type DeviceLoginCompleteOptions = SignalOptions;

/** Options of {@link AuthCore.logout}. */
export interface LogoutOptions extends SignalOptions {
  /**
   * Forget the session here even when the server cannot be reached to
   * revoke it; its refresh token then stays valid at the server until it
   * expires. @defaultValue false
   */
  readonly forgetLocally?: boolean;
}

/** What {@link AuthCore.logout} did. */
export interface LogoutResult {
  /** The server revoked the refresh token (and an opaque access token). */
  readonly revoked: boolean;
  /** The tokens were forgotten here (memory and storage). */
  readonly forgotten: boolean;
  /** Why the server did not revoke, when it did not. */
  readonly warning?: string;
}

/** What is known about a session, without any request and without the tokens themselves. */
export interface SessionStatus {
  /** The profile the session is saved under. */
  readonly profile: string;
  /** The flow it logs in with. */
  readonly flow: string;
  /** The `client_type` of its profile. */
  readonly clientType: string;
  /** The client ID it logs in as. */
  readonly clientId: string;
  /** The authorization server's issuer URL. */
  readonly issuer: string;
  /** The scopes it asks for. */
  readonly scopes: readonly string[];
  /** Where the session is kept. */
  readonly storage: 'memory' | 'disk' | 'provider';
  /** Whether tokens are saved. */
  readonly loggedIn: boolean;
  /** Expiry of the access token, epoch seconds. */
  readonly expiresAt?: number;
  /** Whether the access token has not expired yet. */
  readonly accessTokenValid: boolean;
  /** Whether the session can be refreshed without a login. */
  readonly hasRefreshToken: boolean;
}

/** New tokens, as {@link AuthCore.onTokens} reports them. */
export interface TokenEvent {
  /** Why the tokens changed. */
  readonly reason: 'login' | 'refresh' | 'logout';
  /** The new access token; absent after a logout. */
  readonly accessToken?: string;
  /** When it expires, epoch seconds on this machine's clock; absent when nothing says. */
  readonly expiresAt?: number;
  /** The scopes the server granted, when it said. */
  readonly scope?: string;
  /** The OpenID Connect ID token, when there is one. */
  readonly idToken?: string;
  /** Only for listeners that asked for it with `includeRefreshToken`. */
  readonly refreshToken?: string;
}

/** Options of {@link AuthCore.onTokens}. */
export interface TokenListenerOptions {
  /** Also hand the listener the refresh token. @defaultValue false */
  readonly includeRefreshToken?: boolean;
}

function isJwt(token: string): boolean {
  return token.split('.').length === 3;
}

function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/** A failed background refresh is tried again after this long, not on every call. */
const BACKGROUND_RETRY_MS = 5_000;
/** How long a fleet worker keeps its turn trying to save new tokens to shared storage that went away. */
const FLEET_WRITE_RETRY_MS = 7_500;
/** A failed write of new tokens is tried again at most this often. */
const WRITE_RETRY_MS = 1_000;

/**
 * One OAuth2 session: logs in with its flow, hands out fresh access tokens,
 * and keeps the session where its options say. The generated `Auth` class
 * extends it with a factory per flow.
 */
export class AuthCore {
  /** The profile this session is saved under (lowercased). */
  readonly profileName: string;
  /** The flow this session logs in with. */
  readonly flow: FlowDescriptor;
  readonly #settings: SdkSettings;
  readonly #options: ClientOptions;
  readonly #grant: Grant;
  readonly #identity: ClientIdentity;
  readonly #audience: string | undefined;
  readonly #apiBaseUrl: string;
  readonly #scopes: readonly string[];
  readonly #storage: SessionStorage;
  readonly #turns: TurnTaker;
  readonly #log: SessionLog;
  #token: LiveToken | undefined;
  #tokenFile: TokenFile | undefined;
  /** Until when the hot path may hand out `#token` without any check; 0 forces the slow path. */
  #hotUntilMs = 0;
  /** New tokens that could not be written yet. */
  #unsaved: TokenFile | undefined;
  #lastWriteAttemptMs = 0;
  #metadata: Record<string, unknown> | undefined;
  #config: OidcClient.Configuration | undefined;
  #inflight: Promise<string> | undefined;
  #backgroundFailedAtMs = 0;
  /** The token a refresh after a 401 produced: a second 401 for it goes back to the caller. */
  #freshAfterRejection: string | undefined;
  /** Which settings the application chose itself, rather than took from defaults (for `auth_client.json`). */
  readonly #chosen: { readonly audiences: boolean; readonly scopes: boolean };
  readonly #listeners = new Set<{ listener: (event: TokenEvent) => void; includeRefreshToken: boolean }>();

  /**
   * A session of flow `flowId` of `settings`; the generated factories call
   * this. Throws `ConfigError` for options that cannot work.
   */
  constructor(settings: SdkSettings, flowId: string, options: ClientOptions) {
    const flow = flowById(settings, flowId);
    const resolved = resolveOptions(flow, options);
    this.#chosen = { audiences: typeof options.audience === 'string', scopes: options.requestedScopes !== undefined };
    const server = serverSettings(settings);
    this.flow = flow;
    this.#settings = settings;
    this.#options = resolved;
    this.#grant = GRANT_MODULES[flow.grant];
    this.profileName = normalizeProfileName(resolved.profileName ?? resolved.clientId);
    this.#log = sessionLog(resolved.logger, settings.env.debug, { profile: this.profileName, flow: flow.id });
    this.#log.secret(resolved.clientSecret);
    for (const option of flow.options) {
      const value = (resolved as unknown as Record<string, unknown>)[option.name];
      if (option.secret && typeof value === 'string') this.#log.secret(value);
    }
    this.#identity = {
      issuer: resolved.issuer ?? server.issuer ?? flow.issuer ?? settings.issuer,
      clientId: resolved.clientId,
      clientSecret: resolved.clientSecret,
      authMethod: flow.tokenEndpointAuthMethod,
      fetch: resolved.fetch,
      log: this.#log,
      ...(resolved.allowInsecureHttp === true ? { allowInsecureHttp: true } : {}),
      ...(resolved.requestTimeoutSeconds !== undefined ? { timeoutSeconds: resolved.requestTimeoutSeconds } : {}),
    };
    this.#audience = resolved.audience === null ? server.audience : (resolved.audience ?? server.audience ?? settings.audience);
    this.#apiBaseUrl = resolved.apiBaseUrl ?? server.apiBaseUrl ?? settings.apiBaseUrl;
    refuseBuiltinDestinations(this, settings, this.#identity.issuer, this.#audience, this.#apiBaseUrl);
    const scopes = resolved.requestedScopes ?? settings.defaultScopes;
    this.#scopes = this.#grant.unattended ? scopes.filter((s) => s !== 'offline_access') : [...scopes];
    this.#storage = new SessionStorage(settings, this.profileName, resolved, this);
    this.#turns = this.#storage.turns;
  }

  /** Base URL of the API that receives this session's bearer token. */
  get apiBaseUrl(): string {
    return this.#apiBaseUrl;
  }

  /** The authorization server's issuer URL. */
  get issuer(): string {
    return this.#identity.issuer;
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

  /**
   * Whether a session is at hand without logging in: a token in memory or in
   * storage, or a service account that can log in by itself. Makes no
   * network request.
   */
  async isInitialized(): Promise<boolean> {
    if (this.#token || this.#grant.unattended) return true;
    if (this.#storage.kind === 'memory') return false;
    return (await this.#loadStoredToken()) !== undefined;
  }

  /**
   * A valid access token. With a valid token in memory this does no I/O.
   * From 3/4 of the token's lifetime on it is refreshed in the background
   * while the current one is handed out; callers wait only when it has
   * really expired. A service account logs in again when it must.
   */
  getAccessToken(options?: SignalOptions): Promise<string> {
    if (Date.now() < this.#hotUntilMs) return Promise.resolve(this.#token!.accessToken);
    return raceSignal(this.#slowAccessToken(), options?.signal, 'waiting for an access token');
  }

  /** The `Authorization` header for a request to the API, with a valid access token. */
  async getRequestHeaders(options?: SignalOptions): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.getAccessToken(options)}` };
  }

  /**
   * Called when the API rejected `rejected` (HTTP 401): a newer token,
   * refreshing if no other caller has; undefined when `rejected` already came
   * from such a refresh, so an API that rejects every token is not met with
   * a refresh per call.
   */
  async tokenRejected(rejected: string, options?: SignalOptions): Promise<string | undefined> {
    if (rejected === this.#freshAfterRejection) return undefined;
    const fresh = await raceSignal(this.#freshToken(rejected), options?.signal, 'waiting for an access token');
    if (fresh === rejected) return undefined;
    this.#freshAfterRejection = fresh;
    return fresh;
  }

  /**
   * Uses the saved session, refreshes it when it expired, and logs in only
   * when there is no usable session.
   */
  async ensureInitialized(options: EnsureInitializedOptions = {}): Promise<void> {
    try {
      await this.getAccessToken(options);
      return;
    } catch (error) {
      if (!(error instanceof LoginRequiredError)) throw error;
    }
    await this.userLogin(options);
  }

  /**
   * Logs in with this session's flow: the browser for the authorization code
   * flow, printed instructions for the device flow, the client secret for a
   * service account.
   */
  async userLogin(options: UserLoginOptions = {}): Promise<void> {
    const context = await this.#grantContext();
    this.#log.debug('login', { grant: this.flow.grant });
    await this.#finishLogin(await this.#grant.login(context, options));
  }

  /**
   * Starts a device login (RFC 8628, section 3.1): returns what to show the
   * user. Pass the result to {@link deviceUserLoginComplete}.
   */
  async deviceUserLoginInitiate(): Promise<DeviceLoginInfo> {
    this.#requireGrant('device_code', 'deviceUserLoginInitiate');
    return initiateDeviceLogin(await this.#grantContext());
  }

  /**
   * Waits until the user completed the device login, polling at the
   * server's interval (5 s longer after each `slow_down`), until the code
   * expires or `signal` aborts.
   */
  async deviceUserLoginComplete(info: DeviceLoginInfo, options: DeviceLoginCompleteOptions = {}): Promise<void> {
    this.#requireGrant('device_code', 'deviceUserLoginComplete');
    await this.#finishLogin(await completeDeviceLogin(await this.#grantContext(), info, options.signal));
  }

  /**
   * Ends the session: revokes the refresh token (and an opaque access token)
   * where the server supports revocation (RFC 7009), then forgets the tokens.
   * The client configuration stays, so a later login needs no options. When
   * the server cannot be reached the session is kept and the call rejects,
   * unless `forgetLocally` is set.
   */
  async logout(options: LogoutOptions = {}): Promise<LogoutResult> {
    return raceSignal(
      this.#turns.take(async (turn) => {
        const file = this.#unsaved ?? this.#tokenFile ?? (await this.#loadStoredToken())?.file;
        let revoked = false;
        let failure: PlanetAuthError | undefined;
        if (file && (file.refresh_token || file.access_token)) {
          try {
            const oidc = await loadOidc();
            const config = await this.#configuration();
            if (config.serverMetadata().revocation_endpoint) {
              if (file.refresh_token) await oidc.tokenRevocation(config, file.refresh_token, { token_type_hint: 'refresh_token' });
              if (file.access_token && !isJwt(file.access_token)) await oidc.tokenRevocation(config, file.access_token, { token_type_hint: 'access_token' });
              revoked = true;
            } else failure = revocationUnsupported(this.#identity.issuer, this.profileName);
          } catch (error) {
            failure = this.#protocolError(error, `revoking the session of profile "${this.profileName}"`);
          }
        }
        if (failure && options.forgetLocally !== true) {
          throw keptSession(failure, this.profileName);
        }
        this.#forget();
        await this.#storage.remove(TOKEN_FILE, turn);
        this.#emit({ reason: 'logout' }, undefined);
        const warning = failure ? `${failure.message}; the session was forgotten here, but its refresh token stays valid at the server until it expires` : undefined;
        return { revoked, forgotten: true, ...(warning ? { warning } : {}) };
      }),
      options.signal,
      'the logout',
    );
  }

  /**
   * What is known about the saved session, without any request and without
   * the tokens themselves.
   */
  async sessionStatus(): Promise<SessionStatus> {
    const token = this.#token ?? (this.#storage.kind === 'memory' ? undefined : await this.#loadStoredToken());
    const file = this.#tokenFile;
    return {
      profile: this.profileName,
      flow: this.flow.id,
      clientType: this.flow.clientType,
      clientId: this.#identity.clientId,
      issuer: this.#identity.issuer,
      scopes: [...this.#scopes],
      storage: this.#storage.kind,
      loggedIn: file !== undefined,
      ...(file?._exp !== undefined ? { expiresAt: file._exp } : {}),
      accessTokenValid: token !== undefined && token.accessToken !== '' && Date.now() < token.expiresAtMs,
      hasRefreshToken: typeof file?.refresh_token === 'string',
    };
  }

  /** The saved access token as it is, even when due for refresh; undefined when there is none. Makes no request. */
  async savedAccessToken(): Promise<string | undefined> {
    if (!this.#token && this.#storage.kind !== 'memory') await this.#loadStoredToken();
    return this.#token?.accessToken || undefined;
  }

  /** Refreshes now, whether or not the token is due (a service account logs in again). */
  async refresh(options?: SignalOptions): Promise<void> {
    if (!this.#token && this.#storage.kind !== 'memory') await this.#loadStoredToken();
    await raceSignal(this.#freshToken(this.#token?.accessToken ?? ''), options?.signal, 'the refresh');
  }

  /**
   * Calls `listener` whenever the session gets new tokens (login, refresh)
   * or loses them (logout). The refresh token is handed over only when
   * asked for. Returns a function that stops the calls.
   */
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

  /** The profile name as printed: hidden when the spec marks it secret. */
  #shownProfile(): string {
    return this.flow.options.some((o) => o.name === 'profileName' && o.secret) ? '[redacted]' : this.profileName;
  }

  // ---- tokens -------------------------------------------------------------

  async #slowAccessToken(): Promise<string> {
    if (this.#unsaved) await this.#retryUnsavedWrite();
    let token = this.#token;
    if (token === undefined && this.#storage.kind !== 'memory') token = await this.#loadStoredToken();
    const now = Date.now();
    if (token !== undefined && token.accessToken !== '') {
      if (now < token.refreshAtMs) {
        if (!this.#unsaved) this.#hotUntilMs = token.refreshAtMs;
        return token.accessToken;
      }
      // Due for refresh but still valid: refresh without making anyone wait for it.
      if (now < token.expiresAtMs - expiryMarginMs(token)) {
        this.#refreshInBackground();
        return token.accessToken;
      }
    }
    return this.#freshToken(undefined);
  }

  #refreshInBackground(): void {
    if (this.#inflight !== undefined || Date.now() - this.#backgroundFailedAtMs < BACKGROUND_RETRY_MS) return;
    this.#freshToken(undefined).catch((error: unknown) => {
      this.#backgroundFailedAtMs = Date.now();
      this.#log.warn('refresh ahead of expiry failed; the current token is used until it expires', { error: (error as Error)?.message });
    });
  }

  #freshToken(rejected: string | undefined): Promise<string> {
    // One refresh at a time in this process: callers arriving meanwhile share it.
    if (this.#inflight === undefined) {
      this.#inflight = this.#obtainToken(rejected).finally(() => {
        this.#inflight = undefined;
      });
      return this.#inflight;
    }
    const pending = this.#inflight;
    return pending.then((token) => (token === rejected ? this.#freshToken(rejected) : token));
  }

  #usable(token: LiveToken | undefined, rejected: string | undefined): boolean {
    return token !== undefined && token.accessToken !== '' && token.accessToken !== rejected && Date.now() < token.refreshAtMs;
  }

  async #obtainToken(rejected: string | undefined): Promise<string> {
    if (this.#token === undefined && this.#storage.kind !== 'memory') await this.#loadStoredToken();
    if (this.#usable(this.#token, rejected)) return this.#token!.accessToken;
    return this.#turns.take(async (turn) => {
      // Another process may have refreshed while this one waited for its turn.
      if (this.#storage.kind !== 'memory' && !this.#unsaved) await this.#loadStoredToken();
      if (this.#usable(this.#token, rejected)) return this.#token!.accessToken;
      const file = this.#tokenFile;
      if (file?.refresh_token) return this.#refresh(file, turn);
      if (this.#grant.unattended) return this.#store(await this.#grant.login(await this.#grantContext(), {}), undefined, 'login', turn);
      throw new LoginRequiredError(
        file ? `the session of profile "${this.profileName}" has expired and holds no refresh token` : `profile "${this.profileName}" has no session`,
        this.#loginHint(),
      );
    });
  }

  #loginHint(): string {
    return this.#grant.unattended ? 'check the client ID and secret' : 'log in with userLogin() or ensureInitialized()';
  }

  async #refresh(file: TokenFile, turn: Turn): Promise<string> {
    const oidc = await loadOidc();
    const config = await this.#configuration();
    // Right before a one-time refresh token is spent: is this still our turn?
    await turn.assertHeld();
    this.#log.debug('refresh');
    let response: OidcClient.TokenEndpointResponse;
    try {
      response = await oidc.refreshTokenGrant(config, file.refresh_token!, this.#parameters({}));
    } catch (error) {
      const mapped = refreshRefused(this.#protocolError(error, `refreshing the session of profile "${this.profileName}"`), this.profileName, this.#loginHint());
      // A service account whose refresh token is refused just logs in again.
      if (mapped instanceof LoginRequiredError && this.#grant.unattended) {
        return this.#store(await this.#grant.login(await this.#grantContext(), {}), undefined, 'login', turn);
      }
      throw mapped;
    }
    return this.#store({ response: response as unknown as Record<string, unknown> }, file, 'refresh', turn);
  }

  async #finishLogin(result: LoginResult): Promise<void> {
    try {
      await this.#turns.take((turn) => this.#store(result, undefined, 'login', turn));
    } catch (error) {
      result.finish?.({ ok: false, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    result.finish?.({ ok: true });
  }

  /**
   * Takes new tokens: first into memory, so they are never dropped, then to
   * storage. A write that fails is tried again on later calls until it
   * succeeds; this call reports it with ERR_STORAGE.
   */
  async #store(result: LoginResult, previous: TokenFile | undefined, reason: 'login' | 'refresh', turn: Turn): Promise<string> {
    const file = tokenFileFromResponse(result.response, previous);
    const live = liveToken(file);
    if (!live) throw this.#protocolError(new Error('the token response holds no access token'), 'the token request');
    this.#log.secret(file.access_token);
    this.#log.secret(file.refresh_token);
    this.#log.secret(file.id_token);
    this.#token = live;
    this.#tokenFile = file;
    this.#freshAfterRejection = reason === 'refresh' ? this.#freshAfterRejection : undefined;
    if (this.#storage.kind === 'memory') {
      this.#hotUntilMs = live.refreshAtMs;
    } else {
      this.#unsaved = file;
      this.#hotUntilMs = 0;
      this.#lastWriteAttemptMs = Date.now();
      try {
        if (reason === 'login') await this.#writeClientConfig(turn);
        await this.#writeTokensHoldingTurn(file, turn);
        this.#unsaved = undefined;
        this.#hotUntilMs = live.refreshAtMs;
      } catch (error) {
        this.#emit({ reason }, file);
        throw this.#unsavedError(error);
      }
    }
    this.#log.debug(reason === 'login' ? 'logged in' : 'refreshed', { expiresIn: Number.isFinite(live.expiresAtMs) ? Math.round((live.expiresAtMs - Date.now()) / 1000) : 'unknown' });
    this.#emit({ reason }, file);
    return live.accessToken;
  }

  /**
   * Writes new tokens. On storage shared by a fleet (a lease turn) a write
   * that fails is tried again for a while without giving up the turn: while
   * this process holds new tokens only in memory, another worker taking the
   * turn would spend the refresh token this one already spent.
   */
  async #writeTokensHoldingTurn(file: TokenFile, turn: Turn): Promise<void> {
    const deadline = Date.now() + FLEET_WRITE_RETRY_MS;
    for (;;) {
      try {
        await this.#storage.write(TOKEN_FILE, file as Record<string, unknown>, turn);
        return;
      } catch (error) {
        if (turn.fence === undefined || error instanceof TurnLostError || Date.now() > deadline) throw error;
        this.#log.warn('saving new tokens to shared storage failed; trying again while holding the turn', { error: (error as Error)?.message });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  #unsavedError(error: unknown): PlanetAuthError {
    const location = this.#storage.location(TOKEN_FILE);
    const cause = this.#storage.error(error, TOKEN_FILE, 'writing');
    if (cause instanceof TurnLostError) return cause;
    return new StateError(ERR_STORAGE, location, `the new tokens of profile "${this.profileName}" could not be saved to ${location} (${cause.message}); they are kept in memory and saved again on the next call`, {
      cause,
      hint: 'check that the storage is writable and has room',
    });
  }

  async #retryUnsavedWrite(): Promise<void> {
    const pending = this.#unsaved;
    if (!pending || Date.now() - this.#lastWriteAttemptMs < WRITE_RETRY_MS) return;
    this.#lastWriteAttemptMs = Date.now();
    try {
      await this.#turns.take(async (turn) => {
        if (this.#unsaved !== pending) return;
        await this.#storage.write(TOKEN_FILE, pending as Record<string, unknown>, turn);
        this.#unsaved = undefined;
        this.#log.debug('saved tokens that an earlier write could not');
      });
    } catch (error) {
      this.#log.warn('saving new tokens failed again; they stay in memory', { error: (error as Error)?.message });
    }
  }

  #emit(event: { reason: TokenEvent['reason'] }, file: TokenFile | undefined): void {
    if (this.#listeners.size === 0) return;
    const base: TokenEvent = file
      ? {
          reason: event.reason,
          ...(file.access_token ? { accessToken: file.access_token } : {}),
          ...(file._exp !== undefined ? { expiresAt: file._exp } : {}),
          ...(file.scope ? { scope: file.scope } : {}),
          ...(file.id_token ? { idToken: file.id_token } : {}),
        }
      : { reason: event.reason };
    for (const { listener, includeRefreshToken } of this.#listeners) {
      try {
        containAsync(listener(includeRefreshToken && file?.refresh_token ? { ...base, refreshToken: file.refresh_token } : base), this.#log, 'an onTokens listener');
      } catch (error) {
        this.#log.warn('an onTokens listener threw', { error: (error as Error)?.message });
      }
    }
  }

  #forget(): void {
    this.#token = undefined;
    this.#tokenFile = undefined;
    this.#unsaved = undefined;
    this.#hotUntilMs = 0;
    this.#freshAfterRejection = undefined;
  }

  // ---- protocol -------------------------------------------------------------

  async #grantContext(): Promise<GrantContext> {
    return {
      oidc: await loadOidc(),
      config: await this.#configuration(),
      flow: this.flow,
      scopes: this.#scopes,
      callbackUrl: this.#options.callbackUrl,
      log: this.#log,
      parameters: (extra) => this.#parameters(extra),
      protocolError: (error, step) => this.#protocolError(error, step),
    };
  }

  #protocolError(error: unknown, step: string): PlanetAuthError {
    const mapped = protocolError(error, step, this.#identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS);
    const redacted = this.#log.redact(mapped.message);
    if (redacted !== mapped.message) mapped.message = redacted;
    return mapped;
  }

  #parameters(extra: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = { ...extra };
    // No scopes means no scope parameter, not an empty one.
    if (out['scope'] === '') delete out['scope'];
    if (this.#audience !== undefined) out[this.#settings.audienceParameter] = this.#audience;
    return out;
  }

  #requireGrant(grant: FlowDescriptor['grant'], method: string): void {
    if (this.flow.grant !== grant) throw new ConfigError(`${method}() is for the ${grant} flow; this session uses ${this.flow.grant}`);
  }

  /** The openid-client configuration: from metadata in memory or storage, else by discovery (one request). */
  async #configuration(): Promise<OidcClient.Configuration> {
    if (this.#config) return this.#config;
    if (!this.#metadata && this.#storage.kind !== 'memory') {
      const saved = await this.#storage.load(METADATA_FILE);
      if (saved && normalizeIssuer(String(saved['issuer'])) === normalizeIssuer(this.#identity.issuer)) this.#metadata = saved;
    }
    if (this.#metadata) {
      this.#config = await configFromMetadata(this.#identity, this.#metadata);
    } else {
      const { config, metadata } = await discover(this.#identity);
      this.#metadata = metadata;
      this.#config = config;
      // Kept with the profile once it exists, so later processes skip discovery; only a cache, so a failed write is no failure.
      if (this.#storage.kind !== 'memory') {
        try {
          if ((await this.#storage.exists(CLIENT_FILE)) || (await this.#storage.exists(TOKEN_FILE))) await this.#storage.cache(METADATA_FILE, metadata);
        } catch (error) {
          this.#log.warn('could not keep the server metadata with the profile', { error: (error as Error)?.message });
        }
      }
    }
    return this.#config;
  }

  // ---- storage --------------------------------------------------------------

  async #writeClientConfig(turn: Turn): Promise<void> {
    if (this.#options.persistClientConfig === false) return;
    const existingData = await this.#storage.load(CLIENT_FILE);
    const existing = existingData ? parseClientConfig(this.#storage.location(CLIENT_FILE), existingData) : undefined;
    const wanted = clientConfigToWrite(existing, this.#clientConfigFile(), this.#chosen);
    if (wanted) await this.#storage.write(CLIENT_FILE, wanted as Record<string, unknown>, turn);
    if (this.#metadata) {
      try {
        await this.#storage.write(METADATA_FILE, this.#metadata, turn);
      } catch (error) {
        if (error instanceof TurnLostError) throw error;
        this.#log.warn('could not keep the server metadata with the profile', { error: (error as Error)?.message });
      }
    }
  }

  /** Reads the saved token when it belongs to this client; remembers it in memory. */
  async #loadStoredToken(): Promise<LiveToken | undefined> {
    if (this.#unsaved) return this.#token;
    const clientData = this.#options.persistClientConfig === false ? undefined : await this.#storage.load(CLIENT_FILE);
    if (clientData) {
      const client = parseClientConfig(this.#storage.location(CLIENT_FILE), clientData);
      // A session of another client or server under the same profile name is not this one's.
      if (client.client_id !== this.#identity.clientId || normalizeIssuer(client.auth_server) !== normalizeIssuer(this.#identity.issuer)) return undefined;
    }
    const data = await this.#storage.load(TOKEN_FILE);
    if (!data) return undefined;
    const file = parseTokenFile(this.#storage.location(TOKEN_FILE), data);
    if (!clientData && tokenFromAnotherServer(file.access_token, this.#identity)) return undefined;
    const live = liveToken(file);
    this.#tokenFile = file;
    this.#token = live;
    this.#log.secret(file.access_token);
    this.#log.secret(file.refresh_token);
    if (live && Date.now() < live.refreshAtMs) this.#hotUntilMs = live.refreshAtMs;
    return live ?? { accessToken: '', refreshAtMs: 0, expiresAtMs: 0, file };
  }

  #clientConfigFile(): ClientConfigFile {
    const { clientSecret, callbackUrl } = this.#options;
    return {
      client_type: this.flow.clientType,
      auth_server: this.#identity.issuer,
      client_id: this.#identity.clientId,
      scopes: [...this.#scopes],
      ...(this.#audience !== undefined ? { audiences: [this.#audience] } : {}),
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      ...(callbackUrl ? { local_redirect_uri: callbackUrl } : {}),
    };
  }
}

/** Margin before the real expiry at which a token counts as expired: 10 s, less for short-lived tokens. */
function expiryMarginMs(token: LiveToken): number {
  return Math.min(10_000, Math.max(0, (token.expiresAtMs - token.refreshAtMs) * 0.4));
}

/** The revocation failed and the session was kept: the same kind of error, saying so and what to do. */
function keptSession(failure: PlanetAuthError, profile: string): PlanetAuthError {
  const message = `${failure.message}; the session of profile "${profile}" was kept`;
  const hint = 'log out again once the server can be reached, or forget the session here anyway with logout({ forgetLocally: true }) (its refresh token then stays valid at the server until it expires)';
  if (failure instanceof NetworkError) return new NetworkError(message, { cause: failure, hint });
  if (failure instanceof TokenRequestError) return new TokenRequestError(failure.code === 'ERR_SERVER' ? 'ERR_SERVER' : 'ERR_TOKEN_REQUEST', message, failure.status, failure.oauthError, { cause: failure, hint });
  return failure;
}
