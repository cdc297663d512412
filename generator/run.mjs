#!/usr/bin/env node
// Starts the generator with plain node (no TypeScript loader): generator/*.ts
// is bundled with esbuild into .cache/generate/bin-<hash>/ (gitignored), and
// reused while every source file the bundle was made from still hashes as it
// did; any edit to one rebuilds it first. The bundle loads its stages and
// their packages (yaml, ajv, handlebars, typescript) only when a run needs them.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'generate');
const pointer = join(cache, 'bin.json');
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The bundle folder, when every one of its sources is unchanged. */
function current() {
  try {
    const { dir, inputs } = JSON.parse(readFileSync(pointer, 'utf8'));
    for (const [path, hash] of Object.entries(inputs)) if (sha(readFileSync(join(root, path))) !== hash) return undefined;
    readFileSync(join(cache, dir, 'main.js'));
    return join(cache, dir);
  } catch {
    return undefined;
  }
}

async function rebuild() {
  const { build } = await import('esbuild');
  mkdirSync(cache, { recursive: true });
  const staging = join(cache, `bin-tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(root, 'generator', 'main.ts')],
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'error',
  });
  const inputs = {};
  for (const path of Object.keys(result.metafile.inputs).sort()) inputs[relative(root, join(process.cwd(), path))] = sha(readFileSync(join(process.cwd(), path)));
  const dir = `bin-${sha(JSON.stringify(inputs)).slice(0, 16)}`;
  rmSync(join(cache, dir), { recursive: true, force: true });
  renameSync(staging, join(cache, dir));
  writeFileSync(`${pointer}.${process.pid}.tmp`, JSON.stringify({ dir, inputs }));
  renameSync(`${pointer}.${process.pid}.tmp`, pointer);
  // Older bundles go once no run can still be loading chunks from them.
  for (const old of readdirSync(cache).filter((n) => n.startsWith('bin-') && n !== dir)) {
    if (Date.now() - statSync(join(cache, old)).mtimeMs > 10 * 60_000) rmSync(join(cache, old), { recursive: true, force: true });
  }
  return join(cache, dir);
}

const dir = current() ?? (await rebuild());
const { run } = await import(pathToFileURL(join(dir, 'main.js')).href);
process.exitCode = await run(process.argv.slice(2), root);
