// The public half of the registry (registry.ts): what the public types are
// made of, each declared once here. The grants' and client authentication
// methods' names, the options every session reads and each method's
// credential options, the value each option type stands for, the
// environment variables, and the storage methods with their signatures.
// It imports types only, so the declarations a user sees never reach the
// modules behind these names; registry.ts maps each name to its module, and
// the compiler holds the two to each other.
import type { FetchFunction, Logger } from './hooks.js';

/** The value types an option can have, and the TypeScript type of each: the one table of option types. */
export interface OptionValueTypes {
  string: string;
  'string[]': readonly string[];
  boolean: boolean;
  number: number;
  ObjectStorageProvider: ObjectStore;
  FetchFunction: FetchFunction;
  Logger: Logger;
}

/** The value types an option can have, as the registry names them. */
export type OptionType = keyof OptionValueTypes;

export interface OptionCapability {
  readonly type: OptionType;
  /** Never printed, logged or serialized by the SDK. */
  readonly secret?: true;
  /** Read by every flow whatever the spec says; a spec may document it but not remove it. */
  readonly always?: true;
  /** The values a number option takes: more than `above` (when set), at most `max`. */
  readonly range?: { readonly above: number; readonly max: number };
  /** A value that names one flow's own state: no default, which every flow would share. */
  readonly perFlow?: true;
}

/** The options object a table of options describes, each optional and of its declared type. */
export type OptionsOf<T extends Readonly<Record<string, OptionCapability>>> = { readonly [K in keyof T]?: OptionValueTypes[T[K]['type']] | undefined };

/** The grants the runtime implements; registry.ts maps each to its module in `grants/`. */
export type GrantType = 'authorization_code' | 'device_code' | 'client_credentials';

/** How a session presents its tokens; registry.ts maps each to its module in `token-binding/`. */
export type TokenBindingName = 'bearer' | 'dpop';

/**
 * The options every session reads, whatever its grant and client
 * authentication; `CLIENT_AUTH_METHODS` below declares each method's
 * credential options, and `OPTIONS` in registry.ts is both.
 */
export const SESSION_OPTIONS = {
  /** The client ID issued when the application was registered. */
  clientId: { type: 'string' },
  /** The loopback URL registered for the client, where a browser login returns. */
  callbackUrl: { type: 'string' },
  /** Scopes to request; left out, the SDK's default scopes. */
  requestedScopes: { type: 'string[]' },
  /** Keep the session in storage so later runs reuse it (default true). */
  saveStateToStorage: { type: 'boolean' },
  /** Name of the profile that holds the session. */
  profileName: { type: 'string', perFlow: true },
  /** Storage supplied by the application. */
  storageProvider: { type: 'ObjectStorageProvider' },
  /**
   * Where a session on disk keeps its refresh token and client secret:
   * `"keychain"` (the OS keychain) or `"file"` (the profile's files, as the
   * Python CLI does). Unset, a profile keeps the mode it has, and a new one
   * takes the secret storage environment variable (or `~/.planet.json`), else files.
   */
  secretStorage: { type: 'string' },
  /** The authorization server's issuer URL; wins over the environment and the built-in one. */
  issuer: { type: 'string' },
  /** Base URL of the API that receives the bearer token; wins over the environment and the built-in one. */
  apiBaseUrl: { type: 'string' },
  /** Audience requested for access tokens; wins over the environment and the built-in one. */
  audience: { type: 'string' },
  /** The fetch used for every request, to the authorization server and the API. */
  fetch: { type: 'FetchFunction' },
  /** Receives a record of every protocol step, secrets and tokens redacted. */
  logger: { type: 'Logger' },
  /** Seconds before a request to the authorization server is given up (default 30). */
  requestTimeoutSeconds: { type: 'number', range: { above: 0, max: 3600 } },
  /** Lets bearer tokens and logins go over plain http to hosts other than this machine (default false). */
  allowInsecureHttp: { type: 'boolean' },
} as const satisfies Record<string, OptionCapability>;

/**
 * The environment variables the runtime reads, by key, and what it reads
 * each for: the one list of them. The spec names each key's variable and
 * documents it (`environment` in sdk.yaml), and `SdkSettings.env` holds
 * those names.
 */
export const ENVIRONMENT = {
  issuer: 'overrides the issuer URL',
  apiBaseUrl: "overrides the API's base URL",
  audience: 'overrides the audience',
  profile: 'names the profile used when none is named (also a key of the defaults file)',
  clientId: 'the client ID of an ad hoc service account (also a key of the defaults file)',
  clientSecret: 'the client secret of an ad hoc service account (also a key of the defaults file)',
  debug: 'set, logs every protocol step to stderr, secrets and tokens redacted',
  secretStorage: 'where new profiles keep their secrets, "keychain" or "file" (also a key of the defaults file)',
} as const;

/** A key of `ENVIRONMENT`. */
export type EnvironmentKey = keyof typeof ENVIRONMENT;

/** A credential option of a client authentication method: its type and secrecy, and whether a flow of the method must have it. */
export interface CredentialOption extends OptionCapability {
  /** A flow with this method declares it with `required: true`, and the runtime requires it too. */
  readonly required: boolean;
}

/** The options of a method whose client holds a shared secret (each such method's entry below). */
export const SECRET_OPTIONS = {
  /** The client secret issued with the client ID; never printed, logged or shown. */
  clientSecret: { type: 'string', secret: true, required: true },
} as const;

/**
 * The ways a client authenticates at the token endpoint, each with the
 * credential options it reads: its line here is its public declaration, and
 * registry.ts maps the name to its module in `client-auth/`, which reads
 * its options from here.
 */
export const CLIENT_AUTH_METHODS = {
  none: {},
  client_secret_post: SECRET_OPTIONS,
  client_secret_basic: SECRET_OPTIONS,
  private_key_jwt: {
    /** Where the service account's private key is: a PEM or JWK file's path, or `env:NAME`. Never the key itself. */
    privateKey: { type: 'string', required: true },
    /** The private key's `kid`, when its JWK names none. */
    privateKeyId: { type: 'string', required: false },
  },
} as const satisfies Record<string, Readonly<Record<string, CredentialOption>>>;

/** The ways a client authenticates at the token endpoint (RFC 6749, section 2.3). */
export type TokenEndpointAuthMethod = keyof typeof CLIENT_AUTH_METHODS;

type Intersection<U> = (U extends unknown ? (whole: U) => void : never) extends (whole: infer I) => void ? I : never;

/** Every method's credential options, by name. */
export type CredentialOptionTable = Intersection<(typeof CLIENT_AUTH_METHODS)[TokenEndpointAuthMethod]>;

/** The value types a storage method takes and returns, and the TypeScript type of each (`this` is the storage itself). */
export interface StorageValueTypes {
  string: string;
  number: number;
  boolean: boolean;
  void: void;
  'number | undefined': number | undefined;
  'Record<string, unknown>': Record<string, unknown>;
  '{ clientId: string; issuer: string }': { clientId: string; issuer: string };
  this: ObjectStore;
}

/** A parameter, as `name: type` (`name?: type` when the runtime passes it and a provider may leave it out). */
export type StorageParameter = `${string}: ${keyof StorageValueTypes}`;

export interface StorageMethodCapability {
  readonly params: readonly StorageParameter[];
  readonly returns: keyof StorageValueTypes;
  /** An optional capability: the runtime uses it when the provider has it. */
  readonly optional?: true;
  /** Returns its value at once rather than a promise. */
  readonly sync?: true;
}

/**
 * The methods the runtime calls on storage, with the signatures it calls
 * them with: the one declaration of the storage interface. `ObjectStore`
 * below is made from it, the spec's `storageProvider` documents each method
 * by name, and the generated `ObjectStorageProvider` takes its signatures
 * from here.
 */
export const STORAGE_METHODS = {
  loadObj: { params: ['key: string'], returns: 'Record<string, unknown>' },
  saveObj: { params: ['key: string', 'data: Record<string, unknown>'], returns: 'void' },
  objExists: { params: ['key: string'], returns: 'boolean' },
  mtime: { params: ['key: string'], returns: 'number' },
  objRename: { params: ['src: string', 'dst: string'], returns: 'void' },
  deleteObj: { params: ['key: string'], returns: 'void' },
  // Taking turns across processes and machines (a lease with a fencing value).
  acquireLease: { params: ['key: string', 'ttlMs: number', 'maxHoldMs?: number'], returns: 'number | undefined', optional: true },
  renewLease: { params: ['key: string', 'fence: number', 'ttlMs: number'], returns: 'boolean', optional: true },
  releaseLease: { params: ['key: string', 'fence: number'], returns: 'void', optional: true },
  saveObjFenced: { params: ['key: string', 'data: Record<string, unknown>', 'leaseKey: string', 'fence: number'], returns: 'boolean', optional: true },
  // A view of shared storage bound to one session's client and issuer.
  forSession: { params: ['identity: { clientId: string; issuer: string }'], returns: 'this', optional: true, sync: true },
} as const satisfies Record<string, StorageMethodCapability>;

export type StorageMethodName = keyof typeof STORAGE_METHODS;

type StorageArguments<P extends readonly StorageParameter[]> = P extends readonly [infer First, ...infer Rest extends readonly StorageParameter[]]
  ? First extends `${string}?: ${infer T extends keyof StorageValueTypes}`
    ? [arg?: StorageValueTypes[T], ...rest: StorageArguments<Rest>]
    : First extends `${string}: ${infer T extends keyof StorageValueTypes}`
      ? [arg: StorageValueTypes[T], ...rest: StorageArguments<Rest>]
      : never
  : [];

type StorageMethod<M extends StorageMethodCapability> = (...args: StorageArguments<M['params']>) => M['sync'] extends true ? StorageValueTypes[M['returns']] : Promise<StorageValueTypes[M['returns']]>;

type Methods = typeof STORAGE_METHODS;
type RequiredMethod = { [K in keyof Methods]: Methods[K] extends { readonly optional: true } ? never : K }[keyof Methods];
type OptionalMethod = Exclude<keyof Methods, RequiredMethod>;

/**
 * The methods the SDK needs from any storage, made from `STORAGE_METHODS`:
 * an application's `ObjectStorageProvider` has them all, and the optional
 * ones when it can (leases and fenced writes for storage shared by many
 * processes, `forSession` for storage shared by several applications).
 */
export type ObjectStore = { [K in RequiredMethod]: StorageMethod<Methods[K]> } & { [K in OptionalMethod]?: StorageMethod<Methods[K]> };
