/**
 * Reading files from a directory nobody vouches for (a copy of a server directory, a tarball,
 * an operator's download): a FIFO must not hang us, a device or directory must not crash us,
 * and a huge file must not eat the memory (issue 14 #5, #6, #9).
 *
 * - `openRegularFile` opens with O_NONBLOCK (opening a FIFO for reading then returns at once
 *   instead of waiting for a writer) and refuses anything that fstat does not call a regular
 *   file, naming what it is. Checking after open, on the descriptor, leaves no window between a
 *   check and the open.
 * - `readSmallText` reads at most a bound and says when the file is longer.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { CldcbError } from '../../errors';

/** What a non-regular file is, in words an operator knows. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Why `file` cannot be read as a regular file (follows symlinks), or undefined when it can.
 * For a quick check before handing a path to a reader that opens it itself.
 */
export function regularFileProblem(file: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read it (${code ?? 'I/O error'})`;
  }
  return st.isFile() ? undefined : `${file} is ${fileKind(st)}, not a file`;
}

/**
 * Open a regular file for reading, never blocking on a FIFO.
 * @throws CldcbError file_not_found, bad_input (not a regular file: names what it is), io_error.
 */
export function openRegularFile(file: string, what = file): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CldcbError('file_not_found', `${what}: no such file.`);
    throw new CldcbError('io_error', `${what}: cannot read it (${code ?? 'I/O error'}).`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CldcbError('bad_input', `${what} is ${fileKind(st)}, not a file.`);
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `${what}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
}

/**
 * The first `maxBytes` of a small regular file, and whether there was more. The caller owns
 * (and may zeroize) the bytes.
 * @throws CldcbError as {@link openRegularFile}.
 */
export function readSmallBytes(file: string, maxBytes: number, what = file): { bytes: Uint8Array; truncated: boolean } {
  const { fd, size } = openRegularFile(file, what);
  try {
    const buf = new Uint8Array(Math.min(maxBytes, size));
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    return { bytes: n === buf.length ? buf : buf.subarray(0, n), truncated: size > maxBytes };
  } catch (e) {
    throw new CldcbError('io_error', `${what}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  } finally {
    closeSync(fd);
  }
}

/** {@link readSmallBytes} as latin1 text. */
export function readSmallText(file: string, maxBytes: number, what = file): { text: string; truncated: boolean } {
  const { bytes, truncated } = readSmallBytes(file, maxBytes, what);
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'), truncated };
}
