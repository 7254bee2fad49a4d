import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } } },
  { ignores: ['**/node_modules/**', '.data/**', '.tmp/**', 'coverage/**', 'packages/app/test/fixtures/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // CommonJS configuration files (dependency-cruiser's) load with require().
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The console (/admin) runs in the browser: plain ES modules, no build.
  {
    files: ['packages/app/src/console/public/**/*.js'],
    languageOptions: {
      globals: { document: 'readonly', sessionStorage: 'readonly', fetch: 'readonly', performance: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Node: 'readonly', console: 'readonly' },
    },
  },
  {
    rules: {
      // Kysely handles are deliberately `Kysely<any>` at module edges (each repository narrows them).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@shop/*/src/*', '@shop/*/migrations/*'],
              message: 'Reach another package only through its public entry point (its package exports).',
            },
          ],
        },
      ],
    },
  },
);
