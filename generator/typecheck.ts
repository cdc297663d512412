// Type-checks the emitted package in memory before anything is written, as
// tsc would check it on disk: the copied runtime, the emitted src/ and the
// examples are laid over a folder of the project as if written there
// (nothing on disk under it is seen), so the imports of node_modules resolve
// as they will in generated/. The compiler is the project's own
// `typescript`, the one that builds dist/. Declarations parsed from lib and
// node_modules are kept between checks and handed to the build, so checking
// again (the fuzzer does) and building stay cheap.
//
// The runtime is copied unchanged, so its check and its build depend only on
// its own text, the compiler options and the locked dependencies. Once it
// passed, its declarations and build output are kept in the content cache
// under that key; a later check with the same runtime reads the runtime as
// those declarations (every emitted file is still checked against them) and
// its dist/ files come from the cache.
//
// One checker checks incrementally, through a builder program: each file's
// diagnostics are kept with the hash of its text, and a later check asks the
// compiler again only for files whose text, or the declarations of a file
// they import, changed since (what `tsc --watch` does).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type TypeScript from 'typescript';
import { ContentCache, contentHash } from './cache.js';

type ts = typeof TypeScript;
let loaded: ts | undefined;

/** The project's TypeScript, loaded on first use: a run whose output was checked before needs none. */
export function typescript(): ts {
  return (loaded ??= createRequire(import.meta.url)('typescript') as ts);
}

/** A parsed file with the version a builder program compares: the hash of its text. */
function versioned(file: TypeScript.SourceFile): TypeScript.SourceFile {
  (file as { version?: string }).version ??= contentHash(file.text);
  return file;
}

export interface EmittedDiagnostic {
  /** Path under the output folder (`src/auth.ts`), or '' for a global problem. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The source text the compiler points at, such as an identifier. */
  readonly text: string;
  /** The compiler's diagnostic code (2300 "Duplicate identifier"...). */
  readonly code: number;
  readonly message: string;
}

/** "File is not under rootDir". */
const ROOT_DIR_MISMATCH = 6059;

/** The package's own compiler options, from the emitted tsconfig.json, so the check is the build's. */
function packageOptions(ts: ts, files: ReadonlyMap<string, string>, base: string): TypeScript.CompilerOptions | undefined {
  const text = files.get('tsconfig.json');
  if (text === undefined) return undefined;
  const parsed = ts.parseConfigFileTextToJson(join(base, 'tsconfig.json'), text);
  const config = parsed.config as unknown;
  const error = parsed.error;
  if (error || !config || typeof config !== 'object') return undefined;
  const { options, errors } = ts.convertCompilerOptionsFromJson((config as { compilerOptions?: unknown }).compilerOptions ?? {}, base, 'tsconfig.json');
  return errors.length > 0 ? undefined : options;
}

/** The runtime's checked build: its declarations (`src/runtime/x.d.ts`) and its dist/ files. */
interface RuntimeBuild {
  readonly declarations: Record<string, string>;
  readonly dist: Record<string, string>;
}

/** Changes whenever what this file makes of a runtime changes. */
const RUNTIME_BUILD_FORMAT = 'runtime-build 1';

const RUNTIME = 'src/runtime/';
const isRuntimeSource = (path: string) => path.startsWith(RUNTIME) && path.endsWith('.ts') && !path.endsWith('.d.ts');

export class EmittedTypeChecker {
  private readonly declarations = new Map<string, TypeScript.SourceFile>();
  private readonly emittedParsed = new Map<string, TypeScript.SourceFile>();
  private program: TypeScript.Program | undefined;
  /** The last check's program with what it found per file, so the next check re-checks only what a change can reach. */
  private builder: TypeScript.SemanticDiagnosticsBuilderProgram | undefined;
  private runtime: RuntimeBuild | undefined;
  private readonly cache: ContentCache;
  private lockfile: string | undefined;

  /** Files are checked as if written here, a folder of the project that is never created. */
  private readonly base: string;

  constructor(
    private readonly root: string,
    options: { cache?: boolean } = {},
  ) {
    this.base = join(root, '.generate-check');
    this.cache = new ContentCache(root);
    this.useCache = options.cache !== false;
  }

  /** Whether the runtime's checked build is read from and kept in the content cache. */
  private readonly useCache: boolean;

  private runtimeKey(ts: ts, files: ReadonlyMap<string, string>, options: TypeScript.CompilerOptions): string {
    this.lockfile ??= (() => {
      try {
        return readFileSync(join(this.root, 'package-lock.json'), 'utf8');
      } catch {
        return '';
      }
    })();
    const runtime = [...files].filter(([path]) => path.startsWith(RUNTIME)).flatMap(([path, text]) => [path, text]);
    return contentHash(RUNTIME_BUILD_FORMAT, ts.version, JSON.stringify(options), this.lockfile, ...runtime);
  }

  /** A declaration file the last check parsed (lib, node_modules), for the build to reuse. */
  parsedDeclaration(fileName: string): TypeScript.SourceFile | undefined {
    return this.declarations.get(fileName);
  }

  /** Diagnostics of the TypeScript among `files` (paths under the output folder): src/, the copied runtime, the examples. */
  check(files: ReadonlyMap<string, string>, packageName: string): EmittedDiagnostic[] {
    const ts = typescript();
    const base = this.base;
    const virtual = new Map<string, string>();
    for (const [path, text] of files) virtual.set(join(base, path), text);
    const options: TypeScript.CompilerOptions = {
      ...(packageOptions(ts, files, base) ?? {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts'],
        types: ['node'],
        strict: true,
        skipLibCheck: true,
        noEmit: true,
      }),
      typeRoots: [join(this.root, 'node_modules', '@types')],
      paths: { [packageName]: [join(base, 'src', 'index.ts')] },
    };
    const key = this.useCache ? this.runtimeKey(ts, files, options) : '';
    const cached = this.useCache ? this.cache.get<RuntimeBuild>('runtime', key) : undefined;
    if (cached) {
      for (const path of files.keys()) if (isRuntimeSource(path)) virtual.delete(join(base, path));
      for (const [path, text] of Object.entries(cached.declarations)) virtual.set(join(base, path), text);
    }
    this.runtime = cached;
    const inside = (name: string) => name === base || name.startsWith(`${base}/`);
    const folders = new Set<string>([base]);
    for (const path of virtual.keys()) for (let d = path; d.length > base.length;) folders.add((d = d.slice(0, d.lastIndexOf('/'))));
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const directoryExists = host.directoryExists?.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (name) => (inside(name) ? virtual.get(name) : readFile(name));
    host.fileExists = (name) => (inside(name) ? virtual.has(name) : fileExists(name));
    host.directoryExists = (name) => (inside(name) ? folders.has(name) : directoryExists ? directoryExists(name) : true);
    host.realpath = (name) => name;
    host.getSourceFile = (name, languageVersion, onError) => {
      if (inside(name)) {
        const text = virtual.get(name);
        if (text === undefined) return undefined;
        // An emitted file whose text did not change since the last check keeps its parse, so the program reuses it.
        const before = this.emittedParsed.get(name);
        if (before?.text === text) return before;
        const parsed = versioned(ts.createSourceFile(name, text, languageVersion, true));
        this.emittedParsed.set(name, parsed);
        return parsed;
      }
      let parsed = this.declarations.get(name);
      if (!parsed) {
        parsed = getSourceFile(name, languageVersion, onError);
        if (parsed) this.declarations.set(name, versioned(parsed));
      }
      return parsed;
    };
    const roots = [...files.keys()].filter((p) => p.endsWith('.ts') && (p.startsWith('src/') || p.startsWith('examples/')) && !(cached && isRuntimeSource(p))).sort();
    const builder = ts.createSemanticDiagnosticsBuilderProgram(
      roots.map((p) => join(base, p)),
      options,
      host,
      this.builder,
    );
    this.builder = builder;
    const program = builder.getProgram();
    this.program = program;
    const out: EmittedDiagnostic[] = [];
    const add = (d: TypeScript.Diagnostic) => {
      // The examples are checked with the package's options but are not part of its build (rootDir src).
      if (d.code === ROOT_DIR_MISMATCH) return;
      const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (!d.file || d.start === undefined) {
        out.push({ file: '', line: 1, col: 1, text: '', code: d.code, message });
        return;
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      out.push({ file: relative(base, d.file.fileName).split('\\').join('/'), line: line + 1, col: character + 1, text: d.file.text.slice(d.start, d.start + (d.length ?? 0)), code: d.code, message });
    };
    program.getOptionsDiagnostics().forEach(add);
    program.getGlobalDiagnostics().forEach(add);
    for (const path of roots) {
      const sf = program.getSourceFile(join(base, path))!;
      program.getSyntacticDiagnostics(sf).forEach(add);
      builder.getSemanticDiagnostics(sf).forEach(add);
    }
    if (!cached && this.useCache && !out.some((d) => d.file === '' || d.file.startsWith(RUNTIME))) this.keepRuntime(ts, program, key);
    return out;
  }

  /** Emits the runtime of a check that found no problem in it, and keeps its build in the cache. */
  private keepRuntime(ts: ts, program: TypeScript.Program, key: string): void {
    if (program.getCompilerOptions().noEmit) return;
    const declarations: Record<string, string> = {};
    const dist: Record<string, string> = {};
    const src = join(this.base, RUNTIME);
    for (const name of program.getRootFileNames().filter((n) => n.startsWith(src))) {
      const result = program.emit(program.getSourceFile(name), (fileName, text) => {
        const path = relative(this.base, fileName).split('\\').join('/');
        dist[path] = text;
        if (path.endsWith('.d.ts')) declarations[`${RUNTIME}${path.slice('dist/runtime/'.length)}`] = text;
      });
      if (result.emitSkipped || result.diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) return;
    }
    this.runtime = { declarations, dist };
    this.cache.put('runtime', key, this.runtime);
  }

  /**
   * The build output (`dist/...` paths and texts) of the files the last check
   * passed, emitted by the same program; undefined when it cannot build them.
   */
  emitBuild(): Map<string, string> | undefined {
    const ts = typescript();
    const program = this.program;
    if (!program || program.getCompilerOptions().noEmit) return undefined;
    const out = new Map<string, string>(Object.entries(this.runtime?.dist ?? {}));
    const src = join(this.base, 'src') + '/';
    const runtime = join(this.base, RUNTIME);
    for (const name of program.getRootFileNames().filter((n) => n.startsWith(src) && !(this.runtime && n.startsWith(runtime)))) {
      const result = program.emit(program.getSourceFile(name), (fileName, text) => out.set(relative(this.base, fileName).split('\\').join('/'), text));
      if (result.emitSkipped || result.diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) return undefined;
    }
    return out;
  }
}
