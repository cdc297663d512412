// A content-addressed cache under <project>/.cache/generate (gitignored):
// each entry is a JSON file named by the hash of everything it was made
// from, so a stale entry is never found, only left unused. An entry that
// cannot be read or parsed counts as missing; entries are written to a
// temporary file and renamed, so a reader never sees half of one.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Entries of one kind kept at most; older ones are removed when a new one is written. */
const KEEP = 8;

export function contentHash(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(String(part.length));
    hash.update('\u0000');
    hash.update(part);
  }
  return hash.digest('hex');
}

let defaultRoot: string | undefined;

/** Makes `<root>/.cache/generate` the cache of the stages that take no folder of their own (main sets it; tests leave it unset). */
export function useCacheIn(root: string | undefined): void {
  defaultRoot = root;
}

export function defaultCache(): ContentCache | undefined {
  return defaultRoot === undefined ? undefined : new ContentCache(defaultRoot);
}

export class ContentCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, '.cache', 'generate');
  }

  get<T>(kind: string, key: string): T | undefined {
    try {
      const entry = JSON.parse(readFileSync(join(this.dir, `${kind}-${key}.json`), 'utf8')) as { key?: unknown; value?: T };
      return entry.key === key ? entry.value : undefined;
    } catch {
      return undefined;
    }
  }

  put(kind: string, key: string, value: unknown): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      const path = join(this.dir, `${kind}-${key}.json`);
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify({ key, value }));
      renameSync(temp, path);
      this.prune(kind);
    } catch {
      // A cache that cannot be written only costs time.
    }
  }

  private prune(kind: string): void {
    const entries = readdirSync(this.dir)
      .filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.json'))
      .map((n) => ({ n, t: statSync(join(this.dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { n } of entries.slice(KEEP)) rmSync(join(this.dir, n), { force: true });
  }
}
