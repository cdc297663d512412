// Lint: typescript-eslint with type information (the project's tsconfig.json),
// zero warnings allowed (`npm run lint` passes --max-warnings 0).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['generated/**', 'node_modules/**', '.cache/**', '.tmp/**', 'coverage/**', 'api-reference/**', 'test/fixtures/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'generator/*.mjs', 'bench/workers/*.mjs', 'test/support/workers/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        Request: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Storage providers, fakes and server hooks implement Promise-returning interfaces; `async` there is deliberate
      // (a throw becomes a rejection, as callers expect), so an async function without `await` is not a finding.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught value or an AbortSignal's reason unchanged (typed unknown/any) is a rethrow, not a new non-Error rejection.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
    },
  },
  {
    // The runtime's source and the spec's provider code are type-checked as their generated copies
    // (tsconfig.json sees each file once); lint reads them through a tsconfig of their own.
    files: ['templates/runtime/**/*.ts', 'spec/**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS files (preloaded with `node --require`) must use require() and see Node's module-scope names.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', exports: 'writable', __filename: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
