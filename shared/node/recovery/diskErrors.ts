/**
 * Failures of the disk the recovered database is written to, named as such (issue 14 #12): a
 * full disk must not read as "the archive lacks writes" or "SQLite failed". Recognised from the
 * system error code (ENOSPC, …) or SQLite's extended result code (SQLITE_FULL, SQLITE_IOERR_*, …),
 * never from message text.
 */
import { CldcbError } from '../../errors';

const ERRNO: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'a file-size limit was reached',
  EIO: 'the disk reported an I/O error',
  EROFS: 'the file system is read-only',
};

function sqliteCause(code: string): string | undefined {
  if (code === 'SQLITE_FULL') return 'the disk is full (or a file-size limit was reached)';
  if (code.startsWith('SQLITE_IOERR')) return 'the disk reported an I/O error';
  if (code.startsWith('SQLITE_READONLY')) return 'the file system or the file is read-only';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'the file cannot be opened';
  return undefined;
}

/**
 * The CldcbError for a disk failure while writing the recovered database, or undefined when `e`
 * is not one (then the caller judges it: a statement that fails, the archive's fault, …).
 */
export function diskError(e: unknown): CldcbError | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const cause = ERRNO[code] ?? sqliteCause(code);
  if (!cause) return undefined;
  return new CldcbError(
    'io_error',
    `Writing the recovered database failed: ${cause} (${code}). This is the lightning directory's disk, not the backup: make room (or fix the disk) and run the recovery again. Nothing was written.`,
  );
}
