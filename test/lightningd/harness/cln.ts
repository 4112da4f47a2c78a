/**
 * Where the tier finds Core Lightning: the `cln/` folder of an extracted release tree
 * (bin/lightningd, libexec/c-lightning/…), named by the environment variable CLDCB_CLN_DIR.
 * CI (.ci/run) extracts the checked tarball into build/cln/cln and sets it; a developer
 * points it at /work/cln-bin/cln or at their own CLN build (test/lightningd/README.md).
 *
 * No lightningd is not a failure by default: the tier's tests are reported as skipped with
 * the reason below. CLDCB_CLN_REQUIRED=1 (set by .ci/run) turns it into a failure, so CI
 * can never pass with the tier silently skipped.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

export const CLN_DIR_ENV = 'CLDCB_CLN_DIR';
export const CLN_REQUIRED_ENV = 'CLDCB_CLN_REQUIRED';

export interface ClnBinaries {
  readonly dir: string;
  readonly lightningd: string;
  readonly pluginsDir: string;
  readonly version: string;
}

export type ClnLookup = { ok: true; cln: ClnBinaries } | { ok: false; reason: string };

let cached: ClnLookup | undefined;

/** Find and check the binaries once per process (runs `lightningd --version`: missing runtime libraries show here). */
export function findCln(): ClnLookup {
  if (cached) return cached;
  cached = lookup();
  return cached;
}

function lookup(): ClnLookup {
  const dir = process.env[CLN_DIR_ENV];
  if (!dir)
    return {
      ok: false,
      reason: `no lightningd: ${CLN_DIR_ENV} is not set (point it at an extracted CLN v26.06 cln/ folder; .ci/run does)`,
    };
  const abs = path.resolve(dir);
  const lightningd = path.join(abs, 'bin', 'lightningd');
  const pluginsDir = path.join(abs, 'libexec', 'c-lightning', 'plugins');
  try {
    accessSync(lightningd, constants.X_OK);
  } catch {
    return { ok: false, reason: `no lightningd: ${CLN_DIR_ENV}=${dir} has no executable bin/lightningd` };
  }
  if (!existsSync(pluginsDir))
    return {
      ok: false,
      reason: `no lightningd: ${CLN_DIR_ENV}=${dir} has no libexec/c-lightning/plugins (keep the cln/ tree intact)`,
    };
  const r = spawnSync(lightningd, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0];
    return {
      ok: false,
      reason: `no lightningd: ${lightningd} --version failed (${why}); on Debian 12: apt-get install libsodium23 libsqlite3-0 libpq5`,
    };
  }
  return { ok: true, cln: { dir: abs, lightningd, pluginsDir, version: r.stdout.trim() } };
}

/** The binaries, or a thrown error with the reason (for code that runs only when the tier is available). */
export function requireCln(): ClnBinaries {
  const c = findCln();
  if (!c.ok) throw new Error(c.reason);
  return c.cln;
}
