// What the generated code tells the runtime: the built-in server settings,
// the environment variables that override them, and the flow table.

import type { CredentialOptionTable, EnvironmentKey, GrantType, SESSION_OPTIONS, TokenBindingName, TokenEndpointAuthMethod } from './registry-public.js';
import { ConfigError } from './errors.js';

export type { GrantType, TokenBindingName, TokenEndpointAuthMethod } from './registry-public.js';

/** The name of an option a factory reads. */
export type OptionName = keyof typeof SESSION_OPTIONS | keyof CredentialOptionTable;

/** An option as the spec declares it for one flow. */
export interface OptionDescriptor {
  /** The option's name in the factory's options object. */
  readonly name: OptionName;
  /** The factory refuses to run without it. */
  readonly required: boolean;
  /** Never printed, logged or serialized. */
  readonly secret: boolean;
  /** Applied when the caller leaves the option out. */
  readonly default?: string | boolean | number | readonly string[];
}

/** A login flow as the spec declares it. */
export interface FlowDescriptor {
  /** The flow's id in the spec, such as `oauth_m2m`. */
  readonly id: string;
  /** The static factory of the Auth class that makes a session of this flow. */
  readonly factory: string;
  /** The OAuth2 grant the flow logs in with. */
  readonly grant: GrantType;
  /** The `client_type` written to `auth_client.json`; one flow per client type. */
  readonly clientType: string;
  /** How the client authenticates at the token endpoint. */
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** How its sessions present their tokens: bearer when absent, or bound to a key the session holds (`dpop`, RFC 9449). */
  readonly tokenBinding?: TokenBindingName;
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
  /** The profile's name, such as `planet-user`. */
  readonly name: string;
  /** The flow a session of this profile uses. */
  readonly flowId: string;
  /** Absent for a profile whose client the user supplies (a service account). */
  readonly clientId?: string;
  /** The authorization server's issuer URL. */
  readonly issuer: string;
  /** Audiences requested for access tokens (the first is used). */
  readonly audiences: readonly string[];
  /** Scopes requested at login. */
  readonly scopes: readonly string[];
}

/** The SDK's built-in settings, as the spec declares them. */
export interface SdkSettings {
  /** The package's name; the OS keychain keeps a profile's secrets under `<package>:<profile>`. */
  readonly packageName?: string;
  /** The built-in authorization server's issuer URL. */
  readonly issuer: string;
  /** The audience requested for access tokens by default. */
  readonly audience: string;
  /** How the audience is sent: Planet's `audience=` or RFC 8707 `resource=`. */
  readonly audienceParameter: 'audience' | 'resource';
  /** Base URL of the built-in API. */
  readonly apiBaseUrl: string;
  /** Scopes requested when the application names none. */
  readonly defaultScopes: readonly string[];
  /** Names of the environment variables the SDK reads, by their key in the registry's `ENVIRONMENT`, which says what each is for. */
  readonly env: Readonly<Record<EnvironmentKey, string>>;

  /** Where sessions shared with the CLI live, relative to the home folder. */
  readonly disk: {
    /** The folder of profiles, such as `.planet`. */
    readonly root: string;
    /** The file naming the default profile, such as `.planet.json`. */
    readonly defaultsFile: string;
    /** The profile used when nothing names one. */
    readonly defaultProfile: string;
  };
  /** Every flow the SDK was generated with. */
  readonly flows: readonly FlowDescriptor[];
  /** Profiles whose client settings live in the SDK. */
  readonly builtinProfiles?: readonly BuiltinProfile[];
}

/** What the environment variables named in the spec say, each undefined when unset. */
export interface ServerSettings {
  /** The issuer URL the environment names. */
  readonly issuer: string | undefined;
  /** The audience the environment names. */
  readonly audience: string | undefined;
  /** The API base URL the environment names. */
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

/** Where a session's tokens come from and go to, once precedence is applied. */
export interface Destinations {
  readonly issuer: string;
  /** Where the issuer came from, for messages: `option issuer`, the variable, or `issuer`. */
  readonly issuerSource: string;
  readonly apiBaseUrl: string;
  /** Undefined: no audience is requested. */
  readonly audience: string | undefined;
}

/**
 * The issuer, API base URL and audience of a session of `flow`, each by the
 * one precedence (see {@link serverSettings}): the option in code, else the
 * environment, else the flow's own authorization server (the issuer), else
 * the SDK's built-in settings. An audience of `null` (a profile saved
 * without one) requests none unless the environment names one.
 */
export function destinations(
  settings: SdkSettings,
  flow: FlowDescriptor,
  given: { readonly issuer?: string | undefined; readonly apiBaseUrl?: string | undefined; readonly audience?: string | null | undefined },
): Destinations {
  const server = serverSettings(settings);
  return {
    issuer: given.issuer ?? server.issuer ?? flow.issuer ?? settings.issuer,
    issuerSource: given.issuer !== undefined ? 'option issuer' : server.issuer !== undefined ? `$${settings.env.issuer}` : 'issuer',
    apiBaseUrl: given.apiBaseUrl ?? server.apiBaseUrl ?? settings.apiBaseUrl,
    audience: given.audience === null ? server.audience : (given.audience ?? server.audience ?? settings.audience),
  };
}

export function flowById(settings: SdkSettings, id: string): FlowDescriptor {
  const flow = settings.flows.find((f) => f.id === id);
  if (!flow) throw new Error(`unknown flow ${JSON.stringify(id)}`);
  return flow;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Every authorization server the SDK was built for: the default one, each flow's and each built-in profile's. */
function builtinIssuers(settings: SdkSettings): Set<string> {
  return new Set([settings.issuer, ...settings.flows.map((f) => f.issuer), ...(settings.builtinProfiles ?? []).map((b) => b.issuer)].filter((i): i is string => i !== undefined).map(withoutTrailingSlash));
}

/** Sessions whose tokens must not go to the built-in API, with the reason (see {@link refuseBuiltinDestinations}). */
const apiRefusals = new WeakMap<object, { readonly reason: string; readonly hint: string }>();

/**
 * A token goes only to the API configured with its issuer. With an issuer
 * the SDK was not built for, the built-in audience would ask that server
 * for a token meant for the built-in API: refused here, before any request.
 * The built-in API base URL would receive that server's token: recorded for
 * `session`, and refused when an API session is made from it (a session
 * used only for its tokens, as the CLI's, never calls the API).
 */
export function refuseBuiltinDestinations(session: object, settings: SdkSettings, issuer: string, audience: string | undefined, apiBaseUrl: string): void {
  if (builtinIssuers(settings).has(withoutTrailingSlash(issuer))) return;
  const builtinAudiences = new Set([settings.audience, ...(settings.builtinProfiles ?? []).flatMap((b) => b.audiences)].map(withoutTrailingSlash));
  if (audience !== undefined && builtinAudiences.has(withoutTrailingSlash(audience))) {
    throw new ConfigError(`the issuer ${issuer} is not the built-in authorization server, but the audience is still the built-in ${audience}: that server would be asked for tokens meant for the built-in API`, {
      hint: `set the audience option (or $${settings.env.audience}) to the API audience that ${issuer} issues tokens for, or audience: null for none`,
    });
  }
  if (withoutTrailingSlash(apiBaseUrl) === withoutTrailingSlash(settings.apiBaseUrl)) {
    apiRefusals.set(session, {
      reason: `the issuer ${issuer} is not the built-in authorization server, but the API base URL is still the built-in ${apiBaseUrl}: its tokens would be sent there`,
      hint: `set the apiBaseUrl option (or $${settings.env.apiBaseUrl}) to the API that accepts tokens from ${issuer}`,
    });
  }
}

/** Throws when `session`'s tokens must not go to its API base URL (see {@link refuseBuiltinDestinations}). */
export function assertApiDestination(session: object): void {
  const refusal = apiRefusals.get(session);
  if (refusal !== undefined) throw new ConfigError(refusal.reason, { hint: refusal.hint });
}
