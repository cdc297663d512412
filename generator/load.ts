// Load stage: reads the spec folder into YAML documents that keep source
// positions, so later stages can point at the exact line and column.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { jsonPath, type Diagnostic } from './diagnostics.js';

export type SpecKind = 'sdk' | 'flow' | 'storage' | 'examples';

export interface LoadedFile {
  readonly kind: SpecKind;
  /** Path as printed in messages and headers, relative to the project (`spec/flows/m2m.yaml`). */
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** Plain data, or undefined when the YAML could not be parsed. */
  readonly value: unknown;
}

export interface LoadedSpec {
  readonly files: readonly LoadedFile[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Reads `<specDir>/sdk.yaml`, `flows/*.yaml`, `storage/*.yaml` and `examples.yaml`. */
export function loadSpec(specDir: string, displayPrefix = 'spec'): LoadedSpec {
  const entries: { kind: SpecKind; rel: string }[] = [{ kind: 'sdk', rel: 'sdk.yaml' }];
  for (const [kind, folder] of [['flow', 'flows'], ['storage', 'storage']] as const) {
    const dir = join(specDir, folder);
    const names = existsSync(dir) ? readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort() : [];
    for (const name of names) entries.push({ kind, rel: `${folder}/${name}` });
  }
  entries.push({ kind: 'examples', rel: 'examples.yaml' });

  const files: LoadedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const { kind, rel } of entries) {
    const file = `${displayPrefix}/${rel}`;
    const full = join(specDir, rel);
    if (!existsSync(full)) {
      diagnostics.push({ file, line: 1, col: 1, message: `missing spec file; create ${file}`, jsonPath: '/' });
      continue;
    }
    const loaded = parseSpecText(kind, file, readFileSync(full, 'utf8'));
    files.push(loaded.file);
    diagnostics.push(...loaded.diagnostics);
  }
  return { files, diagnostics };
}

export function parseSpecText(kind: SpecKind, file: string, text: string): { file: LoadedFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const offset = error.pos[0];
    const { line, col } = lineCounter.linePos(offset);
    let message = error.message.split('\n')[0] ?? error.message;
    if (error.code === 'DUPLICATE_KEY') message = `duplicate key ${quoteKey(duplicateKeyAt(doc, offset))}`;
    diagnostics.push({ file, line, col, message: lowerFirst(message.replace(/ at line \d+, column \d+.*$/, '')), jsonPath: jsonPath(pathAtOffset(doc, offset)) });
  }
  const value = doc.errors.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  return { file: { kind, file, doc, lineCounter, value }, diagnostics };
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function quoteKey(key: string | undefined): string {
  return key === undefined ? '' : JSON.stringify(key);
}

function duplicateKeyAt(doc: Document.Parsed, offset: number): string | undefined {
  let found: string | undefined;
  visitNodes(doc.contents, [], (node) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (isScalar(pair.key) && pair.key.range && pair.key.range[0] <= offset && offset <= pair.key.range[1]) {
          found = String(pair.key.value);
        }
      }
    }
  });
  return found;
}

/** The JSON path of the deepest node whose source range holds `offset`. */
export function pathAtOffset(doc: Document, offset: number): (string | number)[] {
  let best: (string | number)[] = [];
  visitNodes(doc.contents, [], (node, path) => {
    const range = node.range;
    if (range && range[0] <= offset && offset <= range[1] && path.length >= best.length) best = path;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined && isScalar(pair.key) && pair.key.range && pair.key.range[0] <= offset && offset <= pair.key.range[1]) {
          if (path.length + 1 >= best.length) best = [...path, key];
        }
      }
    }
  });
  return best;
}

function visitNodes(node: unknown, path: (string | number)[], visit: (node: Node, path: (string | number)[]) => void): void {
  if (!node || typeof node !== 'object') return;
  if (isMap(node)) {
    visit(node, path);
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      visitNodes(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    visit(node, path);
    node.items.forEach((item, index) => visitNodes(item, [...path, index], visit));
  } else if (isScalar(node) || isCollection(node)) {
    visit(node as Node, path);
  }
}

/**
 * Position of the node at `path` (or of its key, when `keyOf` is set); falls
 * back to the nearest ancestor that exists.
 */
export function positionOf(loaded: LoadedFile, path: readonly (string | number)[], keyOf?: string): { line: number; col: number } {
  const { doc, lineCounter } = loaded;
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node) {
      if (keyOf !== undefined && depth === path.length && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === keyOf);
        if (pair && isScalar(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]);
      }
      const range = (node as Node).range;
      if (range) return lineCounter.linePos(range[0]);
    }
  }
  return { line: 1, col: 1 };
}
