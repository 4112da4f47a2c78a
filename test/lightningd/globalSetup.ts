/**
 * The lightningd tier's global setup (main vitest process): build the programs the tier
 * runs as an operator would (bundles in build/, as `npm ci` leaves them), give the workers
 * a directory where they record every process group they start, and at the end kill any
 * group still alive there (a worker that crashed or timed out must not leave lightningd
 * running on a shared machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { ensureServerBuilt } from '../node/helpers/server-harness';
import { findCln } from './harness/cln';
import { killRecordedGroups, PIDS_DIR_ENV } from './harness/procs';

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync('/tmp/cl-pids-');
  process.env[PIDS_DIR_ENV] = dir;
  if (findCln().ok) await ensureServerBuilt();
  return () => {
    const left = killRecordedGroups(dir);
    rmSync(dir, { recursive: true, force: true });
    if (left.length)
      process.stderr.write(`lightningd tier: killed processes left running: ${left.join('; ')}\n`);
  };
}
