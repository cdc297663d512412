// Command line of the generator:
//   npm run generate                 write generated/ from spec/ and templates/
//   npm run generate:check           exit 1, naming each stale file, when generated/ is not current
//   tsx generator/main.ts --dump-ir  print the intermediate representation as JSON
// Options for fixtures: --spec <dir> --out <dir>.
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostics, SpecError } from './diagnostics.js';
import { emitAll, projectInputs, specToIR } from './pipeline.js';
import { checkOutput, writeOutput } from './write.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): number {
  const specArg = option(args, '--spec');
  const outDir = resolve(option(args, '--out') ?? join(root, 'generated'));
  const specDir = specArg ? resolve(specArg) : join(root, 'spec');
  const inputs = projectInputs(root, specDir, relative(process.cwd(), specDir).split('\\').join('/') || '.');
  const ir = specToIR(inputs);
  if (args.includes('--dump-ir')) {
    process.stdout.write(JSON.stringify(ir, null, 2) + '\n');
    return 0;
  }
  const files = emitAll(ir, inputs);
  const shownOut = relative(process.cwd(), outDir) || '.';
  if (args.includes('--check')) {
    const drift = checkOutput(outDir, files);
    const problems = [
      ...drift.differing.map((p) => `differs: ${shownOut}/${p}`),
      ...drift.missing.map((p) => `missing: ${shownOut}/${p}`),
      ...drift.extra.map((p) => `extra:   ${shownOut}/${p}`),
    ];
    if (problems.length === 0) {
      console.log(`${shownOut}/ is up to date (${files.size} files)`);
      return 0;
    }
    console.error(problems.join('\n'));
    console.error(`${shownOut}/ is out of date with the spec and templates: run npm run generate and commit the result`);
    return 1;
  }
  const { written, removed } = writeOutput(outDir, files);
  console.log(`generated ${files.size} files in ${shownOut}/ (${written} changed, ${removed.length} removed)`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof SpecError) {
    console.error(formatDiagnostics(error.diagnostics));
    console.error(`${error.diagnostics.length} problem(s) in the spec; nothing was generated`);
    process.exitCode = 1;
  } else {
    console.error(`generator failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['DEBUG']) console.error(error);
    process.exitCode = 2;
  }
}
