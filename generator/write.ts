// Write stage, the only one that touches the output folder, and all at once:
// the whole new output (and its dist/, when it was built in memory) is
// written into a fresh staging folder beside it, then swapped in with two
// renames. A run that fails before the swap leaves the folder as it was; one
// killed between the two renames is put back by the next run. Nothing is
// written through a link: the staging folder is new, and a link planted in
// the old folder is removed with it (only the link, never what it points
// at). What the generator does not make (node_modules/, the API reference
// under dist/api/) is moved over unchanged.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

export const MANIFEST = '.generated-files';

export interface Drift {
  readonly differing: string[];
  readonly missing: string[];
  readonly extra: string[];
}

export function withManifest(files: ReadonlyMap<string, string>): Map<string, string> {
  const all = new Map(files);
  all.set(MANIFEST, [...files.keys()].sort().join('\n') + '\n');
  return all;
}

/** The file's text when it is a regular file (not a link, not a folder), else undefined. */
export function readRegular(full: string): string | undefined {
  try {
    return lstatSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

const sibling = (outDir: string, what: string) => join(dirname(outDir), `.${basename(outDir)}.${what}-`);

/** Puts back an output folder left aside by a run killed in the middle of its swap. */
function recover(outDir: string): void {
  if (existsSync(outDir)) return;
  const prefix = basename(sibling(outDir, 'old'));
  let aside: string[] = [];
  try {
    aside = readdirSync(dirname(outDir)).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  if (aside.length > 0) renameSync(join(dirname(outDir), aside.sort().at(-1)!), outDir);
}

function writeTree(dir: string, files: ReadonlyMap<string, string>): void {
  for (const [path, text] of files) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    // A script (`#!` on its first line, such as bin/cli.js) is made executable.
    writeFileSync(full, text, { flag: 'wx', mode: text.startsWith('#!') ? 0o755 : 0o644 });
  }
}

/** Moves the entries of `from` that `made` has no file under into `to`: the parts of the old folder the generator does not own. */
function carryOver(from: string, to: string, made: ReadonlySet<string>, skip: ReadonlySet<string>): void {
  let names: string[];
  try {
    names = readdirSync(from);
  } catch {
    return;
  }
  for (const name of names) {
    if (skip.has(name) || made.has(name)) continue;
    mkdirSync(to, { recursive: true });
    renameSync(join(from, name), join(to, name));
  }
}

/**
 * Replaces `outDir` with exactly `files` (and `dist`, paths under dist/, when
 * given; otherwise the old dist/ is kept). Returns how many files differ
 * from what was there, and which files the last run made that this one does not.
 */
export function writeOutput(outDir: string, files: ReadonlyMap<string, string>, dist?: ReadonlyMap<string, string>): { written: number; removed: string[] } {
  recover(outDir);
  const all = withManifest(files);
  const before = readManifest(outDir);
  const removed = before.filter((p) => !all.has(p));
  let written = 0;
  for (const [path, text] of all) if (readRegular(join(outDir, path)) !== text) written++;
  mkdirSync(dirname(outDir), { recursive: true });
  const stage = mkdtempSync(sibling(outDir, 'staging'));
  try {
    writeTree(stage, all);
    if (dist) writeTree(stage, dist);
    const top = new Set([...all.keys()].map((p) => p.split('/')[0]!));
    carryOver(outDir, stage, top, new Set(['dist']));
    if (dist) carryOver(join(outDir, 'dist'), join(stage, 'dist'), new Set([...dist.keys()].map((p) => p.split('/')[1]!)), buildOutputs(join(outDir, 'dist')));
    else carryOver(outDir, stage, new Set(), new Set([...top].filter((n) => n !== 'dist')));
  } catch (error) {
    rmSync(stage, { recursive: true, force: true });
    throw error;
  }
  if (existsSync(outDir) || lstatSafe(outDir)) {
    const aside = mkdtempSync(sibling(outDir, 'old'));
    rmSync(aside, { recursive: true });
    renameSync(outDir, aside);
    renameSync(stage, outDir);
    rmSync(aside, { recursive: true, force: true });
  } else {
    renameSync(stage, outDir);
  }
  return { written, removed };
}

/** Entries of an old dist/ that a build makes (compiled files, stamps, the runtime folder): never carried over, so nothing stale survives. */
function buildOutputs(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir).filter((n) => n.startsWith('.') || n === 'runtime' || n === 'bundle' || /\.(js|d\.ts)(\.map)?$/.test(n)));
  } catch {
    return new Set();
  }
}

function lstatSafe(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function readManifest(outDir: string): string[] {
  return (readRegular(join(outDir, MANIFEST)) ?? '').split('\n').filter(Boolean);
}

const IGNORED_DIRS = new Set(['node_modules', 'dist']);
/** What `npm pack` leaves in the package folder: not generated, never compared. */
const PACKED_TARBALL = /\.tgz$/;

function listFiles(dir: string, root = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!IGNORED_DIRS.has(entry.name)) out.push(...listFiles(full, root));
    } else if (!PACKED_TARBALL.test(entry.name)) out.push(relative(root, full).split('\\').join('/'));
  }
  return out;
}

/** Compares what would be written with what is on disk, without writing; a link where a file belongs differs. */
export function checkOutput(outDir: string, files: ReadonlyMap<string, string>): Drift {
  const all = withManifest(files);
  const drift = { differing: [] as string[], missing: [] as string[], extra: [] as string[] };
  for (const [path, text] of all) {
    const full = join(outDir, path);
    if (!lstatSafe(full)) drift.missing.push(path);
    else if (readRegular(full) !== text || (text.startsWith('#!') && (lstatSync(full).mode & 0o111) === 0)) drift.differing.push(path);
  }
  drift.extra = listFiles(outDir)
    .filter((p) => !all.has(p))
    .sort();
  drift.differing.sort();
  drift.missing.sort();
  return drift;
}
