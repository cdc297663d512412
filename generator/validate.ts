// Validate stage: first the JSON Schemas in spec/schema (ajv, allErrors and
// strict, with the allowed values of the runtime registry patched in), then
// meaning: references that lead nowhere, ids used twice, names that cannot
// become TypeScript identifiers or that the package already uses, and what
// the runtime registry says each grant, backend and option needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { contentHash } from './cache.js';
import { jsonPath, type Diagnostic } from './diagnostics.js';
import { type LoadedFile, type LoadedSpec, type SpecKind } from './load.js';
import { positionOf } from './positions.js';
import { takenNames } from './names.js';
import type { RawExamples, RawFlow, RawOption, RawSdk, RawStorage } from './raw.js';
import {
  CREDENTIAL_OPTIONS,
  optionCapability,
  requiredOptionsOf,
  storageSignature,
  type OptionName,
  type OptionType,
  type StorageMethodName,
  GRANTS,
  ISSUER_SCHEMES,
  LOOPBACK_HOSTS,
  OPTIONS,
  PATH_SEGMENT,
  patchRegistryEnums,
  STORAGE_BACKENDS,
  STORAGE_METHODS,
  TOKEN_BINDINGS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from './registry.js';

const SCHEMA_FILES: Record<SpecKind, string> = {
  sdk: 'sdk.schema.json',
  flow: 'flow.schema.json',
  storage: 'storage.schema.json',
  examples: 'examples.schema.json',
};

/** The longest file name (in bytes) common file systems take. */
const NAME_MAX = 255;

const compiled = new Map<string, Record<SpecKind, ValidateFunction>>();

/** The compiled schemas, kept by the hash of the schema texts (a long-running generator sees edits to them). */
function validators(schemaDir: string): Record<SpecKind, ValidateFunction> {
  const names = ['defs.schema.json', ...Object.values(SCHEMA_FILES)];
  const texts = names.map((name) => readFileSync(join(schemaDir, name), 'utf8'));
  const key = contentHash(...texts);
  const cached = compiled.get(key);
  if (cached) return cached;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  const read = (name: string) => patchRegistryEnums(name, JSON.parse(texts[names.indexOf(name)]!) as object);
  ajv.addSchema(read('defs.schema.json'));
  const result = {} as Record<SpecKind, ValidateFunction>;
  for (const kind of Object.keys(SCHEMA_FILES) as SpecKind[]) result[kind] = ajv.compile(read(SCHEMA_FILES[kind]));
  compiled.set(key, result);
  return result;
}

function segments(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Keys a spec may not state because the registry declares them, by where they would be. */
const REGISTRY_DECLARES: readonly { key: string; at: RegExp; why: string }[] = [
  { key: 'type', at: /\/(options|commonOptions)\/\d+$/, why: "an option's type is declared once, in the registry" },
  { key: 'params', at: /^\/storageProvider\/methods\/\d+$/, why: "a storage method's parameters are declared once, in the registry" },
  { key: 'returns', at: /^\/storageProvider\/methods\/\d+$/, why: 'what a storage method returns is declared once, in the registry' },
];

/** Keys a spec may have written before they were renamed, and what to write now. */
const RENAMED: Readonly<Record<string, string>> = { dpop: 'write "tokenBinding: dpop" for tokens bound to a key (DPoP), or remove it: bearer tokens are the default' };

function describe(error: ErrorObject): { message: string; key?: string } {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(p['additionalProperty']);
      const declared = REGISTRY_DECLARES.find((d) => d.key === key && d.at.test(error.instancePath));
      if (declared) return { message: `unknown key ${JSON.stringify(key)}: ${declared.why} (templates/runtime/registry-public.ts), so the spec does not state it; remove it`, key };
      if (error.instancePath === '' && Object.hasOwn(RENAMED, key)) return { message: `unknown key ${JSON.stringify(key)}: ${RENAMED[key]}`, key };
      return { message: `unknown key ${JSON.stringify(key)}`, key };
    }
    case 'required':
      return { message: `missing required key ${JSON.stringify(p['missingProperty'])}` };
    case 'type':
      return { message: `must be ${String(p['type'])}` };
    case 'enum':
      return { message: `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { message: `must match the pattern ${String(p['pattern'])}` };
    default:
      return { message: error.message ?? error.keyword };
  }
}

export function validateSchemas(spec: LoadedSpec, schemaDir: string): Diagnostic[] {
  const checks = validators(schemaDir);
  const diagnostics: Diagnostic[] = [];
  for (const loaded of spec.files) {
    if (loaded.value === undefined) continue;
    const check = checks[loaded.kind];
    if (check(loaded.value)) continue;
    for (const error of check.errors ?? []) {
      const path = segments(error.instancePath);
      const { message, key } = describe(error);
      const { line, col } = positionOf(loaded, path, key);
      diagnostics.push({ file: loaded.file, line, col, message, jsonPath: jsonPath(key === undefined ? path : [...path, key]) });
    }
  }
  return diagnostics;
}

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await async'
  ).split(' '),
);

export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name);
}

function isSnakeId(name: string): boolean {
  return /^[a-z][a-z0-9_]*$/.test(name);
}

export interface TypedSpec {
  readonly sdk: { loaded: LoadedFile; value: RawSdk };
  readonly flows: readonly { loaded: LoadedFile; value: RawFlow }[];
  readonly storages: readonly { loaded: LoadedFile; value: RawStorage }[];
  readonly examples: { loaded: LoadedFile; value: RawExamples };
}

/** Splits schema-valid files by kind; call only when validateSchemas found nothing. */
export function typed(spec: LoadedSpec): TypedSpec {
  const of = <T>(kind: SpecKind) => spec.files.filter((f) => f.kind === kind).map((loaded) => ({ loaded, value: loaded.value as T }));
  const sdk = of<RawSdk>('sdk')[0];
  const examples = of<RawExamples>('examples')[0];
  if (!sdk || !examples) throw new Error('typed() needs sdk.yaml and examples.yaml');
  return { sdk, flows: of<RawFlow>('flow'), storages: of<RawStorage>('storage'), examples };
}

/** Whether a spec `default:` value fits an option type; undefined when the type takes no default. */
function defaultFits(type: OptionType, value: NonNullable<RawOption['default']>): boolean | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'string[]':
      return Array.isArray(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return undefined;
  }
}

const YAML_OF_TYPE: Record<string, string> = { string: 'a string', 'string[]': 'a list of strings', boolean: 'true or false', number: 'a number' };

export function validateMeaning(spec: TypedSpec, templatesDir: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  /** `atUse`: the problem is a repetition, so a value repeated through an alias is reported at the alias. */
  const report = (loaded: LoadedFile, path: (string | number)[], message: string, atUse = false) => {
    const { line, col } = positionOf(loaded, path, undefined, atUse);
    diagnostics.push({ file: loaded.file, line, col, message, jsonPath: jsonPath(path) });
  };
  const taken = takenNames(templatesDir);
  const identifier = (loaded: LoadedFile, path: (string | number)[], name: string, what: string) => {
    if (!isIdentifier(name)) report(loaded, path, `${what} ${JSON.stringify(name)} is not a valid TypeScript identifier`);
  };
  /** A name the package exports or an example declares at the top: not one the runtime, the generated code or JavaScript already has. */
  const topLevel = (loaded: LoadedFile, path: (string | number)[], name: string, what: string, allowed?: string) => {
    identifier(loaded, path, name, what);
    if (name === allowed) return;
    if (taken.exported.has(name)) report(loaded, path, `${what} ${JSON.stringify(name)} is already exported by the runtime or the generated package; choose another name`);
    else if (taken.globals.has(name)) report(loaded, path, `${what} ${JSON.stringify(name)} would hide the JavaScript global of that name; choose another name`);
  };
  const snake = (loaded: LoadedFile, path: (string | number)[], name: string, what: string) => {
    if (!isSnakeId(name)) report(loaded, path, `${what} ${JSON.stringify(name)} must be lowercase letters, digits and underscores, starting with a letter`);
  };
  const unique = new Map<string, { loaded: LoadedFile; path: (string | number)[] }>();
  const once = (space: string, name: string, loaded: LoadedFile, path: (string | number)[], what: string) => {
    const key = `${space}\u0000${name}`;
    const first = unique.get(key);
    if (first) report(loaded, path, `duplicate ${what} ${JSON.stringify(name)}, first defined in ${first.loaded.file}:${positionOf(first.loaded, first.path).line}`, true);
    else unique.set(key, { loaded, path });
  };

  const { sdk } = spec;
  const s = sdk.value;
  const loginCommands = new Map<string, { flow: RawFlow; loaded: LoadedFile }[]>();
  const flowOrders = new Map<number, { flow: RawFlow; loaded: LoadedFile }>();
  for (const key of ['auth', 'session', 'scopes'] as const) {
    topLevel(sdk.loaded, ['classes', key], s.classes[key], 'class name', key === 'session' ? 'Session' : undefined);
    once('export', s.classes[key], sdk.loaded, ['classes', key], 'exported name');
  }
  // The scopes constant also exports `<name>Value`, the type of one scope string.
  if (isIdentifier(s.classes.scopes)) {
    topLevel(sdk.loaded, ['classes', 'scopes'], `${s.classes.scopes}Value`, 'scope value type (the scopes class name + "Value")');
    once('export', `${s.classes.scopes}Value`, sdk.loaded, ['classes', 'scopes'], 'exported name');
  }
  topLevel(sdk.loaded, ['storageProvider', 'interface'], s.storageProvider.interface, 'interface name');
  once('export', s.storageProvider.interface, sdk.loaded, ['storageProvider', 'interface'], 'exported name');
  s.scopes.forEach((scope, i) => {
    identifier(sdk.loaded, ['scopes', i, 'name'], scope.name, 'scope name');
    if (taken.objectKeys.has(scope.name)) report(sdk.loaded, ['scopes', i, 'name'], `scope name ${JSON.stringify(scope.name)} is a member every JavaScript object already has; choose another name`);
    once('scope', scope.name, sdk.loaded, ['scopes', i, 'name'], 'scope name');
  });
  const scopeNames = new Set(s.scopes.map((x) => x.name));
  s.defaultScopes.forEach((name, i) => {
    if (!scopeNames.has(name)) report(sdk.loaded, ['defaultScopes', i], `default scope ${JSON.stringify(name)} is not one of the scopes defined under /scopes`);
  });
  s.storageProvider.methods.forEach((m, i) => {
    once('method', m.name, sdk.loaded, ['storageProvider', 'methods', i, 'name'], 'storage method');
  });
  for (const name of Object.keys(STORAGE_METHODS) as StorageMethodName[]) {
    if (!storageSignature(name).optional && !s.storageProvider.methods.some((m) => m.name === name)) report(sdk.loaded, ['storageProvider', 'methods'], `storage method "${name}" is missing; the runtime calls it`);
  }

  /** What the registry says of one option: its type, secrecy and default. */
  const checkOption = (loaded: LoadedFile, path: (string | number)[], o: RawOption) => {
    // Its type and secrecy are the registry's (templates/runtime/registry.ts), declared once there.
    const { type } = optionCapability(o.name);
    const secret = optionCapability(o.name).secret === true || (o.secret === true && type === 'string');
    if (o.secret === false && optionCapability(o.name).secret === true) report(loaded, [...path, 'secret'], `option "${o.name}" holds a secret, as the registry declares it; remove "secret: false"`);
    if (o.secret === true && type !== 'string') report(loaded, [...path, 'secret'], `option "${o.name}" of type ${type} cannot be secret: the SDK hides secret text, and this option holds none; remove "secret: true"`);
    if (o.default === undefined) return;
    const fits = defaultFits(type, o.default);
    if (fits === undefined) report(loaded, [...path, 'default'], `option "${o.name}" of type ${type} cannot have a default; remove "default"`);
    else if (!fits) report(loaded, [...path, 'default'], `default of option "${o.name}" must be ${YAML_OF_TYPE[type]}, as its type is ${type}`);
    else if (o.required === true) report(loaded, [...path, 'default'], `option "${o.name}" is required, so a default would never apply; remove "default" or "required: true"`);
    else if (secret) report(loaded, [...path, 'default'], `option "${o.name}" is secret; a secret does not belong in the spec, remove "default"`);
  };
  s.commonOptions.forEach((o, i) => {
    once('common-option', o.name, sdk.loaded, ['commonOptions', i, 'name'], 'common option');
    checkOption(sdk.loaded, ['commonOptions', i], o);
  });
  s.docGroups.forEach((g, i) => {
    snake(sdk.loaded, ['docGroups', i, 'id'], g.id, 'doc group id');
    once('group', g.id, sdk.loaded, ['docGroups', i, 'id'], 'doc group id');
  });
  const groups = new Set(s.docGroups.map((g) => g.id));
  const common = new Map<string, RawOption>(s.commonOptions.map((o) => [o.name, o]));

  for (const { loaded, value: f } of spec.flows) {
    snake(loaded, ['id'], f.id, 'flow id');
    once('flow', f.id, loaded, ['id'], 'flow id');
    identifier(loaded, ['factory'], f.factory, 'factory name');
    if (taken.authStatics.has(f.factory) || taken.objectKeys.has(f.factory)) {
      report(loaded, ['factory'], `factory name ${JSON.stringify(f.factory)} is already a static member of the ${s.classes.auth} class; choose another name`);
    }
    once('factory', f.factory, loaded, ['factory'], 'factory name');
    // Flows may share a login command when they have the same grant and their clients hold different kinds of credential (the CLI tells them apart by its options).
    const holds = TOKEN_ENDPOINT_AUTH_METHODS[f.tokenEndpointAuthMethod]?.holds;
    const sharing = loginCommands.get(f.cliLogin.command) ?? [];
    const otherGrant = sharing.find((x) => x.flow.grant !== f.grant);
    const sameKind = sharing.find((x) => TOKEN_ENDPOINT_AUTH_METHODS[x.flow.tokenEndpointAuthMethod]?.holds === holds);
    if (otherGrant !== undefined) {
      report(
        loaded,
        ['cliLogin', 'command'],
        `CLI login command ${JSON.stringify(f.cliLogin.command)} is already flow ${JSON.stringify(otherGrant.flow.id)}'s, of another grant; flows share a login command only when they have the same grant`,
      );
    } else if (sameKind !== undefined) {
      report(
        loaded,
        ['cliLogin', 'command'],
        `duplicate CLI login command ${JSON.stringify(f.cliLogin.command)}, first defined in ${sameKind.loaded.file}:${positionOf(sameKind.loaded, ['cliLogin', 'command']).line} for a client that also holds ${holds === 'nothing' ? 'no credential' : `a ${holds === 'privateKey' ? 'private key' : holds}`}`,
      );
    }
    loginCommands.set(f.cliLogin.command, [...sharing, { flow: f, loaded }]);
    once('client-type', f.clientType, loaded, ['clientType'], 'client type');
    // The order alone places a flow; two with the same one would fall back to their ids, which nobody chose for that.
    const sameOrder = flowOrders.get(f.order);
    if (sameOrder !== undefined) {
      const { line, col } = positionOf(sameOrder.loaded, ['order']);
      report(
        loaded,
        ['order'],
        `flow order ${f.order} is already flow ${JSON.stringify(sameOrder.flow.id)}'s, in ${sameOrder.loaded.file}:${line}:${col}; give each flow an order of its own, as it sets where the flow is listed`,
        true,
      );
    } else {
      flowOrders.set(f.order, { flow: f, loaded });
    }
    topLevel(loaded, ['optionsType'], f.optionsType, 'options type name');
    once('export', f.optionsType, loaded, ['optionsType'], 'exported name');
    if (!groups.has(f.docGroup)) report(loaded, ['docGroup'], `doc group ${JSON.stringify(f.docGroup)} is not defined under /docGroups in ${sdk.loaded.file}`);
    const own = new Map<string, RawOption>();
    f.options.forEach((o, i) => {
      checkOption(loaded, ['options', i], o);
      if (own.has(o.name)) report(loaded, ['options', i, 'name'], `duplicate option ${JSON.stringify(o.name)}`, true);
      own.set(o.name, o);
      if (common.has(o.name)) report(loaded, ['options', i, 'name'], `option ${JSON.stringify(o.name)} is already a common option in ${sdk.loaded.file}`);
    });
    const declared = (name: string) => own.get(name) ?? common.get(name);
    const grant = GRANTS[f.grant];
    const method = TOKEN_ENDPOINT_AUTH_METHODS[f.tokenEndpointAuthMethod];
    if (method.holds === 'nothing' && !grant.publicClients) {
      const allowed = Object.entries(TOKEN_ENDPOINT_AUTH_METHODS)
        .filter(([, m]) => m.holds !== 'nothing')
        .map(([name]) => JSON.stringify(name));
      report(loaded, ['tokenEndpointAuthMethod'], `the ${f.grant} grant works with token endpoint auth method ${allowed.join(', ')}, not ${JSON.stringify(f.tokenEndpointAuthMethod)}`);
      continue;
    }
    const binding = f.tokenBinding === undefined ? undefined : TOKEN_BINDINGS[f.tokenBinding];
    if (binding !== undefined && !(binding.grants as readonly string[]).includes(f.grant)) {
      report(
        loaded,
        ['tokenBinding'],
        `the ${f.grant} grant cannot present its tokens with token binding ${JSON.stringify(f.tokenBinding)} (it works with ${binding.grants.join(', ')}); choose another binding or remove "tokenBinding"`,
      );
    }
    const wanted = [...grant.requiredOptions, ...requiredOptionsOf(method)];
    for (const name of new Set(wanted)) {
      const o = declared(name);
      const why = grant.requiredOptions.includes(name) ? `the ${f.grant} grant` : `token endpoint auth method ${JSON.stringify(f.tokenEndpointAuthMethod)}`;
      if (!o) report(loaded, ['options'], `${why} needs a ${JSON.stringify(name)} option; add it with "required: true"`);
      else if (o.required !== true) {
        const at = own.has(name) ? ['options', f.options.indexOf(o)] : undefined;
        if (at) report(loaded, at, `option ${JSON.stringify(name)} must have "required: true": ${why} cannot run without it`);
        else report(sdk.loaded, ['commonOptions', s.commonOptions.indexOf(o)], `option ${JSON.stringify(name)} must have "required: true": ${why} of flow ${JSON.stringify(f.id)} cannot run without it`);
      }
    }
    const methodOptions = new Set(Object.keys(method.options));
    for (const name of CREDENTIAL_OPTIONS.filter((n) => own.has(n) && !methodOptions.has(n))) {
      const who = method.holds === 'nothing' ? `a public client (${JSON.stringify(f.tokenEndpointAuthMethod)})` : `token endpoint auth method ${JSON.stringify(f.tokenEndpointAuthMethod)}`;
      report(loaded, ['tokenEndpointAuthMethod'], `${who} takes no ${JSON.stringify(name)} option`);
    }
    for (const name of Object.keys(OPTIONS) as OptionName[]) {
      if (optionCapability(name).always === true && !declared(name)) report(loaded, ['options'], `option ${JSON.stringify(name)} is read by every flow; declare it here or under commonOptions in ${sdk.loaded.file}`);
    }
  }

  for (const { loaded, value: st } of spec.storages) {
    snake(loaded, ['id'], st.id, 'storage id');
    once('storage', st.id, loaded, ['id'], 'storage id');
    const backend = STORAGE_BACKENDS[st.backend];
    if (backend.needsProvider) {
      if (st.providerClass === undefined) report(loaded, [], `a storage mode with backend ${JSON.stringify(st.backend)} needs "providerClass"`);
      else {
        topLevel(loaded, ['providerClass'], st.providerClass, 'provider class name');
        once('export', st.providerClass, loaded, ['providerClass'], 'class name');
      }
      if (st.providerSource === undefined) report(loaded, [], `a storage mode with backend ${JSON.stringify(st.backend)} needs "providerSource", a TypeScript file beside it that exports the provider class`);
      if ((st.providerRoot === undefined) === (st.providerUrl === undefined))
        report(loaded, [], `a storage mode with backend ${JSON.stringify(st.backend)} needs either "providerRoot" (a folder) or "providerUrl" (a server), not both`);
      if (st.providerUrl && !s.examplesEnvironment[st.providerUrl.env])
        report(loaded, ['providerUrl', 'env'], `examples variable ${JSON.stringify(st.providerUrl.env)} is not declared under /examplesEnvironment in ${sdk.loaded.file}`);
    } else {
      for (const key of ['providerClass', 'providerRoot', 'providerSource', 'providerUrl'] as const) {
        if (st[key] !== undefined) report(loaded, [key], `${JSON.stringify(key)} applies only to a backend with a provider, not ${JSON.stringify(st.backend)}`);
      }
    }
    const selector = backend.selectedBy;
    if (selector !== undefined && !common.has(selector)) {
      const missing = spec.flows.filter((f) => !f.value.options.some((o) => o.name === selector)).map((f) => f.value.id);
      if (missing.length > 0) {
        report(
          loaded,
          ['backend'],
          `backend ${JSON.stringify(st.backend)} is selected with option ${JSON.stringify(selector)}, which flow ${missing.map((id) => JSON.stringify(id)).join(', ')} does not declare; add it under commonOptions in ${sdk.loaded.file}`,
        );
      }
    }
  }

  const flowIds = new Set(spec.flows.map((f) => f.value.id));
  const storageIds = new Set(spec.storages.map((x) => x.value.id));
  const flowsById = new Map(spec.flows.map((f) => [f.value.id, f.value]));
  (s.builtinProfiles ?? []).forEach((b, i) => {
    once('builtin-profile', b.name, sdk.loaded, ['builtinProfiles', i, 'name'], 'built-in profile');
    const flow = flowsById.get(b.flow);
    if (!flow) report(sdk.loaded, ['builtinProfiles', i, 'flow'], `flow ${JSON.stringify(b.flow)} is not defined in spec/flows/`);
    else if (b.clientId === undefined && TOKEN_ENDPOINT_AUTH_METHODS[flow.tokenEndpointAuthMethod].holds === 'nothing') {
      report(sdk.loaded, ['builtinProfiles', i], `built-in profile ${JSON.stringify(b.name)} needs "clientId": flow ${JSON.stringify(b.flow)} is a public client, so no user-supplied secret goes with it`);
    }
    b.scopes.forEach((name, j) => {
      if (!scopeNames.has(name)) report(sdk.loaded, ['builtinProfiles', i, 'scopes', j], `scope ${JSON.stringify(name)} is not one of the scopes defined under /scopes`);
    });
  });
  checkValues(spec, report);
  const ex = spec.examples;
  ex.value.examples.forEach((e, i) => {
    if (!flowIds.has(e.flow)) report(ex.loaded, ['examples', i, 'flow'], `flow ${JSON.stringify(e.flow)} is not defined in spec/flows/`);
    const exampleFlow = spec.flows.find((f) => f.value.id === e.flow)?.value;
    if (exampleFlow !== undefined && TOKEN_ENDPOINT_AUTH_METHODS[exampleFlow.tokenEndpointAuthMethod] !== undefined && GRANTS[exampleFlow.grant] !== undefined) {
      const values = [GRANTS[exampleFlow.grant].example.clientId, ...(Object.values(TOKEN_ENDPOINT_AUTH_METHODS[exampleFlow.tokenEndpointAuthMethod].exampleValues) as { env: string }[])];
      for (const value of values) {
        if (!s.examplesEnvironment[value.env])
          report(
            ex.loaded,
            ['examples', i, 'flow'],
            `the examples of flow ${JSON.stringify(e.flow)} (grant ${exampleFlow.grant}, ${exampleFlow.tokenEndpointAuthMethod}) read examples variable ${JSON.stringify(value.env)}; declare it under /examplesEnvironment in ${sdk.loaded.file}`,
          );
      }
    }
    if (!storageIds.has(e.storage)) report(ex.loaded, ['examples', i, 'storage'], `storage mode ${JSON.stringify(e.storage)} is not defined in spec/storage/`);
    once('example', `${e.storage}__${e.flow}`, ex.loaded, ['examples', i], 'example');
    const fileName = `${e.storage}__${e.flow}.ts`;
    if (Buffer.byteLength(fileName) > NAME_MAX) {
      report(ex.loaded, ['examples', i], `the example's file name ${fileName.slice(0, 40)}... would be ${Buffer.byteLength(fileName)} bytes, over the ${NAME_MAX} a file name may have; shorten the storage or flow id`);
    }
    if (e.profileName !== undefined && (/[\\/]/.test(e.profileName) || e.profileName !== e.profileName.toLowerCase() || e.profileName.startsWith('.'))) {
      report(ex.loaded, ['examples', i, 'profileName'], `profile name ${JSON.stringify(e.profileName)} must be lowercase, without a path separator or a leading dot`);
    }
  });
  return diagnostics;
}

type Report = (loaded: LoadedFile, path: (string | number)[], message: string) => void;

/** Why an issuer URL cannot be used, or undefined when it can. */
function issuerProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `issuer ${JSON.stringify(url)} is not a URL; write an https:// URL`;
  }
  const scheme = ISSUER_SCHEMES[parsed.protocol as keyof typeof ISSUER_SCHEMES];
  if (scheme === undefined) return `issuer ${JSON.stringify(url)} uses ${parsed.protocol.slice(0, 20)}, which the runtime does not talk to; write an https:// URL`;
  if (scheme === 'loopback only' && !(LOOPBACK_HOSTS as readonly string[]).includes(parsed.hostname)) {
    return `issuer ${JSON.stringify(url)} is plain http to another machine, which the runtime refuses; write https://${parsed.host}${parsed.pathname}`;
  }
  return undefined;
}

/**
 * Values the schema accepts but the runtime cannot use, each refused at its
 * field with what to write instead; the constraints come from the registry.
 */
function checkValues(spec: TypedSpec, report: Report): void {
  const { sdk } = spec;
  const s = sdk.value;
  const segment = new RegExp(PATH_SEGMENT);
  const folderName = (loaded: LoadedFile, path: (string | number)[], value: string, what: string, example: string) => {
    if (!segment.test(value)) report(loaded, path, `${what} ${JSON.stringify(value.slice(0, 60))} must be one file or folder name (letters, digits, ".", "_", "-"; not "." or ".."), such as ${JSON.stringify(example)}`);
  };
  folderName(sdk.loaded, ['disk', 'root'], s.disk.root, 'disk.root', '.planet');
  folderName(sdk.loaded, ['disk', 'defaultsFile'], s.disk.defaultsFile, 'disk.defaultsFile', '.planet.json');
  folderName(sdk.loaded, ['disk', 'defaultProfile'], s.disk.defaultProfile, 'disk.defaultProfile', 'planet-user');
  if (s.disk.defaultsFile === s.disk.root)
    report(sdk.loaded, ['disk', 'defaultsFile'], `disk.defaultsFile ${JSON.stringify(s.disk.defaultsFile)} is the sessions folder (disk.root); name another file, such as ${JSON.stringify(`${s.disk.root}.json`)}`);
  const issuer = issuerProblem(s.authServer.issuer);
  if (issuer) report(sdk.loaded, ['authServer', 'issuer'], issuer);
  (s.builtinProfiles ?? []).forEach((b, i) => {
    const problem = b.issuer === undefined ? undefined : issuerProblem(b.issuer);
    if (problem) report(sdk.loaded, ['builtinProfiles', i, 'issuer'], problem);
  });
  // One environment variable read for two settings sets both to one value.
  const seen = new Map<string, string>();
  for (const [key, variable] of Object.entries(s.environment)) {
    const first = seen.get(variable.name);
    if (first !== undefined) report(sdk.loaded, ['environment', key, 'name'], `${variable.name} already sets environment.${first}; give ${key} a variable of its own`);
    else seen.set(variable.name, key);
  }
  const options = [
    ...s.commonOptions.map((o, i) => ({ o, loaded: sdk.loaded, path: ['commonOptions', i] as (string | number)[] })),
    ...spec.flows.flatMap((f) => f.value.options.map((o, i) => ({ o, loaded: f.loaded, path: ['options', i] as (string | number)[] }))),
  ];
  for (const { o, loaded, path } of options) {
    const capability = (OPTIONS as Record<string, { range?: { above: number; max: number }; perFlow?: true }>)[o.name];
    if (!capability || o.default === undefined) continue;
    if (capability.perFlow) report(loaded, [...path, 'default'], `${o.name} cannot have a default: every flow would keep its session under that one name; remove "default"`);
    const range = capability.range;
    if (range && typeof o.default === 'number' && !(o.default > range.above && o.default <= range.max)) {
      report(loaded, [...path, 'default'], `${o.name} default ${o.default} is out of range; write a number more than ${range.above} and at most ${range.max}`);
    }
  }
  for (const f of spec.flows) {
    const problem = f.value.issuer === undefined ? undefined : issuerProblem(f.value.issuer);
    if (problem) report(f.loaded, ['issuer'], problem);
  }
  for (const st of spec.storages) {
    if (st.value.providerRoot !== undefined) folderName(st.loaded, ['providerRoot'], st.value.providerRoot, 'providerRoot', '.planet-demo');
  }
  const flows = new Map(spec.flows.map((f) => [f.value.id, f.value]));
  const storages = new Map(spec.storages.map((st) => [st.value.id, st.value]));
  const ex = spec.examples;
  ex.value.examples.forEach((e, i) => {
    const flow = flows.get(e.flow);
    if (flow && e.login === 'justInTime' && !GRANTS[flow.grant].unattended) {
      const unattended = Object.entries(GRANTS)
        .filter(([, g]) => g.unattended)
        .map(([name]) => name)
        .join(', ');
      report(
        ex.loaded,
        ['examples', i, 'login'],
        `login "justInTime" needs a grant that logs in with no person present (${unattended}); flow ${JSON.stringify(e.flow)} has ${flow.grant}: write ensureInitialized or ifNotInitialized`,
      );
    }
    const storage = storages.get(e.storage);
    if (storage?.backend === 'memory' && e.profileName !== undefined) {
      report(ex.loaded, ['examples', i, 'profileName'], `profileName ${JSON.stringify(e.profileName)} has no effect: storage mode ${JSON.stringify(e.storage)} keeps the session in memory; remove profileName`);
    }
  });
}
