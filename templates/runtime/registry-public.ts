// The part of the registry (registry.ts) that the public types are made of:
// the names of the grants and of the token endpoint auth methods, and the
// options a factory reads. It imports nothing, so the declarations a user
// sees never reach the modules behind those names; registry.ts lists one
// module per name, and the compiler holds the two to each other.

/** The grants the runtime implements; registry.ts maps each to its module in `grants/`. */
export type GrantType = 'authorization_code' | 'device_code' | 'client_credentials';

/** The ways a client authenticates at the token endpoint; registry.ts maps each to its module in `client-auth/`. */
export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

/** The value types an option can have, as written in the spec. */
export type OptionType = 'string' | 'string[]' | 'boolean' | 'number' | 'ObjectStorageProvider' | 'FetchFunction' | 'Logger';

export interface OptionCapability {
  readonly type: OptionType;
  /** Never printed, logged or serialized by the SDK. */
  readonly secret: boolean;
  /** Read by every flow whatever the spec says; a spec may document it but not remove it. */
  readonly always: boolean;
  /** The values a number option takes: more than `above` (when set), at most `max`. */
  readonly range?: { readonly above: number; readonly max: number };
  /** A value that names one flow's own state: no default, which every flow would share. */
  readonly perFlow?: true;
}

/** Every option a factory reads. */
export const OPTIONS = {
  clientId: { type: 'string', secret: false, always: false },
  clientSecret: { type: 'string', secret: true, always: false },
  privateKey: { type: 'string', secret: false, always: false },
  privateKeyId: { type: 'string', secret: false, always: false },
  callbackUrl: { type: 'string', secret: false, always: false },
  requestedScopes: { type: 'string[]', secret: false, always: false },
  saveStateToStorage: { type: 'boolean', secret: false, always: false },
  profileName: { type: 'string', secret: false, always: false, perFlow: true },
  storageProvider: { type: 'ObjectStorageProvider', secret: false, always: false },
  secretStorage: { type: 'string', secret: false, always: false },
  issuer: { type: 'string', secret: false, always: false },
  apiBaseUrl: { type: 'string', secret: false, always: false },
  audience: { type: 'string', secret: false, always: false },
  fetch: { type: 'FetchFunction', secret: false, always: false },
  logger: { type: 'Logger', secret: false, always: false },
  requestTimeoutSeconds: { type: 'number', secret: false, always: false, range: { above: 0, max: 3600 } },
  allowInsecureHttp: { type: 'boolean', secret: false, always: false },
} as const satisfies Record<string, OptionCapability>;

export type OptionName = keyof typeof OPTIONS;
