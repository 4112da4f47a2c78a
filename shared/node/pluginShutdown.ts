/**
 * The plugin at lightningd's shutdown (issue 10 defect 2; docs/PROTOCOL.md §4).
 *
 * What lightningd v26.06 does (lightningd/lightningd.c:1527-1572, plugin.c:2590-2626,
 * plugin_hook.c:475-489): on `stop` it lets go of every plugin that is not subscribed to
 * `shutdown` (closes its pipes: we see stdin end), sends `shutdown` to the others and keeps
 * running — committing writes: the chanbackup datastore entry, network_events, even a peer's
 * reconnection — until the last subscribed plugin exits or 30 s pass; then
 * `free_all_channels` may still write. A write made when no db_write plugin is alive is
 * committed silently, without any hook: no plugin can back it up as it happens.
 *
 * Why we do not subscribe and linger: a subscribed db_write plugin has to leave by itself,
 * and its leaving can cross a db_write lightningd is just starting — measured on v26.06:
 * lightningd aborted ("Already in transaction from lightningd/subd.c:493", SIGABRT) in 1 of 15
 * stops under traffic. Not subscribed, we are let go at a safe point, and the stop takes no
 * longer than without us.
 *
 * What covers the writes after that: when stdin ends, the plugin starts a helper,
 * `cldcb-plugin --after-stop` (plugin/afterStop.ts), detached, holding `cldcb-plugin.lock`. It
 * waits until lightningd has exited (its database is closed then), reads the data_version the
 * database ended at and, when that is newer than the backup, re-uploads the database as
 * lightningd left it (our server), so the backup holds the node's final state. It records what
 * it found in `cldcb-plugin.last-stop`, which the next start of the plugin reports in
 * lightningd's log. When it cannot (an original server, a server away, lightningd killed while
 * stopping), lightningd's next start sees the data_version gap and re-uploads then. A plugin
 * started while the helper works (lightningd restarted at once) waits for the lock before it
 * reads its chain head.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomicFile';

/** The helper waits this long for lightningd to exit (it may wait 30 s for other plugins). */
export const EXIT_WAIT_MS = 60_000;
/**
 * A plugin started while the helper works waits at most this long for it: lightningd gives a
 * plugin 120 s to answer getmanifest at startup, then gives up on it (fatal).
 */
export const LOCK_WAIT_MS = 110_000;

export const LOCK_FILE = 'cldcb-plugin.lock';
export const LAST_STOP_FILE = 'cldcb-plugin.last-stop';

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
  const first = lockHolder(dir);
  if (first === undefined) return 'none';
  if (!isRunning(first) || first === process.pid) {
    rmSync(path.join(dir, LOCK_FILE), { force: true });
    return 'stale';
  }
  // The lock may pass from the old plugin (finishing its queues) to its helper: wait for
  // whoever holds it.
  const end = Date.now() + capMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const pid = lockHolder(dir);
    if (pid === undefined) return 'waited';
    if (!isRunning(pid)) {
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
  /** With several servers: each one's finding (server id 52…/53…). */
  readonly servers?: readonly { readonly server: string; readonly outcome: LastStop['outcome']; readonly backupDataVersion?: number; readonly reason: string }[];
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
