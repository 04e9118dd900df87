import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', 'bin/**', 'tools/**', '*.cjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // small shared helpers (seeded RNG, float16, sha256, error messages) depend on nothing
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: [] },
            // the wire contract depends on nothing of ours but those helpers
            { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol', 'type:util'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol', 'type:app', 'type:util'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol', 'type:app', 'type:util'] },
            // code that runs in browsers never pulls in Node-only projects
            { sourceTag: 'platform:universal', onlyDependOnLibsWithTags: ['platform:universal'] },
            { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['platform:universal', 'platform:browser'] },
          ],
        },
      ],
    },
  },
  {
    // the client core runs in browsers: no Node builtin and no Node-only entry (its specs may use them)
    files: ['libs/client/src/**/*.ts'],
    ignores: ['libs/client/src/**/*.spec.ts', 'libs/client/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // exact names: a pattern 'events' would also match a relative './events'
          paths: builtinModules.map((name) => ({ name, message: '@fedsnell/client is browser-safe: a platform shell provides what needs Node' })),
          patterns: [
            { group: ['node:*'], message: '@fedsnell/client is browser-safe: a platform shell provides what needs Node' },
            { group: ['@fedsnell/*/node', '@fedsnell/client-node', '@fedsnell/cli', '@fedsnell/coordinator'], message: '@fedsnell/client is browser-safe: no Node-only entry' },
          ],
        },
      ],
    },
  },
];
