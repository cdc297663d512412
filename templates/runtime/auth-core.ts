// The session engine behind the generated Auth class: logs in with the flow
// the factory chose, keeps the token fresh (one refresh at a time, in this
// process and across processes), and keeps the session where the options say.
import { createInterface } from 'node:readline';
import { inspect } from 'node:util';
import type * as OidcClient from 'openid-client';
import { openBrowser } from './browser.js';
import {
  AbortedError,
  AccessDeniedError,
  ConfigError,
  DeviceCodeExpiredError,
  LoginRequiredError,
  PlanetAuthError,
  CallbackError,
  StateError,
} from './errors.js';
import { inProcess, withFolderLock } from './lock.js';
import { startLoopbackListener } from './loopback.js';
import {
  CLIENT_FILE,
  homeDir,
  METADATA_FILE,
  TOKEN_FILE,
  normalizeProfileName,
  parseClientConfig,
  profileFolder,
  profileKey,
  type ClientConfigFile,
  type ClientOptions,
} from './profile.js';
import { REQUEST_TIMEOUT_SECONDS, configFromMetadata, discover, loadOidc, protocolError, refreshRefused, type ClientIdentity } from './protocol.js';
import { flowById, serverSettings, type FlowDescriptor, type SdkSettings } from './settings.js';
import { FileStore, replaceObj, type ObjectStore } from './store.js';
import { liveToken, parseTokenFile, tokenFileFromResponse, type LiveToken, type TokenFile } from './token.js';

export interface UserLoginOptions {
  /** Open the login page in the user's browser; otherwise the URL is printed. @defaultValue false */
  readonly allowOpenBrowser?: boolean;
  /** Also let the user paste the URL the browser was sent to, when the terminal is interactive. @defaultValue false */
  readonly allowTtyPrompt?: boolean;
  /** How long to wait for the browser login, in milliseconds. @defaultValue 300000 */
  readonly timeoutMs?: number;
  /** Shows the device login instructions; by default they are printed to stderr. */
  readonly onDeviceCode?: (info: DeviceLoginInfo) => void;
  /** Cancels a device login that is waiting for the user. */
  readonly signal?: AbortSignal;
}

export type EnsureInitializedOptions = UserLoginOptions;

/** What the user needs to complete a device login (RFC 8628, section 3.2). */
export interface DeviceLoginInfo {
  readonly verificationUri: string;
  /** The URL with the code already in it, when the server sends one. */
  readonly verificationUriComplete?: string;
  readonly userCode: string;
  /** Seconds until the code expires. */
  readonly expiresIn: number;
  /** Seconds between polls. */
  readonly interval: number;
}

export interface SessionStatus {
  readonly profile: string;
  readonly flow: string;
  readonly clientType: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly scopes: readonly string[];
  readonly storage: 'memory' | 'disk' | 'provider';
  readonly loggedIn: boolean;
  /** Expiry of the access token, epoch seconds. */
  readonly expiresAt?: number;
  readonly accessTokenValid: boolean;
  readonly hasRefreshToken: boolean;
}

export interface DeviceLoginCompleteOptions {
  readonly signal?: AbortSignal;
}

/** Default wait for a browser login. */
export const BROWSER_LOGIN_TIMEOUT_MS = 300_000;

const deviceResponses = new WeakMap<DeviceLoginInfo, OidcClient.DeviceAuthorizationResponse>();

type Backend = { kind: 'memory' } | { kind: 'disk'; store: FileStore; folder: string } | { kind: 'provider'; store: ObjectStore };

const providerIds = new WeakMap<object, number>();
let nextProviderId = 1;

function providerId(provider: object): number {
  let id = providerIds.get(provider);
  if (id === undefined) {
    id = nextProviderId++;
    providerIds.set(provider, id);
  }
  return id;
}

function isJwt(token: string): boolean {
  return token.split('.').length === 3;
}

export class AuthCore {
  /** The profile this session is saved under (lowercased). */
  readonly profileName: string;
  readonly flow: FlowDescriptor;
  readonly #settings: SdkSettings;
  readonly #options: ClientOptions;
  readonly #identity: ClientIdentity;
  readonly #audience: string;
  readonly #apiBaseUrl: string;
  readonly #scopes: readonly string[];
  readonly #backend: Backend;
  #token: LiveToken | undefined;
  #tokenFile: TokenFile | undefined;
  #metadata: Record<string, unknown> | undefined;
  #config: OidcClient.Configuration | undefined;
  #inflight: Promise<string> | undefined;

  constructor(settings: SdkSettings, flowId: string, options: ClientOptions) {
    const flow = flowById(settings, flowId);
    if (typeof options?.clientId !== 'string' || options.clientId.trim() === '') {
      throw new ConfigError(`clientId is required for ${flow.factory}(): pass the client ID issued when the application was registered`);
    }
    if (flow.tokenEndpointAuthMethod !== 'none' && (typeof options.clientSecret !== 'string' || options.clientSecret === '')) {
      throw new ConfigError(`clientSecret is required for ${flow.factory}(): pass the service account's secret, for example from an environment variable`);
    }
    if (flow.grant === 'authorization_code' && (typeof options.callbackUrl !== 'string' || options.callbackUrl === '')) {
      throw new ConfigError(`callbackUrl is required for ${flow.factory}(): pass the loopback URL registered for the client, such as http://127.0.0.1:8080/callback`);
    }
    const server = serverSettings(settings);
    this.flow = flow;
    this.#settings = settings;
    this.#options = options;
    this.profileName = normalizeProfileName(options.profileName ?? options.clientId);
    this.#identity = {
      issuer: options.issuer ?? server.issuer,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authMethod: flow.tokenEndpointAuthMethod,
      ...(options.requestTimeoutSeconds !== undefined ? { timeoutSeconds: options.requestTimeoutSeconds } : {}),
    };
    this.#audience = options.audience ?? server.audience;
    this.#apiBaseUrl = server.apiBaseUrl;
    const scopes = options.requestedScopes ?? settings.defaultScopes;
    this.#scopes = flow.grant === 'client_credentials' ? scopes.filter((s) => s !== 'offline_access') : [...scopes];
    if (options.saveStateToStorage === false) this.#backend = { kind: 'memory' };
    else if (options.storageProvider) this.#backend = { kind: 'provider', store: options.storageProvider };
    else this.#backend = { kind: 'disk', store: new FileStore(homeDir()), folder: profileFolder(settings, this.profileName) };
  }

  /** Base URL of the API that receives this session's bearer token. */
  get apiBaseUrl(): string {
    return this.#apiBaseUrl;
  }

  get issuer(): string {
    return this.#identity.issuer;
  }

  get scopes(): readonly string[] {
    return this.#scopes;
  }

  /**
   * Whether a session is at hand without logging in: a token in memory or in
   * storage, or a service account that can log in by itself. Makes no
   * network request.
   */
  async isInitialized(): Promise<boolean> {
    if (this.#token || this.flow.grant === 'client_credentials') return true;
    if (this.#backend.kind === 'memory') return false;
    return (await this.#loadStoredToken()) !== undefined;
  }

  /**
   * A valid access token. Refreshes ahead of expiry (at 3/4 of the token's
   * lifetime); a service account logs in again when it must. With a valid
   * token in memory this does no I/O.
   */
  async getAccessToken(): Promise<string> {
    const token = this.#token;
    if (token !== undefined && Date.now() < token.refreshAtMs) return token.accessToken;
    return this.#freshToken(undefined);
  }

  /** Called when an API rejected `rejected`: returns a newer token, refreshing if no other caller has. */
  async tokenRejected(rejected: string): Promise<string> {
    return this.#freshToken(rejected);
  }

  /**
   * Uses the saved session, refreshes it when it expired, and logs in only
   * when there is no usable session.
   */
  async ensureInitialized(options: EnsureInitializedOptions = {}): Promise<void> {
    try {
      await this.getAccessToken();
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
    switch (this.flow.grant) {
      case 'authorization_code':
        return this.#authorizationCodeLogin(options);
      case 'device_code': {
        const info = await this.deviceUserLoginInitiate();
        (options.onDeviceCode ?? printDeviceInstructions)(info);
        return this.deviceUserLoginComplete(info, { signal: options.signal });
      }
      case 'client_credentials':
        await this.#sessionTurn(() => this.#clientCredentialsLogin());
        return;
    }
  }

  /**
   * Starts a device login (RFC 8628, section 3.1): returns what to show the
   * user. Pass the result to {@link deviceUserLoginComplete}.
   */
  async deviceUserLoginInitiate(): Promise<DeviceLoginInfo> {
    this.#requireGrant('device_code', 'deviceUserLoginInitiate');
    const oidc = await loadOidc();
    const config = await this.#configuration();
    let response: OidcClient.DeviceAuthorizationResponse;
    try {
      response = await oidc.initiateDeviceAuthorization(config, this.#grantParameters({ scope: this.#scopes.join(' ') }));
    } catch (error) {
      throw this.#protocolError(error, 'the device authorization request');
    }
    const info: DeviceLoginInfo = {
      verificationUri: response.verification_uri,
      ...(response.verification_uri_complete ? { verificationUriComplete: response.verification_uri_complete } : {}),
      userCode: response.user_code,
      expiresIn: response.expires_in,
      interval: response.interval ?? 5,
    };
    deviceResponses.set(info, { ...response, interval: info.interval });
    return info;
  }

  /**
   * Waits until the user completed the device login, polling at the
   * server's interval (5 s longer after each `slow_down`), until the code
   * expires or `signal` aborts.
   */
  async deviceUserLoginComplete(info: DeviceLoginInfo, options: DeviceLoginCompleteOptions = {}): Promise<void> {
    this.#requireGrant('device_code', 'deviceUserLoginComplete');
    const response = deviceResponses.get(info);
    if (!response) throw new ConfigError('deviceUserLoginComplete() needs the object deviceUserLoginInitiate() returned, unchanged');
    const oidc = await loadOidc();
    const config = await this.#configuration();
    const expiry = AbortSignal.timeout(response.expires_in * 1000);
    const signal = options.signal ? AbortSignal.any([options.signal, expiry]) : expiry;
    let tokens: OidcClient.TokenEndpointResponse;
    try {
      tokens = await oidc.pollDeviceAuthorizationGrant(config, response, this.#grantParameters({}), { signal });
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError('the device login was cancelled');
      if (expiry.aborted || (error as { error?: string }).error === 'expired_token') {
        throw new DeviceCodeExpiredError(`the device code expired before the login was completed; start the login again and finish it within ${response.expires_in} s`);
      }
      const mapped = this.#protocolError(error, 'the device login');
      if (mapped instanceof AccessDeniedError) throw new AccessDeniedError('the device login was refused at the verification page; start the login again and allow access');
      throw mapped;
    }
    await this.#sessionTurn(() => this.#saveTokens(tokens as unknown as Record<string, unknown>, undefined, true));
  }

  /**
   * Ends the session: revokes the refresh token (and an opaque access token)
   * where the server supports revocation (RFC 7009), then forgets the tokens.
   * The client configuration stays, so a later login needs no options.
   */
  async logout(): Promise<void> {
    await this.#sessionTurn(async () => {
      const file = this.#tokenFile ?? (await this.#loadStoredToken())?.file;
      let failure: unknown;
      if (file) {
        try {
          const oidc = await loadOidc();
          const config = await this.#configuration();
          if (config.serverMetadata().revocation_endpoint) {
            if (file.refresh_token) await oidc.tokenRevocation(config, file.refresh_token, { token_type_hint: 'refresh_token' });
            if (file.access_token && !isJwt(file.access_token)) await oidc.tokenRevocation(config, file.access_token, { token_type_hint: 'access_token' });
          }
        } catch (error) {
          failure = this.#protocolError(error, 'revoking the session');
        }
      }
      this.#token = undefined;
      this.#tokenFile = undefined;
      if (this.#backend.kind !== 'memory') await this.#backend.store.deleteObj(this.#key(TOKEN_FILE));
      if (failure) throw failure;
    });
  }

  /**
   * What is known about the saved session, without any request and without
   * the tokens themselves.
   */
  async sessionStatus(): Promise<SessionStatus> {
    const token = this.#token ?? (this.#backend.kind === 'memory' ? undefined : await this.#loadStoredToken());
    const file = this.#tokenFile;
    return {
      profile: this.profileName,
      flow: this.flow.id,
      clientType: this.flow.clientType,
      clientId: this.#identity.clientId,
      issuer: this.#identity.issuer,
      scopes: [...this.#scopes],
      storage: this.#backend.kind,
      loggedIn: file !== undefined,
      ...(file?._exp !== undefined ? { expiresAt: file._exp } : {}),
      accessTokenValid: token !== undefined && token.accessToken !== '' && Date.now() < token.expiresAtMs,
      hasRefreshToken: typeof file?.refresh_token === 'string',
    };
  }

  /** The saved access token as it is, even when due for refresh; undefined when there is none. Makes no request. */
  async savedAccessToken(): Promise<string | undefined> {
    if (!this.#token && this.#backend.kind !== 'memory') await this.#loadStoredToken();
    return this.#token?.accessToken || undefined;
  }

  /** Refreshes now, whether or not the token is due (a service account logs in again). */
  async refresh(): Promise<void> {
    if (!this.#token && this.#backend.kind !== 'memory') await this.#loadStoredToken();
    await this.#freshToken(this.#token?.accessToken ?? '');
  }

  /** Hides secrets and tokens from `console.log` and `util.inspect`. */
  [inspect.custom](): string {
    return `${this.constructor.name} { profile: ${JSON.stringify(this.profileName)}, flow: ${JSON.stringify(this.flow.id)}, storage: ${JSON.stringify(this.#backend.kind)} }`;
  }

  toJSON(): Record<string, string> {
    return { profile: this.profileName, flow: this.flow.id, storage: this.#backend.kind };
  }

  // ---- tokens -------------------------------------------------------------

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
    return token !== undefined && token.accessToken !== rejected && Date.now() < token.refreshAtMs;
  }

  async #obtainToken(rejected: string | undefined): Promise<string> {
    if (this.#token === undefined && this.#backend.kind !== 'memory') await this.#loadStoredToken();
    if (this.#usable(this.#token, rejected)) return this.#token!.accessToken;
    return this.#sessionTurn(async () => {
      // Another process may have refreshed while this one waited for its turn.
      if (this.#backend.kind !== 'memory') await this.#loadStoredToken();
      if (this.#usable(this.#token, rejected)) return this.#token!.accessToken;
      const previous = this.#token;
      try {
        if (this.#tokenFile?.refresh_token) return await this.#refresh(this.#tokenFile);
        if (this.flow.grant === 'client_credentials') return await this.#clientCredentialsLogin();
      } catch (error) {
        // A failed early refresh is no reason to fail while the current token is still valid.
        if (!(error instanceof LoginRequiredError) && previous && previous.accessToken !== rejected && Date.now() < previous.expiresAtMs - 5000) {
          return previous.accessToken;
        }
        throw error;
      }
      throw new LoginRequiredError(
        this.#tokenFile ? `the session of profile "${this.profileName}" has expired and holds no refresh token` : `profile "${this.profileName}" has no session`,
        this.#loginHint(),
      );
    });
  }

  #loginHint(): string {
    return this.flow.grant === 'client_credentials' ? 'check the client ID and secret' : 'log in with userLogin() or ensureInitialized()';
  }

  async #refresh(file: TokenFile): Promise<string> {
    const oidc = await loadOidc();
    const config = await this.#configuration();
    let response: OidcClient.TokenEndpointResponse;
    try {
      response = await oidc.refreshTokenGrant(config, file.refresh_token!, this.#grantParameters({}));
    } catch (error) {
      const mapped = refreshRefused(this.#protocolError(error, `refreshing the session of profile "${this.profileName}"`), this.profileName, this.#loginHint());
      // A service account whose refresh token is refused just logs in again.
      if (mapped instanceof LoginRequiredError && this.flow.grant === 'client_credentials') return this.#clientCredentialsLogin();
      throw mapped;
    }
    return this.#saveTokens(response as unknown as Record<string, unknown>, file, false);
  }

  async #clientCredentialsLogin(): Promise<string> {
    const oidc = await loadOidc();
    const config = await this.#configuration();
    let response: OidcClient.TokenEndpointResponse;
    try {
      response = await oidc.clientCredentialsGrant(config, this.#grantParameters({ scope: this.#scopes.join(' ') }));
    } catch (error) {
      throw this.#protocolError(error, `the client credentials login of profile "${this.profileName}"`);
    }
    return this.#saveTokens(response as unknown as Record<string, unknown>, undefined, true);
  }

  async #authorizationCodeLogin(options: UserLoginOptions): Promise<void> {
    const oidc = await loadOidc();
    const config = await this.#configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const openid = this.#scopes.includes('openid');
    const listener = await startLoopbackListener(this.#options.callbackUrl!, state, options.timeoutMs ?? BROWSER_LOGIN_TIMEOUT_MS);
    try {
      const url = oidc.buildAuthorizationUrl(
        config,
        this.#grantParameters({
          redirect_uri: listener.redirectUri,
          scope: this.#scopes.join(' '),
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state,
          // A nonce belongs to OpenID Connect: sent (and checked) only when `openid` is requested.
          ...(openid ? { nonce } : {}),
        }),
      );
      const opened = options.allowOpenBrowser === true && (await openBrowser(url.href));
      if (!opened) process.stderr.write(`Open this URL in a browser to log in:\n\n  ${url.href}\n\n`);
      const callback = await (options.allowTtyPrompt === true && process.stdin.isTTY ? raceWithPastedUrl(listener, state) : listener.callback);
      const currentUrl = new URL(listener.redirectUri);
      currentUrl.search = callback.search;
      let tokens: OidcClient.TokenEndpointResponse;
      try {
        tokens = await oidc.authorizationCodeGrant(
          config,
          currentUrl,
          { pkceCodeVerifier: verifier, expectedState: state, ...(openid ? { expectedNonce: nonce, idTokenExpected: true } : {}) },
          this.#grantParameters({}),
        );
      } catch (error) {
        throw this.#protocolError(error, 'exchanging the authorization code');
      }
      await this.#sessionTurn(() => this.#saveTokens(tokens as unknown as Record<string, unknown>, undefined, true));
    } finally {
      listener.close();
    }
  }

  #protocolError(error: unknown, step: string): PlanetAuthError {
    return protocolError(error, step, this.#identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS);
  }

  #grantParameters(extra: Record<string, string>): Record<string, string> {
    return { ...extra, [this.#settings.audienceParameter]: this.#audience };
  }

  #requireGrant(grant: FlowDescriptor['grant'], method: string): void {
    if (this.flow.grant !== grant) throw new ConfigError(`${method}() is for the ${grant} flow; this session uses ${this.flow.grant}`);
  }

  // ---- storage --------------------------------------------------------------

  #key(file: string): string {
    return profileKey(this.#settings, this.profileName, file);
  }

  /** Runs `fn` as this session's only writer: locked across processes on disk, queued in this process otherwise. */
  #sessionTurn<T>(fn: () => Promise<T>): Promise<T> {
    const backend = this.#backend;
    switch (backend.kind) {
      case 'disk':
        return withFolderLock(backend.folder, fn);
      case 'provider':
        return inProcess(`provider:${providerId(backend.store)}:${this.profileName}`, fn);
      case 'memory':
        return inProcess(`memory:${providerId(this)}`, fn);
    }
  }

  async #loadObject(key: string): Promise<Record<string, unknown> | undefined> {
    if (this.#backend.kind === 'memory') return undefined;
    const { store } = this.#backend;
    const location = this.#location(key);
    try {
      if (!(await store.objExists(key))) return undefined;
      return await store.loadObj(key);
    } catch (error) {
      if (error instanceof PlanetAuthError) throw error;
      throw new StateError('ERR_STORAGE', location, `cannot read ${location} from storage: ${(error as Error).message}`, { cause: error });
    }
  }

  #location(key: string): string {
    return this.#backend.kind === 'disk' ? this.#backend.store.pathOf(key) : key;
  }

  /** Reads the saved token when it belongs to this client; remembers it in memory. */
  async #loadStoredToken(): Promise<LiveToken | undefined> {
    const clientKey = this.#key(CLIENT_FILE);
    const clientData = await this.#loadObject(clientKey);
    if (clientData) {
      const client = parseClientConfig(this.#location(clientKey), clientData);
      // A session of another client or server under the same profile name is not this one's.
      if (client.client_id !== this.#identity.clientId || normalizeIssuer(client.auth_server) !== normalizeIssuer(this.#identity.issuer)) return undefined;
    }
    const tokenKey = this.#key(TOKEN_FILE);
    const data = await this.#loadObject(tokenKey);
    if (!data) return undefined;
    const file = parseTokenFile(this.#location(tokenKey), data);
    const live = liveToken(file);
    this.#tokenFile = file;
    this.#token = live;
    return live ?? { accessToken: '', refreshAtMs: 0, expiresAtMs: 0, file };
  }

  async #saveTokens(response: Record<string, unknown>, previous: TokenFile | undefined, isLogin: boolean): Promise<string> {
    const file = tokenFileFromResponse(response, previous);
    const live = liveToken(file);
    if (!live) throw this.#protocolError(new Error('the token response holds no access token'), 'the token request');
    if (this.#backend.kind !== 'memory') {
      const { store } = this.#backend;
      if (isLogin) {
        await replaceObj(store, this.#key(CLIENT_FILE), this.#clientConfigFile());
        if (this.#metadata) await replaceObj(store, this.#key(METADATA_FILE), this.#metadata);
      }
      await replaceObj(store, this.#key(TOKEN_FILE), file as Record<string, unknown>);
    }
    this.#tokenFile = file;
    this.#token = live;
    return live.accessToken;
  }

  #clientConfigFile(): ClientConfigFile {
    const { clientSecret, callbackUrl } = this.#options;
    return {
      client_type: this.flow.clientType,
      auth_server: this.#identity.issuer,
      client_id: this.#identity.clientId,
      scopes: [...this.#scopes],
      audiences: [this.#audience],
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      ...(callbackUrl ? { local_redirect_uri: callbackUrl } : {}),
    };
  }

  /** The openid-client configuration: from metadata in memory or storage, else by discovery (one request). */
  async #configuration(): Promise<OidcClient.Configuration> {
    if (this.#config) return this.#config;
    if (!this.#metadata && this.#backend.kind !== 'memory') {
      const saved = await this.#loadObject(this.#key(METADATA_FILE));
      if (saved && normalizeIssuer(String(saved['issuer'])) === normalizeIssuer(this.#identity.issuer)) this.#metadata = saved;
    }
    if (this.#metadata) {
      this.#config = await configFromMetadata(this.#identity, this.#metadata);
    } else {
      const { config, metadata } = await discover(this.#identity);
      this.#metadata = metadata;
      this.#config = config;
      // Kept with the profile once it exists, so later processes skip discovery.
      if (this.#backend.kind !== 'memory' && (await this.#backend.store.objExists(this.#key(CLIENT_FILE)))) {
        await replaceObj(this.#backend.store, this.#key(METADATA_FILE), metadata);
      }
    }
    return this.#config;
  }
}

function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

function printDeviceInstructions(info: DeviceLoginInfo): void {
  const text = info.verificationUriComplete
    ? `To log in, open ${info.verificationUriComplete} and check that it shows the code ${info.userCode}.`
    : `To log in, open ${info.verificationUri} and enter the code ${info.userCode}.`;
  process.stderr.write(`${text}\n`);
}

/** Lets the user paste the URL the browser landed on, for when the loopback redirect cannot reach this process. */
function raceWithPastedUrl(listener: Awaited<ReturnType<typeof startLoopbackListener>>, state: string): Promise<URL> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const pasted = new Promise<URL>((resolve, reject) => {
    prompt.question('Or paste the URL the browser was sent to after logging in: ', (answer) => {
      let url: URL;
      try {
        url = new URL(answer.trim());
      } catch {
        reject(new CallbackError('the pasted text is not a URL; run the login again'));
        return;
      }
      if (url.searchParams.get('state') !== state) reject(new CallbackError('the pasted URL does not belong to this login; run the login again'));
      else if (url.searchParams.get('error') === 'access_denied') reject(new AccessDeniedError('the login was refused; log in again and allow access'));
      else resolve(url);
    });
  });
  return Promise.race([listener.callback, pasted]).finally(() => prompt.close());
}
