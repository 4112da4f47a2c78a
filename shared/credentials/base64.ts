/**
 * Base64 for credentials (RFC 4648 §4 standard and §5 URL-safe alphabets),
 * written here rather than taken from @scure/base because the inputs come from
 * people pasting credentials: we need both alphabets, padding optional (as
 * ccan/base64 and go-macaroon's Base64Decode accept), and error messages that
 * name the position of the bad character. Platform-free.
 */
import { CldcbError } from '../errors';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const REV: readonly number[] = (() => {
  const r = new Array<number>(128).fill(-1);
  for (let i = 0; i < 64; i++) {
    r[STD.charCodeAt(i)] = i;
    r[URL.charCodeAt(i)] = i;
  }
  return r;
})();

export type Base64Alphabet = 'standard' | 'url' | 'either';

/**
 * Encode bytes as base64.
 * @param url use the URL-safe alphabet (`-`, `_`) instead of `+`, `/`.
 * @param pad add `=` padding to a multiple of 4 characters.
 */
export function encodeBase64(bytes: Uint8Array, url: boolean, pad: boolean): string {
  const A = url ? URL : STD;
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += A[n >> 18]! + A[(n >> 12) & 63]! + A[(n >> 6) & 63]! + A[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += A[n >> 18]! + A[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += A[n >> 18]! + A[(n >> 12) & 63]! + A[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return s;
}

/**
 * Decode base64 with optional trailing `=` padding.
 * @param field names the input in error messages, e.g. "rune".
 * @param alphabet which alphabet(s) to accept; a character of the other one is reported with a hint.
 * @throws CldcbError bad_input naming the first bad character's position, or a length that cannot be base64.
 */
export function decodeBase64(text: string, field: string, alphabet: Base64Alphabet): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--;
  const body = text.slice(0, end);
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? REV[c]! : -1;
    if (v < 0) {
      const shown = c > 32 && c < 127 ? `"${body[i]}"` : `code ${c}`;
      throw new CldcbError('bad_input', `${field}: character ${i + 1} (${shown}) is not base64.`);
    }
    if (alphabet === 'url' && (c === 43 || c === 47))
      throw new CldcbError(
        'bad_input',
        `${field}: character ${i + 1} ("${body[i]}") belongs to standard base64; this must be URL-safe base64 (with "-" and "_").`,
      );
    if (alphabet === 'standard' && (c === 45 || c === 95))
      throw new CldcbError(
        'bad_input',
        `${field}: character ${i + 1} ("${body[i]}") is URL-safe base64; expected standard base64.`,
      );
  }
  if (end < text.length && text.length % 4 !== 0)
    throw new CldcbError(
      'bad_input',
      `${field}: the "=" padding is misplaced (a padded base64 string has a multiple of 4 characters).`,
    );
  if (body.length % 4 === 1)
    throw new CldcbError(
      'bad_length',
      `${field}: ${body.length} base64 characters cannot be whole bytes (the text is cut or has an extra character).`,
    );
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    acc = (acc << 6) | REV[body.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}
