// ESLint with typescript-eslint: the recommended rules, plus the type-aware promise rules that catch what matters most
// in this code base (a floating promise in a worker or a supervisor is a lost error). Formatting is Prettier's job, so
// eslint-config-prettier turns off every stylistic rule.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Imports of the saga kit other than its four entry points, refused outside the package. */
const KIT_ENTRY_POINTS_ONLY = [
  {
    regex: '^temporal-saga-kit(?!/(workflow|activity|worker|client)$)',
    message:
      'Import the saga kit through its entry points only: temporal-saga-kit/workflow, /activity, /worker or /client.',
  },
  {
    regex: '(^|/)packages/saga-kit(/|$)',
    message: 'Import the saga kit as the package (temporal-saga-kit/<entry point>), not by a relative path.',
  },
];

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
      'packages/*/dist/',
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
    files: ['packages/saga-kit/src/workflow/define.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-empty-object-type': 'off' },
  },
  {
    // The saga kit is a package (packages/saga-kit): everything outside it imports its four public entry points
    // only, so that what the app uses is what a team that installs the package gets, and the API report (its
    // etc/*.api.md) is the whole surface.
    files: ['**/*.ts'],
    ignores: ['packages/saga-kit/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: KIT_ENTRY_POINTS_ONLY }] },
  },
  {
    // The product apart from the harness: what the services, the worker and the CLI load (runtime/ holds their
    // configuration, telemetry and migrations) never imports the development stack (infra/), the tools (scripts/) or
    // the tests, so that a deployment runs none of them and a change to the harness cannot change the product.
    // (One rule per file: this one repeats the kit's patterns, or it would replace them here.)
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
            ...KIT_ENTRY_POINTS_ONLY,
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
