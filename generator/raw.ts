// The shapes of spec files once their JSON Schema has accepted them.
import type { EnvironmentKey, GrantType, OptionName, StorageBackend, StorageMethodName, TokenBindingName, TokenEndpointAuthMethod } from './registry.js';

export interface RawEnvVar {
  name: string;
  doc: string;
}
export interface RawOption {
  name: OptionName;
  required?: boolean;
  /** Makes an option secret that the registry does not declare secret; the registry's secret options are secret whatever the spec says. */
  secret?: boolean;
  default?: string | boolean | number | string[];
  doc: string;
}
export interface RawSdk {
  package: { name: string; description: string; version: string; cliName: string };
  classes: { auth: string; session: string; scopes: string };
  authServer: { issuer: string; audience: string; audienceParameter: 'audience' | 'resource'; apiBaseUrl: string };
  scopes: { name: string; value: string; doc: string }[];
  defaultScopes: string[];
  environment: Record<EnvironmentKey, RawEnvVar>;
  disk: { root: string; defaultsFile: string; defaultProfile: string };
  builtinProfiles?: { name: string; flow: string; clientId?: string; issuer?: string; audiences: string[]; scopes: string[] }[];
  storageProvider: {
    interface: string;
    doc: string;
    methods: { name: StorageMethodName; doc: string }[];
  };
  commonOptions: RawOption[];
  examplesEnvironment: Record<'userClientId' | 'callbackUrl' | 'm2mClientId' | 'm2mClientSecret' | 'demoStorageRoot', RawEnvVar> & { readonly [key: string]: RawEnvVar | undefined };
  docGroups: { id: string; title: string; intro: string }[];
}
export interface RawFlow {
  id: string;
  order: number;
  factory: string;
  optionsType: string;
  grant: GrantType;
  clientType: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  tokenBinding?: TokenBindingName;
  issuer?: string;
  docGroup: string;
  title: string;
  summary: string;
  cliLogin: { command: string; summary: string };
  requirements: string[];
  options: RawOption[];
}
export interface RawStorage {
  id: string;
  order: number;
  backend: StorageBackend;
  providerClass?: string;
  providerRoot?: string;
  /** A TypeScript file beside the storage YAML that exports `providerClass`. */
  providerSource?: string;
  /** The provider is made from a URL read from this examples variable, else `default`. */
  providerUrl?: { env: 'redisUrl'; default: string };
  title: string;
  summary: string;
  /** The storage mode's own docs section: what it guarantees and when to pick it. */
  details?: string;
}
export interface RawExamples {
  examples: {
    flow: string;
    storage: string;
    title: string;
    profileName?: string;
    login: 'always' | 'ensureInitialized' | 'ifNotInitialized' | 'justInTime';
  }[];
}
