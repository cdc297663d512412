// The OAuth2 protocol steps, done by openid-client. It is loaded on first
// use, so a process that only reads a valid saved token never loads it.
import type * as OidcClient from 'openid-client';
import {
  AccessDeniedError,
  ConfigError,
  ERR_SERVER,
  ERR_TOKEN_REQUEST,
  LoginRequiredError,
  NetworkError,
  PlanetAuthError,
  TokenRequestError,
} from './errors.js';
import type { TokenEndpointAuthMethod } from './settings.js';

type Oidc = typeof OidcClient;
let oidcModule: Promise<Oidc> | undefined;

export function loadOidc(): Promise<Oidc> {
  oidcModule ??= import('openid-client');
  return oidcModule;
}

export interface ClientIdentity {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly authMethod: TokenEndpointAuthMethod;
  /** Seconds before a request is given up; {@link REQUEST_TIMEOUT_SECONDS} when unset. */
  readonly timeoutSeconds?: number;
}

/** Seconds before a request to the authorization server is given up. */
export const REQUEST_TIMEOUT_SECONDS = 30;
/** Attempts for a request the server turned away with 429, 502, 503 or 504. */
export const MAX_ATTEMPTS = 4;
/** The longest `Retry-After` the SDK waits, in seconds. */
export const MAX_RETRY_AFTER_SECONDS = 30;

const RETRY_STATUSES = new Set([429, 502, 503, 504]);

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Plain HTTP is allowed only to this machine, for development servers. */
export function insecureAllowed(issuer: string): boolean {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`issuer ${JSON.stringify(issuer)} is not a URL; set it to the authorization server's https URL`);
  }
  if (url.protocol === 'https:') return false;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return true;
  throw new ConfigError(`issuer ${issuer} must use https (plain http is allowed only for 127.0.0.1 and localhost)`);
}

function retryDelayMs(response: Response, attempt: number): number {
  const header = response.headers.get('retry-after');
  if (header !== null) {
    const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - Date.now()) / 1000;
    if (Number.isFinite(seconds)) return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS) * 1000;
  }
  return Math.min(250 * 2 ** attempt, 4000);
}

/**
 * fetch with bounded retries for answers that say "not now" (429, 502, 503,
 * 504), honouring Retry-After. A 500 is not retried: the server may already
 * have used a one-time refresh token.
 */
export const retryingFetch = async (url: string, options: OidcClient.CustomFetchOptions): Promise<Response> => {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, options as RequestInit);
    if (!RETRY_STATUSES.has(response.status) || attempt + 1 >= MAX_ATTEMPTS) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs(response, attempt)));
  }
};

async function clientAuth(oidc: Oidc, identity: ClientIdentity): Promise<OidcClient.ClientAuth> {
  switch (identity.authMethod) {
    case 'none':
      return oidc.None();
    case 'client_secret_post':
      return oidc.ClientSecretPost(identity.clientSecret ?? '');
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(identity.clientSecret ?? '');
  }
}

function prepare(oidc: Oidc, config: OidcClient.Configuration, insecure: boolean, timeoutSeconds: number): OidcClient.Configuration {
  config[oidc.customFetch] = retryingFetch;
  config.timeout = timeoutSeconds;
  if (insecure) oidc.allowInsecureRequests(config);
  return config;
}

/** Asks the issuer for its metadata (one request) and returns a ready client configuration. */
export async function discover(identity: ClientIdentity): Promise<{ config: OidcClient.Configuration; metadata: Record<string, unknown> }> {
  const oidc = await loadOidc();
  const insecure = insecureAllowed(identity.issuer);
  try {
    const config = await oidc.discovery(new URL(identity.issuer), identity.clientId, undefined, await clientAuth(oidc, identity), {
      execute: insecure ? [oidc.allowInsecureRequests] : [],
      timeout: timeoutOf(identity),
      [oidc.customFetch]: retryingFetch,
    });
    prepare(oidc, config, insecure, timeoutOf(identity));
    return { config, metadata: { ...config.serverMetadata() } };
  } catch (error) {
    throw protocolError(error, `discovery of ${identity.issuer}`, timeoutOf(identity));
  }
}

/** A client configuration from metadata kept with the profile: no request. */
export async function configFromMetadata(identity: ClientIdentity, metadata: Record<string, unknown>): Promise<OidcClient.Configuration> {
  const oidc = await loadOidc();
  const insecure = insecureAllowed(identity.issuer);
  if (metadata['issuer'] !== identity.issuer && metadata['issuer'] !== identity.issuer.replace(/\/$/, '')) {
    throw new ConfigError(`saved metadata is for issuer ${String(metadata['issuer'])}, not ${identity.issuer}`);
  }
  const config = new oidc.Configuration(metadata as OidcClient.ServerMetadata, identity.clientId, undefined, await clientAuth(oidc, identity));
  return prepare(oidc, config, insecure, timeoutOf(identity));
}

function timeoutOf(identity: ClientIdentity): number {
  return identity.timeoutSeconds ?? REQUEST_TIMEOUT_SECONDS;
}

function describeOAuthError(error: { error: string; error_description?: string }): string {
  return error.error_description ? `${error.error} (${error.error_description})` : error.error;
}

/**
 * Turns what openid-client throws into this SDK's typed errors. `step` names
 * what was being done, for the message.
 */
export function protocolError(error: unknown, step: string, timeoutSeconds = REQUEST_TIMEOUT_SECONDS): PlanetAuthError {
  if (error instanceof PlanetAuthError) return error;
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown; error?: string; error_description?: string; status?: number };
  if (e?.name === 'ResponseBodyError' && typeof e.error === 'string') {
    const status = e.status;
    if (e.error === 'access_denied') return new AccessDeniedError(`${step} was refused: ${describeOAuthError(e as { error: string })}`);
    const code = status !== undefined && status >= 500 ? ERR_SERVER : ERR_TOKEN_REQUEST;
    return new TokenRequestError(code, `${step} failed: ${describeOAuthError(e as { error: string })}`, status, e.error, { cause: error });
  }
  if (e?.name === 'AuthorizationResponseError' && typeof e.error === 'string') {
    if (e.error === 'access_denied') return new AccessDeniedError(`the login was refused: ${describeOAuthError(e as { error: string })}`);
    return new TokenRequestError(ERR_TOKEN_REQUEST, `the authorization server answered the login with ${describeOAuthError(e as { error: string })}`, undefined, e.error, { cause: error });
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || (e?.cause as { name?: string } | undefined)?.name === 'TimeoutError') {
    return new NetworkError(`${step} got no answer within ${timeoutSeconds} s; check the network and try again`, { cause: error });
  }
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || e?.code === 'OAUTH_RESPONSE_IS_NOT_JSON' || e?.code === 'OAUTH_PARSE_ERROR' || e?.code === 'OAUTH_INVALID_RESPONSE') {
    const response = e.cause as { status?: number } | undefined;
    const status = typeof response?.status === 'number' ? response.status : undefined;
    const what = status !== undefined ? `an unusable answer (HTTP ${status})` : 'an answer that is not valid JSON';
    return new TokenRequestError(status !== undefined && status < 500 && status !== 429 ? ERR_TOKEN_REQUEST : ERR_SERVER, `${step} failed: the server sent ${what}; try again later`, status, undefined, { cause: error });
  }
  if (typeof e?.code === 'string' && /^OAUTH_(JSON_ATTRIBUTE|JWT_CLAIM)_COMPARISON/.test(e.code)) {
    return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${e.message ?? 'the server metadata does not match'}; check the issuer URL`, undefined, undefined, { cause: error });
  }
  const unreachable = networkCause(error);
  if (unreachable !== undefined) {
    return new NetworkError(`${step} failed: cannot reach the server (${unreachable}); check the issuer URL and the network`, { cause: error });
  }
  return new TokenRequestError(ERR_TOKEN_REQUEST, `${step} failed: ${e?.message ?? String(error)}`, undefined, undefined, { cause: error });
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
