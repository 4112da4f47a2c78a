/**
 * The plugin at lightningd's shutdown (issue 10 defect 2; docs/PROTOCOL.md §4).
 *
 * What lightningd v26.06 does (lightningd/lightningd.c:1527-1572, plugin.c:2590-2626,
 * plugin_hook.c:475-489): on `stop` it frees every plugin that is not subscribed to
 * `shutdown`, sends `shutdown` to the others and keeps running (committing writes: the
 * chanbackup datastore entry, network_events, even a peer's reconnection) until the last
 * subscribed plugin exits or 30 s pass; then `free_all_channels` may still write. A write made
 * when no db_write plugin is alive is committed silently, without any hook. So:
 *
 *  1. We subscribe to `shutdown` and keep answering db_writes after it (they are backed up as
 *     usual). When no db_write has come for QUIET_MS (or SHUTDOWN_CAP_MS passed, well inside
 *     lightningd's 30 s), we leave: lightningd's stop then takes about QUIET_MS longer than
 *     without us, instead of 30 s for a plugin that waits for the end of its stdin.
 *  2. Writes lightningd still commits after we left are covered by a helper process we start
 *     as we leave (`cldcb-plugin --after-stop`, plugin/afterStop.ts): it waits until lightningd
 *     has exited, reads the data_version its database ended at, and, when that is newer than
 *     the backup, re-uploads the database as lightningd left it (our server), so the backup
 *     holds the node's final state. It records what it found in `cldcb-plugin.last-stop`, which
 *     the next start of the plugin reports in lightningd's log. When it cannot (an original
 *     server, a server away, lightningd killed while stopping) lightningd's next start sees the
 *     data_version gap and re-uploads then.
 *  3. While the helper works it holds `cldcb-plugin.lock` (its PID); a plugin started meanwhile
 *     (lightningd restarted at once) waits for it before it reads its chain head.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../electron/services/atomicFile';

/** Leave once no db_write has arrived for this long after `shutdown`. */
export const QUIET_MS = 500;
/** Leave after this long whatever happens (lightningd kills subscribed plugins at 30 s). */
export const SHUTDOWN_CAP_MS = 20_000;
/** The helper waits this long for lightningd to exit (it may wait 30 s for other plugins). */
export const EXIT_WAIT_MS = 60_000;
/** A plugin started while the helper works waits at most this long for it. */
export const LOCK_WAIT_MS = 90_000;

export const LOCK_FILE = 'cldcb-plugin.lock';
export const LAST_STOP_FILE = 'cldcb-plugin.last-stop';

export interface ActivitySource {
  readonly pendingWrites: number;
  readonly lastAnsweredAt: number;
}

/**
 * Resolve when lightningd has been quiet for `quietMs` after `shutdown` arrived at `since`
 * ('quiet'), or at `capMs` after it ('cap').
 */
export function whenQuiet(rpc: ActivitySource, since: number, quietMs = QUIET_MS, capMs = SHUTDOWN_CAP_MS): Promise<'quiet' | 'cap'> {
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = Date.now();
      if (now - since >= capMs) return resolve('cap');
      if (rpc.pendingWrites === 0 && now - Math.max(since, rpc.lastAnsweredAt) >= quietMs) return resolve('quiet');
      setTimeout(tick, 25);
    };
    tick();
  });
}

/** Is `pid` a running process (not gone, not a zombie waiting to be reaped)? */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z = exited, not yet reaped by its parent.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we have
  }
}

/** Wait until `pid` is no longer running. @returns false after `capMs`. */
export async function waitForExit(pid: number, capMs = EXIT_WAIT_MS): Promise<boolean> {
  const end = Date.now() + capMs;
  while (isRunning(pid)) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** The helper's PID from the lock file, if there is one. */
function lockHolder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writeLock(dir: string, pid: number): void {
  writeFileSync(path.join(dir, LOCK_FILE), `${pid}\n`, { mode: 0o600 });
}

/** Remove the lock if it names `pid` (never another helper's). */
export function releaseLock(dir: string, pid: number): void {
  if (lockHolder(dir) === pid) rmSync(path.join(dir, LOCK_FILE), { force: true });
}

/**
 * Before a plugin reads its chain head: wait while an after-stop helper of the previous run
 * holds the lock (it may be re-uploading and will move the head). A lock whose process is
 * gone is stale and removed.
 * @returns what happened, for the log.
 */
export async function waitForAfterStopHelper(dir: string, capMs = LOCK_WAIT_MS): Promise<'none' | 'waited' | 'stale' | 'timeout'> {
  const pid = lockHolder(dir);
  if (pid === undefined) return 'none';
  if (!isRunning(pid) || pid === process.pid) {
    rmSync(path.join(dir, LOCK_FILE), { force: true });
    return 'stale';
  }
  const end = Date.now() + capMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (lockHolder(dir) !== pid || !isRunning(pid)) {
      releaseLock(dir, pid);
      return 'waited';
    }
    if (Date.now() >= end) return 'timeout';
  }
}

/** What the after-stop helper found (the file `cldcb-plugin.last-stop`, one JSON object). */
export interface LastStop {
  /** unix seconds when the helper finished. */
  readonly time: number;
  /**
   * complete: the backup already held lightningd's final database; repaired: it did after a
   * re-upload; unconfirmed: the helper could not tell or could not repair (see `reason`) — the
   * next start of lightningd re-uploads if the data_versions differ.
   */
  readonly outcome: 'complete' | 'repaired' | 'unconfirmed';
  /** data_version lightningd's database ended at (when read). */
  readonly lightningdDataVersion?: number;
  /** data_version the backup ended at before the helper's work. */
  readonly backupDataVersion?: number;
  readonly reason: string;
}

export function writeLastStop(dir: string, s: LastStop): void {
  writeFileAtomic(path.join(dir, LAST_STOP_FILE), JSON.stringify(s) + '\n', { mode: 0o600, overwrite: true });
}

export function readLastStop(dir: string): LastStop | undefined {
  try {
    const v = JSON.parse(readFileSync(path.join(dir, LAST_STOP_FILE), 'utf8')) as LastStop;
    return typeof v === 'object' && v !== null && typeof v.outcome === 'string' && typeof v.reason === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** One line for lightningd's log about the previous stop. */
export function describeLastStop(s: LastStop): { level: 'info' | 'warn'; message: string } {
  const when = new Date(s.time * 1000).toISOString();
  const dvs =
    s.lightningdDataVersion !== undefined
      ? ` (lightningd's database ended at data_version ${s.lightningdDataVersion}${s.backupDataVersion !== undefined ? `, the backup at ${s.backupDataVersion}` : ''})`
      : '';
  switch (s.outcome) {
    case 'complete':
      return { level: 'info', message: `last stop (${when}): the backup held lightningd's final database${dvs}.` };
    case 'repaired':
      return { level: 'info', message: `last stop (${when}): lightningd wrote after releasing the plugin; the database it left was re-uploaded${dvs}. ${s.reason}` };
    default:
      return { level: 'warn', message: `last stop (${when}): not confirmed that the backup holds lightningd's final database${dvs}: ${s.reason} The first write now re-uploads if they differ.` };
  }
}
