// Command line of the generator:
//   npm run generate                 write generated/ from spec/ and templates/, then build generated/dist
//   npm run generate -- --watch      the same, then again on every save under spec/ and templates/
//   npm run generate:check           exit 1, naming each stale file, when generated/ or its build is not current
//   npm run build                    build generated/dist from generated/src
//   node generator/run.mjs --dump-ir print the intermediate representation as JSON
// Options for fixtures: --spec <dir> --out <dir>.
// `npm run generate` runs generator/run.mjs, which keeps a bundle of these
// modules current and runs it with plain node; `tsx generator/main.ts` runs
// the same code from source. Only what a mode needs is loaded: a run whose
// inputs and outputs hash as the last run left them loads no parser and no
// compiler.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { useCacheIn } from './cache.js';
import { hashRecord, inputsHash, upToDate } from './state.js';
import type { EmittedTypeChecker } from './typecheck.js';

export const USAGE = `usage: npm run generate -- [--check | --build | --dump-ir | --watch] [--spec <dir>] [--out <dir>]
  (no mode)   write the output folder (default generated/) from the spec, then build its dist/
  --watch     the same, then again whenever a file under the spec or templates folder changes
  --check     write nothing; exit 1 naming each stale, missing or extra file, or a stale or changed dist/ file
  --build     only build dist/ from the output folder's src/
  --dump-ir   print the intermediate representation as JSON
  --spec <dir>, --out <dir>   another spec folder or output folder (default spec/ and generated/)`;

export class UsageError extends Error {}

export interface Args {
  mode: 'write' | 'check' | 'build' | 'dump-ir' | 'watch';
  spec: string | undefined;
  out: string | undefined;
}

/** Where a run prints; the watch loop and tests pass their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = { out: (text) => console.log(text), err: (text) => console.error(text) };

/** What a long-running generator keeps between runs: one compiler program, reused. */
export interface Warm {
  checker?: EmittedTypeChecker;
}

export function parseArgs(args: readonly string[]): Args {
  const parsed: Args = { mode: 'write', spec: undefined, out: undefined };
  const modes: Record<string, Args['mode']> = { '--check': 'check', '--build': 'build', '--dump-ir': 'dump-ir', '--watch': 'watch' };
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

export interface Paths {
  root: string;
  outDir: string;
  shownOut: string;
  specDir: string;
  shownSpec: string;
}

export function paths(root: string, args: Args): Paths {
  const outDir = resolve(args.out ?? join(root, 'generated'));
  const specDir = args.spec ? resolve(args.spec) : join(root, 'spec');
  return { root, outDir, shownOut: relative(process.cwd(), outDir) || '.', specDir, shownSpec: relative(process.cwd(), specDir).split('\\').join('/') || '.' };
}

async function build(p: Paths, io: Io, warm: Warm): Promise<number> {
  const { buildPackage } = await import('./build.js');
  // A warm generator hands over the lib and node_modules declarations its checker already parsed.
  const errors = buildPackage(p.outDir, { typeCheck: true, reuse: warm.checker && ((name) => warm.checker!.parsedDeclaration(name)) });
  if (errors.length > 0) {
    io.err(errors.join('\n'));
    io.err(`${p.shownOut}/src does not compile; ${p.shownOut}/dist was not marked as built`);
    return 1;
  }
  await recordBuiltFromDisk(p);
  return 0;
}

/** Records dist/ as built from the sources on disk (after a build that compiled them there). */
async function recordBuiltFromDisk(p: Paths, files?: ReadonlyMap<string, string>, inputs?: string): Promise<void> {
  const { BUILD_STAMP } = await import('./build.js');
  const { distOnDisk, writeState } = await import('./state.js');
  const { withManifest } = await import('./write.js');
  const source = readFileSync(join(p.outDir, BUILD_STAMP), 'utf8').trim();
  writeState(p.outDir, { ...(inputs ? { inputs } : {}), source, files: files ? hashRecord(withManifest(files)) : {}, dist: hashRecord(distOnDisk(p.outDir)) });
}

/** One run of a mode other than --watch; `warm` keeps the compiler between runs of the watch loop. */
export async function runOnce(args: Args, p: Paths, io: Io, warm: Warm = {}): Promise<number> {
  if (args.mode === 'build') return build(p, io, warm);
  const inside = !relative(p.root, p.outDir).startsWith('..');
  let inputs = args.mode === 'write' && inside ? inputsHash(p.root, p.specDir, p.outDir, 'write') : undefined;
  if (inputs !== undefined) {
    const count = upToDate(p.outDir, inputs);
    if (count !== undefined) {
      io.out(`generated ${count - 1} files in ${p.shownOut}/ (0 changed, 0 removed)`);
      return 0;
    }
  }
  const { generate, projectInputs, specToIR } = await import('./pipeline.js');
  if (args.mode === 'write') {
    // The schema's allowed values follow the registry: written here, so a module added there needs no edit in spec/schema.
    const { writeRegistryEnums } = await import('./registry.js');
    const written = await writeRegistryEnums(join(p.specDir, 'schema'), `${p.shownSpec}/schema`);
    if (written.length > 0) {
      io.out(`wrote the registry's allowed values into ${written.join(', ')}`);
      if (inputs !== undefined) inputs = inputsHash(p.root, p.specDir, p.outDir, 'write');
    }
  }
  const specInputs = projectInputs(p.root, p.specDir, p.shownSpec);
  if (args.mode === 'dump-ir') {
    io.out(JSON.stringify(specToIR(specInputs), null, 2));
    return 0;
  }
  const { checkedBefore, recordChecked, sourceHash, staleBuild, BUILD_STAMP } = await import('./build.js');
  const { checkOutput, writeOutput, withManifest } = await import('./write.js');
  const { distProblems, stateText, STATE } = await import('./state.js');
  const { EmittedTypeChecker } = await import('./typecheck.js');
  const checker = (warm.checker ??= new EmittedTypeChecker(p.root));
  const current = (files: ReadonlyMap<string, string>) => {
    const drift = checkOutput(p.outDir, files);
    return drift.differing.length + drift.missing.length + drift.extra.length === 0 && staleBuild(p.outDir, files) === undefined && distProblems(p.outDir, sourceHash(files)).length === 0;
  };
  // --check may skip the type check of files that passed it before; a write
  // skips it only when nothing at all is to be written.
  let vouched = false;
  const vouch = (files: ReadonlyMap<string, string>) => (vouched = args.mode === 'check' ? checkedBefore(p.root, p.outDir, files) : inside && checkedBefore(p.root, p.outDir, files) && current(files));
  const { files } = generate(specInputs, checker, vouch);
  if (args.mode === 'check') {
    const drift = checkOutput(p.outDir, files);
    const problems = [...drift.differing.map((f) => `differs: ${p.shownOut}/${f}`), ...drift.missing.map((f) => `missing: ${p.shownOut}/${f}`), ...drift.extra.map((f) => `extra:   ${p.shownOut}/${f}`)];
    if (problems.length > 0) {
      io.err(problems.join('\n'));
      io.err(`${p.shownOut}/ is out of date with the spec and templates: run npm run generate and commit the result`);
      return 1;
    }
    const stale = staleBuild(p.outDir, files);
    const distIssues = stale === undefined ? distProblems(p.outDir, sourceHash(files)) : [];
    if (stale !== undefined || distIssues.length > 0) {
      io.err(stale !== undefined ? `stale:   ${p.shownOut}/dist (${stale})` : distIssues.map((line) => line.replace(/^(changed|missing): /, `$1: ${p.shownOut}/`)).join('\n'));
      io.err(stale !== undefined ? `${p.shownOut}/dist is out of date with ${p.shownOut}/src: run npm run build` : `${p.shownOut}/dist is not as it was built: run npm run generate, which rebuilds it`);
      return 1;
    }
    const { schemaDrift } = await import('./registry.js');
    const schemaProblems = schemaDrift(join(p.specDir, 'schema'), `${p.shownSpec}/schema`);
    if (schemaProblems.length > 0) {
      io.err(schemaProblems.join('\n'));
      io.err(`the allowed values in ${p.shownSpec}/schema are written from the registry: run npm run generate and commit the result`);
      return 1;
    }
    io.out(`${p.shownOut}/ is up to date (${files.size} files) and so is its build`);
    return 0;
  }
  const record = hashRecord(withManifest(files));
  if (vouched) {
    // Vouched for and already on disk: the compiled modules stand; the bundles are made again, since how
    // they are made (generator/build.ts) is among the inputs that changed, then everything is recorded.
    const { finishDist } = await import('./build.js');
    finishDist(p.outDir);
    await recordBuiltFromDisk(p, files, inputs);
    io.out(`generated ${files.size} files in ${p.shownOut}/ (0 changed, 0 removed)`);
    return 0;
  }
  const built = inside ? checker.emitBuild() : undefined;
  let dist: Map<string, string> | undefined;
  if (built) {
    dist = new Map(built);
    dist.set(BUILD_STAMP, sourceHash(files) + '\n');
    dist.set(STATE, stateText({ inputs, source: sourceHash(files), files: record, dist: hashRecord(built) }));
  }
  const { written, removed } = writeOutput(p.outDir, files, dist);
  io.out(`generated ${files.size} files in ${p.shownOut}/ (${written} changed, ${removed.length} removed)`);
  recordChecked(p.root, p.outDir, files);
  if (!inside) {
    // Outside the project its dependencies do not resolve; the in-memory type check above already passed.
    io.out(`${p.shownOut}/dist not built: ${p.shownOut} is outside ${p.root}`);
    return 0;
  }
  if (dist) {
    // The compiled modules came from memory; the headers and the bundles are made from them on disk, then recorded.
    const { finishDist } = await import('./build.js');
    finishDist(p.outDir);
    await recordBuiltFromDisk(p, files, inputs);
    return 0;
  }
  const { buildPackage } = await import('./build.js');
  const errors = buildPackage(p.outDir, { typeCheck: false, reuse: (name) => checker.parsedDeclaration(name) });
  if (errors.length > 0) {
    io.err(errors.join('\n'));
    io.err(`${p.shownOut}/src does not compile; ${p.shownOut}/dist was not marked as built`);
    return 1;
  }
  await recordBuiltFromDisk(p, files, inputs);
  return 0;
}

/** Runs the command line; returns the exit code. */
export async function run(argv: readonly string[], root: string, io: Io = processIo): Promise<number> {
  useCacheIn(root);
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) io.err(`generator: ${error.message}`);
    io.err(USAGE);
    return error.message ? 2 : 0;
  }
  const p = paths(root, args);
  if (args.mode === 'watch') {
    const { watch } = await import('./watch.js');
    return watch(p, io);
  }
  return runReporting(args, p, io);
}

/** runOnce, with spec problems and failures printed rather than thrown. */
export async function runReporting(args: Args, p: Paths, io: Io, warm: Warm = {}): Promise<number> {
  try {
    return await runOnce(args, p, io, warm);
  } catch (error) {
    const { formatDiagnostics, SpecError } = await import('./diagnostics.js');
    if (error instanceof SpecError) {
      io.err(formatDiagnostics(error.diagnostics));
      io.err(`${error.diagnostics.length} problem(s) in the spec; nothing was generated`);
      return 1;
    }
    io.err(`generator failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env['DEBUG']) io.err(String(error instanceof Error ? error.stack : error));
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await run(process.argv.slice(2), resolve(fileURLToPath(new URL('..', import.meta.url))));
}
