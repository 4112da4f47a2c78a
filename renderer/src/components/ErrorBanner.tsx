import type { Ref } from 'react';
import type { ErrorCode, ErrorData } from '../../../shared/errors';

/** A short title per error code; the message carries the details. Exhaustive by construction. */
export function errorTitle(code: ErrorCode): string {
  switch (code) {
    case 'bad_input':
      return 'That input is not valid';
    case 'bad_length':
      return 'Wrong length';
    case 'bad_checksum':
      return 'Checksum does not match';
    case 'bad_hex':
      return 'Not hexadecimal';
    case 'unknown_word':
      return 'Unknown word';
    case 'wrong_passphrase':
      return 'Wrong passphrase';
    case 'passphrase_required':
      return 'Passphrase needed';
    case 'passphrase_not_needed':
      return 'No passphrase needed';
    case 'not_hsm_secret':
      return 'Not an hsm_secret';
    case 'truncated':
      return 'The data ends early';
    case 'file_not_found':
      return 'File not found';
    case 'file_exists':
      return 'File already exists';
    case 'io_error':
      return 'Could not read or write a file';
    case 'not_authentic':
      return 'Not authentic';
    case 'protocol_error':
      return 'The server broke the protocol';
    case 'server_unreachable':
      return 'Server unreachable';
    case 'timeout':
      return 'Timed out';
    case 'cancelled':
      return 'Cancelled';
    case 'integrity_failed':
      return 'Integrity check failed';
    case 'archive_lost_writes':
      return 'The backup lost writes';
    case 'stale_state':
      return 'The state may be stale';
    case 'not_found':
      return 'Not found';
    case 'unsupported':
      return 'Not supported';
    case 'offline':
      return 'Offline';
    case 'internal':
      return 'Internal error';
  }
}

/** One error: its title and message, focusable so the action that failed can move focus to it. */
export function ErrorBanner({ error, onDismiss, ref, id }: { error: ErrorData | null; onDismiss?: () => void; ref?: Ref<HTMLDivElement>; id?: string }) {
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-code={error.code} tabIndex={-1} ref={ref} id={id}>
      <strong>{errorTitle(error.code)}.</strong> <span>{error.message}</span>
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          Dismiss
        </button>
      )}
    </div>
  );
}
