// Emits what makes generated/ a package people install: package.json,
// the build tsconfig, the CLI entry, README.md (from the spec) and LICENSE.
// Consumers get compiled JavaScript and declaration files, so their compiler
// never checks the SDK's sources with their own flags. The package depends on
// exactly the packages its sources import, so nothing unused is installed and
// nothing imported is missing.
import { join } from 'node:path';
import type { SpecIR } from '../ir.js';
import { GRANTS } from '../registry.js';
import { headerLines, markdownHeader, slashHeader } from '../text.js';
import { DOCS_PAGE } from './docs.js';
import { TemplateSet } from './handlebars.js';

export const LICENSE_HOLDER = 'Planet auth SDK contributors';
/** Node 20.19 is the first 20.x that loads this ES module from `require()` without a flag. */
export const NODE_ENGINES = '>=20.19';
/** The Node type declarations the package's declarations are checked against. */
export const NODE_TYPES = '>=20';

export interface PackageInputs {
  /** The workspace's `dependencies`: where the versions of imported packages come from. */
  readonly runtimeDependencies: Readonly<Record<string, string>>;
  /** The workspace's `repository` field; the package points at its own folder in it. */
  readonly repository?: { readonly type: string; readonly url: string } | undefined;
  /** Holds docs/README.md.hbs. */
  readonly templatesDir: string;
  /** The package's TypeScript sources keyed by path under src/, to read their imports. */
  readonly sources: ReadonlyMap<string, string>;
}

/** `from 'x'`, `import('x')`, `import 'x'` and `require('x')`, in either quotes (the bundles use double ones). */
const IMPORT_SPECIFIER = /\b(?:from|import|require)\s*\(?\s*(?:'([^']+)'|"([^"]+)")/g;
/**
 * Packages the runtime loads by name only when a feature needs them (the OS
 * keychain): optional peer dependencies, so nobody else installs them. Their
 * versions come from the workspace's `dependencies` too.
 */
export const OPTIONAL_PEER_DEPENDENCIES = ['@napi-rs/keyring'] as const;

function optionalPeers(inputs: PackageInputs): Record<string, string> {
  return Object.fromEntries(
    OPTIONAL_PEER_DEPENDENCIES.map((name) => {
      const version = inputs.runtimeDependencies[name];
      if (version === undefined) throw new Error(`the runtime loads "${name}" when needed, which the workspace's package.json does not list in "dependencies": add it there (npm install ${name})`);
      return [name, `^${version}`];
    }),
  );
}

/** The registry packages a source file imports (not relative paths, not node: builtins). */
export function importedPackages(source: string): string[] {
  const names = new Set<string>();
  for (const match of source.matchAll(IMPORT_SPECIFIER)) {
    const specifier = (match[1] ?? match[2])!;
    if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...names];
}

function dependenciesOf(inputs: PackageInputs, packageName: string): Record<string, string> {
  const deps: Record<string, string> = {};
  const missing: string[] = [];
  for (const [path, text] of inputs.sources) {
    for (const name of importedPackages(text)) {
      if (name === packageName) throw new Error(`src/${path} imports its own package "${name}": import the module by its relative path`);
      const version = inputs.runtimeDependencies[name];
      if (version === undefined) missing.push(`src/${path} imports "${name}"`);
      else deps[name] = version;
    }
  }
  if (missing.length > 0) {
    throw new Error(`${missing.join('; ')}, which the workspace's package.json does not list in "dependencies": add it there (npm install <name>)`);
  }
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function repositoryOf(inputs: PackageInputs): { type: string; url: string; directory: string } {
  if (!inputs.repository) throw new Error('the workspace\'s package.json has no "repository" field; the generated package points at its folder in that repository, so add one');
  return { type: inputs.repository.type, url: inputs.repository.url, directory: 'generated' };
}

/** The repository's address for a browser (or git clone). */
function browsableRepository(inputs: PackageInputs): string {
  return repositoryOf(inputs)
    .url.replace(/^git\+/, '')
    .replace(/\.git$/, '');
}

/** The package's page: its folder in the repository, whose README GitHub shows. */
function homepageOf(inputs: PackageInputs): string {
  return `${browsableRepository(inputs)}/tree/main/generated#readme`;
}

/** Run before `npm pack`: refuses to pack a folder whose dist/ the workspace has not built. */
const PREPACK_CHECK = [
  "const fs = require('node:fs');",
  "if (!fs.existsSync('dist/.source-hash') || !fs.existsSync('dist/bundle/index.js')) {",
  "console.error('dist/ is not built: run npm run build in the folder above (the workspace), then pack again'); process.exit(1); }",
].join(' ');

function licenseText(): string {
  return `MIT License

Copyright (c) ${LICENSE_HOLDER}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;
}

function readme(ir: SpecIR, inputs: PackageInputs): string {
  const templatesDir = inputs.templatesDir;
  const template = new TemplateSet(join(templatesDir, 'docs')).compile('README.md.hbs');
  // The README's service-account example: the first flow whose grant logs in without a person.
  const m2m = ir.flows.find((f) => GRANTS[f.grant].unattended);
  return template({
    header: markdownHeader([ir.sdk.source]).trimEnd(),
    packageName: ir.sdk.packageName,
    description: ir.sdk.packageDescription,
    authClass: ir.sdk.classes.auth,
    sessionClass: ir.sdk.classes.session,
    cliName: ir.sdk.cliName,
    nodeEngines: NODE_ENGINES,
    nodeTypes: NODE_TYPES,
    // The examples show a service account; a spec without one still gets a factory that exists.
    m2mFactory: (m2m ?? ir.flows[0])?.factory ?? '',
    flows: ir.flows.map((f) => ({ factory: f.factory, title: f.title })),
    storages: ir.storages.map((s) => ({ title: s.title })),
    debugVariable: ir.sdk.environment.debug.name,
    environment: Object.values(ir.sdk.environment).map((e) => ({ name: e.name, doc: e.doc.replace(/\s*\n\s*/g, ' ').trim() })),
    licenseHolder: LICENSE_HOLDER,
    repositoryUrl: browsableRepository(inputs),
    docsUrl: `${browsableRepository(inputs)}/blob/main/generated/docs/${DOCS_PAGE}`,
    // What `npm pack` names the tarball: the scope's @ dropped and its slash made a dash.
    tarballName: `${ir.sdk.packageName.replace(/^@/, '').replace('/', '-')}-${ir.sdk.packageVersion}.tgz`,
  });
}

export function emitPackageFiles(ir: SpecIR, inputs: PackageInputs): Map<string, string> {
  const pkg = {
    '//': headerLines([ir.sdk.source, 'package.json']).join(' '),
    name: ir.sdk.packageName,
    version: ir.sdk.packageVersion,
    description: ir.sdk.packageDescription,
    license: 'MIT',
    repository: repositoryOf(inputs),
    type: 'module',
    engines: { node: NODE_ENGINES },
    homepage: homepageOf(inputs),
    // The library is one ES module bundle (with chunks loaded by a login);
    // its declarations are the compiler's, one file per module.
    main: './dist/bundle/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/bundle/index.js' },
      './package.json': './package.json',
    },
    // Importing the SDK runs no code beyond defining what it exports.
    sideEffects: false,
    bin: { [ir.sdk.cliName]: 'bin/cli.cjs' },
    // The bundles and the declarations; the compiled modules under dist/ are
    // what the bundles were made from, and the API reference is a site of its own.
    files: ['bin', 'dist/bundle', 'dist/**/*.d.ts'],
    scripts: {
      // dist/ is built by the workspace (npm run build there, or npm run generate),
      // which also records what it was built from; packing only checks it is there.
      prepack: `node -e "${PREPACK_CHECK}"`,
    },
    dependencies: dependenciesOf(inputs, ir.sdk.packageName),
    // The declarations name Node's types (fetch, AbortSignal, util.inspect):
    // TypeScript users need them, JavaScript users do not.
    peerDependencies: { ...optionalPeers(inputs), '@types/node': NODE_TYPES },
    peerDependenciesMeta: { ...Object.fromEntries(OPTIONAL_PEER_DEPENDENCIES.map((name) => [name, { optional: true }])), '@types/node': { optional: true } },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      declaration: true,
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
  // The API reference, a site of its own (not in the package): the
  // workspace's `npm run docs` builds it into api-reference/ and fails on an
  // undocumented symbol. It opens on the docs page, whose error table lists
  // every code; on the Auth page the factories come first.
  const typedoc = {
    entryPoints: ['src/index.ts'],
    tsconfig: 'tsconfig.json',
    out: '../api-reference',
    name: ir.sdk.packageName,
    readme: 'docs/application-managed-sessions.md',
    disableSources: true,
    excludePrivate: true,
    excludeInternal: true,
    sort: ['static-first', 'kind', 'alphabetical-ignoring-documents'],
    groupOrder: ['Auth', 'Session', 'Storage', 'Events', 'Errors', 'Methods', 'Accessors', 'Properties', '*'],
    // The guide's diagrams stay Mermaid source, not highlighted code.
    ignoredHighlightLanguages: ['mermaid'],
    navigation: { includeGroups: true },
    validation: { notExported: true, invalidLink: true, notDocumented: true },
    // What SDK_SETTINGS carries inside; users never build these.
    intentionallyNotExported: ['FlowDescriptor', 'SdkSettings'],
  };
  const bin = ['#!/usr/bin/env node', ...headerLines([ir.sdk.source]).map((l) => `// ${l}`), `// The ${ir.sdk.cliName} command: see "${ir.sdk.cliName} --help".`, "require('../dist/bundle/planet-auth.cjs');", ''].join(
    '\n',
  );
  return new Map([
    ['bin/cli.cjs', bin],
    ['LICENSE', licenseText()],
    ['README.md', readme(ir, inputs)],
    ['package.json', JSON.stringify(pkg, null, 2) + '\n'],
    ['tsconfig.json', slashHeader([ir.sdk.source]) + JSON.stringify(tsconfig, null, 2) + '\n'],
    ['typedoc.json', slashHeader([ir.sdk.source]) + JSON.stringify(typedoc, null, 2) + '\n'],
  ]);
}
