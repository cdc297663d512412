// Validate stage: first the JSON Schemas in spec/schema (ajv, allErrors and
// strict), then meaning: references that lead nowhere, ids used twice, names
// that cannot become TypeScript identifiers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { jsonPath, type Diagnostic } from './diagnostics.js';
import { positionOf, type LoadedFile, type LoadedSpec, type SpecKind } from './load.js';
import type { RawExamples, RawFlow, RawSdk, RawStorage } from './raw.js';

const SCHEMA_FILES: Record<SpecKind, string> = {
  sdk: 'sdk.schema.json',
  flow: 'flow.schema.json',
  storage: 'storage.schema.json',
  examples: 'examples.schema.json',
};

const compiled = new Map<string, Record<SpecKind, ValidateFunction>>();

function validators(schemaDir: string): Record<SpecKind, ValidateFunction> {
  const cached = compiled.get(schemaDir);
  if (cached) return cached;
  const ajv = new Ajv({ allErrors: true, strict: true });
  const read = (name: string) => JSON.parse(readFileSync(join(schemaDir, name), 'utf8')) as object;
  ajv.addSchema(read('defs.schema.json'));
  const result = {} as Record<SpecKind, ValidateFunction>;
  for (const kind of Object.keys(SCHEMA_FILES) as SpecKind[]) result[kind] = ajv.compile(read(SCHEMA_FILES[kind]));
  compiled.set(schemaDir, result);
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

function describe(error: ErrorObject): { message: string; key?: string } {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { message: `unknown key ${JSON.stringify(p['additionalProperty'])}`, key: String(p['additionalProperty']) };
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
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await async').split(' '),
);

export function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name);
}

function isSnakeId(name: string): boolean {
  return /^[a-z][a-z0-9_]*$/.test(name);
}

/** The storage methods the runtime calls, with the signatures it calls them with. */
const STORAGE_METHODS: Record<string, { params: string[]; returns: string }> = {
  loadObj: { params: ['string'], returns: 'Record<string, unknown>' },
  saveObj: { params: ['string', 'Record<string, unknown>'], returns: 'void' },
  objExists: { params: ['string'], returns: 'boolean' },
  mtime: { params: ['string'], returns: 'number' },
  objRename: { params: ['string', 'string'], returns: 'void' },
  deleteObj: { params: ['string'], returns: 'void' },
};

/** The type each option has, since the runtime reads it as such. */
const OPTION_TYPES: Record<string, string> = {
  clientId: 'string',
  clientSecret: 'string',
  callbackUrl: 'string',
  requestedScopes: 'string[]',
  saveStateToStorage: 'boolean',
  profileName: 'string',
  storageProvider: 'ObjectStorageProvider',
  issuer: 'string',
  apiBaseUrl: 'string',
  audience: 'string',
  fetch: 'FetchFunction',
  logger: 'Logger',
  requestTimeoutSeconds: 'number',
  allowInsecureHttp: 'boolean',
};

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

export function validateMeaning(spec: TypedSpec): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report = (loaded: LoadedFile, path: (string | number)[], message: string) => {
    const { line, col } = positionOf(loaded, path);
    diagnostics.push({ file: loaded.file, line, col, message, jsonPath: jsonPath(path) });
  };
  const identifier = (loaded: LoadedFile, path: (string | number)[], name: string, what: string) => {
    if (!isIdentifier(name)) report(loaded, path, `${what} ${JSON.stringify(name)} is not a valid TypeScript identifier`);
  };
  const snake = (loaded: LoadedFile, path: (string | number)[], name: string, what: string) => {
    if (!isSnakeId(name)) report(loaded, path, `${what} ${JSON.stringify(name)} must be lowercase letters, digits and underscores, starting with a letter`);
  };
  const unique = new Map<string, { loaded: LoadedFile; path: (string | number)[] }>();
  const once = (space: string, name: string, loaded: LoadedFile, path: (string | number)[], what: string) => {
    const key = `${space}\u0000${name}`;
    const first = unique.get(key);
    if (first) report(loaded, path, `duplicate ${what} ${JSON.stringify(name)}, first defined in ${first.loaded.file}:${positionOf(first.loaded, first.path).line}`);
    else unique.set(key, { loaded, path });
  };

  const { sdk } = spec;
  const s = sdk.value;
  for (const key of ['auth', 'session', 'scopes'] as const) {
    identifier(sdk.loaded, ['classes', key], s.classes[key], 'class name');
    once('export', s.classes[key], sdk.loaded, ['classes', key], 'exported name');
  }
  identifier(sdk.loaded, ['storageProvider', 'interface'], s.storageProvider.interface, 'interface name');
  once('export', s.storageProvider.interface, sdk.loaded, ['storageProvider', 'interface'], 'exported name');
  s.scopes.forEach((scope, i) => {
    identifier(sdk.loaded, ['scopes', i, 'name'], scope.name, 'scope name');
    once('scope', scope.name, sdk.loaded, ['scopes', i, 'name'], 'scope name');
  });
  const scopeNames = new Set(s.scopes.map((x) => x.name));
  s.defaultScopes.forEach((name, i) => {
    if (!scopeNames.has(name)) report(sdk.loaded, ['defaultScopes', i], `default scope ${JSON.stringify(name)} is not one of the scopes defined under /scopes`);
  });
  s.storageProvider.methods.forEach((m, i) => {
    once('method', m.name, sdk.loaded, ['storageProvider', 'methods', i, 'name'], 'storage method');
    const wanted = STORAGE_METHODS[m.name];
    if (wanted && (m.returns !== wanted.returns || m.params.map((p) => p.type).join(', ') !== wanted.params.join(', '))) {
      report(sdk.loaded, ['storageProvider', 'methods', i], `storage method "${m.name}" must take (${wanted.params.join(', ')}) and return ${wanted.returns}, as the runtime calls it`);
    }
    m.params.forEach((p, j) => identifier(sdk.loaded, ['storageProvider', 'methods', i, 'params', j, 'name'], p.name, 'parameter name'));
  });
  for (const name of Object.keys(STORAGE_METHODS)) {
    if (!s.storageProvider.methods.some((m) => m.name === name)) report(sdk.loaded, ['storageProvider', 'methods'], `storage method "${name}" is missing; the runtime calls it`);
  }
  const optionType = (loaded: LoadedFile, path: (string | number)[], o: { name: string; type: string }) => {
    if (OPTION_TYPES[o.name] !== o.type) report(loaded, [...path, 'type'], `option "${o.name}" must have type ${JSON.stringify(OPTION_TYPES[o.name])}`);
  };
  s.commonOptions.forEach((o, i) => {
    once('common-option', o.name, sdk.loaded, ['commonOptions', i, 'name'], 'common option');
    optionType(sdk.loaded, ['commonOptions', i], o);
  });
  s.docGroups.forEach((g, i) => {
    snake(sdk.loaded, ['docGroups', i, 'id'], g.id, 'doc group id');
    once('group', g.id, sdk.loaded, ['docGroups', i, 'id'], 'doc group id');
  });
  const groups = new Set(s.docGroups.map((g) => g.id));

  for (const { loaded, value: f } of spec.flows) {
    snake(loaded, ['id'], f.id, 'flow id');
    once('flow', f.id, loaded, ['id'], 'flow id');
    identifier(loaded, ['factory'], f.factory, 'factory name');
    once('factory', f.factory, loaded, ['factory'], 'factory name');
    once('cli-login', f.cliLogin.command, loaded, ['cliLogin', 'command'], 'CLI login command');
    identifier(loaded, ['optionsType'], f.optionsType, 'options type name');
    once('export', f.optionsType, loaded, ['optionsType'], 'exported name');
    if (!groups.has(f.docGroup)) report(loaded, ['docGroup'], `doc group ${JSON.stringify(f.docGroup)} is not defined under /docGroups in ${sdk.loaded.file}`);
    const names = new Set<string>();
    f.options.forEach((o, i) => {
      optionType(loaded, ['options', i], o);
      if (names.has(o.name)) report(loaded, ['options', i, 'name'], `duplicate option ${JSON.stringify(o.name)}`);
      names.add(o.name);
      if (s.commonOptions.some((c) => c.name === o.name)) report(loaded, ['options', i, 'name'], `option ${JSON.stringify(o.name)} is already a common option in ${sdk.loaded.file}`);
    });
    if (!names.has('clientId')) report(loaded, ['options'], 'a flow needs a "clientId" option');
    const needsSecret = f.tokenEndpointAuthMethod !== 'none';
    if (needsSecret !== names.has('clientSecret')) {
      report(loaded, ['tokenEndpointAuthMethod'], needsSecret
        ? `token endpoint auth method ${JSON.stringify(f.tokenEndpointAuthMethod)} needs a "clientSecret" option`
        : 'a public client ("none") takes no "clientSecret" option');
    }
    if (f.grant === 'authorization_code' && !names.has('callbackUrl')) report(loaded, ['options'], 'the authorization_code grant needs a "callbackUrl" option');
    if (f.grant === 'client_credentials' && f.tokenEndpointAuthMethod === 'none') report(loaded, ['tokenEndpointAuthMethod'], 'the client_credentials grant needs a confidential client, not "none"');
  }

  for (const { loaded, value: st } of spec.storages) {
    snake(loaded, ['id'], st.id, 'storage id');
    once('storage', st.id, loaded, ['id'], 'storage id');
    if (st.backend === 'provider') {
      if (st.providerClass === undefined) report(loaded, [], 'a storage mode with backend "provider" needs "providerClass"');
      else {
        identifier(loaded, ['providerClass'], st.providerClass, 'provider class name');
        once('export', st.providerClass, loaded, ['providerClass'], 'class name');
      }
      if (st.providerSource === undefined) report(loaded, [], 'a storage mode with backend "provider" needs "providerSource", a TypeScript file beside it that exports the provider class');
      if ((st.providerRoot === undefined) === (st.providerUrl === undefined)) report(loaded, [], 'a storage mode with backend "provider" needs either "providerRoot" (a folder) or "providerUrl" (a server), not both');
      if (st.providerUrl && !s.examplesEnvironment[st.providerUrl.env]) report(loaded, ['providerUrl', 'env'], `examples variable ${JSON.stringify(st.providerUrl.env)} is not declared under /examplesEnvironment in ${sdk.loaded.file}`);
    } else {
      for (const key of ['providerClass', 'providerRoot', 'providerSource', 'providerUrl'] as const) {
        if (st[key] !== undefined) report(loaded, [key], `${JSON.stringify(key)} applies only to backend "provider", not ${JSON.stringify(st.backend)}`);
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
    else if (b.clientId === undefined && flow.tokenEndpointAuthMethod === 'none') {
      report(sdk.loaded, ['builtinProfiles', i], `built-in profile ${JSON.stringify(b.name)} needs "clientId": flow ${JSON.stringify(b.flow)} is a public client, so no user-supplied secret goes with it`);
    }
    b.scopes.forEach((name, j) => {
      if (!scopeNames.has(name)) report(sdk.loaded, ['builtinProfiles', i, 'scopes', j], `scope ${JSON.stringify(name)} is not one of the scopes defined under /scopes`);
    });
  });
  const ex = spec.examples;
  ex.value.examples.forEach((e, i) => {
    if (!flowIds.has(e.flow)) report(ex.loaded, ['examples', i, 'flow'], `flow ${JSON.stringify(e.flow)} is not defined in spec/flows/`);
    if (!storageIds.has(e.storage)) report(ex.loaded, ['examples', i, 'storage'], `storage mode ${JSON.stringify(e.storage)} is not defined in spec/storage/`);
    once('example', `${e.storage}__${e.flow}`, ex.loaded, ['examples', i], 'example');
    if (e.profileName !== undefined && (/[\\/]/.test(e.profileName) || e.profileName !== e.profileName.toLowerCase() || e.profileName.startsWith('.'))) {
      report(ex.loaded, ['examples', i, 'profileName'], `profile name ${JSON.stringify(e.profileName)} must be lowercase, without a path separator or a leading dot`);
    }
  });
  return diagnostics;
}
