/** Jest runs TypeScript as native ESM through ts-jest; type errors are caught by `npm run typecheck`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Scratch copies of the generated package (generator tests) would shadow the real one.
  modulePathIgnorePatterns: ['<rootDir>/.tmp/'],
  // A bound for a test that hangs, never a window a test must finish in:
  // tests await conditions, and long ones set their own larger bound.
  testTimeout: 60_000,
  // Two workers for two cores: most files spawn processes, servers or
  // compilers of their own, so more workers only make them wait for each other.
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/support/sequencer.js',
};
