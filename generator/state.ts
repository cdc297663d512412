// What the last successful run left in the output folder, by content hash:
// `dist/.generate-state.json` records the hash of every input of the run
// (spec, templates, schemas, the generator's own code, package.json and the
// lockfile), of every file it wrote and of every dist/ file it built. A run
// whose inputs hash the same and whose files on disk still hash as recorded
// has nothing to do; a dist/ file that was edited, removed or replaced by a
// link is found here, by `generate:check` and by `generate`, which rebuilds it.
// Light on purpose: this module loads no parser and no compiler.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const STATE = 'dist/.generate-state.json';
const FORMAT = 1;

export interface OutputState {
  readonly format: number;
  /** Hash of the inputs of the run that wrote the folder (absent after a plain build). */
  readonly inputs?: string;
  /** Hash of the build's inputs (tsconfig.json and src/), as build.ts computes it. */
  readonly source: string;
  /** Every file the generator wrote (paths under the output folder), by hash. */
  readonly files: Record<string, string>;
  /** Every file of the build (`dist/...`), by hash. */
  readonly dist: Record<string, string>;
}

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Paths and bytes of the regular files under `dir` (links followed, as a reader of the spec would). */
function walk(dir: string, hash: ReturnType<typeof createHash>, skip: ReadonlySet<string> = new Set()): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }).map(String).sort();
  } catch {
    hash.update(`absent ${dir}\u0000`);
    return;
  }
  for (const entry of entries) {
    if (entry.split('/').some((part) => skip.has(part))) continue;
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, entry));
    } catch {
      continue; // a folder, or unreadable: a full run reports it
    }
    hash.update(`${entry}\u0000${bytes.length}\u0000`);
    hash.update(bytes);
  }
}

/** Hash of everything a run reads: the spec and templates folders, the schemas, the generator, package.json, the lockfile and where it writes. */
export function inputsHash(root: string, specDir: string, outDir: string, mode: string): string {
  const hash = createHash('sha256');
  hash.update(`format ${FORMAT}\u0000${mode}\u0000${specDir}\u0000${outDir}\u0000${process.version}\u0000`);
  for (const dir of [specDir, join(root, 'spec', 'schema'), join(root, 'templates'), join(root, 'generator')]) {
    hash.update(`dir ${dir}\u0000`);
    walk(dir, hash, new Set(['node_modules']));
  }
  for (const file of ['package.json', 'package-lock.json']) {
    try {
      hash.update(readFileSync(join(root, file)));
    } catch {
      hash.update('absent');
    }
  }
  return hash.digest('hex');
}

export function hashRecord(files: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const path of [...files.keys()].sort()) out[path] = sha(files.get(path)!);
  return out;
}

export function readState(outDir: string): OutputState | undefined {
  try {
    const full = join(outDir, STATE);
    if (!lstatSync(full).isFile()) return undefined;
    const state = JSON.parse(readFileSync(full, 'utf8')) as OutputState;
    return state.format === FORMAT && typeof state.files === 'object' && typeof state.dist === 'object' ? state : undefined;
  } catch {
    return undefined;
  }
}

/** The state as a file of the staged dist/ (path and text). */
export function stateText(state: Omit<OutputState, 'format'>): string {
  return JSON.stringify({ format: FORMAT, ...state }, null, 1) + '\n';
}

/** Rewrites the state in place (a new file renamed over the old, never written through a link). */
export function writeState(outDir: string, state: Omit<OutputState, 'format'>): void {
  const full = join(outDir, STATE);
  const temp = `${full}.${process.pid}.tmp`;
  writeFileSync(temp, stateText(state), { flag: 'w' });
  renameSync(temp, full);
}

/** Paths (under `outDir`) of recorded files that are missing, not regular files, or hash otherwise. */
export function changedFiles(outDir: string, record: Record<string, string>): { changed: string[]; missing: string[] } {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [path, expected] of Object.entries(record)) {
    const full = join(outDir, path);
    let isFile: boolean;
    try {
      isFile = lstatSync(full).isFile();
    } catch {
      missing.push(path);
      continue;
    }
    if (!isFile || sha(readFileSync(full)) !== expected) changed.push(path);
  }
  return { changed, missing };
}

/** Files under `outDir` outside dist/ and node_modules/ that the state does not list. */
function extraFiles(outDir: string, record: Record<string, string>): string[] {
  let entries: string[];
  try {
    entries = readdirSync(outDir, { recursive: true }).map(String);
  } catch {
    return [];
  }
  return entries.filter((p) => !(p in record) && !/^(dist|node_modules)(\/|$)/.test(p) && !safeIsDir(join(outDir, p)));
}

function safeIsDir(full: string): boolean {
  try {
    return lstatSync(full).isDirectory();
  } catch {
    return false;
  }
}

/** Whether a run with these inputs has nothing to do: same inputs, and every file it wrote still as written. Returns the number of files then. */
export function upToDate(outDir: string, inputs: string): number | undefined {
  const state = readState(outDir);
  if (state?.inputs !== inputs) return undefined;
  const files = changedFiles(outDir, state.files);
  const dist = changedFiles(outDir, state.dist);
  if (files.changed.length + files.missing.length + dist.changed.length + dist.missing.length > 0) return undefined;
  if (extraFiles(outDir, state.files).length > 0) return undefined;
  return Object.keys(state.files).length;
}

/** Problems of dist/ against the state: lines such as `changed: dist/x.js`, or why there is no record. */
export function distProblems(outDir: string, source: string): string[] {
  const state = readState(outDir);
  if (!state) return [`${relative(process.cwd(), join(outDir, STATE)) || STATE} is missing or unreadable: dist/ was not built by npm run generate or npm run build`];
  if (state.source !== source) return ['dist/ was built from other sources'];
  const { changed, missing } = changedFiles(outDir, state.dist);
  return [...changed.map((p) => `changed: ${p}`), ...missing.map((p) => `missing: ${p}`)];
}

/** The build's files as they are on disk now (after a build from disk), for the state. */
export function distOnDisk(outDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const dist = join(outDir, 'dist');
  let entries: string[];
  try {
    entries = readdirSync(dist, { recursive: true }).map(String);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.startsWith('api/') || entry === 'api' || entry.split('/').some((p) => p.startsWith('.'))) continue;
    const full = join(dist, entry);
    if (lstatSync(full).isFile()) out.set(`dist/${entry}`, readFileSync(full, 'utf8'));
  }
  return out;
}
