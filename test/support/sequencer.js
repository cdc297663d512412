// Runs the longest test files first, so with two workers neither sits idle
// while the other finishes a long file at the end. On a fresh clone jest has
// no durations of earlier runs and would order by file size, which puts the
// consumer test (installs and type checks) last. Rough seconds per file on a
// quiet 2-core machine; a file not listed counts as 30.
import Sequencer from '@jest/test-sequencer';
import { basename } from 'node:path';

const SECONDS = {
  'generator.test.ts': 90,
  'examples.test.ts': 62,
  'redis-deployments.test.ts': 55,
  'consumer.test.ts': 54,
  'redis-outages.test.ts': 50,
  'reliability.test.ts': 45,
  'cli.test.ts': 41,
  'fuzz.test.ts': 30,
  'sim.test.ts': 25,
  'keychain.test.ts': 23,
  'edges.test.ts': 20,
  'redis-production.test.ts': 19,
  'fleet.test.ts': 15,
  'runtime.test.ts': 14,
  'engine.test.ts': 9,
  'package.test.ts': 8,
  'provider-source.test.ts': 7,
  'docs.test.ts': 6,
  'interop.test.ts': 6,
  'findings.test.ts': 5,
  'terminal.test.ts': 5,
  'hostile.test.ts': 4,
  'cli-startup.test.ts': 3,
  'dev-server.test.ts': 3,
  'redis-provider.test.ts': 2,
  'runtime-values.test.ts': 1,
};

const Base = Sequencer.default ?? Sequencer;

export default class LongestFirst extends Base {
  sort(tests) {
    const weight = (test) => SECONDS[basename(test.path)] ?? 30;
    return [...tests].sort((a, b) => weight(b) - weight(a));
  }
}
