import { defineConfig } from 'vitest/config';

// Three layers (style.md §13): unit = pure code from shared/, node = real files,
// sockets, better-sqlite3, child processes, lightningd = the real Core Lightning with the
// project's fake chain, server and plugin (test/lightningd/README.md; skipped with its reason
// when CLDCB_CLN_DIR does not name the binaries). e2e runs under Playwright instead.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 30_000 },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'lightningd',
          include: ['test/lightningd/**/*.test.ts'],
          environment: 'node',
          pool: 'forks',
          globalSetup: ['test/lightningd/globalSetup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
