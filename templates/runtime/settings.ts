// What the generated code tells the runtime: the built-in server settings,
// the environment variables that override them, and the flow table.

export type GrantType = 'authorization_code' | 'device_code' | 'client_credentials';
export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export interface FlowDescriptor {
  readonly id: string;
  readonly factory: string;
  readonly grant: GrantType;
  /** The `client_type` written to `auth_client.json`. */
  readonly clientType: string;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
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
  };
  readonly disk: { readonly root: string; readonly defaultsFile: string; readonly defaultProfile: string };
  readonly flows: readonly FlowDescriptor[];
}

export interface ServerSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly apiBaseUrl: string;
}

function envValue(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Built-in server settings, overridden by the environment variables the spec names. */
export function serverSettings(settings: SdkSettings): ServerSettings {
  return {
    issuer: envValue(settings.env.issuer) ?? settings.issuer,
    audience: envValue(settings.env.audience) ?? settings.audience,
    apiBaseUrl: envValue(settings.env.apiBaseUrl) ?? settings.apiBaseUrl,
  };
}

export function flowById(settings: SdkSettings, id: string): FlowDescriptor {
  const flow = settings.flows.find((f) => f.id === id);
  if (!flow) throw new Error(`unknown flow ${JSON.stringify(id)}`);
  return flow;
}
