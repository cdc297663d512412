// Lint: typescript-eslint with type information (the project's tsconfig.json),
// zero warnings allowed (`npm run lint` passes --max-warnings 0).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['generated/**', 'node_modules/**', '.cache/**', '.tmp/**', 'coverage/**', 'test/fixtures/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'generator/*.mjs', 'bench/workers/*.mjs', 'test/support/workers/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly' },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
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
);
