// Seeded random mutations of the real spec files: deleted keys, wrong
// types, duplicated keys, garbage bytes, very long strings, and names turned
// into ones the runtime, the package or JavaScript already use, or into
// another name of the spec. Each must give either code that type-checks or
// formatted `path:line:col` errors.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { SpecError, formatDiagnostics } from '../../generator/diagnostics.js';
import { checkLoaded, emitChecked, type GeneratorInputs } from '../../generator/pipeline.js';
import { parseSpecText, type LoadedFile, type SpecKind } from '../../generator/load.js';
import { takenNames } from '../../generator/names.js';
import type { EmittedTypeChecker } from '../../generator/typecheck.js';

export function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  // Small consecutive seeds give small first outputs; a few rounds spread them.
  for (let i = 0; i < 8; i++) next();
  return next;
}

interface SpecText {
  readonly kind: SpecKind;
  readonly file: string;
  text: string;
}

export function readSpecTexts(root: string): SpecText[] {
  const dir = join(root, 'spec');
  const out: SpecText[] = [{ kind: 'sdk', file: 'spec/sdk.yaml', text: readFileSync(join(dir, 'sdk.yaml'), 'utf8') }];
  for (const [kind, folder] of [
    ['flow', 'flows'],
    ['storage', 'storage'],
  ] as const) {
    for (const name of readdirSync(join(dir, folder))
      .filter((n) => n.endsWith('.yaml'))
      .sort())
      out.push({ kind, file: `spec/${folder}/${name}`, text: readFileSync(join(dir, folder, name), 'utf8') });
  }
  out.push({ kind: 'examples', file: 'spec/examples.yaml', text: readFileSync(join(dir, 'examples.yaml'), 'utf8') });
  return out;
}

type Path = (string | number)[];

function paths(node: unknown, prefix: Path = []): { path: Path; node: Node }[] {
  const out: { path: Path; node: Node }[] = [];
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      out.push({ path: [...prefix, key], node: pair.value as Node }, ...paths(pair.value, [...prefix, key]));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => out.push({ path: [...prefix, i], node: item as Node }, ...paths(item, [...prefix, i])));
  }
  return out;
}

const MUTATIONS = ['delete-key', 'wrong-type', 'duplicate-key', 'garbage-bytes', 'long-string', 'reserved-name', 'colliding-name'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Where a spec gives a name to something the generated code declares. */
function namePaths(kind: SpecKind, value: unknown): Path[] {
  const v = value as Record<string, unknown> | undefined;
  if (!v || typeof v !== 'object') return [];
  if (kind === 'flow') return [['factory'], ['optionsType']];
  if (kind === 'storage') return v['providerClass'] === undefined ? [] : [['providerClass']];
  if (kind !== 'sdk') return [];
  const paths: Path[] = [
    ['classes', 'auth'],
    ['classes', 'session'],
    ['classes', 'scopes'],
    ['storageProvider', 'interface'],
  ];
  (Array.isArray(v['scopes']) ? v['scopes'] : []).forEach((_: unknown, i: number) => paths.push(['scopes', i, 'name']));
  const methods = (v['storageProvider'] as { methods?: unknown } | undefined)?.methods;
  (Array.isArray(methods) ? (methods as { params?: unknown }[]) : []).forEach((m, i: number) => {
    (Array.isArray(m?.params) ? (m.params as unknown[]) : []).forEach((_: unknown, j: number) => paths.push(['storageProvider', 'methods', i, 'params', j, 'name']));
  });
  return paths;
}

/** Names that something already uses: the runtime's exports, the Auth class's statics, JavaScript's globals and object members, reserved words, the examples' own variables. */
function reservedPool(templatesDir: string): string[] {
  const taken = takenNames(templatesDir);
  const words = ['default', 'class', 'delete', 'new', 'await', 'yield', 'enum', 'arguments', 'eval', 'undefined', 'constructor', 'prototype'];
  const locals = ['auth', 'session', 'storageRoot', 'main', 'process', 'console', 'Buffer', 'URL', 'Record', 'Partial', 'Response', 'join', 'homedir'];
  return [...new Set([...taken.exported, ...taken.authStatics, ...taken.globals, ...taken.objectKeys, ...words, ...locals])].sort();
}

/** Applies one seeded mutation to one spec file; returns what was done. */
export function mutate(texts: SpecText[], random: () => number, templatesDir?: string): { mutation: Mutation; file: string } {
  const mutation = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
  const pick = <T>(xs: T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(random() * xs.length)]);
  if ((mutation === 'reserved-name' || mutation === 'colliding-name') && templatesDir !== undefined) {
    const docs = texts.map((t) => ({ t, doc: parseDocument(t.text) }));
    const named = docs.map(({ t, doc }) => ({ t, doc, paths: namePaths(t.kind, doc.toJS()) })).filter((x) => x.paths.length > 0);
    const target = pick(named)!;
    const path = pick(target.paths)!;
    const others = named.flatMap(({ doc, paths }) => paths.map((p) => doc.getIn(p))).filter((n): n is string => typeof n === 'string');
    const name = mutation === 'reserved-name' ? pick(reservedPool(templatesDir))! : pick(others)!;
    target.doc.setIn(path, name);
    target.t.text = target.doc.toString({ lineWidth: 0 });
    return { mutation, file: target.t.file };
  }
  const target = texts[Math.floor(random() * texts.length)]!;
  if (mutation === 'garbage-bytes') {
    const at = Math.floor(random() * target.text.length);
    const garbage = Array.from({ length: 1 + Math.floor(random() * 12) }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join('');
    target.text = target.text.slice(0, at) + garbage + target.text.slice(at);
  } else if (mutation === 'duplicate-key') {
    const lines = target.text.split('\n');
    const candidates = lines.map((l, i) => (/^\s*[A-Za-z]\w*:/.test(l) ? i : -1)).filter((i) => i >= 0);
    const i = pick(candidates);
    if (i !== undefined) lines.splice(i + 1, 0, lines[i]!.replace(/:.*$/, ': duplicated'));
    target.text = lines.join('\n');
  } else {
    const doc = parseDocument(target.text);
    const all = paths(doc.contents);
    const chosen = pick(mutation === 'long-string' ? all.filter((p) => isScalar(p.node) && typeof (p.node as { value: unknown }).value === 'string') : all);
    if (chosen) {
      if (mutation === 'delete-key') doc.deleteIn(chosen.path);
      else if (mutation === 'wrong-type') {
        const replacements = [42, true, 'text', ['a', 'b'], { nested: 1 }, null];
        doc.setIn(chosen.path, doc.createNode(pick(replacements)));
      } else {
        const length = pick([300, 2500, 30_000])!;
        doc.setIn(chosen.path, 'x'.repeat(length) + ' */ `${x}` "q"');
      }
      target.text = doc.toString({ lineWidth: 0 });
    }
  }
  return { mutation, file: target.file };
}

export type FuzzOutcome = { kind: 'errors'; lines: string[] } | { kind: 'generated'; files: Map<string, string> } | { kind: 'crash'; message: string };

/** The generator, type check included, on in-memory spec texts, without touching disk. */
export function generateFromTexts(texts: SpecText[], inputs: GeneratorInputs, checker: EmittedTypeChecker): FuzzOutcome {
  try {
    const files: LoadedFile[] = [];
    const diagnostics = [];
    for (const t of texts) {
      const parsed = parseSpecText(t.kind, t.file, t.text);
      files.push(parsed.file);
      diagnostics.push(...parsed.diagnostics);
    }
    return { kind: 'generated', files: emitChecked(checkLoaded({ files, diagnostics }, inputs), inputs, checker).files };
  } catch (error) {
    if (error instanceof SpecError) return { kind: 'errors', lines: formatDiagnostics(error.diagnostics).split('\n') };
    return { kind: 'crash', message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) };
  }
}

export const DIAGNOSTIC_LINE = /^spec\/[\w./-]+:\d+:\d+ error .+ \(\/.*\)$/s;

export { MemoryTypeChecker } from './typecheck.js';
