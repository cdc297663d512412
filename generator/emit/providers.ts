// Emits the provider code a storage mode brings (`providerSource` in its
// YAML) as `examples/providers/<storage id>.ts`, which the examples import
// and the docs quote. The file is copied unchanged below the header, so a
// problem at line N of the emitted file is at line N - PROVIDER_HEADER_LINES
// of the source, and is reported at the spec field that names it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type ts from 'typescript';
import { SpecError, type Diagnostic } from '../diagnostics.js';
import type { SpecIR, StorageIR } from '../ir.js';
import { slashHeader } from '../text.js';
import { typescript } from '../typecheck.js';

/** Lines the header and the blank line after it take above the copied source. */
export const PROVIDER_HEADER_LINES = 3;

export interface ProviderCode {
  /** Path under `examples/`. */
  readonly path: string;
  readonly text: string;
  readonly className: string;
  /** Whether the class has a `close()` the example calls when it is done. */
  readonly closes: boolean;
}

export function providerPath(storage: StorageIR): string {
  return `providers/${storage.id}.ts`;
}

function fieldProblem(storage: StorageIR, message: string): Diagnostic {
  const at = storage.providerSource!;
  return { file: storage.source, line: at.line, col: at.col, message, jsonPath: '/providerSource' };
}

/** Reads, checks the shape of and emits one storage mode's provider code. */
function providerCode(ir: SpecIR, storage: StorageIR, specDir: string): ProviderCode | Diagnostic {
  const source = storage.providerSource!;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(specDir, 'storage', source.name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? 'unknown error'})`;
    return fieldProblem(storage, `provider source ${source.file} ${why}; write the provider class there`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fieldProblem(storage, `provider source ${source.file} is not UTF-8 text; save it as UTF-8`);
  }
  const ts = typescript();
  const file = ts.createSourceFile(source.name, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const className = storage.providerClass!;
  const declaration = file.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className);
  if (!declaration || !declaration.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
    return fieldProblem(storage, `provider source ${source.file} does not export a class ${JSON.stringify(className)} (named by "providerClass")`);
  }
  const iface = ir.sdk.storageProvider.interface;
  const implementsIt = declaration.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ImplementsKeyword && h.types.some((t) => t.expression.getText(file) === iface));
  if (!implementsIt) return fieldProblem(storage, `class ${className} in ${source.file} must be declared "implements ${iface}", so it is checked against the interface the SDK calls`);
  const closes = declaration.members.some((m) => ts.isMethodDeclaration(m) && m.name.getText(file) === 'close' && m.parameters.every((p) => p.questionToken || p.initializer));
  const header = slashHeader([source.file, storage.source]);
  return { path: providerPath(storage), text: `${header}\n${text.endsWith('\n') ? text : `${text}\n`}`, className, closes };
}

/** Provider code by storage id; throws SpecError naming the field of every storage mode whose code is unusable. */
export function readProviders(ir: SpecIR, specDir: string): Map<string, ProviderCode> {
  const out = new Map<string, ProviderCode>();
  const problems: Diagnostic[] = [];
  for (const storage of ir.storages) {
    if (storage.providerSource === undefined) continue;
    const result = providerCode(ir, storage, specDir);
    if ('message' in result) problems.push(result);
    else out.set(storage.id, result);
  }
  if (problems.length > 0) throw new SpecError(problems);
  return out;
}

/**
 * The spec field behind a type-check diagnostic in an emitted provider file
 * (`examples/providers/<id>.ts`, 1-based line and column), or undefined when
 * the file is not one.
 */
export function providerDiagnostic(ir: SpecIR, emittedPath: string, line: number, col: number, message: string): Diagnostic | undefined {
  const storage = ir.storages.find((s) => s.providerSource !== undefined && `examples/${providerPath(s)}` === emittedPath);
  if (!storage) return undefined;
  const at = `${storage.providerSource!.file}:${Math.max(1, line - PROVIDER_HEADER_LINES)}:${col}`;
  return fieldProblem(storage, `provider source ${at}: ${message}`);
}
