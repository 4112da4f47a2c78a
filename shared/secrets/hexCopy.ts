/**
 * A 32-byte secret written down as hex (the "hex" paper copy, and what
 * `lightningd --recover=<hex>` accepts, cln-facts §3). On paper the 64 digits
 * are printed in 16 groups of 4; typed copies may contain spaces, dashes and
 * line breaks anywhere, and upper or lower case.
 *
 * Error messages name positions and groups, never digits of the secret (a
 * character that is *not* a hex digit is named: it carries no secret value).
 */
import { CldcbError } from '../errors';

export const HEX_COPY_DIGITS = 64;
export const HEX_COPY_GROUP = 4;

const SEPARATOR = /[\s\-\u2010-\u2015]/u; // whitespace, ASCII hyphen and Unicode dashes
const HEXDIGIT = /^[0-9a-fA-F]$/;
const LOOKALIKE: Record<string, string> = { o: '0', O: '0', l: '1', I: '1', i: '1', S: '5', s: '5', G: '6', g: '9', Z: '2', z: '2' };

/** Where hex digit number `index` (0-based, separators not counted) sits on the sheet (4 lines of 4 groups). */
export function hexDigitPlace(index: number): { digit: number; group: number; line: number; groupInLine: number; inGroup: number } {
  const group = Math.floor(index / HEX_COPY_GROUP);
  return { digit: index + 1, group: group + 1, line: Math.floor(group / 4) + 1, groupInLine: (group % 4) + 1, inGroup: (index % HEX_COPY_GROUP) + 1 };
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return `a control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
  if (cp > 0x7e) return `"${ch}" (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
  return `"${ch}"`;
}

/**
 * Normalise a typed hex copy to 64 lower-case hex digits.
 * Accepts an optional leading "0x" and separators (spaces, dashes, line breaks) anywhere.
 * @throws CldcbError bad_hex naming the first bad character (its place among the
 *   digits typed so far, the group of 4 and the position in the group), or
 *   bad_length saying how many digits were found.
 * @example normaliseHexCopy('ffee ddcc bbaa 9988 …') // 'ffeeddccbbaa9988…'
 */
export function normaliseHexCopy(text: string): string {
  let s = text.trim();
  if (/^0[xX]/.test(s)) s = s.slice(2);
  let out = '';
  const chars = Array.from(s);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (SEPARATOR.test(ch)) continue;
    if (!HEXDIGIT.test(ch)) {
      const p = hexDigitPlace(out.length);
      const hint = LOOKALIKE[ch] ? ` (perhaps the digit ${LOOKALIKE[ch]})` : '';
      throw new CldcbError(
        'bad_hex',
        `Hex copy: character ${i + 1} of the text, ${describeChar(ch)}, is not a hex digit (it would be digit ${p.digit}: line ${p.line}, group ${p.groupInLine}, position ${p.inGroup} of 4)${hint}. Only 0–9 and a–f are used.`,
      );
    }
    out += ch.toLowerCase();
  }
  if (out.length !== HEX_COPY_DIGITS) {
    const groups = Math.floor(out.length / HEX_COPY_GROUP);
    const rest = out.length % HEX_COPY_GROUP;
    throw new CldcbError(
      'bad_length',
      `Hex copy: found ${out.length} hex digits (${groups} full group${groups === 1 ? '' : 's'} of 4${rest ? ` and ${rest} more` : ''}); a secret has 64 (16 groups of 4). ` +
        (out.length < HEX_COPY_DIGITS ? 'Some digits are missing.' : 'There are extra digits.'),
    );
  }
  return out;
}

/** Format 64 hex digits as printed on the sheet: groups of 4, `perLine` groups a line. */
export function groupHexCopy(hex: string, perLine = 4): string {
  const groups = hex.match(/.{1,4}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += perLine) lines.push(groups.slice(i, i + perLine).join(' '));
  return lines.join('\n');
}
