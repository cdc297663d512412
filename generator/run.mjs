#!/usr/bin/env node
// Starts the generator with plain node (no TypeScript loader): generator/*.ts
// is bundled with esbuild into .cache/generate/bin-<hash>/ (gitignored), and
// reused while every source file the bundle was made from still hashes as it
// did; any edit to one rebuilds it first. The bundle loads its stages and
// their packages (yaml, ajv, handlebars, typescript) only when a run needs them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'generate');
const pointer = join(cache, 'bin.json');
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * Size and modification time of a package's file, with the hash of the
 * package's package.json (npm gives every installed file the same time, so
 * the version is what tells one install from another).
 */
const manifests = new Map();
const stamp = (path) => {
  const { size, mtimeMs } = statSync(join(root, path));
  const manifest = `${/^node_modules\/(@[^/]+\/)?[^/]+\//.exec(path)[0]}package.json`;
  if (!manifests.has(manifest)) manifests.set(manifest, sha(readFileSync(join(root, manifest))));
  return `${size} ${mtimeMs} ${manifests.get(manifest)}`;
};

/**
 * The bundle folder, when every one of its sources is unchanged: the
 * project's files by content; the packages' (megabytes of ts-morph) by
 * content too, unless their stamp is as it was when bundled.
 */
function current() {
  try {
    const { dir, inputs, stamps = {} } = JSON.parse(readFileSync(pointer, 'utf8'));
    for (const [path, hash] of Object.entries(inputs)) {
      if (path.startsWith('node_modules/') && stamps[path] !== undefined && stamps[path] === stamp(path)) continue;
      if (sha(readFileSync(join(root, path))) !== hash) return undefined;
    }
    readFileSync(join(cache, dir, 'main.js'));
    return join(cache, dir);
  } catch {
    return undefined;
  }
}

/** ts-morph's `require('./typescript')` resolves to the project's `typescript`: one compiler in the process. */
const oneCompiler = {
  name: 'one-compiler',
  setup(build) {
    build.onResolve({ filter: /^\.\/typescript$/ }, (args) => (args.importer.includes('@ts-morph') ? { path: 'typescript', external: true } : undefined));
  },
};

async function rebuild() {
  const { build } = await import('esbuild');
  mkdirSync(cache, { recursive: true });
  const staging = join(cache, `bin-tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(root, 'generator', 'main.ts'), join(root, 'generator', 'server.ts')],
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Packages load from node_modules, except ts-morph, bundled so that it
    // runs on the project's TypeScript instead of loading its own copy.
    external: ['typescript', 'yaml', 'ajv', 'handlebars', 'esbuild'],
    plugins: [oneCompiler],
    // The bundled CommonJS (ts-morph) requires its packages at run time.
    banner: { js: "import { createRequire as createRequireOfBundle } from 'node:module'; const require = createRequireOfBundle(import.meta.url);" },
    metafile: true,
    logLevel: 'error',
  });
  // This file is an input too: how it bundles is part of the bundle.
  const inputs = { 'generator/run.mjs': sha(readFileSync(fileURLToPath(import.meta.url))) };
  for (const path of Object.keys(result.metafile.inputs).sort()) inputs[relative(root, join(process.cwd(), path))] = sha(readFileSync(join(process.cwd(), path)));
  const dir = `bin-${sha(JSON.stringify(inputs)).slice(0, 16)}`;
  rmSync(join(cache, dir), { recursive: true, force: true });
  renameSync(staging, join(cache, dir));
  const stamps = Object.fromEntries(
    Object.keys(inputs)
      .filter((path) => path.startsWith('node_modules/'))
      .map((path) => [path, stamp(path)]),
  );
  writeFileSync(`${pointer}.${process.pid}.tmp`, JSON.stringify({ dir, inputs, stamps }));
  renameSync(`${pointer}.${process.pid}.tmp`, pointer);
  // Older bundles go once no run can still be loading chunks from them.
  for (const old of readdirSync(cache).filter((n) => n.startsWith('bin-') && n !== dir)) {
    if (Date.now() - statSync(join(cache, old)).mtimeMs > 10 * 60_000) rmSync(join(cache, old), { recursive: true, force: true });
  }
  return join(cache, dir);
}

/** The exit code of the run a warm server made for this command line, or undefined when none answered. */
function viaServer(dir, argv) {
  return new Promise((done) => {
    const socket = connect(join(cache, 'server.sock'));
    let buffer = '';
    let code;
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ argv, cwd: process.cwd(), bundle: dir }) + '\n'));
    socket.on('data', (chunk) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        if ('out' in message) console.log(message.out);
        else if ('err' in message) console.error(message.err);
        else if ('exit' in message) code = message.exit;
      }
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(code));
  });
}

const dir = current() ?? (await rebuild());
const argv = process.argv.slice(2);
const serving = process.env.GENERATOR_SERVER !== '0' && process.env.CI !== 'true' && !argv.includes('--watch');
if (argv[0] === '--serve') {
  const { serve } = await import(pathToFileURL(join(dir, 'server.js')).href);
  await serve(root, dir);
} else {
  const code = serving ? await viaServer(dir, argv) : undefined;
  if (code !== undefined) process.exitCode = code;
  else {
    const { run } = await import(pathToFileURL(join(dir, 'main.js')).href);
    process.exitCode = await run(argv, root);
    if (serving) spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { cwd: root, detached: true, stdio: 'ignore' }).unref();
  }
}
