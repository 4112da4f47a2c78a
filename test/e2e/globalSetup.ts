import { execFileSync } from 'node:child_process';

/** Build the renderer and the worker bundle once before the e2e run (skip with E2E_SKIP_BUILD=1). */
export default function globalSetup(): void {
  if (process.env.E2E_SKIP_BUILD) return;
  execFileSync(process.execPath, ['scripts/build.mjs', '--all'], { stdio: 'inherit' });
}
