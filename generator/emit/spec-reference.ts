// Emits docs/spec-reference.md: every field a spec file may hold, read from
// the JSON Schemas in spec/schema (with the registry's allowed values patched
// in) and from the registry's value constraints, each with an example taken
// from the spec the page is generated from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { contentHash } from '../cache.js';
import { GRANTS, TOKEN_BINDINGS, ISSUER_SCHEMES, LOOPBACK_HOSTS, OPTIONS, PATH_SEGMENT, patchRegistryEnums } from '../registry.js';
import { markdownHeader } from '../text.js';

type Schema = Record<string, unknown>;

const FILES = [
  { schema: 'sdk.schema.json', spec: 'sdk.yaml', title: '`spec/sdk.yaml`' },
  { schema: 'flow.schema.json', spec: 'flows/m2m.yaml', title: '`spec/flows/<id>.yaml` (one per flow)' },
  { schema: 'storage.schema.json', spec: 'storage/app_custom_storage.yaml', title: '`spec/storage/<id>.yaml` (one per storage mode)' },
  { schema: 'examples.schema.json', spec: 'examples.yaml', title: '`spec/examples.yaml`' },
] as const;

const ranges = Object.entries(OPTIONS).flatMap(([name, o]) => ('range' in o ? [`${name}: more than ${o.range.above}, at most ${o.range.max}`] : []));
const perFlow = Object.entries(OPTIONS).flatMap(([name, o]) => ('perFlow' in o ? [name] : []));
const unattended = Object.entries(GRANTS).flatMap(([name, g]) => (g.unattended ? [name] : []));
const issuerRule = `${Object.entries(ISSUER_SCHEMES)
  .map(([scheme, where]) => `${scheme} ${where}`)
  .join('; ')} (${LOOPBACK_HOSTS.join(', ')})`;
const segmentRule = `one file or folder name, matching \`${PATH_SEGMENT}\``;

/** Constraints the registry adds to a field (by its path with `[]` for array items and `*` for any key). */
/** An option's type and secrecy are the registry's: the spec names the option and documents it. */
const secretOptions = Object.entries(OPTIONS)
  .filter(([, o]) => 'secret' in o && o.secret === true)
  .map(([name]) => name);
const optionNameRule = `its type and secrecy come from the registry (no \`type\` in the spec); secret: ${secretOptions.join(', ')}`;
const secretRule = 'true makes a string option secret too; an option the registry declares secret stays secret (false is refused)';

const REGISTRY_RULES: Record<string, string> = {
  'authServer.issuer': issuerRule,
  'builtinProfiles[].issuer': issuerRule,
  issuer: issuerRule,
  'disk.root': segmentRule,
  'disk.defaultsFile': `${segmentRule}; not the same as disk.root`,
  'disk.defaultProfile': segmentRule,
  providerRoot: segmentRule,
  'commonOptions[].default': `${ranges.join('; ')}; none for ${perFlow.join(', ')}`,
  'options[].default': `${ranges.join('; ')}; none for ${perFlow.join(', ')}`,
  'environment.*.name': 'each variable names one setting',
  'commonOptions[].name': optionNameRule,
  'options[].name': optionNameRule,
  'commonOptions[].secret': secretRule,
  'options[].secret': secretRule,
  'examples[].login': `justInTime only for grants that log in unattended (${unattended.join(', ')})`,
  'examples[].profileName': 'not on a storage mode of backend memory',
  tokenBinding: `how the flow's sessions present their tokens: ${Object.entries(TOKEN_BINDINGS)
    .map(([name, b]) => `${name} (${b.see.split(' ').slice(1).join(' ')}; grants ${b.grants.join(', ')})`)
    .join(', ')}; bearer when absent`,
};

function resolve(schema: Schema, defs: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').pop()!;
  return { ...((defs[name] as Schema | undefined) ?? {}), ...schema, $ref: undefined, refName: name };
}

function typeOf(s: Schema): string {
  if (Array.isArray(s['enum'])) return 'one of the values listed';
  const type = s['type'];
  if (Array.isArray(type)) return type.join(' or ');
  if (type === 'array') return 'list';
  if (type === 'object') return 'map';
  return typeof type === 'string' ? type : s['refName'] === undefined ? 'any' : 'string';
}

function constraints(s: Schema, path: string): string {
  const out: string[] = [];
  if (Array.isArray(s['enum'])) out.push((s['enum'] as unknown[]).map((v) => `\`${String(v)}\``).join(', '));
  if (typeof s['pattern'] === 'string') out.push(`matches \`${s['pattern']}\``);
  if (typeof s['minLength'] === 'number' && s['minLength'] > 0) out.push(`at least ${s['minLength']} characters`);
  if (typeof s['maxLength'] === 'number') out.push(`at most ${s['maxLength']} characters`);
  if (typeof s['minimum'] === 'number') out.push(`at least ${s['minimum']}`);
  if (typeof s['maximum'] === 'number') out.push(`at most ${s['maximum']}`);
  if (typeof s['maxItems'] === 'number') out.push(`at most ${s['maxItems']} items`);
  const rule = REGISTRY_RULES[path];
  if (rule) out.push(rule);
  return out.join('; ').replace(/\|/g, '\\|') || '—';
}

function valueAt(value: unknown, path: string): unknown {
  let current: unknown[] = [value];
  for (const part of path.split('.')) {
    const key = part.replace(/\[\]$/, '');
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || typeof v !== 'object') continue;
      const children = key === '*' ? Object.values(v) : [(v as Record<string, unknown>)[key]];
      for (const child of children) {
        if (child === undefined) continue;
        if (part.endsWith('[]')) next.push(...(Array.isArray(child) ? (child as unknown[]) : []));
        else next.push(child);
      }
    }
    current = next;
  }
  return current[0];
}

function example(value: unknown): string {
  if (value === undefined) return '—';
  const text = typeof value === 'string' ? value.split('\n')[0]! : JSON.stringify(value);
  const short = text.length > 50 ? `${text.slice(0, 47)}...` : text;
  return `\`${short.replace(/`/g, "'").replace(/\|/g, '\\|')}\``;
}

function rows(schema: Schema, defs: Schema, prefix: string, specValue: unknown, out: string[]): void {
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  const each = schema['additionalProperties'];
  const fields: [string, Schema, boolean][] = Object.entries(properties).map(([name, s]) => [name, s, required.has(name)]);
  if (each && typeof each === 'object') fields.push(['*', each as Schema, false]);
  for (const [name, raw, isRequired] of fields) {
    const s = resolve(raw, defs);
    const path = prefix ? `${prefix}.${name}` : name;
    const shown = s['type'] === 'array' ? `${path}[]` : path;
    out.push(`| \`${shown}\` | ${typeOf(s)} | ${isRequired ? 'required' : 'optional, none'} | ${constraints(s, shown)} | ${example(valueAt(specValue, s['type'] === 'array' ? `${path}[]` : path))} |`);
    if (s['type'] === 'object' || s['properties']) rows(s, defs, path, specValue, out);
    const items = s['items'] ? resolve(s['items'] as Schema, defs) : undefined;
    if (items && (items['type'] === 'object' || items['properties'])) rows(items, defs, `${path}[]`, specValue, out);
  }
}

/** The last page made, with the hash of the texts it was made from (the registry is fixed within one process). */
let last: { hash: string; page: string } | undefined;

export function emitSpecReference(schemaDir: string, specDir: string): string {
  const readText = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const schemaTexts = new Map(['defs.schema.json', ...FILES.map((f) => f.schema)].map((name) => [name, readFileSync(join(schemaDir, name), 'utf8')]));
  const specTexts = FILES.map((f) => readText(join(specDir, f.spec)));
  const hash = contentHash(...[...schemaTexts].flat(), ...specTexts.map((t) => t ?? '\u0000absent'));
  if (last?.hash === hash) return last.page;
  const read = (name: string) => patchRegistryEnums(name, JSON.parse(schemaTexts.get(name)!) as object) as Schema;
  const defs = (read('defs.schema.json')['definitions'] ?? {}) as Schema;
  const parts = [
    markdownHeader(['spec/schema/*.schema.json', 'templates/runtime/registry.ts', ...FILES.map((f) => `spec/${f.spec}`)]),
    '# Spec reference',
    '',
    'Every field the spec files may hold, with its type, whether it must be given, what values it takes and an example from this spec. Fields not marked required may be left out; none has a default other than leaving it out. The constraints are those of the JSON Schemas in `spec/schema/` and of `templates/runtime/registry.ts`; `npm run generate` refuses a value outside them at its line and column.',
  ];
  FILES.forEach((file, i) => {
    let specValue: unknown;
    try {
      specValue = specTexts[i] === undefined ? undefined : parse(specTexts[i]);
    } catch {
      specValue = undefined;
    }
    const out: string[] = [];
    rows(read(file.schema), defs, '', specValue, out);
    parts.push('', `## ${file.title}`, '', '| field | type | default | constraints | example |', '|---|---|---|---|---|', ...out);
  });
  const page = parts.join('\n').replace(/(?<=\S)\\\|/g, '\\|') + '\n';
  last = { hash, page };
  return page;
}
