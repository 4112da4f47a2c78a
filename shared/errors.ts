/**
 * Errors are data (style.md §4). Every failure the operator can meet carries a
 * code from this closed union and a message that says what is wrong, where
 * (file, field, word, group) and what to do next. Messages never contain
 * secret material.
 */
export const ERROR_CODES = [
  'bad_input', // malformed input in general (the message says which field)
  'bad_length', // wrong number of bytes / characters / words
  'bad_checksum', // BIP39, codex32, hex-line or file checksum failed
  'bad_hex', // a non-hex character where hex was expected
  'unknown_word', // a BIP39 word not in the English list
  'wrong_passphrase', // passphrase does not open the secret
  'passphrase_required', // a passphrase is needed and none was given
  'passphrase_not_needed', // a passphrase was given for an unprotected secret
  'not_hsm_secret', // the file is not any Core Lightning hsm_secret format
  'truncated', // input ended early
  'file_not_found',
  'file_exists', // refusing to overwrite
  'io_error',
  'not_authentic', // an AEAD tag or signature did not verify
  'protocol_error', // the peer broke the cldcb protocol
  'server_unreachable',
  'timeout',
  'cancelled', // the operator cancelled a long job
  'integrity_failed', // a rebuilt database failed its checks
  'archive_lost_writes', // an archive is missing writes lightningd committed
  'stale_state', // the data may be older than the node's real state
  'not_found', // e.g. no entry matches our node key
  'unsupported', // a valid input this version cannot handle
  'offline', // a network action was attempted without online mode
  'internal', // a bug: the message is generic, details go to the developer log
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
}

/** An error meant for the operator: `message` is safe to show and to log. */
export class CldcbError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CldcbError';
    this.code = code;
  }
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorData };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string): Result<never> => ({ ok: false, error: { code, message } });

/**
 * The developer log: where a bug's trace goes when it becomes an `internal` error. Each host
 * sets it once (the Electron main process: a file in the app's logs folder; the CLI: stderr
 * with CLDCB_DEBUG=1); unset, traces are dropped. Only developerTrace() text reaches it.
 */
let developerLog: ((trace: string) => void) | null = null;
const logged = new WeakSet<object>();

export function setDeveloperLog(sink: ((trace: string) => void) | null): void {
  developerLog = sink;
}

/** Send a trace made elsewhere (a worker thread's) to the developer log. */
export function logDeveloperTrace(trace: string): void {
  try {
    developerLog?.(trace);
  } catch {
    // The log must never turn a reported bug into a second one.
  }
}

/**
 * A bug's trace for the developer log, free of secrets by construction: the error's class, a
 * system error's code (ENOENT, ERR_…), and the stack's frames (function, file:line:column) —
 * never the message, which may quote whatever input failed (a secret, a file's contents), and
 * the same for each `cause`.
 */
export function developerTrace(e: unknown, depth = 0): string {
  if (!(e instanceof Error)) return `thrown: a ${e === null ? 'null' : typeof e} (not an Error)`;
  const code = (e as { code?: unknown }).code;
  const head = `${e.name}${typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? ` [${code}]` : ''}`;
  // V8's stack is "Name: message" (the message may span lines) followed by "    at …" frames.
  const stackLines = (typeof e.stack === 'string' ? e.stack : '').split('\n');
  const headerLines = `${e.name}: ${e.message}`.split('\n').length;
  const frames = stackLines.slice(headerLines).filter((l) => /^\s+at /.test(l));
  const cause = (e as { cause?: unknown }).cause;
  const causeText = cause !== undefined && depth < 3 ? `\ncaused by: ${developerTrace(cause, depth + 1)}` : '';
  return [head, ...frames].join('\n') + causeText;
}

/**
 * Turn anything thrown into error data that is safe to show. Unknown errors
 * (bugs) get a generic message: their text may contain data we must not show;
 * their trace (no message) goes to the developer log, once per error.
 */
export function toErrorData(e: unknown): ErrorData {
  if (e instanceof CldcbError) return { code: e.code, message: e.message };
  if (developerLog && !(typeof e === 'object' && e !== null && logged.has(e))) {
    if (typeof e === 'object' && e !== null) logged.add(e);
    logDeveloperTrace(developerTrace(e));
  }
  return { code: 'internal', message: 'Internal error (a bug in CLDCB). Nothing was written. Please report it.' };
}

/** Run `fn` and return its outcome as data. */
export async function wrapResult<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (e) {
    return { ok: false, error: toErrorData(e) };
  }
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}
