// Where session objects live. The SDK sees every backend through the same
// small interface as application storage, keyed by `/`-separated relative
// paths such as `.planet/<profile>/token.json`.
import { close, closeSync, constants, fchmod, fchmodSync, fstat, fstatSync, fsync, lstat, lstatSync, open, openSync, promises as fs, readFile, readFileSync, type Stats } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { ERR_STATE_CORRUPT, ERR_STATE_UNSAFE, ERR_STORAGE, StateError } from './errors.js';
import type { ObjectStore } from './registry-public.js';

/** Random hex digits from Web Crypto, which loads on first use: a process that only reads never loads node:crypto. */
function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

export type { ObjectStore } from './registry-public.js';

/**
 * JSON as the CLI writes it: keys sorted at every level, null and undefined
 * dropped, two-space indent, a final newline.
 */
export function stableJson(data: unknown): string {
  return JSON.stringify(sortedWithoutNulls(data), null, 2) + '\n';
}

function sortedWithoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedWithoutNulls);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== null && v !== undefined) out[key] = sortedWithoutNulls(v);
    }
    return out;
  }
  return value;
}

function checkKey(key: string): string[] {
  const parts = key.split('/');
  if (key.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new StateError(ERR_STORAGE, key, `storage key ${JSON.stringify(key)} is not a relative path of plain names`);
  }
  return parts;
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/**
 * Files under a root folder (the home folder for sessions shared with the
 * CLI). Writes go to a temporary file in the same folder, are flushed to disk
 * and renamed over the old file, so a reader sees the old state or the new,
 * never half of one. Files are 0600 and folders this store creates 0700.
 */
export class FileStore implements ObjectStore {
  constructor(readonly root: string) {}

  pathOf(key: string): string {
    return join(this.root, ...checkKey(key));
  }

  async loadObj(key: string): Promise<Record<string, unknown>> {
    const path = this.pathOf(key);
    const torn = new TornReads();
    for (;;) {
      const text = await readRegularFile(path);
      try {
        return parseJsonObject(path, text);
      } catch (error) {
        const pause = torn.next(text);
        if (pause === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    const path = this.pathOf(key);
    await this.makeFolders(dirname(path));
    const temp = `${path}.${process.pid}.${randomHex(6)}.tmp`;
    try {
      const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await handle.writeFile(stableJson(data), 'utf8');
        await flushToDisk(handle);
      } finally {
        await handle.close();
      }
      await fs.rename(temp, path);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw new StateError(ERR_STORAGE, path, `cannot write ${path}: ${(error as Error).message}`, { cause: error });
    }
    await syncFolder(dirname(path));
    await removeAbandonedTemps(path);
  }

  async objExists(key: string): Promise<boolean> {
    try {
      await lstatOf(this.pathOf(key));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
      throw error;
    }
  }

  async mtime(key: string): Promise<number> {
    return (await lstatOf(this.pathOf(key))).mtimeMs / 1000;
  }

  async objRename(src: string, dst: string): Promise<void> {
    const to = this.pathOf(dst);
    await this.makeFolders(dirname(to));
    await fs.rename(this.pathOf(src), to);
  }

  async deleteObj(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  /** Creates missing folders below the root with mode 0700; existing ones keep their mode. */
  private async makeFolders(folder: string): Promise<void> {
    const relativeParts = folder.slice(this.root.length).split(sep).filter(Boolean);
    let current = this.root;
    for (const part of relativeParts) {
      current = join(current, part);
      try {
        await fs.mkdir(current, { mode: 0o700 });
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw new StateError(ERR_STORAGE, current, `cannot create ${current}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}

/**
 * Pauses between reads of a file that did not parse. Planet's Python CLI
 * rewrites `token.json` in place (truncate, then write), so a read can land
 * between the two; the file is whole again a moment later.
 */
/** How long a file that does not parse is read again while it keeps changing (a writer rewriting it in place). */
export const TORN_READ_BUDGET_MS = 3000;
/** A file whose unparsable text stays the same for this long is corrupt, not being written. */
const TORN_READ_SETTLED_MS = 400;

/**
 * When to read a file that did not parse again. The Python CLI rewrites
 * `token.json` in place (truncate, then write), so a reader can land on an
 * empty or half-written file, again and again while rewrites follow each
 * other. Reads are repeated, after short pauses with jitter (so they do not
 * fall into step with a writer's rhythm), while the text keeps changing, up
 * to TORN_READ_BUDGET_MS; the same bad text for TORN_READ_SETTLED_MS means a
 * corrupt file, reported at once.
 */
class TornReads {
  readonly #started = performance.now();
  #attempt = 0;
  #last: string | undefined;
  #lastSince = 0;

  /** The pause before the next read, in ms; undefined to give up. */
  next(text: string): number | undefined {
    const now = performance.now();
    if (text !== this.#last) {
      this.#last = text;
      this.#lastSince = now;
    } else if (text.trim() !== '' && now - this.#lastSince >= TORN_READ_SETTLED_MS) return undefined;
    if (now - this.#started >= TORN_READ_BUDGET_MS) return undefined;
    const base = Math.min(5 * 2 ** this.#attempt++, 80);
    return Math.round(base / 2 + Math.random() * base);
  }
}
/** Read-only, never following a symbolic link, and never blocking on a FIFO or device that has no writer. */
const SAFE_READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0);

function fileKind(info: Stats): string {
  if (info.isFIFO()) return 'a named pipe (FIFO)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** The error for a state file that is not a regular file: refused before anything reads from it. */
function unsafeFile(path: string, info: Stats | 'symlink'): StateError {
  if (info === 'symlink' || info.isSymbolicLink()) {
    return new StateError(ERR_STATE_UNSAFE, path, `${path} is a symbolic link; session files must be regular files. Replace it with the file it points to, or remove it and log in again`);
  }
  return new StateError(
    ERR_STATE_UNSAFE,
    path,
    `${path} is ${fileKind(info)}, not a regular file, so it was not read; session files must be regular files. Move it aside or remove it, then run the command again (log in again if it was a session file)`,
  );
}

function readError(path: string, error: unknown): StateError {
  if (error instanceof StateError) return error;
  if (isErrno(error, 'ELOOP')) return unsafeFile(path, 'symlink');
  return new StateError(ERR_STORAGE, path, `cannot read ${path}: ${(error as Error).message}`, { cause: error });
}

/**
 * A callback-style `node:fs` call as a promise. Reads go this way rather
 * than through `fs.promises`, whose module (and the readline and watcher
 * modules it loads) would add to the start of every command that only reads
 * a valid token.
 */
function settle<T>(call: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));
}

function lstatOf(path: string): Promise<Stats> {
  return settle<Stats>((done) => lstat(path, done));
}

/** Reads a state file that must be a regular file: checked by name first, then opened without blocking and checked again by handle. */
async function readRegularFile(path: string): Promise<string> {
  let fd: number;
  try {
    const info = await lstatOf(path);
    if (!info.isFile()) throw unsafeFile(path, info);
    fd = await settle<number>((done) => open(path, SAFE_READ_FLAGS, done));
  } catch (error) {
    throw readError(path, error);
  }
  try {
    // Checked again on the open descriptor: the name may have been swapped since the lstat.
    const info = await settle<Stats>((done) => fstat(fd, done));
    if (!info.isFile()) throw unsafeFile(path, info);
    if ((info.mode & 0o077) !== 0 && process.platform !== 'win32') {
      // Readable by others: tighten to owner-only rather than refuse, since the content is ours and nothing is lost.
      await settle<void>((done) => fchmod(fd, 0o600, (error) => done(error, undefined)));
    }
    return await settle<string>((done) => readFile(fd, 'utf8', done));
  } finally {
    await settle<void>((done) => close(fd, (error) => done(error, undefined)));
  }
}

function readRegularFileSync(path: string): string {
  let fd: number;
  try {
    const info = lstatSync(path);
    if (!info.isFile()) throw unsafeFile(path, info);
    fd = openSync(path, SAFE_READ_FLAGS);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw error;
    throw readError(path, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw unsafeFile(path, info);
    if ((info.mode & 0o077) !== 0 && process.platform !== 'win32') {
      // Readable by others (such as a ~/.planet.json holding a client secret): tightened to owner-only, as on the async path.
      try {
        fchmodSync(fd, 0o600);
      } catch {
        // Not ours to change: read as it is.
      }
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a JSON object from a state file synchronously, with the same checks
 * and torn-read retries as {@link FileStore.loadObj}; undefined when the file
 * does not exist.
 */
export function readJsonObjectSync(path: string): Record<string, unknown> | undefined {
  const torn = new TornReads();
  for (;;) {
    let text: string;
    try {
      text = readRegularFileSync(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
    try {
      return parseJsonObject(path, text);
    } catch (error) {
      const pause = torn.next(text);
      if (pause === undefined) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files next to `path` left by writers that died mid-write (their process is gone). */
async function removeAbandonedTemps(path: string): Promise<void> {
  const folder = dirname(path);
  const prefix = `${path.slice(folder.length + 1)}.`;
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (match && Number(match[1]) !== process.pid && !processAlive(Number(match[1]))) await fs.rm(join(folder, name), { force: true });
  }
}

/**
 * fsync through the descriptor: `FileHandle.sync()` is missing where a
 * package manager patches `fs` (Yarn Plug'n'Play), while `fs.fsync` works
 * everywhere.
 */
function flushToDisk(handle: fs.FileHandle): Promise<void> {
  return new Promise((resolve, reject) => fsync(handle.fd, (error) => (error ? reject(error) : resolve())));
}

async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await fs.open(folder, constants.O_RDONLY);
    try {
      await flushToDisk(handle);
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  }
}

/**
 * Replaces an object through any store: written under a temporary key, then
 * renamed over the old one, so an atomic rename means no half-written state.
 */
export async function replaceObj(store: ObjectStore, key: string, data: Record<string, unknown>): Promise<void> {
  if (store instanceof FileStore) return store.saveObj(key, data);
  const temp = `${key}.${randomHex(6)}.tmp`;
  await store.saveObj(temp, data);
  await store.objRename(temp, key);
}

/** Parses a state file's text; `location` names it in errors. */
export function parseJsonObject(location: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StateError(ERR_STATE_CORRUPT, location, `${location} is not valid JSON; it was left as it is. Fix or move it aside, then log in again`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StateError(ERR_STATE_CORRUPT, location, `${location} does not hold a JSON object; it was left as it is. Fix or move it aside, then log in again`);
  }
  return value as Record<string, unknown>;
}
