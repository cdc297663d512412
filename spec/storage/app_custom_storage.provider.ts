import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ObjectStorageProvider } from '@planet-auth/sdk';

/**
 * Application storage for the session: each object is a JSON file under
 * `root`, readable by the current user only.
 */
export class DemoStorageProvider implements ObjectStorageProvider {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async loadObj(key: string): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(this.path(key), 'utf8')) as Record<string, unknown>;
  }

  async saveObj(key: string, data: Record<string, unknown>): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const sorted = Object.fromEntries(
      Object.entries(data)
        .filter(([, v]) => v != null)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    await writeFile(file, JSON.stringify(sorted, null, 2) + '\n', { mode: 0o600 });
  }

  async objExists(key: string): Promise<boolean> {
    return stat(this.path(key)).then(
      () => true,
      () => false,
    );
  }

  async mtime(key: string): Promise<number> {
    return (await stat(this.path(key))).mtimeMs / 1000;
  }

  async objRename(src: string, dst: string): Promise<void> {
    await rename(this.path(src), this.path(dst));
  }

  async deleteObj(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
