// 500 seeded random mutations of the real spec (deleted keys, wrong types,
// duplicated keys, garbage bytes, very long strings): each yields code that
// type-checks or formatted `path:line:col` errors; nothing crashes.
import { fuzzSpecs } from './support/fuzz-run.js';
import { ROOT } from './support/spec-fixture.js';

test('500 mutated specs: type-checking code or formatted errors, no crash', () => {
  const tally = fuzzSpecs(ROOT, 1, 500);
  expect(tally.crashes).toEqual([]);
  expect(tally.unformattedLines).toEqual([]);
  expect(tally.typeErrors).toEqual([]);
  expect(tally.rejectedWithErrors + tally.generated).toBe(500);
  // Both outcomes occur, so both checks above were exercised.
  expect(tally.rejectedWithErrors).toBeGreaterThan(100);
  expect(tally.generated).toBeGreaterThan(10);
}, 300_000);
