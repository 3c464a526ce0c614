// ESLint with typescript-eslint: the recommended rules, plus the type-aware promise rules that catch what matters most
// in this code base (a floating promise in a worker or a supervisor is a lost error). Formatting is Prettier's job, so
// eslint-config-prettier turns off every stylistic rule.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.venv/',
      '.data/',
      '.cache/',
      'prisma/*/generated/',
      'test-output/',
      'bench-results/',
      'chaos-results/',
      'explore-results/',
      'docs/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tests read untyped JSON (HTTP bodies, CLI output) and poke at shapes on purpose.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The kit's type-level machinery: `{}` is the empty data record a saga starts with, and `any` is the constraint
    // that lets any activity signature through; the public types users see are precise.
    files: ['workflows/saga/define.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-empty-object-type': 'off' },
  },
  {
    // The product apart from the harness: what the services, the worker and the CLI load (runtime/ holds their
    // configuration, telemetry and migrations) never imports the development stack (infra/), the tools (scripts/) or
    // the tests, so that a deployment runs none of them and a change to the harness cannot change the product.
    files: [
      'services/**/*.ts',
      'workflows/**/*.ts',
      'activities/**/*.ts',
      'cli/**/*.ts',
      'runtime/**/*.ts',
      'worker.ts',
      'client.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(infra|scripts|test)/',
              message: 'product code must not import the development stack (infra/), the tools (scripts/) or tests',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: globals.node,
      sourceType: 'commonjs',
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
  prettier,
);
