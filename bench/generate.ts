// The everyday loop's cost: `npm run generate` after a one-line spec edit and
// with nothing changed, and a save under `--watch`, each as the median of 7
// runs next to `node -e 0`.
// Runs on a copy of spec/ written to a folder of the project (so dist/ is
// built as for generated/); the first run warms the generator's server, as a
// developer's first run of the day does.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Row = [measure: string, figure: string, target: string, verdict: string];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function generateRows(root: string, runs = 7): Row[] {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const scratch = mkdtempSync(join(root, '.tmp', 'bench-generate-'));
  try {
    const spec = join(scratch, 'spec');
    cpSync(join(root, 'spec'), spec, { recursive: true, filter: (src) => !src.includes(join('spec', 'schema')) });
    const out = join(scratch, 'generated');
    const time = (command: string, args: string[]) => {
      const started = performance.now();
      const r = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
      return performance.now() - started;
    };
    const npm = () => time('npm', ['run', '-s', 'generate', '--', '--spec', spec, '--out', out]);
    const bare = () => time(process.execPath, ['-e', '0']);
    const flow = join(spec, 'flows/m2m.yaml');
    const original = readFileSync(flow, 'utf8');
    const edit = (i: number) => writeFileSync(flow, original.replace('title: Service account (client credentials)', `title: Service account (client credentials) ${i}`));
    npm(); // the first run of the day: builds the bundle, fills the cache, starts the server
    edit(-1);
    npm();
    const edited: number[] = [];
    const unchanged: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) {
      node.push(bare());
      edit(i);
      edited.push(npm());
      unchanged.push(npm());
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return [
      ['`npm run generate` after a one-line spec edit (median of 7)', `${s(median(edited))}; \`node -e 0\` ${s(median(node))}`, '<= 1.0 s', median(edited) <= 1000 ? 'met' : 'missed'],
      ['`npm run generate` with nothing changed (median of 7)', `${s(median(unchanged))}; \`node -e 0\` ${s(median(node))}`, '<= 0.5 s', median(unchanged) <= 500 ? 'met' : 'missed'],
    ];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * `npm run generate -- --watch`: from a save of a one-line spec edit to the
 * run's "ok" line, median of 7 saves, next to `node -e 0`.
 */
export async function watchRows(root: string, saves = 7): Promise<Row[]> {
  const scratch = mkdtempSync(join(root, '.tmp', 'bench-watch-'));
  const spec = join(scratch, 'spec');
  cpSync(join(root, 'spec'), spec, { recursive: true, filter: (src) => !src.includes(join('spec', 'schema')) });
  const flow = join(spec, 'flows/m2m.yaml');
  const original = readFileSync(flow, 'utf8');
  const child = spawn(process.execPath, [join(root, 'generator/run.mjs'), '--watch', '--spec', spec, '--out', join(scratch, 'generated')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((done) => child.on('exit', done));
  let printed = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (printed += chunk));
  /** Resolves when the watcher has printed `count` finished runs in all. */
  const runs = (count: number) =>
    new Promise<void>((done, fail) => {
      const poll = setInterval(() => {
        const finished = printed.match(/(ok|failed) in [\d.]+ s; watching/g) ?? [];
        if (finished.some((line) => line.startsWith('failed'))) fail(new Error(`the watched run failed: ${printed}`));
        else if (finished.length >= count) done();
        else return;
        clearInterval(poll);
      }, 2);
    });
  try {
    await runs(1);
    const latency: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < saves; i++) {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      node.push(performance.now() - started);
      const saved = performance.now();
      writeFileSync(flow, original.replace('title: Service account (client credentials)', `title: Service account (client credentials) ${i}`));
      await runs(i + 2);
      latency.push(performance.now() - saved);
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    return [
      [
        '`npm run generate -- --watch`: save of a one-line spec edit to regenerated output (median of 7)',
        `${s(median(latency))}; \`node -e 0\` ${s(median(node))}`,
        '<= 1.0 s',
        median(latency) <= 1000 ? 'met' : 'missed',
      ],
    ];
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(scratch, { recursive: true, force: true });
  }
}
