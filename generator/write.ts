// Write stage, the only one that touches disk. A manifest lists what the
// generator wrote, so a file it no longer makes is removed and a file it
// never made is left alone.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const MANIFEST = '.generated-files';

export interface Drift {
  readonly differing: string[];
  readonly missing: string[];
  readonly extra: string[];
}

function readManifest(outDir: string): string[] {
  const path = join(outDir, MANIFEST);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

function withManifest(files: ReadonlyMap<string, string>): Map<string, string> {
  const all = new Map(files);
  all.set(MANIFEST, [...files.keys()].sort().join('\n') + '\n');
  return all;
}

export function writeOutput(outDir: string, files: ReadonlyMap<string, string>): { written: number; removed: string[] } {
  const all = withManifest(files);
  const removed = readManifest(outDir).filter((p) => !all.has(p));
  for (const path of removed) rmSync(join(outDir, path), { force: true });
  let written = 0;
  for (const [path, text] of all) {
    const full = join(outDir, path);
    if (existsSync(full) && readFileSync(full, 'utf8') === text) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    written++;
  }
  return { written, removed };
}

const IGNORED_DIRS = new Set(['node_modules', 'dist']);
/** What `npm pack` leaves in the package folder: not generated, never compared. */
const PACKED_TARBALL = /\.tgz$/;

function listFiles(dir: string, root = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!IGNORED_DIRS.has(name)) out.push(...listFiles(full, root));
    } else if (!PACKED_TARBALL.test(name)) out.push(relative(root, full).split('\\').join('/'));
  }
  return out;
}

/** Compares what would be written with what is on disk, without writing. */
export function checkOutput(outDir: string, files: ReadonlyMap<string, string>): Drift {
  const all = withManifest(files);
  const drift = { differing: [] as string[], missing: [] as string[], extra: [] as string[] };
  for (const [path, text] of all) {
    const full = join(outDir, path);
    if (!existsSync(full)) drift.missing.push(path);
    else if (readFileSync(full, 'utf8') !== text) drift.differing.push(path);
  }
  drift.extra = listFiles(outDir).filter((p) => !all.has(p)).sort();
  drift.differing.sort();
  drift.missing.sort();
  return drift;
}
