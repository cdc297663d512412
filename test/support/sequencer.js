// Runs the longest test files first, so with two workers neither sits idle
// while the other finishes a long file at the end. On a fresh clone jest has
// no durations of earlier runs and would order by file size, which puts the
// consumer test (installs and type checks) last. Rough seconds per file on a
// quiet 2-core machine; a file not listed counts as 30.
import Sequencer from '@jest/test-sequencer';
import { basename } from 'node:path';

const SECONDS = {
  'consumer.test.ts': 110,
  'examples.test.ts': 80,
  'cli.test.ts': 60,
  'generator.test.ts': 60,
  'fuzz.test.ts': 55,
  'reliability.test.ts': 50,
  'runtime.test.ts': 25,
  'fleet.test.ts': 20,
  'engine.test.ts': 12,
  'terminal.test.ts': 12,
  'interop.test.ts': 12,
  'provider-source.test.ts': 8,
  'hostile.test.ts': 6,
  'redis-provider.test.ts': 4,
};

const Base = Sequencer.default ?? Sequencer;

export default class LongestFirst extends Base {
  sort(tests) {
    const weight = (test) => SECONDS[basename(test.path)] ?? 30;
    return [...tests].sort((a, b) => weight(b) - weight(a));
  }
}
