// Lint rules that keep the house's boundaries (see docs/ARCHITECTURE.md):
//  - shared/ is platform-free: no Node built-ins, no Electron, no DOM, no React.
//  - only electron/main and electron/preload may import 'electron'.
//  - renderer/ reaches the backend only through window.api.
//  - no focused tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeBuiltins = [
  'fs', 'fs/*', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'tls', 'worker_threads',
  'stream', 'util', 'buffer', 'events', 'readline', 'url', 'dns', 'zlib',
];

export default tseslint.config(
  // Dot-folders are scratch space (helpers' experiments), never project code.
  { ignores: ['.*/**', 'node_modules/**', 'build/**', 'dist/**', 'test-results/**', 'artifacts/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: "Only electron/main and electron/preload may import 'electron'." }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']",
          message: 'Focused tests must not be committed.',
        },
      ],
    },
  },
  {
    files: ['electron/main/**', 'electron/preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['shared/**'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron', 'react', 'react-dom', 'better-sqlite3', 'secp256k1'].map((name) => ({
            name,
            message: 'shared/ is platform-free (Node and browser): no Node, Electron, DOM or native modules.',
          })),
          patterns: [{ group: ['node:*', '**/electron/**', '**/renderer/**'], message: 'shared/ is platform-free.' }],
        },
      ],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'electron', 'better-sqlite3', 'secp256k1'].map((name) => ({
            name,
            message: 'The renderer reaches the backend only through window.api.',
          })),
          patterns: [{ group: ['node:*', '**/electron/**'], message: 'The renderer reaches the backend only through window.api.' }],
        },
      ],
    },
  },
);
