// The options a session is made from: what the factories take, plus what a
// saved profile pins down.
import type { FetchFunction, Logger } from './hooks.js';
import type { ObjectStore } from './store.js';

/** A session's credential options, one or two per auth method, as its factory or its saved profile gives them (read by the modules in client-auth/). */
export interface ClientCredentials {
  /** The client secret (client_secret_post, client_secret_basic). */
  readonly clientSecret?: string | undefined;
  /** Where a service account's private key is (private_key_jwt): a PEM or JWK file's path, or `env:NAME`. Never the key itself. */
  readonly privateKey?: string | undefined;
  /** The private key's `kid`, when its JWK names none. */
  readonly privateKeyId?: string | undefined;
}

/**
 * Options of a session, as the factories take them, plus what a saved
 * profile pins down. The credential options (a secret, a private key's
 * reference) are those the client authentication modules read.
 */
export interface ClientOptions extends ClientCredentials {
  readonly clientId: string;
  readonly callbackUrl?: string;
  readonly requestedScopes?: readonly string[];
  readonly saveStateToStorage?: boolean;
  readonly profileName?: string;
  readonly storageProvider?: ObjectStore;
  /**
   * Where a session on disk keeps its refresh token and client secret:
   * `"keychain"` (the OS keychain) or `"file"` (the profile's files, as the
   * Python CLI does). Unset, a profile keeps the mode it has, and a new one
   * takes `PLANET_AUTH_SECRET_STORAGE` (environment or `~/.planet.json`), else files.
   */
  readonly secretStorage?: string;
  /** The authorization server's issuer URL; wins over the environment and the built-in one. */
  readonly issuer?: string;
  /** Base URL of the API that receives the bearer token; wins over the environment and the built-in one. */
  readonly apiBaseUrl?: string;
  /**
   * Audience requested for access tokens; wins over the environment and the
   * built-in one. `null` (a profile saved without one) requests none unless
   * the environment names one.
   */
  readonly audience?: string | null;
  /** The fetch used for every request, to the authorization server and the API. */
  readonly fetch?: FetchFunction;
  /** Receives a record of every protocol step, secrets and tokens redacted. */
  readonly logger?: Logger;
  /** Lets bearer tokens and logins go over plain http to hosts other than this machine. @defaultValue false */
  readonly allowInsecureHttp?: boolean;
  /** Seconds before a request to the authorization server is given up (default 30). */
  readonly requestTimeoutSeconds?: number;
  /**
   * Whether a login writes `auth_client.json` (default true). False for
   * built-in profiles and ad hoc service accounts, whose client settings
   * live in the SDK or the environment.
   */
  readonly persistClientConfig?: boolean;
}

/** Client secrets read only when first used: a profile's secret in the OS keychain, so status and listing need no keychain. */
const deferredSecrets = new WeakMap<ClientOptions, () => string>();

/** `options` whose client secret `read` gives on first use (read once). */
export function withDeferredSecret(options: ClientOptions, read: () => string): ClientOptions {
  let secret: string | undefined;
  const copy = { ...options };
  deferredSecrets.set(copy, () => (secret ??= read()));
  return copy;
}

/** `to` with the deferred client secret of `from`, if it has one. */
export function keepDeferredSecret<T extends ClientOptions>(from: ClientOptions, to: T): T {
  const read = deferredSecrets.get(from);
  if (read !== undefined) deferredSecrets.set(to, read);
  return to;
}

/** Whether `options` hold a client secret, given or deferred, without reading a deferred one. */
export function holdsClientSecret(options: ClientOptions): boolean {
  return Boolean(options.clientSecret) || deferredSecrets.has(options);
}

/** The client secret of `options`, reading a deferred one now. */
export function clientSecretOf(options: ClientOptions): string | undefined {
  return options.clientSecret ?? deferredSecrets.get(options)?.();
}
