/**
 * Small async file helpers for the daemon (it must never block the event loop on
 * fsync: many connections share it). Same discipline as shared/node/atomicFile.ts:
 * temp file in the same directory, fsync, rename, fsync the directory.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Write all of `data` at `position` (loops over short writes, e.g. near RLIMIT_FSIZE). */
export async function writeAllAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO', syscall: 'write' });
    off += bytesWritten;
  }
}

/** Read exactly `length` bytes at `position`, or fewer only at end of file. */
export async function readAt(fh: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(out, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? out : out.subarray(0, off);
}

/**
 * fsync a directory so that a rename/create/unlink in it survives a crash.
 * Filesystems that refuse fsync on directories (EINVAL) are tolerated; other errors throw.
 */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    await fh.close();
  }
}

/** `.<name>.<12 hex>.tmp` beside `target` (the pattern {@link isAtomicTemp} recognises). */
export function atomicTempPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Is `name` a temp file of {@link writeFileAtomicAsync} or atomicFile.ts for `base`? */
export function isAtomicTemp(name: string, base: string): boolean {
  return name.startsWith(`.${base}.`) && /^\.[^/]+\.[0-9a-f]{12}\.tmp$/.test(name);
}

/**
 * Replace `target` with `data` atomically and durably: unique temp (O_EXCL, `mode`),
 * write, fsync, rename, fsync dir. On failure the temp is removed and `target` is untouched.
 */
export async function writeFileAtomicAsync(target: string, data: Uint8Array | string, mode: number): Promise<void> {
  const temp = atomicTempPath(target);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'wx', mode);
    await writeAllAt(fh, bytes, 0);
    await fh.sync();
    await fh.chmod(mode); // the umask may have narrowed the mode given to open()
    await fh.close();
    fh = undefined;
    await rename(temp, target);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e;
  }
  await fsyncDirAsync(path.dirname(target));
}
