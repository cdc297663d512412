/** Jest runs TypeScript as native ESM through ts-jest; type errors are caught by `npm run typecheck`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Scratch copies of the generated package (generator tests) would shadow the real one.
  modulePathIgnorePatterns: ['<rootDir>/.tmp/'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
