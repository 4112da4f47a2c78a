/**
 * Characters people confuse when they copy 64 hex digits by hand and type them
 * back in. Used to order the typo search (shared/paper/typoRepair.ts: these
 * candidates are tried first) and to explain differences (shared/paper/compare.ts).
 *
 * Everything is lower-cased before lookup, so an upper-case letter on the
 * paper ("B", "D", "G", "S", "Z", "O", "I") appears here as its lower-case form;
 * the upper-case confusions (B/8, D/0, G/6, S/5, Z/2, O/0, I/1) are listed under
 * the lower-case key.
 *
 * The table is a heuristic for *ordering*: the search also tries every other
 * single and pair of substitutions, so a confusion missing from this table is
 * still found, only a little later.
 */

/**
 * Typed character → the hex digits it may really be, most likely first.
 *
 * For a character that is not a hex digit the first entry is how we read it
 * (it is replaced before anything else is tried); the others are alternatives.
 *
 * | typed | may be | why |
 * |---|---|---|
 * | o | 0 | letter o for zero (no "o" in hex) |
 * | i, l | 1 | a stroke; "I"/"l" are the same shape in many fonts ("\|" and "!" are not mapped: "\|" separates columns) |
 * | s | 5 | S and 5 share the top bar and the lower bowl |
 * | z | 2 | Z and 2 differ only by the curve |
 * | g | 9, 6 | lower-case g is a 9 with a hook; upper-case G is an open 6 |
 * | q | 9 | q is a 9 with a straight stem |
 * | t | 7, f | a crossed 7 (continental style); a handwritten f |
 * | h | b | h is b without the closed bowl |
 * | y | 4 | an open-top 4 |
 * | 0 | d, 8, 6 | D (upper case) is a 0 with a straight side; a pinched 0 reads as 8; a 0 with a curl as 6 |
 * | 1 | 7 | a continental 1 has a long flag |
 * | 2 | 7 | a 2 with a straight base and a slanted stem |
 * | 3 | 8 | an 8 whose left side did not close |
 * | 4 | 9 | a closed-top 4 |
 * | 5 | 6, s→5 | a 5 whose lower bowl closed |
 * | 6 | b, 5, 0 | b is a 6 with a tall stem; a 6 with a flat top is a 5; a 6 with a short curl is a 0 |
 * | 7 | 1, f, 2 | see 1, t, 2 |
 * | 8 | b, 3, 0 | upper-case B; an 8 with an open left side; a pinched 0 |
 * | 9 | 4, a, g→9 | a closed-top 4; a single-storey a |
 * | a | d, 9, e | a with a tall stem is d; single-storey a is 9; a closed e |
 * | b | 6, 8, d | see 6 and 8; d is b mirrored |
 * | c | e, 0 | an e without its bar; a nearly closed c |
 * | d | a, 0, b | d with a short stem is a; upper-case D is 0; b mirrored |
 * | e | c, a | an e whose bar faded; a closed-loop e |
 * | f | 7, t→7 | a handwritten f and a crossed 7 |
 */
export const LOOKALIKES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // not hex digits: the first entry is how the character is read
  o: ['0'],
  i: ['1'],
  l: ['1'],
  s: ['5'],
  z: ['2'],
  g: ['9', '6'],
  q: ['9'],
  t: ['7', 'f'],
  h: ['b'],
  y: ['4'],
  // hex digits: the digits they are confused with
  '0': ['d', '8', '6'],
  '1': ['7'],
  '2': ['7'],
  '3': ['8'],
  '4': ['9'],
  '5': ['6'],
  '6': ['b', '5', '0'],
  '7': ['1', 'f', '2'],
  '8': ['b', '3', '0'],
  '9': ['4', 'a'],
  a: ['d', '9', 'e'],
  b: ['6', '8', 'd'],
  c: ['e', '0'],
  d: ['a', '0', 'b'],
  e: ['c', 'a'],
  f: ['7'],
});

const HEX = '0123456789abcdef';

/** True for 0-9 and a-f (lower case only: callers lower-case first). */
export const isHexChar = (c: string): boolean => c.length === 1 && HEX.includes(c);

/**
 * How a typed (lower-cased) character is read as a hex digit: itself for a hex
 * digit, the first look-alike for a known non-hex character, else null.
 */
export function readAsHex(c: string): string | null {
  if (isHexChar(c)) return c;
  return LOOKALIKES[c]?.[0] ?? null;
}

/**
 * The hex digits a typed (lower-cased) character may really be, other than the
 * way it is read (`readAsHex`), most likely first; empty for an unknown character.
 */
export function lookalikeAlternatives(c: string): string[] {
  const read = readAsHex(c);
  const list = LOOKALIKES[c] ?? [];
  return list.filter((d) => d !== read && isHexChar(d));
}
