/**
 * Reading a typed paper copy of a 32-byte secret as 64 hex digits, leniently:
 * the copy may hold look-alike characters ("o" for 0, "s" for 5, see
 * lookalikes.ts) and the per-line check codes printed on the sheet
 * (sheet.ts). Strict parsing for `--recover` lives in shared/secrets/hexCopy.ts;
 * this one keeps what the operator typed so that a comparison or a typo search
 * can say which of *their* characters to correct.
 *
 * Layout (the same as the printed sheet and `groupHexCopy`): 64 digits in 16
 * groups of 4, 4 groups a line, 4 lines. A typed line may end with its
 * 2-character check code: "a1b2 c3d4 e5f6 0718  check 3f" (the word "check" and
 * the separators / | : , . ( ) [ ] are optional and ignored).
 *
 * Messages name positions (digit, group, line), never the typed characters:
 * the copy is the secret, or nearly.
 */
import { CldcbError } from '../errors';
import { isHexChar, readAsHex } from './lookalikes';

/** Digits in a 32-byte secret. */
export const HEX_DIGITS = 64;
/** Digits in a group (one block of the printed copy). */
export const GROUP_DIGITS = 4;
/** Groups in the copy. */
export const GROUPS = HEX_DIGITS / GROUP_DIGITS;
/** Groups on a printed line. */
export const GROUPS_PER_LINE = 4;
/** Digits on a printed line. */
export const LINE_DIGITS = GROUP_DIGITS * GROUPS_PER_LINE;
/** Printed lines. */
export const LINES = HEX_DIGITS / LINE_DIGITS;
/** Characters in a line check code. */
export const CHECK_CHARS = 2;

/**
 * Where digit `index` (0-based) sits, 1-based: its digit number, its group (1–16), its line on the
 * sheet (1–4), its group within that line (1–4) and its place in the group (1–4).
 */
export function digitPlace(index: number): { digit: number; group: number; line: number; groupInLine: number; inGroup: number } {
  return {
    digit: index + 1,
    group: Math.floor(index / GROUP_DIGITS) + 1,
    line: Math.floor(index / LINE_DIGITS) + 1,
    groupInLine: (Math.floor(index / GROUP_DIGITS) % GROUPS_PER_LINE) + 1,
    inGroup: (index % GROUP_DIGITS) + 1,
  };
}

/** "line 2, group 3 (digits 25–28)" for a 0-based group index: where the operator finds it on the sheet. */
export function describeGroup(group: number): string {
  return `line ${Math.floor(group / GROUPS_PER_LINE) + 1}, group ${(group % GROUPS_PER_LINE) + 1} (digits ${group * GROUP_DIGITS + 1}–${(group + 1) * GROUP_DIGITS})`;
}

/** "digit 6 (line 1, group 2, position 2 of 4)" for a 0-based digit index: where it is on the sheet. */
export function describeDigit(index: number): string {
  const p = digitPlace(index);
  return `digit ${p.digit} (line ${p.line}, group ${p.groupInLine}, position ${p.inGroup} of ${GROUP_DIGITS})`;
}

/** "line 2 (groups 5–8, digits 17–32)" for a 0-based line index. */
export function describeLine(line: number): string {
  const g = line * GROUPS_PER_LINE;
  return `line ${line + 1} (groups ${g + 1}–${g + GROUPS_PER_LINE}, digits ${line * LINE_DIGITS + 1}–${(line + 1) * LINE_DIGITS})`;
}

export interface TypedHexCopy {
  /** The 64 typed characters, lower case, separators removed; may contain look-alikes such as "o". Secret. */
  readonly chars: string;
  /** The same read as hex: every look-alike replaced by the digit it is read as (`readAsHex`). Secret. */
  readonly hex: string;
  /** 0-based positions whose typed character is not a hex digit (read as its look-alike). */
  readonly nonHex: readonly number[];
  /** Per printed line (4), the typed check code read as hex, or null when none was typed. */
  readonly lineChecks: readonly (string | null)[];
}

// Whitespace, hyphens and dashes, and the punctuation people type between columns.
const SEPARATORS = /[\s\-\u2010-\u2015/|:,.()[\]]/gu;

function contentOf(line: string): string {
  return line.replace(/check/giu, ' ').replace(SEPARATORS, '').toLowerCase();
}

function badChar(where: string): never {
  throw new CldcbError(
    'bad_hex',
    `Hex copy: ${where} is not a hex digit and does not look like one. Only 0–9 and a–f are used: check that place on the paper and type it again (if it is unreadable, type your best guess — the typo search tries every digit there).`,
  );
}

/**
 * Parse a typed hex copy (see the module comment for what is accepted).
 * @throws CldcbError bad_length (how many digits were found; in line form,
 *   which line is too long or short), bad_hex (naming the digit or the line
 *   check that is neither hex nor a known look-alike).
 * @example parseTypedHexCopy('ffee ddcc bbaa 99B8 …').nonHex // []  ("B" is hex)
 */
export function parseTypedHexCopy(text: string): TypedHexCopy {
  if (typeof text !== 'string') throw new CldcbError('bad_input', 'Hex copy: expected text.');
  let body = text.trim();
  if (/^0x/iu.test(body)) body = body.slice(2);
  const lines = body
    .split(/\r?\n|\r/u)
    .map(contentOf)
    .filter((l) => l !== '');

  let chars = '';
  const checks: (string | null)[] = new Array<string | null>(LINES).fill(null);
  const lineForm =
    lines.length === LINES && lines.some((l) => l.length === LINE_DIGITS + CHECK_CHARS) && lines.join('').length !== HEX_DIGITS;
  if (lineForm) {
    for (let i = 0; i < LINES; i++) {
      const l = lines[i]!;
      if (l.length !== LINE_DIGITS && l.length !== LINE_DIGITS + CHECK_CHARS)
        throw new CldcbError(
          'bad_length',
          `Hex copy: ${describeLine(i)} has ${l.length} characters; a line has ${LINE_DIGITS} digits, optionally followed by its ${CHECK_CHARS}-character check. A digit is missing or doubled there.`,
        );
      chars += l.slice(0, LINE_DIGITS);
      if (l.length > LINE_DIGITS) {
        let check = '';
        for (const c of l.slice(LINE_DIGITS)) {
          const h = readAsHex(c);
          if (h === null) badChar(`a character of the check code of line ${i + 1}`);
          check += h;
        }
        checks[i] = check;
      }
    }
  } else {
    chars = lines.join('');
  }
  const arr = [...chars];
  const count = arr.length;
  if (count !== HEX_DIGITS) {
    const groups = Math.floor(count / GROUP_DIGITS);
    throw new CldcbError(
      'bad_length',
      `Hex copy: found ${count} digits (${groups} full group${groups === 1 ? '' : 's'} of ${GROUP_DIGITS}); a secret has ${HEX_DIGITS} (${GROUPS} groups of ${GROUP_DIGITS}). ` +
        (count < HEX_DIGITS ? 'Some digits are missing.' : 'There are extra digits.'),
    );
  }
  let hex = '';
  const nonHex: number[] = [];
  for (let i = 0; i < HEX_DIGITS; i++) {
    const c = arr[i]!;
    const h = readAsHex(c);
    if (h === null) {
      const p = digitPlace(i);
      badChar(`digit ${p.digit} (line ${p.line}, group ${p.groupInLine}, position ${p.inGroup} of ${GROUP_DIGITS})`);
    }
    if (!isHexChar(c)) nonHex.push(i);
    hex += h;
  }
  return { chars, hex, nonHex, lineChecks: checks };
}

/** Parse a typed node id: 66 hex digits (02 or 03 first), separators allowed. Public data. */
export function parseNodeIdText(text: string): string {
  if (typeof text !== 'string') throw new CldcbError('bad_input', 'Node id: expected text.');
  const s = text.replace(SEPARATORS, '').toLowerCase();
  if (s.length !== 66)
    throw new CldcbError('bad_length', `Node id: found ${s.length} characters; a node id has 66 hex digits (starting 02 or 03).`);
  for (let i = 0; i < s.length; i++)
    if (!isHexChar(s[i]!)) throw new CldcbError('bad_hex', `Node id: character ${i + 1} ("${s[i]}") is not a hex digit.`);
  if (!s.startsWith('02') && !s.startsWith('03'))
    throw new CldcbError('bad_input', 'Node id: must start with 02 or 03 (a compressed public key). Check the first two digits.');
  return s;
}
