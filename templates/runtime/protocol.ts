// The OAuth2 protocol steps, done by openid-client. It is loaded on first
// use, so a process that only reads a valid saved token never loads it.
import type * as OidcClient from 'openid-client';
import { AccessDeniedError, ConfigError, ERR_SERVER, ERR_TOKEN_REQUEST, LoginRequiredError, NetworkError, PlanetAuthError, TokenRequestError } from './errors.js';
import type { FetchFunction } from './hooks.js';
import { authServerFetch, isLoopbackHost, printable, ResponseBoundsError, RetryLaterError } from './http.js';
import type { SessionLog } from './log.js';
import { ISSUER_SCHEMES } from './registry.js';
import type { TokenEndpointAuthMethod } from './settings.js';
import { clientAuthMethod, type ClientCredentials } from './client-auth/index.js';

type Oidc = typeof OidcClient;
let oidcModule: Promise<Oidc> | undefined;

export function loadOidc(): Promise<Oidc> {
  oidcModule ??= import('openid-client');
  return oidcModule;
}

export interface ClientIdentity {
  readonly issuer: string;
  readonly clientId: string;
  /** The client secret, read when a request needs it (a profile's may be in the OS keychain). */
  readonly clientSecret: () => string | undefined;
  /** The other credential options its auth method reads (a private key's reference). */
  readonly credentials?: ClientCredentials;
  readonly authMethod: TokenEndpointAuthMethod;
  /** Seconds before a request is given up; {@link REQUEST_TIMEOUT_SECONDS} when unset. */
  readonly timeoutSeconds?: number;
  /** The application's fetch, when it gave one. */
  readonly fetch?: FetchFunction | undefined;
  /** Plain http to a host other than this machine, allowed explicitly. */
  readonly allowInsecureHttp?: boolean;
  readonly log: SessionLog;
}

/** Seconds before a request to the authorization server is given up. */
export const REQUEST_TIMEOUT_SECONDS = 30;

/**
 * Whether requests to `issuer` go over plain http: the registry's issuer
 * schemes, https anywhere and plain http only to this machine (for
 * development servers) unless allowed explicitly. `source` names where the
 * issuer came from, for the error.
 */
export function insecureAllowed(issuer: string, allowInsecureHttp = false, source = 'issuer'): boolean {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`${source} ${JSON.stringify(issuer)} is not a URL; set it to the authorization server's https URL`);
  }
  const scheme = Object.hasOwn(ISSUER_SCHEMES, url.protocol) ? ISSUER_SCHEMES[url.protocol as keyof typeof ISSUER_SCHEMES] : undefined;
  if (scheme === undefined) throw new ConfigError(`${source} ${JSON.stringify(issuer)} uses ${url.protocol.slice(0, 20)}, which the SDK does not talk to; set an https:// URL`);
  if (scheme === 'any host') return false;
  if (isLoopbackHost(url.hostname) || allowInsecureHttp) return true;
  throw new ConfigError(`${source} ${issuer} must use https (plain http is allowed only for 127.0.0.1 and localhost, or with allowInsecureHttp: true)`);
}

function clientAuth(oidc: Oidc, identity: ClientIdentity): Promise<OidcClient.ClientAuth> {
  return clientAuthMethod(identity.authMethod).clientAuth(oidc, { ...identity.credentials, clientSecret: identity.clientSecret() });
}

function prepare(oidc: Oidc, identity: ClientIdentity, config: OidcClient.Configuration, insecure: boolean, timeoutSeconds: number): OidcClient.Configuration {
  config[oidc.customFetch] = authServerFetch({ fetch: identity.fetch, log: identity.log, timeoutSeconds });
  config.timeout = timeoutSeconds;
  if (insecure) oidc.allowInsecureRequests(config);
  return config;
}

/** Asks the issuer for its metadata (one request) and returns a ready client configuration. */
export async function discover(identity: ClientIdentity): Promise<{ config: OidcClient.Configuration; metadata: Record<string, unknown> }> {
  const oidc = await loadOidc();
  const insecure = insecureAllowed(identity.issuer, identity.allowInsecureHttp);
  identity.log.debug('discovery', { issuer: identity.issuer });
  try {
    const config = await oidc.discovery(new URL(identity.issuer), identity.clientId, undefined, await clientAuth(oidc, identity), {
      execute: insecure ? [oidc.allowInsecureRequests] : [],
      timeout: timeoutOf(identity),
      [oidc.customFetch]: followDiscoveryRedirects(authServerFetch({ fetch: identity.fetch, log: identity.log, timeoutSeconds: timeoutOf(identity) }), identity.allowInsecureHttp === true),
    });
    prepare(oidc, identity, config, insecure, timeoutOf(identity));
    return { config, metadata: { ...config.serverMetadata() } };
  } catch (error) {
    throw protocolError(error, `discovery of ${identity.issuer}`, timeoutOf(identity), 'discovery');
  }
}

/** A client configuration from metadata kept with the profile: no request. */
export async function configFromMetadata(identity: ClientIdentity, metadata: Record<string, unknown>): Promise<OidcClient.Configuration> {
  const oidc = await loadOidc();
  const insecure = insecureAllowed(identity.issuer, identity.allowInsecureHttp);
  if (metadata['issuer'] !== identity.issuer && metadata['issuer'] !== identity.issuer.replace(/\/$/, '')) {
    throw new ConfigError(`saved metadata is for issuer ${String(metadata['issuer'])}, not ${identity.issuer}`);
  }
  const config = new oidc.Configuration(metadata as OidcClient.ServerMetadata, identity.clientId, undefined, await clientAuth(oidc, identity));
  return prepare(oidc, identity, config, insecure, timeoutOf(identity));
}

/** Redirects followed when fetching the server metadata. */
export const MAX_DISCOVERY_REDIRECTS = 5;

type AuthFetch = ReturnType<typeof authServerFetch>;

/**
 * Discovery follows redirects (301, 302, 303, 307, 308), as a browser or
 * `curl -L` would: the metadata is public and its `issuer` is checked
 * against the configured one afterwards. Only to https, or to this machine
 * where plain http is allowed; a redirect elsewhere, or too many, is an
 * error that says where the server pointed.
 */
function followDiscoveryRedirects(send: AuthFetch, allowInsecureHttp: boolean): AuthFetch {
  return async (url, options) => {
    let current = url;
    for (let hop = 0; ; hop++) {
      const response = await send(current, { ...options, redirect: 'manual' });
      if (![301, 302, 303, 307, 308].includes(response.status)) return response;
      const location = response.headers.get('location');
      let target: URL;
      try {
        target = new URL(location ?? '', current);
      } catch {
        throw new RedirectError(response.status, current, printable(location ?? '(no Location header)', 200));
      }
      const allowed = target.protocol === 'https:' || (target.protocol === 'http:' && (isLoopbackHost(target.hostname) || allowInsecureHttp));
      if (!allowed || hop + 1 > MAX_DISCOVERY_REDIRECTS) throw new RedirectError(response.status, current, target.href);
      current = target.href;
    }
  };
}

/** A discovery redirect the SDK would not follow; says where it pointed. */
class RedirectError extends Error {
  constructor(
    readonly status: number,
    readonly from: string,
    readonly to: string,
  ) {
    super(`the server redirected ${from} (HTTP ${status}) to ${to}, which this SDK does not follow`);
    this.name = 'RedirectError';
  }
}

/** The issuer a metadata URL belongs to (RFC 8414): the URL without its well-known suffix. */
function issuerOfMetadataUrl(url: string): string {
  return url.replace(/\/\.well-known\/(openid-configuration|oauth-authorization-server)$/, '').replace(/^(https?:\/\/[^/]+)\/\.well-known\/(openid-configuration|oauth-authorization-server)(\/.*)$/, '$1$3');
}

const revocationUnsupportedErrors = new WeakSet<object>();

/** The server offers no revocation endpoint (RFC 7009): the session cannot be ended at the server. */
export function revocationUnsupported(issuer: string, profile: string): TokenRequestError {
  const error = new TokenRequestError(ERR_TOKEN_REQUEST, `the authorization server ${issuer} offers no revocation endpoint, so the session of profile "${profile}" cannot be revoked there`, undefined, undefined, {
    hint: "forget the session here only, knowing its refresh token stays valid at the server until it expires, or revoke it in the server's own console",
  });
  revocationUnsupportedErrors.add(error);
  return error;
}

/** Whether `error` (or one of its causes) says the server cannot revoke at all. */
export function isRevocationUnsupported(error: unknown): boolean {
  return causeOfType(error, (c) => typeof c === 'object' && c !== null && revocationUnsupportedErrors.has(c)) !== undefined;
}

function timeoutOf(identity: ClientIdentity): number {
  return identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS;
}

function describeOAuthError(error: { error: string; error_description?: unknown }): string {
  const code = printable(String(error.error), 80);
  return typeof error.error_description === 'string' && error.error_description !== '' ? `${code} (${printable(error.error_description)})` : code;
}

const CREDENTIALS_HINT = 'check the client ID and secret, and the token endpoint auth method the server expects';

/**
 * Turns what openid-client throws into this SDK's typed errors. `step` names
 * what was being done, for the message; `kind` tells discovery apart, where
 * a wrong answer usually means a wrong issuer URL; `credentialsHint` is what
 * to check when the server refuses the client (its auth method says).
 */
export function protocolError(error: unknown, step: string, timeoutSeconds = REQUEST_TIMEOUT_SECONDS, kind: 'discovery' | 'request' = 'request', credentialsHint = CREDENTIALS_HINT): PlanetAuthError {
  if (error instanceof PlanetAuthError) return error;
  // openid-client wraps what the fetch throws: look for this SDK's own reasons along the chain.
  const own = causeOfType(error, (c) => c instanceof RetryLaterError || c instanceof ResponseBoundsError || c instanceof RedirectError);
  if (own !== undefined && own !== error) return protocolError(own, step, timeoutSeconds, kind, credentialsHint);
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown; error?: string; error_description?: string; status?: number };
  if (error instanceof RedirectError) {
    return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${error.message}`, error.status, undefined, {
      cause: error,
      hint: `check the issuer URL: the server points at ${issuerOfMetadataUrl(error.to)}`,
    });
  }
  if (error instanceof RetryLaterError) {
    return new TokenRequestError(ERR_SERVER, `${step} failed: ${error.message}`, error.status, undefined, { cause: error, hint: `try again in ${error.retryAfterSeconds} s` });
  }
  if (error instanceof ResponseBoundsError) {
    return new TokenRequestError(ERR_SERVER, `${step} failed: ${error.message}; nothing was saved`, error.status, undefined, {
      cause: error,
      hint: 'check the issuer URL; the server is not answering as an authorization server does',
    });
  }
  if (e?.name === 'WWWAuthenticateChallengeError') {
    const challenges = Array.isArray(e.cause) ? (e.cause as { scheme?: string; parameters?: Record<string, string> }[]) : [];
    const parameters = challenges.find((c) => c.parameters?.['error'])?.parameters ?? {};
    const oauthError = parameters['error'] ?? 'invalid_client';
    const status = typeof e.status === 'number' ? e.status : 401;
    const described = describeOAuthError({ error: oauthError, error_description: parameters['error_description'] });
    const refused = oauthError === 'invalid_client' || status === 401 ? `the server refused the client's credentials (HTTP ${status}, ${described})` : `the server answered HTTP ${status} (${described})`;
    return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${refused}`, status, oauthError, { cause: error, hint: credentialsHint });
  }
  if (e?.name === 'ResponseBodyError' && typeof e.error === 'string') {
    const status = e.status;
    if (e.error === 'access_denied') return new AccessDeniedError(`${step} was refused: ${describeOAuthError(e as { error: string })}`);
    const code = status !== undefined && status >= 500 ? ERR_SERVER : ERR_TOKEN_REQUEST;
    const hint = e.error === 'invalid_client' ? credentialsHint : undefined;
    return new TokenRequestError(code, `${step} failed: ${describeOAuthError(e as { error: string })}${status !== undefined ? ` (HTTP ${status})` : ''}`, status, printable(e.error, 80), {
      cause: error,
      ...(hint ? { hint } : {}),
    });
  }
  if (e?.name === 'AuthorizationResponseError' && typeof e.error === 'string') {
    if (e.error === 'access_denied') return new AccessDeniedError(`the login was refused: ${describeOAuthError(e as { error: string })}`);
    return new TokenRequestError(ERR_TOKEN_REQUEST, `the authorization server answered the login with ${describeOAuthError(e as { error: string })}`, undefined, printable(e.error, 80), { cause: error });
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || (e?.cause as { name?: string } | undefined)?.name === 'TimeoutError') {
    return new NetworkError(`${step} got no answer within ${timeoutSeconds} s`, { cause: error, hint: 'check the network and the issuer URL, then try again' });
  }
  const issuerMismatch = causeOfType(error, (c) => typeof (c as { message?: unknown } | null)?.message === 'string' && (c as { message: string }).message.includes('"iss" (issuer)')) as Error | undefined;
  if (issuerMismatch !== undefined) {
    // RFC 9207: the answer names another issuer than the one configured (a mix-up, or a wrong issuer URL); waiting does not help.
    return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${printable(issuerMismatch.message)}`, undefined, undefined, {
      cause: error,
      hint: 'check the issuer URL: it must be exactly the issuer the server names in its metadata; if it is, the answer came from another server, so log in again',
    });
  }
  if (typeof e?.code === 'string' && /^OAUTH_(JSON_ATTRIBUTE|JWT_CLAIM)_COMPARISON/.test(e.code)) {
    return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${printable(e.message ?? 'the server metadata does not match')}`, undefined, undefined, {
      cause: error,
      hint: 'check the issuer URL: it must be exactly the issuer the server names in its metadata',
    });
  }
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e?.code === 'OAUTH_RESPONSE_IS_NOT_JSON' || e?.code === 'OAUTH_PARSE_ERROR' || e?.code === 'OAUTH_INVALID_RESPONSE') {
    const response = e.cause as { status?: number } | undefined;
    const status = typeof response?.status === 'number' ? response.status : undefined;
    if (kind === 'discovery') {
      const what = status !== undefined ? `HTTP ${status}` : 'an answer that is not authorization server metadata';
      return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: the server answered ${what}`, status, undefined, {
        cause: error,
        hint: 'check the issuer URL: its /.well-known/openid-configuration must return the server metadata',
      });
    }
    const what =
      status !== undefined
        ? `an unusable answer (HTTP ${status})`
        : e.code === 'OAUTH_PARSE_ERROR' || e.code === 'OAUTH_RESPONSE_IS_NOT_JSON'
          ? 'an answer that is not valid JSON'
          : `an answer it could not use (${printable(e.message ?? 'unknown')})`;
    const busy = status === undefined || status >= 500 || status === 429;
    return new TokenRequestError(busy ? ERR_SERVER : ERR_TOKEN_REQUEST, `${step} failed: the server sent ${what}`, status, undefined, {
      cause: error,
      hint: busy ? 'try again later' : 'check the issuer URL and the client settings',
    });
  }
  const unreachable = networkCause(error);
  if (unreachable !== undefined) {
    return new NetworkError(`${step} failed: cannot reach the server (${printable(unreachable)})`, { cause: error, hint: 'check the issuer URL and the network' });
  }
  return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${printable(e?.message ?? String(error))}`, undefined, undefined, { cause: error });
}

function causeOfType(error: unknown, match: (cause: unknown) => boolean): unknown {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    if (match(current)) return current;
  }
  return undefined;
}

/** The innermost message of a failed connection (fetch wraps it, and openid-client may wrap fetch), or undefined. */
function networkCause(error: unknown): string | undefined {
  let found: string | undefined;
  for (let current = error as { name?: string; message?: string; code?: string; cause?: unknown } | undefined, depth = 0; current && depth < 6; current = current.cause as typeof current, depth++) {
    if (current.message === 'fetch failed' || (typeof current.code === 'string' && /^(E[A-Z]+|UND_ERR_\w+)$/.test(current.code))) found = current.message;
  }
  return found;
}

/** A refresh the server refused for good (`invalid_grant`): the session is over and the user must log in. */
export function refreshRefused(error: PlanetAuthError, profile: string, loginHint: string): PlanetAuthError {
  if (error instanceof TokenRequestError && error.oauthError === 'invalid_grant') {
    return new LoginRequiredError(`the session of profile "${profile}" has ended (the server refused its refresh token)`, loginHint, { cause: error });
  }
  return error;
}
