// What the runtime can do, read as data from templates/runtime/registry.ts,
// and the JSON Schema allowed values that follow from it. The schema files
// in spec/schema hold the same values for editors and readers; the
// validator patches them in from here when it compiles, and a test fails
// when the committed files and the registry drift apart.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DPOP, GRANTS, ISSUER_SCHEMES, LOOPBACK_HOSTS, OPTIONS, PATH_SEGMENT, scopesToRequest, STORAGE_BACKENDS, STORAGE_METHODS, TOKEN_ENDPOINT_AUTH_METHODS } from '../templates/runtime/registry.js';

export { DPOP, GRANTS, ISSUER_SCHEMES, LOOPBACK_HOSTS, OPTIONS, PATH_SEGMENT, scopesToRequest, STORAGE_BACKENDS, STORAGE_METHODS, TOKEN_ENDPOINT_AUTH_METHODS };
export type { StorageMethodCapability } from '../templates/runtime/registry.js';
export { CREDENTIAL_OPTIONS } from '../templates/runtime/client-auth/index.js';
export type { ExampleValue } from '../templates/runtime/client-auth/index.js';
export type { GrantType, OptionName, OptionType, StorageBackend, StorageMethodName, TokenEndpointAuthMethod } from '../templates/runtime/registry.js';

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** One `enum` of a schema file, by its location inside that file. */
export interface RegistryEnum {
  readonly schemaFile: string;
  readonly pointer: readonly string[];
  readonly values: readonly string[];
}

const methods = Object.values(STORAGE_METHODS);
const methodPath = ['properties', 'storageProvider', 'properties', 'methods', 'items', 'properties'];

export const REGISTRY_ENUMS: readonly RegistryEnum[] = [
  { schemaFile: 'defs.schema.json', pointer: ['definitions', 'option', 'properties', 'name', 'enum'], values: Object.keys(OPTIONS) },
  { schemaFile: 'defs.schema.json', pointer: ['definitions', 'option', 'properties', 'type', 'enum'], values: unique(Object.values(OPTIONS).map((o) => o.type)) },
  { schemaFile: 'flow.schema.json', pointer: ['properties', 'grant', 'enum'], values: Object.keys(GRANTS) },
  { schemaFile: 'flow.schema.json', pointer: ['properties', 'tokenEndpointAuthMethod', 'enum'], values: Object.keys(TOKEN_ENDPOINT_AUTH_METHODS) },
  { schemaFile: 'storage.schema.json', pointer: ['properties', 'backend', 'enum'], values: Object.keys(STORAGE_BACKENDS) },
  { schemaFile: 'sdk.schema.json', pointer: [...methodPath, 'name', 'enum'], values: Object.keys(STORAGE_METHODS) },
  { schemaFile: 'sdk.schema.json', pointer: [...methodPath, 'params', 'items', 'properties', 'type', 'enum'], values: unique(methods.flatMap((m) => m.params)) },
  { schemaFile: 'sdk.schema.json', pointer: [...methodPath, 'returns', 'enum'], values: unique(methods.map((m) => m.returns)) },
];

/** The value at `pointer` inside a parsed schema, or undefined. */
export function schemaValueAt(schema: unknown, pointer: readonly string[]): unknown {
  let node = schema;
  for (const key of pointer) {
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Replaces each registry enum of `schemaFile` in `schema` (a parsed copy) with the registry's values. */
export function patchRegistryEnums(schemaFile: string, schema: object): object {
  for (const e of REGISTRY_ENUMS.filter((x) => x.schemaFile === schemaFile)) {
    const parent = schemaValueAt(schema, e.pointer.slice(0, -1));
    if (!parent || typeof parent !== 'object') throw new Error(`spec/schema/${schemaFile} has no ${e.pointer.slice(0, -1).join('/')}, where the registry's allowed values go`);
    (parent as Record<string, unknown>)[e.pointer[e.pointer.length - 1]!] = [...e.values];
  }
  return schema;
}

/**
 * Where the committed schema files in `schemaDir` hold other allowed values
 * than the registry, one line each naming the file, the place and the
 * registry's values (what `npm run generate:check` reports).
 */
export function schemaDrift(schemaDir: string, shownDir: string): string[] {
  const problems: string[] = [];
  const parsed = new Map<string, unknown>();
  for (const e of REGISTRY_ENUMS) {
    const path = join(schemaDir, e.schemaFile);
    if (!existsSync(path)) continue;
    if (!parsed.has(e.schemaFile)) parsed.set(e.schemaFile, JSON.parse(readFileSync(path, 'utf8')) as unknown);
    const committed = schemaValueAt(parsed.get(e.schemaFile), e.pointer);
    if (JSON.stringify(committed) !== JSON.stringify(e.values)) {
      problems.push(`differs: ${shownDir}/${e.schemaFile} at /${e.pointer.join('/')}: the registry (templates/runtime/registry.ts) allows ${JSON.stringify(e.values)}`);
    }
  }
  return problems;
}
