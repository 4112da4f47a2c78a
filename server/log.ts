/**
 * One line per event: `<ISO time> <level> <message>`. Levels as the plugin's log
 * notifications (debug, info, warn, error). Lines never carry secret material:
 * callers log ids, sizes, data_versions and reasons — never keys, codes, read
 * tokens/verifiers or chunk contents.
 *
 * Writes are synchronous and line-sized (one `write(2)` per line on a file opened
 * with O_APPEND), so a crash never leaves half a line and lines of concurrent
 * connections never interleave.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Close the log file (if any). */
  close(): void;
}

/** Control characters (incl. newlines) would break the one-line-per-event rule. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

/**
 * A logger writing to `file` (appending, mode 0600) or, without a file, to stderr.
 * @throws Error from open() when the log file cannot be opened.
 */
export function createLogger(level: LogLevel, file?: string): Logger {
  const min = LOG_LEVELS.indexOf(level);
  let fd: number | undefined = file === undefined ? 2 : openSync(file, 'a', 0o600);
  const owned = file !== undefined;
  const emit = (l: LogLevel, msg: string): void => {
    if (LOG_LEVELS.indexOf(l) < min || fd === undefined) return;
    const line = `${new Date().toISOString()} ${l.padEnd(5)} ${oneLine(msg)}\n`;
    try {
      writeSync(fd, line);
    } catch {
      // A full disk or closed stderr must not take the server down; the event is lost.
    }
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    close: () => {
      if (owned && fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** A logger that drops everything (unit tests of modules). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, close() {} };

/** Message text of anything thrown, safe for logs (CldcbError messages carry no secrets; others are reduced to their code). */
export function errText(e: unknown): string {
  if (e instanceof Error && e.name === 'CldcbError') return e.message;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return `${code}${(e as NodeJS.ErrnoException).syscall ? ` (${(e as NodeJS.ErrnoException).syscall})` : ''}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** What the operator should read for the errno codes a storage write meets (errText keeps the code). */
const STORAGE_CAUSES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file size limit was reached (RLIMIT_FSIZE, ulimit -f, or the file system\'s largest file)',
  EIO: 'the disk reported an I/O error',
  EROFS: 'the file system is read-only',
  EMFILE: 'the process has too many open files (ulimit -n)',
  ENFILE: 'the system has too many open files',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/**
 * A storage failure in the operator's words, with the code: "the disk is full (ENOSPC, write)".
 * @returns undefined for anything that is not an errno error.
 */
export function storageCause(e: unknown): string | undefined {
  if (e instanceof Error && e.name === 'CldcbError') return undefined;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  const syscall = (e as NodeJS.ErrnoException).syscall;
  return `${STORAGE_CAUSES[code] ?? 'a file system error'} (${code}${syscall ? `, ${syscall}` : ''})`;
}
