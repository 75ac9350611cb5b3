// Lint setup: typescript-eslint for the node sources, plain recommended rules for the JavaScript tests and scripts,
// and the editor's JavaScript inside each node's .html (eslint-plugin-html reads the text/javascript blocks).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import html from 'eslint-plugin-html';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', '.demo/', '.test-work/', 'test-artifacts/', 'tools/*/node_modules/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Node-RED's convention: `const node = this` in a node's constructor.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...globals.node, ...globals.mocha },
    },
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['nodes/**/*.html'],
    plugins: { html },
    languageOptions: {
      sourceType: 'script',
      globals: { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly' },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Browser-only editor modules, inlined into the dialogs by the build (window.O365Calendar.<name>).
    files: ['nodes/shared/editor/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { ...globals.browser, RED: 'readonly', $: 'readonly', exports: 'writable' },
    },
  },
  {
    files: ['test/browser/**/*.js'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha, ...globals.browser } },
  },
);
