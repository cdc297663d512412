// Names a spec may not give to what it declares, because the generated
// package, the runtime it copies, JavaScript itself or the generated
// examples already use them. Each set is read from its source (the runtime
// files, a fresh JavaScript realm, the emitter's own names), not kept by hand.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { Node, Project, type ClassDeclaration, type SourceFile } from 'ts-morph';
import { AUTH_CORE_CLASS, AUTH_STATIC_METHODS, GENERATED_EXPORTS } from './emit/typescript.js';

export interface TakenNames {
  /** Exported by some runtime module, or by the generated modules themselves. */
  readonly exported: ReadonlySet<string>;
  /** Static members the Auth class already has: its own, its base class's, and every function's. */
  readonly authStatics: ReadonlySet<string>;
  /** Global values of JavaScript (JSON, Object, Promise...). */
  readonly globals: ReadonlySet<string>;
  /** Keys an object literal cannot hold as plain data: `__proto__` and Object.prototype's members. */
  readonly objectKeys: ReadonlySet<string>;
}

function exportedNames(file: SourceFile): string[] {
  const names: string[] = [];
  for (const statement of file.getStatements()) {
    if (Node.isExportDeclaration(statement)) {
      for (const spec of statement.getNamedExports()) names.push(spec.getAliasNode()?.getText() ?? spec.getName());
    } else if (Node.isVariableStatement(statement)) {
      if (statement.isExported()) for (const d of statement.getDeclarations()) names.push(d.getName());
    } else if (Node.isExportable(statement) && statement.isExported() && Node.hasName(statement)) {
      names.push(statement.getName());
    }
  }
  return names;
}

function staticMembers(cls: ClassDeclaration, classes: ReadonlyMap<string, ClassDeclaration>, seen = new Set<string>()): string[] {
  const name = cls.getName() ?? '';
  if (seen.has(name)) return [];
  seen.add(name);
  const own = [...cls.getStaticMethods(), ...cls.getStaticProperties()].map((m) => m.getName());
  const base = cls.getExtends()?.getExpression().getText();
  const parent = base === undefined ? undefined : classes.get(base);
  return parent ? [...own, ...staticMembers(parent, classes, seen)] : own;
}

const cache = new Map<string, TakenNames>();

/** The taken names, from the runtime files under `<templatesDir>/runtime`. */
export function takenNames(templatesDir: string): TakenNames {
  const cached = cache.get(templatesDir);
  if (cached) return cached;
  const dir = join(templatesDir, 'runtime');
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
  const exported = new Set<string>(GENERATED_EXPORTS);
  const classes = new Map<string, ClassDeclaration>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const file = project.createSourceFile(path, readFileSync(path, 'utf8'), { overwrite: true });
    for (const name of exportedNames(file)) exported.add(name);
    for (const cls of file.getClasses()) if (cls.getName()) classes.set(cls.getName()!, cls);
  }
  const core = classes.get(AUTH_CORE_CLASS);
  const functionOwn = runInNewContext('[...Object.getOwnPropertyNames(Function), ...Object.getOwnPropertyNames(Function.prototype)]') as string[];
  const authStatics = new Set([...AUTH_STATIC_METHODS, ...functionOwn, ...(core ? staticMembers(core, classes) : [])]);
  const globals = new Set(runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]);
  const objectKeys = new Set(['__proto__', ...(runInNewContext('Object.getOwnPropertyNames(Object.prototype)') as string[])]);
  const taken = { exported, authStatics, globals, objectKeys };
  cache.set(templatesDir, taken);
  return taken;
}
