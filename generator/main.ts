// Command line of the generator:
//   npm run generate                 write generated/ from spec/ and templates/, then build generated/dist
//   npm run generate:check           exit 1, naming each stale file, when generated/ or its build is not current
//   npm run build                    build generated/dist from generated/src (tsx generator/main.ts --build)
//   tsx generator/main.ts --dump-ir  print the intermediate representation as JSON
// Options for fixtures: --spec <dir> --out <dir>.
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackage, checkedBefore, recordChecked, staleBuild, writeBuild } from './build.js';
import { formatDiagnostics, SpecError } from './diagnostics.js';
import { generate, projectInputs, specToIR } from './pipeline.js';
import { EmittedTypeChecker } from './typecheck.js';
import { checkOutput, writeOutput } from './write.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

const USAGE = `usage: tsx generator/main.ts [--check | --build | --dump-ir] [--spec <dir>] [--out <dir>]
  (no mode)   write the output folder (default generated/) from the spec, then build its dist/
  --check     write nothing; exit 1 naming each stale, missing or extra file, or a stale dist/
  --build     only build dist/ from the output folder's src/
  --dump-ir   print the intermediate representation as JSON
  --spec <dir>, --out <dir>   another spec folder or output folder (default spec/ and generated/)`;

class UsageError extends Error {}

interface Args {
  mode: 'write' | 'check' | 'build' | 'dump-ir';
  spec: string | undefined;
  out: string | undefined;
}

function parseArgs(args: string[]): Args {
  const parsed: Args = { mode: 'write', spec: undefined, out: undefined };
  const modes: Record<string, Args['mode']> = { '--check': 'check', '--build': 'build', '--dump-ir': 'dump-ir' };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg in modes) {
      if (parsed.mode !== 'write') throw new UsageError(`${arg} cannot be combined with --${parsed.mode}`);
      parsed.mode = modes[arg]!;
    } else if (arg === '--spec' || arg === '--out') {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a folder`);
      parsed[arg === '--spec' ? 'spec' : 'out'] = value;
    } else if (arg === '--help' || arg === '-h') {
      throw new UsageError('');
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return parsed;
}

function build(outDir: string, shownOut: string, options: Parameters<typeof buildPackage>[1]): number {
  const errors = buildPackage(outDir, options);
  if (errors.length === 0) return 0;
  console.error(errors.join('\n'));
  console.error(`${shownOut}/src does not compile; ${shownOut}/dist was not marked as built`);
  return 1;
}

function main(argv: string[]): number {
  const args = parseArgs(argv);
  const outDir = resolve(args.out ?? join(root, 'generated'));
  const shownOut = relative(process.cwd(), outDir) || '.';
  if (args.mode === 'build') return build(outDir, shownOut, { typeCheck: true });
  const specDir = args.spec ? resolve(args.spec) : join(root, 'spec');
  const inputs = projectInputs(root, specDir, relative(process.cwd(), specDir).split('\\').join('/') || '.');
  if (args.mode === 'dump-ir') {
    process.stdout.write(JSON.stringify(specToIR(inputs), null, 2) + '\n');
    return 0;
  }
  const checker = new EmittedTypeChecker(root);
  const { files } = generate(inputs, checker, (emitted) => checkedBefore(root, outDir, emitted));
  if (args.mode === 'check') {
    const drift = checkOutput(outDir, files);
    const problems = [
      ...drift.differing.map((p) => `differs: ${shownOut}/${p}`),
      ...drift.missing.map((p) => `missing: ${shownOut}/${p}`),
      ...drift.extra.map((p) => `extra:   ${shownOut}/${p}`),
    ];
    if (problems.length > 0) {
      console.error(problems.join('\n'));
      console.error(`${shownOut}/ is out of date with the spec and templates: run npm run generate and commit the result`);
      return 1;
    }
    const stale = staleBuild(outDir, files);
    if (stale !== undefined) {
      console.error(`stale:   ${shownOut}/dist (${stale})`);
      console.error(`${shownOut}/dist is out of date with ${shownOut}/src: run npm run build`);
      return 1;
    }
    console.log(`${shownOut}/ is up to date (${files.size} files) and so is its build`);
    return 0;
  }
  const { written, removed } = writeOutput(outDir, files);
  console.log(`generated ${files.size} files in ${shownOut}/ (${written} changed, ${removed.length} removed)`);
  recordChecked(root, outDir, files);
  if (staleBuild(outDir, files) === undefined) return 0;
  if (relative(root, outDir).startsWith('..')) {
    // Outside the project its dependencies do not resolve; the in-memory type check above already passed.
    console.log(`${shownOut}/dist not built: ${shownOut} is outside ${root}`);
    return 0;
  }
  const dist = checker.emitBuild();
  if (dist === undefined) return build(outDir, shownOut, { typeCheck: false, reuse: (name) => checker.parsedDeclaration(name) });
  writeBuild(outDir, dist, files);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    if (error.message) console.error(`generator: ${error.message}`);
    console.error(USAGE);
    process.exitCode = error.message ? 2 : 0;
  } else if (error instanceof SpecError) {
    console.error(formatDiagnostics(error.diagnostics));
    console.error(`${error.diagnostics.length} problem(s) in the spec; nothing was generated`);
    process.exitCode = 1;
  } else {
    console.error(`generator failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['DEBUG']) console.error(error);
    process.exitCode = 2;
  }
}
