import { defineConfig } from 'vitest/config';

// Two layers (style.md §13): unit = pure code from shared/, node = real files,
// sockets, better-sqlite3, child processes. e2e runs under Playwright instead.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 30_000 } },
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
    ],
  },
});
