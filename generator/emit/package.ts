// Emits the generated package's own package.json and build tsconfig. Its
// runtime dependencies are the workspace's `dependencies`, nothing else.
import type { SpecIR } from '../ir.js';
import { headerLines, slashHeader } from '../text.js';

export function emitPackageFiles(ir: SpecIR, runtimeDependencies: Readonly<Record<string, string>>): Map<string, string> {
  const deps = Object.fromEntries(Object.entries(runtimeDependencies).sort(([a], [b]) => (a < b ? -1 : 1)));
  const pkg = {
    '//': headerLines([ir.sdk.source, 'package.json']).join(' '),
    name: ir.sdk.packageName,
    version: ir.sdk.packageVersion,
    description: ir.sdk.packageDescription,
    type: 'module',
    engines: { node: '>=20' },
    exports: { '.': { types: './src/index.ts', default: './dist/index.js' } },
    types: './src/index.ts',
    bin: { [ir.sdk.cliName]: './bin/cli.js' },
    files: ['bin', 'src', 'dist', 'docs', 'examples'],
    scripts: { build: 'tsc -p tsconfig.json' },
    dependencies: deps,
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023'],
      types: ['node'],
      strict: true,
      declaration: false,
      sourceMap: true,
      skipLibCheck: true,
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
  const bin = [
    '#!/usr/bin/env node',
    ...headerLines([ir.sdk.source]).map((l) => `// ${l}`),
    `// The ${ir.sdk.cliName} command: see "${ir.sdk.cliName} --help".`,
    "import { CLI_SPEC } from '../dist/cli.js';",
    "import { main } from '../dist/runtime/cli.js';",
    '',
    'await main(CLI_SPEC);',
    '',
  ].join('\n');
  return new Map([
    ['bin/cli.js', bin],
    ['package.json', JSON.stringify(pkg, null, 2) + '\n'],
    ['tsconfig.json', slashHeader([ir.sdk.source]) + JSON.stringify(tsconfig, null, 2) + '\n'],
  ]);
}
