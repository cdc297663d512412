// `npm run generate -- --watch`: one run, then another whenever a file under
// the spec folder or templates/ changes (saves that come together make one
// run). The compiler program stays loaded between runs, so a run after a
// one-line edit checks the emitted files against declarations it already
// holds. Each run is a whole run: problems are printed with their spec
// positions and the output folder is left as it was, or replaced whole.
import { watch as watchFolder, type FSWatcher } from 'node:fs';
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
  const watchers: FSWatcher[] = [];
  for (const folder of folders) {
    try {
      watchers.push(watchFolder(folder, { recursive: true }, schedule));
    } catch (error) {
      io.err(`cannot watch ${folder}: ${(error as Error).message}`);
    }
  }
  await once();
  return new Promise((done) => {
    const stop = () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
