// Spec problems, each tied to a file position and a JSON path, printed as
// `file:line:col error message (json path)` and never as a stack trace.

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly jsonPath: string;
}

export class SpecError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(formatDiagnostics(diagnostics));
    this.name = 'SpecError';
  }
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/** Longest message printed whole; a longer one keeps its start and its end, where the fix is. */
const MESSAGE_MAX = 400;

/** One line: line breaks in a message (quoted compiler text) become spaces, and a very long one is shortened in the middle. */
function oneLine(message: string): string {
  const flat = message.replace(/\s*[\r\n]+\s*/g, ' ');
  return flat.length > MESSAGE_MAX ? `${flat.slice(0, 280)} ... ${flat.slice(-100)}` : flat;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col} error ${oneLine(d.message)} (${d.jsonPath})`;
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const d of [...diagnostics].sort(compareDiagnostics)) {
    const line = formatDiagnostic(d);
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines.join('\n');
}

/** JSON Pointer-like path (`/options/0/type`) of a list of keys; `/` is the root. */
export function jsonPath(segments: readonly (string | number)[]): string {
  if (segments.length === 0) return '/';
  return segments.map((s) => '/' + printable(String(s)).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** A key as it can stand in a one-line message: control characters escaped, very long keys shortened. */
function printable(key: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = key.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return escaped.length > 60 ? `${escaped.slice(0, 57)}...` : escaped;
}
