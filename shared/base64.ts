/**
 * The house's one base64 (RFC 4648 §4 standard and §5 URL-safe alphabets). The bytes are
 * encoded and decoded by @scure/base; this module adds what its decoder does not, for text
 * that people paste (credentials) or that crosses IPC (files the renderer read):
 *  - both alphabets, `=` padding optional (as ccan/base64 and go-macaroon's Base64Decode accept);
 *  - errors naming the position of the first bad character and saying which alphabet it
 *    belongs to, or what is wrong with the length or padding;
 *  - the unused low bits of the last character are ignored, as those decoders ignore them
 *    (@scure/base, strict per RFC 4648 §3.5, would refuse them).
 * The result is a fresh Uint8Array owned by the caller (never a view of a shared pool, as
 * Node's Buffer.from(…, 'base64') gives for small inputs), so secrets decoded here can be
 * zeroized. Platform-free.
 */
import { base64, base64nopad, base64url, base64urlnopad } from '@scure/base';
import { CldcbError } from './errors';

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const REV: readonly number[] = (() => {
  const r = new Array<number>(128).fill(-1);
  for (let i = 0; i < 64; i++) {
    r[STD.charCodeAt(i)] = i;
    r[URL_SAFE.charCodeAt(i)] = i;
  }
  return r;
})();

export type Base64Alphabet = 'standard' | 'url' | 'either';

/**
 * Encode bytes as base64.
 * @param url use the URL-safe alphabet (`-`, `_`) instead of `+`, `/`.
 * @param pad add `=` padding to a multiple of 4 characters.
 * @example encodeBase64(Uint8Array.of(0x12, 0xab), false, true) // 'Eqs='
 */
export function encodeBase64(bytes: Uint8Array, url: boolean, pad: boolean): string {
  return (url ? (pad ? base64url : base64urlnopad) : pad ? base64 : base64nopad).encode(bytes);
}

/**
 * Decode base64 with optional trailing `=` padding.
 * @param field names the input in error messages, e.g. "rune".
 * @param alphabet which alphabet(s) to accept; a character of the other one is reported with a hint.
 * @throws CldcbError bad_input naming the first bad character's position or misplaced padding;
 *   bad_length for a length that cannot be base64.
 * @example decodeBase64('Eqs', 'example', 'standard') // Uint8Array [0x12, 0xab]
 */
export function decodeBase64(text: string, field: string, alphabet: Base64Alphabet): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && text.length - end < 2) end--;
  let body = text.slice(0, end);
  let urlSafe = false;
  let standard = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? REV[c]! : -1;
    if (v < 0) {
      const shown = c > 32 && c < 127 ? `"${body[i]}"` : `code ${c}`;
      throw new CldcbError('bad_input', `${field}: character ${i + 1} (${shown}) is not base64.`);
    }
    if (c === 43 || c === 47) {
      if (alphabet === 'url')
        throw new CldcbError(
          'bad_input',
          `${field}: character ${i + 1} ("${body[i]}") belongs to standard base64; this must be URL-safe base64 (with "-" and "_").`,
        );
      standard = true;
    }
    if (c === 45 || c === 95) {
      if (alphabet === 'standard')
        throw new CldcbError('bad_input', `${field}: character ${i + 1} ("${body[i]}") is URL-safe base64; expected standard base64.`);
      urlSafe = true;
    }
  }
  if (end < text.length && text.length % 4 !== 0)
    throw new CldcbError('bad_input', `${field}: the "=" padding is misplaced (a padded base64 string has a multiple of 4 characters).`);
  if (body.length % 4 === 1)
    throw new CldcbError(
      'bad_length',
      `${field}: ${body.length} base64 characters cannot be whole bytes (the text is cut or has an extra character).`,
    );
  const A = urlSafe ? URL_SAFE : STD;
  // 'either' with both alphabets mixed in one text: read it in one alphabet.
  if (urlSafe && standard) body = body.replace(/[+/]/g, (ch) => (ch === '+' ? '-' : '_'));
  // Clear the unused low bits of the last character (2 of 4 chars → 4 bits, 3 of 4 → 2 bits).
  const unusedBits = body.length % 4 === 2 ? 4 : body.length % 4 === 3 ? 2 : 0;
  if (unusedBits) {
    const last = REV[body.charCodeAt(body.length - 1)]!;
    body = body.slice(0, -1) + A[last & ~((1 << unusedBits) - 1)]!;
  }
  return (urlSafe ? base64urlnopad : base64nopad).decode(body);
}
