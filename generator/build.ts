// Compiles the written package (src/ to dist/, as its own tsconfig.json
// says) and records which sources dist/ was built from, so `generate:check`
// can tell a stale build from a current one. The examples and the CLI load
// dist/, so a spec edit takes effect only once this ran.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type TypeScript from 'typescript';
import { typescript } from './typecheck.js';

/** Written into dist/ by the build: the hash of the sources it was built from. */
export const BUILD_STAMP = 'dist/.source-hash';

/** Written into dist/ after a type check passed: the hash of what was checked, with what. */
const CHECK_STAMP = 'dist/.checked-hash';

/** The files a build reads: tsconfig.json and everything under src/. */
function isBuildInput(path: string): boolean {
  return path === 'tsconfig.json' || path.startsWith('src/');
}

/** Hash of the build inputs among `files` (paths under the package folder). */
export function sourceHash(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].filter(isBuildInput).sort()) hash.update(`${path}\u0000${files.get(path)!}\u0000`);
  return hash.digest('hex');
}

function readBuildInputs(outDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const tsconfig = join(outDir, 'tsconfig.json');
  if (existsSync(tsconfig)) files.set('tsconfig.json', readFileSync(tsconfig, 'utf8'));
  const src = join(outDir, 'src');
  if (existsSync(src)) {
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) {
        const full = join(entry.parentPath, entry.name);
        files.set(relative(outDir, full).split('\\').join('/'), readFileSync(full, 'utf8'));
      }
    }
  }
  return files;
}

/**
 * Hash of a type check's inputs: every emitted file, the lockfile (the
 * compiler's and the dependencies' versions) and the checker's own code.
 */
function checkHash(root: string, files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\u0000${files.get(path)!}\u0000`);
  for (const input of ['package-lock.json', 'generator/typecheck.ts']) hash.update(existsSync(join(root, input)) ? readFileSync(join(root, input)) : '');
  return hash.digest('hex');
}

/** Whether exactly these files passed the type check in `outDir` before. */
export function checkedBefore(root: string, outDir: string, files: ReadonlyMap<string, string>): boolean {
  const stamp = join(outDir, CHECK_STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === checkHash(root, files);
}

/** Records that these files passed the type check, once they are written to `outDir`. */
export function recordChecked(root: string, outDir: string, files: ReadonlyMap<string, string>): void {
  const stamp = join(outDir, CHECK_STAMP);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, checkHash(root, files) + '\n');
}

/** Why dist/ does not match `files`, or undefined when it was built from exactly these sources. */
export function staleBuild(outDir: string, files: ReadonlyMap<string, string>): string | undefined {
  const stamp = join(outDir, BUILD_STAMP);
  if (!existsSync(stamp)) return 'dist/ was not built by npm run build or npm run generate';
  return readFileSync(stamp, 'utf8').trim() === sourceHash(files) ? undefined : 'dist/ was built from other sources';
}

/** Writes a build made in memory (`dist/...` paths) for the sources `files` now written to `outDir`, and stamps it. */
export function writeBuild(outDir: string, dist: ReadonlyMap<string, string>, files: ReadonlyMap<string, string>): void {
  for (const [path, text] of dist) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), text);
  }
  const stamp = join(outDir, BUILD_STAMP);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, sourceHash(files) + '\n');
}

/**
 * Compiles `<outDir>/tsconfig.json` and stamps dist/; returns the compiler's
 * errors (nothing is stamped then). `typeCheck: false` when the sources were
 * just type-checked in memory; `reuse` hands over declarations another
 * program already parsed, such as lib and node_modules files.
 */
export function buildPackage(outDir: string, options: { typeCheck: boolean; reuse?: (fileName: string) => TypeScript.SourceFile | undefined }): string[] {
  const ts = typescript();
  const configPath = join(outDir, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!parsed) return [`${configPath} cannot be read`];
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  const inside = outDir.endsWith('/') ? outDir : `${outDir}/`;
  host.getSourceFile = (name, languageVersion, onError) => (!name.startsWith(inside) && options.reuse?.(name)) || getSourceFile(name, languageVersion, onError);
  // Sources just type-checked in memory need no second check to be emitted.
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: options.typeCheck ? parsed.options : { ...parsed.options, noCheck: true }, host });
  const result = program.emit();
  const errors = [...parsed.errors, ...(options.typeCheck ? ts.getPreEmitDiagnostics(program) : []), ...result.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) return errors.map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => outDir, getNewLine: () => '\n' }).trim());
  const stamp = join(outDir, BUILD_STAMP);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, sourceHash(readBuildInputs(outDir)) + '\n');
  return [];
}
