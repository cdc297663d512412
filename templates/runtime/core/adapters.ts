// The real effects of the session engine: the process's clocks, the
// session's storage (disk, application storage or memory) with fenced token
// writes, and the authorization server through openid-client.
import { performance } from 'node:perf_hooks';
import type * as OidcClient from 'openid-client';
import { LoginRequiredError, TokenRequestError, type PlanetAuthError } from '../errors.js';
import type { Grant, GrantContext } from '../grants/index.js';
import type { FetchFunction } from '../hooks.js';
import { MAX_RESPONSE_BYTES } from '../http.js';
import type { Turn } from '../lock.js';
import type { SessionLog } from '../log.js';
import { CLIENT_FILE, METADATA_FILE, TOKEN_FILE, parseClientConfig, tokenFromAnotherServer } from '../profile.js';
import { clientAuthMethod } from '../client-auth/index.js';
import { REQUEST_TIMEOUT_SECONDS, configFromMetadata, discover, loadOidc, protocolError, refreshRefused, type ClientIdentity } from '../protocol.js';
import { checkBoundFields, SessionProofs } from '../token-binding/index.js';
import type { SessionStorage } from '../session-storage.js';
import type { FlowDescriptor } from '../settings.js';
import { parseTokenFile, type TokenFile } from '../token.js';
import { RefusedAfterRotation, type Clock, type TokenEndpoint, type TokenStore, type WriteOutcome } from './effects.js';
import { sameTokens } from './engine.js';

/** The process's clocks: `performance.now()` is monotonic, `Date.now()` the wall clock. */
export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  sleep: (ms) =>
    new Promise((resolve) => {
      setTimeout(resolve, ms).unref();
    }),
};

export function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/** The session's tokens in its storage, written only over the tokens they replace. */
export class StoredTokens implements TokenStore {
  readonly persistent: boolean;
  readonly #storage: SessionStorage;
  readonly #clientId: string;
  readonly #issuer: string;
  readonly #checkClient: boolean;

  constructor(storage: SessionStorage, identity: { clientId: string; issuer: string }, checkClient: boolean) {
    this.#storage = storage;
    this.persistent = storage.kind !== 'memory';
    this.#clientId = identity.clientId;
    this.#issuer = identity.issuer;
    this.#checkClient = checkClient;
  }

  async read(): Promise<TokenFile | undefined> {
    const clientData = this.#checkClient ? await this.#storage.load(CLIENT_FILE) : undefined;
    if (clientData) {
      const client = parseClientConfig(this.#storage.location(CLIENT_FILE), clientData);
      // A session of another client or server under the same profile name is not this one's.
      if (client.client_id !== this.#clientId || normalizeIssuer(client.auth_server) !== normalizeIssuer(this.#issuer)) return undefined;
    }
    const data = await this.#storage.load(TOKEN_FILE);
    if (!data) return undefined;
    const file = checkBoundFields(this.#storage.location(TOKEN_FILE), parseTokenFile(this.#storage.location(TOKEN_FILE), data));
    // Without client settings to compare, a JWT access token still names its issuer and client: another server's is not this session's.
    if (!clientData && tokenFromAnotherServer(file.access_token, { issuer: this.#issuer, clientId: this.#clientId })) return undefined;
    return file;
  }

  async write(file: TokenFile, replaces: TokenFile | 'any', turn: Turn): Promise<WriteOutcome> {
    if (replaces !== 'any') {
      // The fence: within the turn, storage must still hold the tokens this write replaces.
      const data = await this.#storage.load(TOKEN_FILE);
      const holds = data ? checkBoundFields(this.#storage.location(TOKEN_FILE), parseTokenFile(this.#storage.location(TOKEN_FILE), data)) : undefined;
      if (!sameTokens(holds, replaces)) return { written: false, holds };
    }
    await this.#storage.write(TOKEN_FILE, file, turn);
    return { written: true };
  }
}

/** The last answer of the authorization server to a POST, kept while a refresh runs. */
interface Answer {
  status: number;
  body: Promise<string | undefined>;
}

async function boundedClone(response: Response): Promise<string | undefined> {
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.clone().body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) return undefined;
      chunks.push(value);
    }
  } catch {
    return undefined;
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A request deadline that counts only time this process saw pass: a pause
 * (SIGSTOP, a suspended laptop) longer than the deadline does not make the
 * answer that is waiting in the socket a timeout once the process goes on.
 */
function workingDeadline(seconds: number): AbortSignal {
  const controller = new AbortController();
  const tickMs = 250;
  let elapsed = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    elapsed += Math.min(now - last, tickMs * 4);
    last = now;
    if (elapsed >= seconds * 1000) {
      clearInterval(timer);
      controller.abort(new DOMException(`no answer within ${seconds} s`, 'TimeoutError'));
    }
  }, tickMs);
  timer.unref();
  controller.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return controller.signal;
}

/** What a turn may take beyond its requests' timeouts: reads and writes of storage. */
const LEASE_HOLD_MARGIN_MS = 10_000;

/**
 * How long a session's lease may be held, whatever its holder's work does:
 * a turn sends at most two requests (discovery, then the token request),
 * each given up after `timeoutSeconds`, plus time for storage.
 */
export function leaseHoldMs(timeoutSeconds: number | undefined): number {
  return 2 * (timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS) * 1000 + LEASE_HOLD_MARGIN_MS;
}

/**
 * `pending`, or `signal`'s reason once it aborts: a custom `fetch` that
 * ignores its signal and never settles still ends at the deadline.
 */
function settledBy<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The authorization server as the engine and the facade use it. */
export class AuthServer implements TokenEndpoint {
  readonly identity: ClientIdentity;
  readonly #flow: FlowDescriptor;
  readonly #grant: Grant;
  readonly #scopes: readonly string[];
  readonly #callbackUrl: string | undefined;
  readonly #audience: { parameter: string; value: string | undefined };
  readonly #profile: string;
  readonly #storage: SessionStorage;
  #metadata: Record<string, unknown> | undefined;
  #config: OidcClient.Configuration | undefined;
  #answer: Answer | undefined;
  #recording = false;
  /** Wall and monotonic time the last request was sent. */
  sentAt = { mono: 0, wall: 0 };
  /** How the session's tokens are presented: its flow's token binding, or its saved tokens'. */
  readonly proofs: SessionProofs;

  constructor(options: {
    identity: Omit<ClientIdentity, 'fetch'> & { fetch: FetchFunction | undefined };
    flow: FlowDescriptor;
    grant: Grant;
    scopes: readonly string[];
    callbackUrl: string | undefined;
    audience: { parameter: string; value: string | undefined };
    profile: string;
    storage: SessionStorage;
  }) {
    const send: FetchFunction = options.identity.fetch ?? ((input, init) => fetch(input, init));
    const timeout = options.identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS;
    const recorded: FetchFunction = async (input, init) => {
      const post = init?.method === 'POST';
      if (post) this.sentAt = { mono: performance.now(), wall: Date.now() };
      const signals = [workingDeadline(timeout), ...(init?.signal ? [init.signal] : [])];
      const signal = AbortSignal.any(signals);
      const response = await settledBy(send(input, { ...init, signal }), signal);
      if (post && this.#recording) this.#answer = { status: response.status, body: response.status === 200 ? boundedClone(response) : Promise.resolve(undefined) };
      return response;
    };
    this.identity = { ...options.identity, fetch: recorded };
    this.#flow = options.flow;
    this.#grant = options.grant;
    this.#scopes = options.scopes;
    this.#callbackUrl = options.callbackUrl;
    this.#audience = options.audience;
    this.#profile = options.profile;
    this.#storage = options.storage;
    this.proofs = new SessionProofs(options.flow, options.profile, options.identity.log);
  }

  /** The audience this session asks for. */
  get audience(): string | undefined {
    return this.#audience.value;
  }

  get metadata(): Record<string, unknown> | undefined {
    return this.#metadata;
  }

  loginHint(): string {
    return this.#grant.unattended ? clientAuthMethod(this.identity.authMethod).refusedHint : 'log in with userLogin() or ensureInitialized()';
  }

  error(error: unknown, step: string): PlanetAuthError {
    const mapped = protocolError(error, step, this.identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS, 'request', clientAuthMethod(this.identity.authMethod).refusedHint);
    const redacted = this.identity.log.redact(mapped.message);
    if (redacted !== mapped.message) mapped.message = redacted;
    return mapped;
  }

  parameters(extra: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = { ...extra };
    // No scopes means no scope parameter, not an empty one.
    if (out['scope'] === '') delete out['scope'];
    if (this.#audience.value !== undefined) out[this.#audience.parameter] = this.#audience.value;
    return out;
  }

  /** What a grant needs for one login; for a flow whose token binding has keys, with a new key the login's tokens are to be bound to. */
  async context(): Promise<GrantContext> {
    const oidc = await loadOidc();
    const config = await this.configuration();
    const boundKey = await this.proofs.forLogin();
    return {
      oidc,
      config,
      requestOptions: this.proofs.requestOptions(oidc, config, boundKey),
      ...(boundKey ? { boundKey } : {}),
      flow: this.#flow,
      scopes: this.#scopes,
      callbackUrl: this.#callbackUrl,
      log: this.identity.log,
      parameters: (extra) => this.parameters(extra),
      protocolError: (error, step) => this.error(error, step),
    };
  }

  /** The openid-client configuration: from metadata in memory or storage, else by discovery (one request). */
  async configuration(): Promise<OidcClient.Configuration> {
    if (this.#config) return this.#config;
    const storage = this.#storage;
    if (!this.#metadata && storage.kind !== 'memory') {
      const saved = await storage.load(METADATA_FILE);
      if (saved && normalizeIssuer(String(saved['issuer'])) === normalizeIssuer(this.identity.issuer)) this.#metadata = saved;
    }
    if (this.#metadata) {
      this.#config = await configFromMetadata(this.identity, this.#metadata);
    } else {
      const { config, metadata } = await discover(this.identity);
      this.#metadata = metadata;
      this.#config = config;
      // Kept with the profile once it exists, so later processes skip discovery; only a cache, so a failed write is no failure.
      if (storage.kind !== 'memory') {
        try {
          if ((await storage.exists(CLIENT_FILE)) || (await storage.exists(TOKEN_FILE))) await storage.cache(METADATA_FILE, metadata);
        } catch (error) {
          this.identity.log.warn('could not keep the server metadata with the profile', { error: (error as Error)?.message });
        }
      }
    }
    // The deadline of each request is the working one of the fetch above; openid-client's own would count pauses.
    this.#config.timeout = 20 * 24 * 3600;
    return this.#config;
  }

  async login(): Promise<Record<string, unknown>> {
    const context = await this.context();
    return this.loginResponse((await this.#grant.login(context, {})).response, context);
  }

  /** A login's token response with its binding checked: a DPoP login's tokens must be DPoP-bound, and keep their key. */
  loginResponse(response: Record<string, unknown>, context: GrantContext): Record<string, unknown> {
    return this.proofs.bind(response, context.boundKey, 'the login');
  }

  /** Spends `refreshToken` of `base`, with a proof of `base`'s DPoP key when its tokens are bound to one. */
  async refresh(refreshToken: string, base?: TokenFile): Promise<Record<string, unknown>> {
    const oidc = await loadOidc();
    const config = await this.configuration();
    const step = `refreshing the session of profile "${this.#profile}"`;
    const key = await this.proofs.keyOf(base, this.#storage.location(TOKEN_FILE));
    this.#answer = undefined;
    this.#recording = true;
    let response: Record<string, unknown>;
    try {
      response = await oidc.refreshTokenGrant(config, refreshToken, this.parameters({}), this.proofs.requestOptions(oidc, config, key));
    } catch (error) {
      const mapped = this.error(error, step);
      const answer = this.#answer as Answer | undefined;
      if (!(answer?.status === 200 && !(mapped instanceof TokenRequestError && mapped.oauthError !== undefined))) throw refreshRefused(mapped, this.#profile, this.loginHint());
      response = await this.#salvage(answer, mapped);
    } finally {
      this.#recording = false;
      this.#answer = undefined;
    }
    const bound = this.proofs.bindRefresh(response, key, step, refreshToken);
    if ('response' in bound) return bound.response;
    throw bound.replacement === undefined ? bound.refused : new RefusedAfterRotation(bound.refused, bound.replacement);
  }

  /**
   * The server answered 200, so it may have rotated the refresh token, but
   * the answer was refused (an ID token for another audience, too large,
   * too deep, a bad field). What can be used of it is kept; otherwise the
   * session has ended, since trying again would spend a spent token.
   */
  async #salvage(answer: Answer, refused: PlanetAuthError): Promise<Record<string, unknown>> {
    const text = await answer.body;
    let data: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = text === undefined ? undefined : JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
    } catch {
      data = undefined;
    }
    const str = (value: unknown) => (typeof value === 'string' && value.length > 0 && value.length <= 16_384 ? value : undefined);
    const access = str(data?.['access_token']);
    if (data && access) {
      const kept: Record<string, unknown> = { access_token: access };
      const refresh = str(data['refresh_token']);
      if (refresh) kept['refresh_token'] = refresh;
      if (typeof data['expires_in'] === 'number' && Number.isFinite(data['expires_in']) && data['expires_in'] > 0) kept['expires_in'] = data['expires_in'];
      const type = str(data['token_type']);
      if (type) kept['token_type'] = type;
      this.identity.log.warn('the refresh answer was partly refused; its access and refresh tokens were kept', { error: refused.message });
      return kept;
    }
    if (data && data['refresh_token'] === undefined) {
      // The server did not rotate the refresh token, so the session goes on; this answer only cannot be used.
      throw new TokenRequestError(
        'ERR_SERVER',
        `refreshing the session of profile "${this.#profile}" failed: the server's answer could not be used (${refused.message}); the refresh token was not replaced and is kept`,
        200,
        undefined,
        {
          cause: refused,
          hint: 'the server answers with tokens this SDK refuses; check its configuration (audience, token size)',
        },
      );
    }
    throw new LoginRequiredError(
      `the session of profile "${this.#profile}" has ended: the server answered its refresh, but the answer could not be used (${refused.message}), and the refresh token it replaced may be spent`,
      this.loginHint(),
      { cause: refused },
    );
  }

  /** Revokes `file`'s refresh token (and an opaque access token); false when the server has no revocation endpoint. */
  async revoke(file: TokenFile): Promise<boolean> {
    const oidc = await loadOidc();
    const config = await this.configuration();
    if (!config.serverMetadata().revocation_endpoint) return false;
    if (file.refresh_token) await oidc.tokenRevocation(config, file.refresh_token, { token_type_hint: 'refresh_token' });
    if (file.access_token && file.access_token.split('.').length !== 3) await oidc.tokenRevocation(config, file.access_token, { token_type_hint: 'access_token' });
    return true;
  }
}

export type { SessionLog };
