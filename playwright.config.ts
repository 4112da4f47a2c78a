import { defineConfig } from '@playwright/test';

// End-to-end: the real React renderer (built by Vite) in Debian's Chromium, wired through
// Playwright's exposeBinding to the same handler table the Electron main process registers.
export default defineConfig({
  testDir: 'test/e2e',
  globalSetup: './test/e2e/globalSetup.ts',
  timeout: 120_000,
  workers: 1,
  retries: 0,
  reporter: process.env.PW_JSON ? [['json', { outputFile: process.env.PW_JSON }], ['line']] : [['list']],
  outputDir: 'test-results/e2e',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1180, height: 820 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--disable-dev-shm-usage',
      ],
    },
  },
});
