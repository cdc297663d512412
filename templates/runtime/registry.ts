// What the runtime can do, as plain data: the grants it implements, the ways
// a client authenticates at the token endpoint, the storage backends, the
// options a factory reads, and the storage methods it calls. The spec's JSON
// Schema and the generator's validator take their allowed values from here,
// so the spec cannot ask for something the runtime does not do.
// It imports only the grant, client authentication and token binding
// modules, which declare themselves as data beside their behaviour (and
// import nothing that imports this file): the generator reads it as data.
import { authorizationCode } from './grants/authorization-code.js';
import { clientCredentials } from './grants/client-credentials.js';
import { deviceCode } from './grants/device-code.js';
import type { Grant } from './grants/types.js';
import { clientSecretBasic } from './client-auth/client-secret-basic.js';
import { clientSecretPost } from './client-auth/client-secret-post.js';
import { none } from './client-auth/none.js';
import { privateKeyJwt } from './client-auth/private-key-jwt.js';
import type { ClientAuthMethod } from './client-auth/types.js';
import { bearer } from './token-binding/bearer.js';
import { dpop } from './token-binding/dpop.js';
import type { TokenBinding } from './token-binding/types.js';
import { CLIENT_AUTH_METHODS, SESSION_OPTIONS, type CredentialOptionTable, type GrantType, type TokenBindingName, type TokenEndpointAuthMethod } from './registry-public.js';

export {
  CLIENT_AUTH_METHODS,
  ENVIRONMENT,
  SESSION_OPTIONS,
  STORAGE_METHODS,
  type CredentialOption,
  type CredentialOptionTable,
  type EnvironmentKey,
  type GrantType,
  type ObjectStore,
  type OptionCapability,
  type OptionsOf,
  type OptionType,
  type OptionValueTypes,
  type StorageMethodCapability,
  type StorageMethodName,
  type StorageParameter,
  type StorageValueTypes,
  type TokenBindingName,
  type TokenEndpointAuthMethod,
} from './registry-public.js';

/** The grants, one module each (see `grants/`): each declares its options, auth methods, CLI login and example text. */
export const GRANTS = {
  authorization_code: authorizationCode,
  device_code: deviceCode,
  client_credentials: clientCredentials,
} as const satisfies Record<GrantType, Grant>;

/** The scope that asks for a refresh token. */
export const REFRESH_TOKEN_SCOPE = 'offline_access';

/**
 * The scopes a session of `grant` requests when asked for `scopes`: an
 * unattended grant leaves out the refresh-token scope, since it gets no
 * refresh token. The CLI's help and the docs page show defaults through this.
 */
export function scopesToRequest(grant: GrantType, scopes: readonly string[]): string[] {
  return GRANTS[grant].unattended ? scopes.filter((s) => s !== REFRESH_TOKEN_SCOPE) : [...scopes];
}

/** The ways a client authenticates at the token endpoint, one module each (see `client-auth/`). */
export const TOKEN_ENDPOINT_AUTH_METHODS = {
  none,
  client_secret_post: clientSecretPost,
  client_secret_basic: clientSecretBasic,
  private_key_jwt: privateKeyJwt,
} as const satisfies Record<TokenEndpointAuthMethod, ClientAuthMethod>;

/**
 * Every option a factory reads: the session's own (`SESSION_OPTIONS`) and
 * each client authentication method's credential options (`CLIENT_AUTH_METHODS`).
 */
export const OPTIONS = Object.assign({}, SESSION_OPTIONS, ...Object.values(CLIENT_AUTH_METHODS)) as typeof SESSION_OPTIONS & CredentialOptionTable;

export type { OptionName } from './settings.js';

/**
 * How a session presents its tokens, one module each (see `token-binding/`):
 * bearer tokens, or tokens bound to a key the session holds (DPoP). A flow
 * names its binding with `tokenBinding` (bearer when it names none).
 */
export const TOKEN_BINDINGS = {
  bearer,
  dpop,
} as const satisfies Record<TokenBindingName, TokenBinding>;

export interface StorageBackendCapability {
  /** The option that selects this backend; a spec with such a storage mode must keep it. */
  readonly selectedBy: string | undefined;
  /** Whether a storage mode of this backend brings a provider class. */
  readonly needsProvider: boolean;
}

export const STORAGE_BACKENDS = {
  memory: { selectedBy: 'saveStateToStorage', needsProvider: false },
  disk: { selectedBy: undefined, needsProvider: false },
  // The disk backend with the secrets in the OS keychain (option secretStorage: "keychain").
  keychain: { selectedBy: 'secretStorage', needsProvider: false },
  provider: { selectedBy: 'storageProvider', needsProvider: true },
} as const satisfies Record<string, StorageBackendCapability>;

export type StorageBackend = keyof typeof STORAGE_BACKENDS;

/**
 * Issuer URL schemes the runtime talks to: https anywhere, plain http only to
 * this machine (the runtime refuses it elsewhere unless allowInsecureHttp).
 */
export const ISSUER_SCHEMES = { 'https:': 'any host', 'http:': 'loopback only' } as const;

/** Host names that are this machine, where plain http is allowed. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'] as const;

/** A name used as one folder or file name under the home folder: not `.` or `..`, no separator. */
export const PATH_SEGMENT = '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,100}$';
