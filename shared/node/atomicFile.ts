/**
 * Outputs are never half-written and never overwrite by accident:
 * write to a temp file in the same directory, fsync it, rename into place,
 * fsync the directory. Without `overwrite`, an existing target is refused
 * (checked again at rename time with link(), which fails if the target exists).
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync, existsSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CldcbError } from '../errors';

export interface AtomicWriteOptions {
  /** File mode, e.g. 0o400 for hsm_secret, 0o600 for databases, 0o700 for the wrapper script. */
  mode: number;
  /** Replace an existing file. Off by default: nothing is overwritten without an explicit flag. */
  overwrite?: boolean;
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A temp path beside `target` (same filesystem, so rename is atomic). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Move a finished temp file into place, refusing to replace an existing file
 * unless `overwrite`. The temp file is removed on failure.
 */
export function commitTempFile(temp: string, target: string, overwrite = false): void {
  try {
    if (overwrite) renameSync(temp, target);
    else {
      try {
        linkSync(temp, target); // fails with EEXIST: no race with a file created meanwhile
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          throw new CldcbError('file_exists', `${target} already exists. Nothing was overwritten; choose another path or move the existing file away first.`);
        throw e;
      }
      unlinkSync(temp);
    }
    fsyncDir(path.dirname(target));
  } catch (e) {
    try {
      unlinkSync(temp);
    } catch {
      /* already gone */
    }
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `Could not write ${target}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}. Nothing was written.`);
  }
}

/** Write `data` to `target` atomically (see module comment). */
export function writeFileAtomic(target: string, data: Uint8Array | string, opts: AtomicWriteOptions): void {
  if (!opts.overwrite && existsSync(target))
    throw new CldcbError('file_exists', `${target} already exists. Nothing was overwritten; choose another path or move the existing file away first.`);
  const temp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', opts.mode);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, opts.mode); // the umask may have narrowed the mode given to open()
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      /* nothing to clean */
    }
    throw new CldcbError('io_error', `Could not write ${target}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}. Nothing was written.`);
  }
  commitTempFile(temp, target, opts.overwrite);
}

/**
 * Give `file` the first free name of `base`, `base-2`, `base-3`, … (link, then unlink `file`:
 * never replaces anything), and fsync the directory. For moving a file aside, or committing a
 * finished temp file under a name that must not collide. Returns the name.
 * @throws CldcbError file_exists (1,000 names taken), io_error.
 */
export function linkToFreeName(file: string, base: string): string {
  for (let n = 1; n <= 1000; n++) {
    const name = n > 1 ? `${base}-${n}` : base;
    try {
      linkSync(file, name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new CldcbError('io_error', `Could not write ${name}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}.`);
    }
    unlinkSync(file);
    fsyncDir(path.dirname(name));
    return name;
  }
  throw new CldcbError('file_exists', `${base} and 999 more names like it already exist; move the old ones away.`);
}
