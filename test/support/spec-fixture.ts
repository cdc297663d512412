// Spec fixtures for generator tests: a copy of the real spec with edits, and
// a type check of what it generates.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** A scratch folder inside the project, so generated code resolves the project's node_modules. */
export function scratchDir(prefix: string): string {
  const base = join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

/** Copies spec/ (without schema/) and applies `edits`: file path -> new text, or a function of the old text. */
export function specCopy(edits: Record<string, string | ((text: string) => string)> = {}): string {
  const dir = join(scratchDir('spec'), 'spec');
  cpSync(join(ROOT, 'spec'), dir, { recursive: true, filter: (src) => !src.includes(`${join('spec', 'schema')}`) });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = '';
    }
    writeFileSync(path, typeof edit === 'string' ? edit : edit(old));
  }
  return dir;
}

/** Type-checks a generated package folder (src and examples) as the project's tsconfig would. */
export function typecheckGenerated(outDir: string, packageName: string): string[] {
  const rootNames = [
    ...ts.sys.readDirectory(join(outDir, 'src'), ['.ts']),
    ...ts.sys.readDirectory(join(outDir, 'examples'), ['.ts']),
  ];
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    baseUrl: outDir,
    paths: { [packageName]: ['src/index.ts'] },
  };
  // The scratch folder has no package.json of its own; ES modules are what the generator emits.
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  const program = ts.createProgram(rootNames, options);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}
