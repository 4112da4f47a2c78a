/**
 * The allow-list `clients` (cldcb-protocol §1.4, §1.5; original `server/Server/change_clients.cpp`,
 * `server/Daemon/ClientList.cpp`): whitespace-separated client ids `c2…`/`c3…`, one per line
 * as written by `add`.
 *
 * Differences from the original, all compatible with its file:
 * - the daemon's loader accepts `C…` too (the original daemon only took lowercase `c`, bug 11);
 * - invalid entries are skipped with a warning instead of throwing while the lock is held;
 * - the new list is fsynced before the rename and the directory after it.
 *
 * The lock is the original's link()-count lock, so our `add`/`remove` and the original's
 * exclude each other: create a unique file `<pid>.<time % 16384>.<hostname[:16]>`
 * (O_EXCL, 0600), link it to `clients.lock`, and own the lock only if the unique file now
 * has 2 links and `clients.lock` is the same inode (works on NFS, where O_EXCL alone did
 * not). The new list is written into the lock file, which is then renamed over `clients`:
 * the rename both publishes the list and releases the lock.
 */
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { CldcbError } from '../shared/errors';
import { bytesToHex } from '../shared/bytes';
import { formatClientId, parseClientId } from '../shared/cldcb/ids';
import { fsyncDirAsync } from './fsutil';

export const CLIENTS_FILE = 'clients';
export const CLIENTS_LOCK = 'clients.lock';

export interface ParsedClients {
  /** Normalised ids (lowercase `c…`), in file order, without duplicates. */
  readonly ids: string[];
  /** Tokens that are not valid client ids, with the reason (for warnings). */
  readonly invalid: { token: string; reason: string }[];
}

/**
 * Normalise one client id: `c`/`C` + 65 hex digits naming a curve point → lowercase `c…`.
 * @throws CldcbError bad_input / bad_length / bad_hex naming the id.
 */
export function normaliseClientId(s: string, field = 'client id'): string {
  return formatClientId(parseClientId(s, field));
}

/** Parse the text of `clients` (any whitespace separates entries). Never throws. */
export function parseClientsFile(text: string): ParsedClients {
  const ids: string[] = [];
  const seen = new Set<string>();
  const invalid: { token: string; reason: string }[] = [];
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    try {
      const id = normaliseClientId(token, `clients entry "${token.slice(0, 70)}"`);
      if (!seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    } catch (e) {
      invalid.push({ token: token.slice(0, 70), reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return { ids, invalid };
}

/** `clients` text: one lowercase `c…` per line, as the original `add` writes. */
export function formatClientsFile(ids: readonly string[]): string {
  return ids.map((id) => `${id}\n`).join('');
}

/** The daemon's in-memory allow-list (keys: 33-byte client keys as hex `02…`/`03…`). */
export class AllowList {
  private set = new Set<string>();

  /** Number of allowed clients. */
  get size(): number {
    return this.set.size;
  }

  /** Replace the list with ids from `clients` text; returns the parse result for logging. */
  load(text: string): ParsedClients {
    const parsed = parseClientsFile(text);
    this.set = new Set(parsed.ids.map((id) => '0' + id.slice(1)));
    return parsed;
  }

  /** Is this 33-byte client key allowed to write? */
  has(clientKey33: Uint8Array): boolean {
    return this.set.has(bytesToHex(clientKey33));
  }
}

/**
 * Read `dir/clients` (missing ⇒ empty list).
 * @throws Error from readFile for anything but ENOENT.
 */
export function readClientsFile(dir: string): ParsedClients {
  let text = '';
  try {
    text = readFileSync(path.join(dir, CLIENTS_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return parseClientsFile(text);
}

export interface LockOptions {
  /** Attempts before giving up (default 41; the original: 5). */
  tries?: number;
  /** Pause between attempts in ms (default 200; the original: 2000). */
  delayMs?: number;
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Try once to take `clients.lock`; returns the open fd of the lock file, or null if taken. */
function tryLock(dir: string): { fd: number; unique: string } | null {
  const unique = path.join(dir, `${process.pid}.${Math.floor(Date.now() / 1000) % 16384}.${hostname().slice(0, 16)}`);
  const fd = openSync(unique, 'wx', 0o600);
  try {
    try {
      linkSync(unique, path.join(dir, CLIENTS_LOCK));
    } catch {
      // EEXIST (taken) — decided below by the link count, as the original
    }
    const mine = fstatSync(fd);
    if (mine.nlink !== 2) {
      closeSync(fd);
      unlinkSync(unique);
      return null;
    }
    const lock = statSync(path.join(dir, CLIENTS_LOCK));
    if (lock.ino !== mine.ino) {
      closeSync(fd);
      unlinkSync(unique);
      return null;
    }
    return { fd, unique };
  } catch (e) {
    try {
      closeSync(fd);
      unlinkSync(unique);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

/**
 * Change the allow-list under the lock: `change` gets the current ids (file order) and
 * returns the new ones. The result is written into the lock file, fsynced, renamed over
 * `clients` and the directory fsynced.
 * @returns the new list and any invalid entries that were dropped from the old file.
 * @throws CldcbError io_error when the lock cannot be taken (naming clients.lock) or the
 *   file cannot be written (the old list is then unchanged).
 */
export async function changeClients(
  dir: string,
  change: (ids: string[]) => string[],
  opts: LockOptions = {},
): Promise<{ ids: string[]; dropped: { token: string; reason: string }[] }> {
  // The original tried 5 times, 2 s apart; the same 8 s budget in finer steps.
  const tries = opts.tries ?? 41;
  const delayMs = opts.delayMs ?? 200;
  const lockPath = path.join(dir, CLIENTS_LOCK);
  let lock: { fd: number; unique: string } | null = null;
  for (let i = 0; i < tries && lock === null; i++) {
    if (i > 0) sleepSync(delayMs);
    try {
      lock = tryLock(dir);
    } catch (e) {
      throw new CldcbError('io_error', `Cannot create a lock file in ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}.`);
    }
  }
  if (lock === null)
    throw new CldcbError(
      'io_error',
      `Could not take ${lockPath} after ${tries} tries: another add/remove is running, or one was interrupted. If none is running, delete ${lockPath} and try again.`,
    );
  let renamed = false;
  try {
    const current = readClientsFile(dir);
    const ids = change(current.ids.slice());
    const bytes = new TextEncoder().encode(formatClientsFile(ids));
    let off = 0;
    while (off < bytes.length) off += writeSync(lock.fd, bytes, off, bytes.length - off);
    fsyncSync(lock.fd);
    closeSync(lock.fd);
    lock.fd = -1;
    renameSync(lockPath, path.join(dir, CLIENTS_FILE));
    renamed = true;
    await fsyncDirAsync(dir);
    return { ids, dropped: current.invalid };
  } catch (e) {
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `Could not write ${path.join(dir, CLIENTS_FILE)}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}. The list is unchanged.`);
  } finally {
    if (lock.fd >= 0) closeSync(lock.fd);
    if (!renamed) {
      try {
        unlinkSync(lockPath);
      } catch {
        /* gone */
      }
    }
    try {
      unlinkSync(lock.unique);
    } catch {
      /* gone */
    }
  }
}
