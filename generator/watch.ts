// `npm run generate -- --watch`: one run, then another whenever a file under
// the spec folder or templates/ changes (saves that come together make one
// run). The compiler program stays loaded between runs, so a run after a
// one-line edit checks the emitted files against declarations it already
// holds. Each run is a whole run: problems are printed with their spec
// positions and the output folder is left as it was, or replaced whole.
import { existsSync, readdirSync, watch as watchFolder, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { runReporting, type Io, type Paths, type Warm } from './main.js';

/** Saves closer together than this make one run. */
const SETTLE_MS = 40;

export async function watch(p: Paths, io: Io): Promise<number> {
  const warm: Warm = {};
  const folders = [...new Set([p.specDir, join(p.root, 'spec', 'schema'), join(p.root, 'templates')])];
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const once = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      const started = performance.now();
      const code = await runReporting({ mode: 'write', spec: undefined, out: undefined }, p, io, warm);
      io.out(`${code === 0 ? 'ok' : 'failed'} in ${((performance.now() - started) / 1000).toFixed(2)} s; watching ${folders.map((f) => relative(process.cwd(), f) || '.').join(', ')}`);
    } while (again);
    running = false;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void once(), SETTLE_MS);
  };
  const stopWatching = watchTree(folders, schedule, io);
  await once();
  return new Promise((done) => {
    const stop = () => {
      clearTimeout(timer);
      stopWatching();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Watches each folder under `roots` on its own, adding folders that appear
 * and dropping those that go. A folder's watch sees a file saved by writing
 * a new one and renaming it over the old (as many editors save), which a
 * watch on the file itself, or Node's recursive watch on Linux, loses track
 * of after the first such save.
 */
function watchTree(roots: readonly string[], changed: () => void, io: Io): () => void {
  const watchers = new Map<string, FSWatcher>();
  const add = (dir: string) => {
    if (watchers.has(dir)) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      const watcher = watchFolder(dir, () => {
        // A folder made, moved in or removed here changes what is watched.
        for (const [path, w] of watchers) {
          if ((path === dir || path.startsWith(`${dir}/`)) && !existsSync(path)) {
            w.close();
            watchers.delete(path);
          }
        }
        add(dir);
        rescan(dir);
        changed();
      });
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(dir);
      });
      watchers.set(dir, watcher);
    } catch (error) {
      io.err(`cannot watch ${dir}: ${(error as Error).message}`);
      return;
    }
    for (const entry of entries) if (entry.isDirectory() && entry.name !== 'node_modules') add(join(dir, entry.name));
  };
  const rescan = (dir: string) => {
    try {
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory() && entry.name !== 'node_modules') add(join(dir, entry.name));
    } catch {
      // gone: its watcher is closed on its own error or by its parent's next event
    }
  };
  for (const root of roots) {
    if (!existsSync(root)) io.err(`cannot watch ${root}: no such folder`);
    add(root);
  }
  return () => {
    for (const w of watchers.values()) w.close();
    watchers.clear();
  };
}
