// npm run sim -- --seeds N [--seed S] [--from F] [--trace]
// Runs N seeded schedules (or one) through the session engine and checks the
// invariants after every step; a failing seed prints its replay command and trace
// (SIM_DEBUG=1 adds every state transition and warning to the trace).
import { report, runSeed } from './run.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const one = option('seed');
  const count = Number(option('seeds') ?? (one !== undefined ? 1 : 1000));
  const from = Number(option('from') ?? 1);
  const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => from + i);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
    console.error('usage: npm run sim -- --seeds N [--from F] | --seed S [--trace]');
    process.exit(2);
  }
  const started = performance.now();
  let failed = 0;
  let calls = 0;
  let served = 0;
  let requests = 0;
  let lost = 0;
  for (const seed of seeds) {
    const result = await runSeed(seed);
    calls += result.calls;
    served += result.served;
    requests += result.tokenRequests;
    if (result.lost) lost++;
    if (result.violations.length > 0) {
      failed++;
      if (failed <= 3) console.log(report(result));
      else console.log(`seed ${seed} failed: ${result.violations[0]}  (replay: npm run sim -- --seed ${seed})`);
    } else if (one !== undefined && process.argv.includes('--trace')) {
      console.log(result.trace.join('\n'));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${seeds.length} schedules in ${seconds.toFixed(1)} s: ${failed} failed; ${calls} calls, ${served} served, ${requests} token requests; ${lost} sessions lost in the documented ways`);
  process.exit(failed > 0 ? 1 : 0);
}

void main();
