// IR stage: plain, readonly, sorted data that the emitters read. Every node
// names the spec file it came from, so outputs can say where they came from.
import { positionOf } from './positions.js';
import type { RawOption } from './raw.js';
import { optionCapability, storageSignature, type EnvironmentKey, type GrantType, type OptionType, type StorageBackend, type TokenBindingName, type TokenEndpointAuthMethod } from './registry.js';
import type { TypedSpec } from './validate.js';

export interface OptionIR {
  readonly name: RawOption['name'];
  readonly type: OptionType;
  readonly required: boolean;
  readonly secret: boolean;
  /** Applied by the runtime when the caller leaves the option out. */
  readonly default: string | boolean | number | readonly string[] | undefined;
  readonly doc: string;
}

export interface FlowIR {
  readonly id: string;
  readonly source: string;
  readonly order: number;
  readonly factory: string;
  readonly optionsType: string;
  readonly grant: GrantType;
  readonly clientType: string;
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** Tokens bound to a key the session holds (DPoP, RFC 9449). */
  /** How its sessions present their tokens (`bearer` unless the spec names another binding). */
  readonly tokenBinding: TokenBindingName;
  /** This flow's authorization server, when it differs from the SDK-wide one. */
  readonly issuer: string | undefined;
  readonly docGroup: string;
  readonly title: string;
  readonly summary: string;
  /** The CLI's `login <command>` for this flow. */
  readonly cliLogin: { readonly command: string; readonly summary: string };
  readonly requirements: readonly string[];
  /** The flow's own options, then the SDK-wide ones. */
  readonly options: readonly OptionIR[];
}

export interface StorageIR {
  readonly id: string;
  readonly source: string;
  readonly order: number;
  readonly backend: StorageBackend;
  readonly providerClass: string | undefined;
  readonly providerRoot: string | undefined;
  /** The provider code a storage mode brings, emitted as `examples/providers/<id>.ts`. */
  readonly providerSource: ProviderSourceIR | undefined;
  readonly providerUrl: { readonly env: 'redisUrl'; readonly default: string } | undefined;
  readonly title: string;
  readonly summary: string;
  readonly details: string | undefined;
}

export interface ProviderSourceIR {
  /** As written in the YAML: a file name beside it. */
  readonly name: string;
  /** Display path, as in headers (`spec/storage/x.provider.ts`). */
  readonly file: string;
  /** Where the YAML names it, so problems with the code point at the spec field. */
  readonly line: number;
  readonly col: number;
}

export interface ExampleIR {
  /** `<storage>__<flow>`, also the file name. */
  readonly id: string;
  readonly source: string;
  readonly flow: string;
  readonly storage: string;
  readonly title: string;
  readonly profileName: string | undefined;
  readonly login: 'always' | 'ensureInitialized' | 'ifNotInitialized' | 'justInTime';
}

/** A profile whose client settings the SDK holds; `issuer` is resolved (own, else the flow's, else the SDK's) and scopes are values. */
export interface BuiltinProfileIR {
  readonly name: string;
  readonly flow: string;
  readonly clientId: string | undefined;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
}

export interface SdkIR {
  readonly source: string;
  readonly packageName: string;
  readonly packageDescription: string;
  readonly packageVersion: string;
  readonly cliName: string;
  readonly classes: { readonly auth: string; readonly session: string; readonly scopes: string };
  readonly authServer: { readonly issuer: string; readonly audience: string; readonly audienceParameter: 'audience' | 'resource'; readonly apiBaseUrl: string };
  readonly scopes: readonly { readonly name: string; readonly value: string; readonly doc: string }[];
  readonly defaultScopes: readonly string[];
  readonly environment: Readonly<Record<EnvironmentKey, { readonly name: string; readonly doc: string }>>;
  readonly examplesEnvironment: Readonly<Record<'userClientId' | 'callbackUrl' | 'm2mClientId' | 'm2mClientSecret' | 'demoStorageRoot', { readonly name: string; readonly doc: string }>> & {
    readonly [key: string]: { readonly name: string; readonly doc: string } | undefined;
  };
  readonly disk: { readonly root: string; readonly defaultsFile: string; readonly defaultProfile: string };
  readonly builtinProfiles: readonly BuiltinProfileIR[];
  readonly storageProvider: {
    readonly interface: string;
    readonly doc: string;
    readonly methods: readonly {
      readonly name: string;
      readonly params: readonly { readonly name: string; readonly type: string; readonly optional: boolean }[];
      readonly returns: string;
      /** The runtime works without it, and uses it when the provider has it. */
      readonly optional: boolean;
      /** Returns its value at once rather than a promise. */
      readonly sync: boolean;
      readonly doc: string;
    }[];
  };
  readonly docGroups: readonly { readonly id: string; readonly title: string; readonly intro: string }[];
}

export interface SpecIR {
  readonly sdk: SdkIR;
  readonly flows: readonly FlowIR[];
  readonly storages: readonly StorageIR[];
  readonly examples: readonly ExampleIR[];
}

const byOrderThenId = <T extends { order: number; id: string }>(a: T, b: T) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function optionIR(o: RawOption): OptionIR {
  // The type and secrecy are the registry's, where each option is declared once.
  return {
    name: o.name,
    type: optionCapability(o.name).type,
    required: o.required ?? false,
    secret: optionCapability(o.name).secret === true || o.secret === true,
    default: Array.isArray(o.default) ? [...o.default] : o.default,
    doc: o.doc.trim(),
  };
}

export function buildIR(spec: TypedSpec): SpecIR {
  const s = spec.sdk.value;
  const scopeValue = new Map(s.scopes.map((x) => [x.name, x.value]));
  const flowIssuer = new Map(spec.flows.map((f) => [f.value.id, f.value.issuer]));
  const sdk: SdkIR = {
    source: spec.sdk.loaded.file,
    packageName: s.package.name,
    packageDescription: s.package.description,
    packageVersion: s.package.version,
    cliName: s.package.cliName,
    classes: { ...s.classes },
    authServer: { ...s.authServer },
    scopes: s.scopes.map((x) => ({ name: x.name, value: x.value, doc: x.doc.trim() })),
    defaultScopes: [...s.defaultScopes],
    environment: { ...s.environment },
    examplesEnvironment: { ...s.examplesEnvironment },
    disk: { ...s.disk },
    builtinProfiles: (s.builtinProfiles ?? [])
      .map((b) => ({
        name: b.name,
        flow: b.flow,
        clientId: b.clientId,
        issuer: b.issuer ?? flowIssuer.get(b.flow) ?? s.authServer.issuer,
        audiences: [...b.audiences],
        scopes: b.scopes.map((n) => scopeValue.get(n) ?? n),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    storageProvider: {
      interface: s.storageProvider.interface,
      doc: s.storageProvider.doc.trim(),
      methods: s.storageProvider.methods.map((m) => ({
        name: m.name,
        // The signature is the registry's, the one declaration of the storage interface; the spec documents it.
        ...storageSignature(m.name),
        doc: m.doc.trim(),
      })),
    },
    docGroups: s.docGroups.map((g) => ({ id: g.id, title: g.title, intro: g.intro.trim() })),
  };
  const common = s.commonOptions.map(optionIR);
  const flows: FlowIR[] = spec.flows
    .map(({ loaded, value: f }) => ({
      id: f.id,
      source: loaded.file,
      order: f.order,
      factory: f.factory,
      optionsType: f.optionsType,
      grant: f.grant,
      clientType: f.clientType,
      tokenEndpointAuthMethod: f.tokenEndpointAuthMethod,
      tokenBinding: f.tokenBinding ?? 'bearer',
      issuer: f.issuer,
      docGroup: f.docGroup,
      title: f.title,
      summary: f.summary.trim(),
      cliLogin: { ...f.cliLogin },
      requirements: [...f.requirements],
      options: [...f.options.map(optionIR), ...common],
    }))
    .sort(byOrderThenId);
  const storages: StorageIR[] = spec.storages
    .map(({ loaded, value: st }) => ({
      id: st.id,
      source: loaded.file,
      order: st.order,
      backend: st.backend,
      providerClass: st.providerClass,
      providerRoot: st.providerRoot,
      providerSource:
        st.providerSource === undefined ? undefined : { name: st.providerSource, file: `${loaded.file.slice(0, loaded.file.lastIndexOf('/') + 1)}${st.providerSource}`, ...positionOf(loaded, ['providerSource']) },
      providerUrl: st.providerUrl && { ...st.providerUrl },
      title: st.title,
      summary: st.summary.trim(),
      details: st.details?.trim(),
    }))
    .sort(byOrderThenId);
  const flowIndex = new Map(flows.map((f, i) => [f.id, i]));
  const storageIndex = new Map(storages.map((st, i) => [st.id, i]));
  const examples: ExampleIR[] = spec.examples.value.examples
    .map((e) => ({
      id: `${e.storage}__${e.flow}`,
      source: spec.examples.loaded.file,
      flow: e.flow,
      storage: e.storage,
      title: e.title,
      profileName: e.profileName,
      login: e.login,
    }))
    .sort((a, b) => flowIndex.get(a.flow)! - flowIndex.get(b.flow)! || storageIndex.get(a.storage)! - storageIndex.get(b.storage)!);
  return { sdk, flows, storages, examples };
}
