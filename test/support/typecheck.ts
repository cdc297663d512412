// Type-checks generated files held in memory, as the project's tsconfig would
// check them on disk. Declarations from node_modules are parsed once per
// checker and reused, so checking many outputs stays cheap.
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Type-checks generated files held in memory, as if they were written to
 * `<root>/.tmp/fuzz/`; declarations from node_modules are parsed once and reused.
 */
export class MemoryTypeChecker {
  private readonly cache = new Map<string, ts.SourceFile>();
  private readonly base: string;

  constructor(private readonly root: string) {
    this.base = join(root, '.tmp', 'fuzz-virtual');
  }

  check(files: Map<string, string>, packageName: string): string[] {
    const virtual = new Map<string, string>();
    for (const [path, text] of files) virtual.set(join(this.base, path), text);
    virtual.set(join(this.base, 'package.json'), JSON.stringify({ type: 'module' }));
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(this.root, 'node_modules', '@types')],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      baseUrl: this.base,
      paths: { [packageName]: ['src/index.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (name) => virtual.get(name) ?? (name.startsWith(this.base) ? undefined : readFile(name));
    host.fileExists = (name) => virtual.has(name) || (!name.startsWith(this.base) && fileExists(name));
    const folders = new Set<string>();
    for (const path of virtual.keys()) for (let d = path; d.length > this.base.length; ) folders.add((d = d.slice(0, d.lastIndexOf('/'))));
    folders.add(this.base);
    const directoryExists = host.directoryExists?.bind(host);
    host.directoryExists = (name) => folders.has(name) || (!name.startsWith(this.base) && (directoryExists ? directoryExists(name) : true));
    host.realpath = (name) => name;
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, languageVersion, onError) => {
      const text = virtual.get(name);
      if (text !== undefined) return ts.createSourceFile(name, text, languageVersion, true);
      if (name.startsWith(this.base)) return undefined;
      let cached = this.cache.get(name);
      if (!cached) {
        cached = getSourceFile(name, languageVersion, onError);
        if (cached) this.cache.set(name, cached);
      }
      return cached;
    };
    const roots = [...virtual.keys()].filter((p) => p.endsWith('.ts') && (p.includes('/src/') || p.includes('/examples/')));
    const program = ts.createProgram(roots, options, host);
    return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? relative(this.base, d.file.fileName) : ''} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
}
