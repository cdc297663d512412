// Spec fixtures for generator tests: a copy of the real spec with edits, and
// a type check of what it generates.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { MemoryTypeChecker } from './typecheck.js';

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

let diskChecker: MemoryTypeChecker | undefined;

/** Type-checks a generated package folder (src and examples) as the project's tsconfig would; one checker serves every call, so lib and node_modules declarations are parsed once. */
export function typecheckGenerated(outDir: string, packageName: string): string[] {
  const files = new Map<string, string>();
  for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(relative(outDir, join(entry.parentPath, entry.name)), readFileSync(join(entry.parentPath, entry.name), 'utf8'));
  }
  return (diskChecker ??= new MemoryTypeChecker(ROOT)).check(files, packageName);
}
