// Names a spec may not give to what it declares, because the generated
// package, the runtime it copies or JavaScript itself already use them. Each
// set is read from its source (the runtime files, parsed without a type
// checker; a fresh JavaScript realm; the emitter's own names), not kept by hand.
// What the runtime files give is kept by the hash of their text, in memory
// and in the content cache, so a run with an unchanged runtime parses none.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type ts from 'typescript';
import { contentHash, defaultCache } from './cache.js';
import { AUTH_CORE_CLASS, AUTH_STATIC_METHODS, GENERATED_EXPORTS } from './emit/typescript.js';
import { typescript } from './typecheck.js';

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

function isExported(node: ts.Node): boolean {
  const ts = typescript();
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function exportedNames(file: ts.SourceFile): string[] {
  const ts = typescript();
  const names: string[] = [];
  for (const statement of file.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (statement.exportClause && ts.isNamedExports(statement.exportClause)) for (const spec of statement.exportClause.elements) names.push(spec.name.text);
    } else if (ts.isVariableStatement(statement)) {
      if (isExported(statement)) for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    } else if (isExported(statement) && 'name' in statement && statement.name && ts.isIdentifier(statement.name as ts.Node)) {
      names.push((statement.name as ts.Identifier).text);
    }
  }
  return names;
}

function isStatic(member: ts.ClassElement): boolean {
  const ts = typescript();
  return ts.canHaveModifiers(member) && (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
}

function staticMembers(cls: ts.ClassDeclaration, classes: ReadonlyMap<string, ts.ClassDeclaration>, seen = new Set<string>()): string[] {
  const ts = typescript();
  const name = cls.name?.text ?? '';
  if (seen.has(name)) return [];
  seen.add(name);
  const own = cls.members.filter(isStatic).flatMap((m) => (m.name && (ts.isIdentifier(m.name) || ts.isPrivateIdentifier(m.name)) ? [m.name.text] : []));
  const base = cls.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression;
  const parent = base && ts.isIdentifier(base) ? classes.get(base.text) : undefined;
  return parent ? [...own, ...staticMembers(parent, classes, seen)] : own;
}

/** Names exported by the runtime files and the static members of its AuthCore class, parsed without a type checker. */
function runtimeNames(sources: readonly { path: string; text: string }[]): { exported: string[]; statics: string[] } {
  const ts = typescript();
  const exported: string[] = [];
  const classes = new Map<string, ts.ClassDeclaration>();
  for (const { path, text } of sources) {
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, false);
    exported.push(...exportedNames(file));
    for (const statement of file.statements) if (ts.isClassDeclaration(statement) && statement.name) classes.set(statement.name.text, statement);
  }
  const core = classes.get(AUTH_CORE_CLASS);
  return { exported, statics: core ? staticMembers(core, classes) : [] };
}

const cache = new Map<string, TakenNames>();

/** The taken names, from the runtime files under `<templatesDir>/runtime`. */
export function takenNames(templatesDir: string): TakenNames {
  const dir = join(templatesDir, 'runtime');
  const sources: { path: string; text: string }[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    sources.push({ path, text: readFileSync(path, 'utf8') });
  }
  sources.sort((a, b) => (a.path < b.path ? -1 : 1));
  const key = contentHash('taken-names 1', ...GENERATED_EXPORTS, AUTH_CORE_CLASS, ...sources.flatMap((s) => [s.path, s.text]));
  const cached = cache.get(key);
  if (cached) return cached;
  const disk = defaultCache();
  let runtime = disk?.get<{ exported: string[]; statics: string[] }>('names', key);
  if (!runtime) {
    runtime = runtimeNames(sources);
    disk?.put('names', key, runtime);
  }
  const exported = new Set<string>([...GENERATED_EXPORTS, ...runtime.exported]);
  const functionOwn = runInNewContext('[...Object.getOwnPropertyNames(Function), ...Object.getOwnPropertyNames(Function.prototype)]') as string[];
  const authStatics = new Set([...AUTH_STATIC_METHODS, ...functionOwn, ...runtime.statics]);
  const globals = new Set(runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]);
  const objectKeys = new Set(['__proto__', ...(runInNewContext('Object.getOwnPropertyNames(Object.prototype)') as string[])]);
  const taken = { exported, authStatics, globals, objectKeys };
  cache.set(key, taken);
  return taken;
}
