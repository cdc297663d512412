// The whole generator as one pure function of the spec and templates:
// load -> validate -> IR -> emit -> type-check. Only write.ts and build.ts
// touch the output folder, and only once all of this passed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonPath, SpecError, type Diagnostic } from './diagnostics.js';
import { emitDocs } from './emit/docs.js';
import { emitExamples } from './emit/examples.js';
import { emitPackageFiles } from './emit/package.js';
import { providerDiagnostic } from './emit/providers.js';
import { emitSpecReference } from './emit/spec-reference.js';
import { emitTypeScript } from './emit/typescript.js';
import { buildIR, type SpecIR } from './ir.js';
import { loadSpec, type LoadedFile, type LoadedSpec } from './load.js';
import { positionOf } from './positions.js';
import { compiledHeader } from './text.js';
import { EmittedTypeChecker, type EmittedDiagnostic } from './typecheck.js';
import { typed, validateMeaning, validateSchemas, type TypedSpec } from './validate.js';

export interface GeneratorInputs {
  /** The project folder: its node_modules resolve the emitted code's imports. */
  readonly root: string;
  /** Folder holding sdk.yaml, flows/, storage/ and examples.yaml. */
  readonly specDir: string;
  /** How spec paths are printed in messages and headers. */
  readonly specDisplay: string;
  readonly schemaDir: string;
  /** Holds runtime/, examples/ and docs/. */
  readonly templatesDir: string;
  readonly runtimeDependencies: Readonly<Record<string, string>>;
  /** The workspace's `repository` field, which the generated package points into. */
  readonly repository?: { readonly type: string; readonly url: string };
}

export function projectInputs(root: string, specDir = join(root, 'spec'), specDisplay = 'spec'): GeneratorInputs {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; repository?: { type: string; url: string } };
  return { root, specDir, specDisplay, schemaDir: join(root, 'spec', 'schema'), templatesDir: join(root, 'templates'), runtimeDependencies: pkg.dependencies ?? {}, repository: pkg.repository };
}

/** Checks loaded spec files; throws SpecError listing every problem. */
export function checkLoaded(loaded: LoadedSpec, inputs: GeneratorInputs): TypedSpec {
  if (loaded.diagnostics.length > 0) throw new SpecError(loaded.diagnostics);
  const schemaProblems = validateSchemas(loaded, inputs.schemaDir);
  if (schemaProblems.length > 0) throw new SpecError(schemaProblems);
  const spec = typed(loaded);
  const meaningProblems = validateMeaning(spec, inputs.templatesDir);
  if (meaningProblems.length > 0) throw new SpecError(meaningProblems);
  return spec;
}

/** Reads and checks the spec; throws SpecError listing every problem. */
export function specToIR(inputs: GeneratorInputs): SpecIR {
  return buildIR(checkLoaded(loadSpec(inputs.specDir, inputs.specDisplay), inputs));
}

/** Where each name the spec gives to emitted code was written. */
function nameOrigins(spec: TypedSpec): Map<string, { loaded: LoadedFile; path: (string | number)[] }> {
  const origins = new Map<string, { loaded: LoadedFile; path: (string | number)[] }>();
  const add = (name: string, loaded: LoadedFile, path: (string | number)[]) => {
    if (!origins.has(name)) origins.set(name, { loaded, path });
  };
  const { loaded, value: s } = spec.sdk;
  add(s.package.name, loaded, ['package', 'name']);
  for (const key of ['auth', 'session', 'scopes'] as const) add(s.classes[key], loaded, ['classes', key]);
  add(`${s.classes.scopes}Value`, loaded, ['classes', 'scopes']);
  add(s.storageProvider.interface, loaded, ['storageProvider', 'interface']);
  s.scopes.forEach((x, i) => add(x.name, loaded, ['scopes', i, 'name']));
  s.storageProvider.methods.forEach((m, i) => add(m.name, loaded, ['storageProvider', 'methods', i, 'name']));
  for (const f of spec.flows) {
    add(f.value.factory, f.loaded, ['factory']);
    add(f.value.optionsType, f.loaded, ['optionsType']);
  }
  for (const st of spec.storages) if (st.value.providerClass !== undefined) add(st.value.providerClass, st.loaded, ['providerClass']);
  return origins;
}

/**
 * Compiler diagnostics that mean two declarations want one name: only these
 * are called a clash (duplicate identifier, redeclaration, an import or export
 * conflicting with a declaration, a member hiding a built-in one). A class
 * that does not fit its base or interface is not one: the names it quotes are
 * the classes', and renaming them changes nothing.
 */
const CLASH_CODES = new Set([2300, 2308, 2323, 2393, 2395, 2397, 2434, 2440, 2441, 2451, 2484, 2528, 2567, 2687, 2699, 2717, 2725, 2813, 2814]);

/** Compiler diagnostics of a word strict-mode JavaScript keeps for itself (`eval`, `arguments`, `yield`...): another name fixes them. */
const RESERVED_CODES = new Set([1100, 1210, 1212, 1213, 1214, 1215, 1359]);

/**
 * Compiler diagnostics of emitted code as spec problems. One that points at
 * (or quotes) a name the spec gave is placed at that spec field, once per
 * field; the others follow from it and are left out. Only when no name is to
 * blame is each reported, at the top of sdk.yaml.
 */
function specDiagnostics(spec: TypedSpec, problems: readonly EmittedDiagnostic[]): Diagnostic[] {
  const origins = nameOrigins(spec);
  const where = (d: EmittedDiagnostic) => (d.file === '' ? '' : `${d.file}:${d.line}:${d.col} `);
  const blamed = new Map<string, { first: EmittedDiagnostic; count: number }>();
  for (const d of problems) {
    // The runtime is copied as written: a problem in it is never a spec name's.
    if (d.file.startsWith('src/runtime/')) continue;
    const quoted = [...d.message.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    const name = [d.text, ...quoted].find((n) => origins.has(n));
    if (name === undefined) continue;
    const seen = blamed.get(name);
    if (seen) seen.count++;
    else blamed.set(name, { first: d, count: 1 });
  }
  if (blamed.size === 0) {
    return problems.map((d) => ({ file: spec.sdk.loaded.file, line: 1, col: 1, message: `the generated code does not compile: ${where(d)}${d.message}`, jsonPath: '/' }));
  }
  return [...blamed].map(([name, { first, count }]) => {
    const { loaded, path } = origins.get(name)!;
    const { line, col } = positionOf(loaded, path);
    const more = count > 1 ? `, and ${count - 1} more` : '';
    const what = `${where(first)}${first.message.replace(/\.$/, '')}${more}`;
    const message = CLASH_CODES.has(first.code)
      ? `the name ${JSON.stringify(name)} clashes with the generated code (${what}); choose another name`
      : RESERVED_CODES.has(first.code)
        ? `the name ${JSON.stringify(name)} is a word strict-mode JavaScript reserves, and the generated code cannot use it there (${what}); choose another name`
        : `the generated code does not compile where it uses ${JSON.stringify(name)} (${what}); renaming will not help: change this value or the template that uses it`;
    return { file: loaded.file, line, col, message, jsonPath: jsonPath(path) };
  });
}

/**
 * Emits and type-checks; throws SpecError when the emitted code does not
 * compile. `checkedBefore` may vouch for output that passed this very check
 * before (the same files, compiler and dependencies), which is then not checked again.
 */
export function emitChecked(
  spec: TypedSpec,
  inputs: GeneratorInputs,
  checker = new EmittedTypeChecker(inputs.root),
  checkedBefore?: (files: ReadonlyMap<string, string>) => boolean,
): { ir: SpecIR; files: Map<string, string> } {
  const ir = buildIR(spec);
  const files = emitAll(ir, inputs);
  if (checkedBefore?.(files)) return { ir, files };
  const problems = checker.check(files, ir.sdk.packageName);
  // Provider code a storage mode brings is blamed first: examples that import a broken provider fail because of it.
  const inProviders = problems.flatMap((d) => providerDiagnostic(ir, d.file, d.line, d.col, d.message) ?? []);
  if (inProviders.length > 0) throw new SpecError(inProviders);
  if (problems.length > 0) throw new SpecError(specDiagnostics(spec, problems));
  return { ir, files };
}

/** The runtime's files (folders included), copied unchanged under a header naming each source. */
function copyRuntime(templatesDir: string): Map<string, string> {
  const dir = join(templatesDir, 'runtime');
  const out = new Map<string, string>();
  const visit = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        const header = compiledHeader([`templates/runtime/${path}`]).trimEnd();
        out.set(path, `${header}\n\n${readFileSync(join(dir, path), 'utf8')}`);
      }
    }
  };
  visit('');
  return out;
}

/** Every output file, keyed by its path under the output folder. */
export function emitAll(ir: SpecIR, inputs: GeneratorInputs): Map<string, string> {
  const files = new Map<string, string>();
  const put = (prefix: string, entries: Map<string, string>) => {
    for (const [path, text] of entries) files.set(prefix + path, text);
  };
  put('src/', emitTypeScript(ir));
  put('src/runtime/', copyRuntime(inputs.templatesDir));
  const examples = emitExamples(ir, join(inputs.templatesDir, 'examples'), inputs.specDir);
  put('examples/', examples);
  put('docs/', emitDocs(ir, join(inputs.templatesDir, 'docs'), examples));
  files.set('docs/spec-reference.md', emitSpecReference(inputs.schemaDir, inputs.specDir));
  const sources = new Map([...files].filter(([path]) => path.startsWith('src/')).map(([path, text]) => [path.slice('src/'.length), text]));
  put('', emitPackageFiles(ir, { ...inputs, sources }));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Every output file of a spec that passed every check, including the type check of what it emits. */
export function generate(inputs: GeneratorInputs, checker?: EmittedTypeChecker, checkedBefore?: (files: ReadonlyMap<string, string>) => boolean): { ir: SpecIR; files: Map<string, string> } {
  return emitChecked(checkLoaded(loadSpec(inputs.specDir, inputs.specDisplay), inputs), inputs, checker, checkedBefore);
}

export { SpecError };
