// The shapes of spec files once their JSON Schema has accepted them.
import type { GrantType, OptionName, OptionType, StorageBackend, StorageMethodName, TokenEndpointAuthMethod } from './registry.js';

export interface RawEnvVar {
  name: string;
  doc: string;
}
export interface RawOption {
  name: OptionName;
  type: OptionType;
  required?: boolean;
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
  environment: Record<'issuer' | 'apiBaseUrl' | 'audience' | 'profile' | 'clientId' | 'clientSecret' | 'debug', RawEnvVar>;
  disk: { root: string; defaultsFile: string; defaultProfile: string };
  builtinProfiles?: { name: string; flow: string; clientId?: string; issuer?: string; audiences: string[]; scopes: string[] }[];
  storageProvider: {
    interface: string;
    doc: string;
    methods: { name: StorageMethodName; params: { name: string; type: string }[]; returns: string; doc: string }[];
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
  dpop?: boolean;
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
