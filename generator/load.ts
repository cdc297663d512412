// Load stage: reads the spec folder into YAML documents that keep source
// positions, so later stages can point at the exact line and column. What
// cannot be a spec is refused here with a position: a folder or a file that
// cannot be read where a spec file is expected, a name with an upper-case
// extension, bytes that are not UTF-8, aliases that expand without bound,
// control characters and unclosed code fences in text.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAlias, isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { jsonPath, type Diagnostic } from './diagnostics.js';
import { pathAtOffset, visitNodes } from './positions.js';

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

/** Spec files of one folder: names ending in `.yaml` or `.yml` in any case (a wrong case is reported, not skipped). */
function specNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => /\.ya?ml$/i.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** The file's bytes, or why there are none to read. */
function readSpecBytes(full: string, file: string): Buffer | string {
  let isFile: boolean;
  try {
    isFile = statSync(full).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `missing spec file (or a link to nothing); create ${file}` : `cannot be read (${code ?? 'error'}); make it a readable file`;
  }
  if (!isFile) return `is not a regular file (a folder?); a spec file must be a YAML file, so rename or remove ${file}`;
  try {
    return readFileSync(full);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); make it a readable file`;
  }
}

/** Reads `<specDir>/sdk.yaml`, `flows/*.yaml`, `storage/*.yaml` and `examples.yaml`. */
export function loadSpec(specDir: string, displayPrefix = 'spec'): LoadedSpec {
  const entries: { kind: SpecKind; rel: string }[] = [{ kind: 'sdk', rel: 'sdk.yaml' }];
  for (const [kind, folder] of [
    ['flow', 'flows'],
    ['storage', 'storage'],
  ] as const) {
    for (const name of specNames(join(specDir, folder))) entries.push({ kind, rel: `${folder}/${name}` });
  }
  entries.push({ kind: 'examples', rel: 'examples.yaml' });

  const files: LoadedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const fail = (file: string, message: string) => diagnostics.push({ file, line: 1, col: 1, message, jsonPath: '/' });
  for (const { kind, rel } of entries) {
    const file = `${displayPrefix}/${rel}`;
    const extension = /\.(ya?ml)$/i.exec(rel)![1]!;
    if (extension !== extension.toLowerCase()) {
      fail(file, `spec file names end in lowercase ".yaml"; rename it to ${rel.slice(rel.lastIndexOf('/') + 1, -extension.length)}yaml`);
      continue;
    }
    const bytes = readSpecBytes(join(specDir, rel), file);
    if (typeof bytes === 'string') {
      fail(file, bytes);
      continue;
    }
    const invalid = firstInvalidUtf8(bytes);
    if (invalid >= 0) {
      const before = bytes.subarray(0, invalid).toString('utf8');
      const line = before.split('\n').length;
      const col = before.length - before.lastIndexOf('\n');
      diagnostics.push({ file, line, col, message: `byte 0x${bytes[invalid]!.toString(16).padStart(2, '0')} at offset ${invalid} is not UTF-8; save the file as UTF-8`, jsonPath: '/' });
      continue;
    }
    const loaded = parseSpecText(kind, file, bytes.toString('utf8'));
    files.push(loaded.file);
    diagnostics.push(...loaded.diagnostics);
  }
  return { files, diagnostics };
}

/** Offset of the first byte that is not part of well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

export function parseSpecText(kind: SpecKind, file: string, text: string): { file: LoadedFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  // A line ending of CR alone (old Mac files) counts as one line break, as CRLF and LF do.
  text = text.replace(/\r(?!\n)/g, '\n');
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const diagnostics: Diagnostic[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    let offset = error.pos[0];
    let message = error.message.split('\n')[0] ?? error.message;
    let path: (string | number)[] | undefined;
    if (error.code === 'DUPLICATE_KEY') message = `duplicate key ${quoteKey(duplicateKeyAt(doc, offset))}`;
    else if (error.code === 'MULTIPLE_DOCS') {
      message = 'a spec file holds one YAML document; remove this "---" and what follows it, or move that to a file of its own';
      path = [];
    } else if (error.code === 'MISSING_CHAR' && /quote/.test(message)) {
      // Reported where the file ends; the problem is the quote that opened the text.
      offset = unclosedQuoteAt(doc, offset) ?? offset;
      message = 'this quoted text is never closed; add the closing quote';
    }
    // A broken implicit key is not a key the spec has: the problem is in the value that holds it.
    path ??= pathAtOffset(doc, offset, error.code !== 'BLOCK_AS_IMPLICIT_KEY' && error.code !== 'MULTILINE_IMPLICIT_KEY');
    const { line, col } = lineCounter.linePos(offset);
    diagnostics.push({ file, line, col, message: lowerFirst(message.replace(/ at line \d+, column \d+.*$/, '')), jsonPath: jsonPath(path) });
  }
  let value: unknown;
  if (doc.errors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      if (!(error instanceof ReferenceError)) throw error;
      const unresolved = /^Unresolved alias.*: (.*)$/.exec(error.message)?.[1];
      const at = firstAlias(doc, unresolved);
      const { line, col } = lineCounter.linePos(at?.offset ?? 0);
      const message =
        unresolved !== undefined
          ? `alias *${unresolved.slice(0, 60)} names no anchor defined above it; define &${unresolved.slice(0, 60)} before it, or write the value out`
          : 'aliases here expand to too many values (more than 100); write the values out instead of repeating aliases';
      diagnostics.push({ file, line, col, message, jsonPath: jsonPath(at?.path ?? []) });
    }
  }
  if (value !== undefined) diagnostics.push(...textProblems(doc, lineCounter, file));
  return { file: { kind, file, doc, lineCounter, value: diagnostics.length === 0 ? value : undefined }, diagnostics };
}

/** The first alias (named `source`, when given). */
function firstAlias(doc: Document.Parsed, source?: string): { offset: number; path: (string | number)[] } | undefined {
  let found: { offset: number; path: (string | number)[] } | undefined;
  visitNodes(doc.contents, [], (node, path) => {
    if (found === undefined && isAlias(node) && node.range && (source === undefined || node.source === source)) found = { offset: node.range[0], path };
  });
  return found;
}

// Control characters no spec text needs, and U+2028/U+2029, which end a line in JavaScript but not in YAML.
// eslint-disable-next-line no-control-regex
const UNWANTED = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/;

// Bidirectional overrides and isolates, zero-width characters and the byte order mark inside text.
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** Opening line (1-based, within `text`) of a Markdown code fence that is never closed, or undefined. */
export function unclosedFence(text: string): number | undefined {
  let open: { char: string; length: number; line: number } | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!m) return;
    const fence = m[1]!;
    if (open === undefined) {
      if (!(fence[0] === '`' && m[2]!.includes('`'))) open = { char: fence[0]!, length: fence.length, line: i + 1 };
    } else if (fence[0] === open.char && fence.length >= open.length && m[2]!.trim() === '') open = undefined;
  });
  return open?.line;
}

/** Control characters, U+2028/U+2029 and unclosed code fences in keys and text. */
function textProblems(doc: Document.Parsed, lineCounter: LineCounter, file: string): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const check = (node: unknown, path: (string | number)[]) => {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return;
    const { line, col } = lineCounter.linePos(node.range[0]);
    const bad = UNWANTED.exec(node.value);
    if (bad) {
      const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      problems.push({ file, line, col, message: `text holds the control character ${code}; remove it (write a line break as a new line)`, jsonPath: jsonPath(path) });
    }
    const hidden = INVISIBLE.exec(node.value);
    if (hidden) {
      const code = `U+${hidden[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      problems.push({
        file,
        line,
        col,
        message: `text holds the invisible character ${code} (a direction override or zero-width character, which makes text read otherwise than it is); remove it`,
        jsonPath: jsonPath(path),
      });
    }
    const fence = unclosedFence(node.value);
    if (fence !== undefined)
      problems.push({ file, line, col, message: `the code fence opened on line ${fence} of this text is never closed; close it, or the rest of the docs page becomes code`, jsonPath: jsonPath(path) });
  };
  visitNodes(doc.contents, [], (node, path) => {
    check(node, path);
    if (isMap(node)) for (const pair of node.items) check(pair.key, isScalar(pair.key) ? [...path, String(pair.key.value)] : path);
  });
  return problems;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function quoteKey(key: string | undefined): string {
  return key === undefined ? '' : JSON.stringify(key);
}

/** Start of the quoted text that runs to `end` without its closing quote. */
function unclosedQuoteAt(doc: Document.Parsed, end: number): number | undefined {
  let start: number | undefined;
  visitNodes(doc.contents, [], (node) => {
    if (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range && node.range[0] < end && end <= node.range[1]) start = node.range[0];
  });
  return start;
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
