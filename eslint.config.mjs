import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

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
            // the wire contract depends on nothing of ours
            { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol', 'type:app'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:protocol', 'type:app'] },
            // code that runs in browsers never pulls in Node-only projects
            { sourceTag: 'platform:universal', onlyDependOnLibsWithTags: ['platform:universal'] },
            { sourceTag: 'platform:browser', onlyDependOnLibsWithTags: ['platform:universal', 'platform:browser'] },
          ],
        },
      ],
    },
  },
];
