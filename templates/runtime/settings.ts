// What the generated code tells the runtime: the built-in server settings,
// the environment variables that override them, and the flow table.

import type { GrantType, OptionName, TokenEndpointAuthMethod } from './registry.js';

export type { GrantType, TokenEndpointAuthMethod } from './registry.js';

/** An option as the spec declares it for one flow. */
export interface OptionDescriptor {
  readonly name: OptionName;
  /** The factory refuses to run without it. */
  readonly required: boolean;
  /** Never printed, logged or serialized. */
  readonly secret: boolean;
  /** Applied when the caller leaves the option out. */
  readonly default?: string | boolean | number | readonly string[];
}

export interface FlowDescriptor {
  readonly id: string;
  readonly factory: string;
  readonly grant: GrantType;
  /** The `client_type` written to `auth_client.json`; one flow per client type. */
  readonly clientType: string;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** The options the flow's factory takes (its own, then the SDK-wide ones). */
  readonly options: readonly OptionDescriptor[];
  /** This flow's authorization server, when it differs from the SDK-wide one. */
  readonly issuer?: string;
}

/**
 * A profile whose client settings live in the SDK, not in `auth_client.json`
 * (as the Python CLI's built-in profiles do); a session in one is only its
 * `token.json`.
 */
export interface BuiltinProfile {
  readonly name: string;
  readonly flowId: string;
  /** Absent for a profile whose client the user supplies (a service account). */
  readonly clientId?: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
}

export interface SdkSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly audienceParameter: 'audience' | 'resource';
  readonly apiBaseUrl: string;
  readonly defaultScopes: readonly string[];
  readonly env: {
    readonly issuer: string;
    readonly apiBaseUrl: string;
    readonly audience: string;
    readonly profile: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** Set to log every protocol step to stderr (secrets and tokens redacted). */
    readonly debug: string;
  };
  readonly disk: { readonly root: string; readonly defaultsFile: string; readonly defaultProfile: string };
  readonly flows: readonly FlowDescriptor[];
  readonly builtinProfiles?: readonly BuiltinProfile[];
}

/** What the environment variables named in the spec say, each undefined when unset. */
export interface ServerSettings {
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly apiBaseUrl: string | undefined;
}

function envValue(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The server settings the environment overrides. Precedence, highest first:
 * an option in code, these variables, the flow's own authorization server,
 * the SDK's built-in settings.
 */
export function serverSettings(settings: SdkSettings): ServerSettings {
  const audience = envValue(settings.env.audience);
  return {
    issuer: envValue(settings.env.issuer),
    audience,
    apiBaseUrl: envValue(settings.env.apiBaseUrl),
  };
}

export function flowById(settings: SdkSettings, id: string): FlowDescriptor {
  const flow = settings.flows.find((f) => f.id === id);
  if (!flow) throw new Error(`unknown flow ${JSON.stringify(id)}`);
  return flow;
}
