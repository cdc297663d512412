// What the runtime can do, read as data from templates/runtime/registry.ts,
// and the JSON Schema allowed values that follow from it. `npm run
// generate` writes those values into the schema files in spec/schema (for
// editors and readers), the validator patches them in from here when it
// compiles, and `npm run generate:check` fails when the files lag behind.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import {
  ENVIRONMENT,
  GRANTS,
  ISSUER_SCHEMES,
  LOOPBACK_HOSTS,
  OPTIONS,
  PATH_SEGMENT,
  scopesToRequest,
  STORAGE_BACKENDS,
  STORAGE_METHODS,
  TOKEN_BINDINGS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from '../templates/runtime/registry.js';

export { ENVIRONMENT, GRANTS, ISSUER_SCHEMES, LOOPBACK_HOSTS, OPTIONS, PATH_SEGMENT, scopesToRequest, STORAGE_BACKENDS, STORAGE_METHODS, TOKEN_BINDINGS, TOKEN_ENDPOINT_AUTH_METHODS };
import type { OptionCapability, OptionName, StorageMethodCapability, StorageMethodName } from '../templates/runtime/registry.js';
export type { OptionCapability, StorageMethodCapability } from '../templates/runtime/registry.js';
export { CREDENTIAL_OPTIONS, requiredOptionsOf } from '../templates/runtime/client-auth/index.js';
export type { ExampleValue } from '../templates/runtime/client-auth/index.js';
export type { EnvironmentKey, GrantType, OptionName, OptionType, StorageBackend, StorageMethodName, TokenBindingName, TokenEndpointAuthMethod } from '../templates/runtime/registry.js';

/** What the registry declares of option `name`. */
export function optionCapability(name: OptionName): OptionCapability {
  return (OPTIONS as Record<string, OptionCapability>)[name]!;
}

/** What the registry declares of storage method `name`, its parameters read from their `name: type` form. */
export function storageSignature(name: StorageMethodName): { params: { name: string; type: string; optional: boolean }[]; returns: string; optional: boolean; sync: boolean } {
  const method: StorageMethodCapability = STORAGE_METHODS[name];
  const params = method.params.map((p) => {
    const [, paramName, question, type] = /^(\w+)(\??): (.+)$/.exec(p)!;
    return { name: paramName!, type: type!, optional: question === '?' };
  });
  return { params, returns: method.returns, optional: method.optional === true, sync: method.sync === true };
}

/**
 * One list of allowed values in a schema file, by its location inside that
 * file: an `enum`, or the `required` keys of an object whose keys the
 * registry names.
 */
export interface RegistryEnum {
  readonly schemaFile: string;
  readonly pointer: readonly string[];
  readonly values: readonly string[];
  /** Written as an object with these keys, each of this schema, rather than a list. */
  readonly each?: Readonly<Record<string, string>>;
}

/** The schema of one environment variable's entry. */
const ENV_VAR_SCHEMA = { $ref: 'defs.schema.json#/definitions/envVar' };

export const REGISTRY_ENUMS: readonly RegistryEnum[] = [
  { schemaFile: 'defs.schema.json', pointer: ['definitions', 'option', 'properties', 'name', 'enum'], values: Object.keys(OPTIONS) },
  { schemaFile: 'flow.schema.json', pointer: ['properties', 'grant', 'enum'], values: Object.keys(GRANTS) },
  { schemaFile: 'flow.schema.json', pointer: ['properties', 'tokenEndpointAuthMethod', 'enum'], values: Object.keys(TOKEN_ENDPOINT_AUTH_METHODS) },
  { schemaFile: 'flow.schema.json', pointer: ['properties', 'tokenBinding', 'enum'], values: Object.keys(TOKEN_BINDINGS) },
  { schemaFile: 'storage.schema.json', pointer: ['properties', 'backend', 'enum'], values: Object.keys(STORAGE_BACKENDS) },
  { schemaFile: 'sdk.schema.json', pointer: ['properties', 'storageProvider', 'properties', 'methods', 'items', 'properties', 'name', 'enum'], values: Object.keys(STORAGE_METHODS) },
  { schemaFile: 'sdk.schema.json', pointer: ['properties', 'environment', 'required'], values: Object.keys(ENVIRONMENT) },
  { schemaFile: 'sdk.schema.json', pointer: ['properties', 'environment', 'properties'], values: Object.keys(ENVIRONMENT), each: ENV_VAR_SCHEMA },
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

/** Replaces each registry list of `schemaFile` in `schema` (a parsed copy) with the registry's values. */
export function patchRegistryEnums(schemaFile: string, schema: object): object {
  for (const e of REGISTRY_ENUMS.filter((x) => x.schemaFile === schemaFile)) {
    const parent = schemaValueAt(schema, e.pointer.slice(0, -1));
    if (!parent || typeof parent !== 'object') throw new Error(`spec/schema/${schemaFile} has no ${e.pointer.slice(0, -1).join('/')}, where the registry's allowed values go`);
    (parent as Record<string, unknown>)[e.pointer[e.pointer.length - 1]!] = registryValue(e);
  }
  return schema;
}

/** What a registry list is in the schema: a list, or an object of its keys. */
function registryValue(e: RegistryEnum): unknown {
  return e.each === undefined ? [...e.values] : Object.fromEntries(e.values.map((key) => [key, { ...e.each }]));
}

/** The widest line the formatter keeps (.prettierrc.json's printWidth). */
const PRINT_WIDTH = 220;

/** `values` as a JSON array written at column `column` of a line indented by `indent`, followed by `after` on that line: one line when it fits. */
function jsonArray(values: readonly string[], indent: string, column: number, after: number): string {
  const inline = `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  if (column + inline.length + after <= PRINT_WIDTH) return inline;
  return `[\n${values.map((v) => `${indent}  ${JSON.stringify(v)}`).join(',\n')}\n${indent}]`;
}

/** `value` (an object of small objects) written at a line indented by `indent`, one key per line. */
function jsonObject(value: Readonly<Record<string, unknown>>, indent: string): string {
  const entry = (v: unknown) =>
    `{ ${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`)
      .join(', ')} }`;
  return `{\n${Object.entries(value)
    .map(([key, v]) => `${indent}  ${JSON.stringify(key)}: ${entry(v)}`)
    .join(',\n')}\n${indent}}`;
}

/**
 * The text of schema file `schemaFile` with the registry's lists written in
 * place, everything else as it was; undefined when a list's place is missing.
 */
export function withRegistryEnums(schemaFile: string, text: string): { text: string; missing: string[] } {
  const doc = parseDocument(text);
  const edits: { start: number; end: number; text: string }[] = [];
  const missing: string[] = [];
  for (const e of REGISTRY_ENUMS.filter((x) => x.schemaFile === schemaFile)) {
    const node = doc.getIn(e.pointer, true) as { range?: [number, number, number] } | undefined;
    if (!node || !(e.each === undefined ? isSeq(node) : isMap(node)) || !node.range) {
      missing.push(`/${e.pointer.join('/')}`);
      continue;
    }
    const [start, end] = node.range;
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const indent = /^ */.exec(text.slice(lineStart))![0];
    const lineEnd = text.indexOf('\n', end);
    const after = (lineEnd === -1 ? text.length : lineEnd) - end;
    edits.push({ start, end, text: e.each === undefined ? jsonArray(e.values, indent, start - lineStart, after) : jsonObject(registryValue(e) as Record<string, unknown>, indent) });
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return { text: out, missing };
}

/**
 * Writes the registry's lists into the schema files in `schemaDir`, laid out
 * as the repository's formatter lays out JSON; returns the files it changed.
 * `npm run generate` calls it, so a module added to the registry reaches the
 * schema (and editors reading it) with no edit there.
 */
export async function writeRegistryEnums(schemaDir: string, shownDir: string): Promise<string[]> {
  const changed: string[] = [];
  for (const schemaFile of [...new Set(REGISTRY_ENUMS.map((e) => e.schemaFile))]) {
    const path = join(schemaDir, schemaFile);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const written = withRegistryEnums(schemaFile, text);
    if (written.missing.length > 0) throw new Error(`${shownDir}/${schemaFile} has no ${written.missing.join(', ')}, where the registry's allowed values go: put the list back (any values), then run npm run generate`);
    if (written.text !== text) {
      // A list that grew past the line may leave the object around it too wide: the formatter lays both out again.
      const prettier = await import('prettier');
      const formatted = await prettier.format(written.text, { ...(await prettier.resolveConfig(path)), filepath: path });
      writeFileSync(path, formatted);
      changed.push(`${shownDir}/${schemaFile}`);
    }
  }
  return changed;
}

/**
 * Where the schema files in `schemaDir` hold other allowed values than the
 * registry, one line each naming the file, the place and the registry's
 * values (what `npm run generate:check` reports).
 */
export function schemaDrift(schemaDir: string, shownDir: string): string[] {
  const problems: string[] = [];
  const parsed = new Map<string, unknown>();
  for (const e of REGISTRY_ENUMS) {
    const path = join(schemaDir, e.schemaFile);
    if (!existsSync(path)) continue;
    if (!parsed.has(e.schemaFile)) parsed.set(e.schemaFile, JSON.parse(readFileSync(path, 'utf8')) as unknown);
    const committed = schemaValueAt(parsed.get(e.schemaFile), e.pointer);
    if (JSON.stringify(committed) !== JSON.stringify(registryValue(e))) {
      problems.push(`differs: ${shownDir}/${e.schemaFile} at /${e.pointer.join('/')}: the registry (templates/runtime/registry.ts) allows ${JSON.stringify(e.values)}`);
    }
  }
  return problems;
}
