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
 * Turn anything thrown into error data that is safe to show. Unknown errors
 * (bugs) get a generic message: their text may contain data we must not show.
 */
export function toErrorData(e: unknown): ErrorData {
  if (e instanceof CldcbError) return { code: e.code, message: e.message };
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
