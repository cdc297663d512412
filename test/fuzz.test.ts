// 100 seeded random mutations of the real spec (deleted keys, wrong types,
// duplicated keys, garbage bytes, very long strings, names turned into ones
// already taken or into another name of the spec): each yields code that
// type-checks or formatted `path:line:col` errors; nothing crashes.
// `npm run stress -- fuzz` runs 1,500 (seeds 1 to 1,500, these included).
import { fuzzSpecs } from './support/fuzz-run.js';
import { ROOT } from './support/spec-fixture.js';

test('100 mutated specs: type-checking code or formatted errors, no crash', () => {
  const tally = fuzzSpecs(ROOT, 1, 100);
  expect(tally.crashes).toEqual([]);
  expect(tally.unformattedLines).toEqual([]);
  expect(tally.typeErrors).toEqual([]);
  expect(tally.rejectedWithErrors + tally.generated).toBe(100);
  // Both outcomes occur, overall and for the name mutations, so both checks above were exercised.
  expect(tally.rejectedWithErrors).toBeGreaterThan(30);
  expect(tally.generated).toBeGreaterThan(10);
  for (const mutation of ['reserved-name', 'colliding-name']) {
    expect(tally.byMutation[mutation]!.rejected).toBeGreaterThan(0);
    expect(tally.byMutation[mutation]!.generated).toBeGreaterThan(0);
  }
}, 600_000);
