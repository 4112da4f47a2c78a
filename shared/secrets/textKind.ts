/**
 * What kind of secret a typed text is (hex, words, codex32): the rule the parser
 * (hsmSecret.ts parseSecretText) and the import screen's live hint both use. Kept apart from
 * hsmSecret.ts so the window can use it without the file decoders.
 */
import { expandWord, splitWords } from './words';
import { readAsHex } from '../paper/lookalikes';

/**
 * Letters people write for hex digits in a copy: "o"/"O" for 0, "l"/"I" for 1, "S" for 5 (the
 * strongest confusions of shared/paper/lookalikes.ts; the others — g, t, h, y… — are too common in
 * words to tell a hex copy from words).
 */
const DIGIT_LOOKALIKE_LETTERS = 'oils';
const hexOrLookalike = (c: string): boolean => /[0-9a-f]/u.test(c) || (DIGIT_LOOKALIKE_LETTERS.includes(c) && readAsHex(c) !== null);

/**
 * A token that reads as a word, not as a group of hex digits typed with look-alikes: a BIP39 word
 * (or its unique 4-letter start), or letters beyond hex digits and DIGIT_LOOKALIKE_LETTERS. So
 * "ffoo" or "l0o1" count as hex, "wire" and "wirre" as words.
 */
function wordLikeToken(w: string): boolean {
  if (!/^[a-z]+$/u.test(w) || !/[g-z]/u.test(w)) return false;
  if (expandWord(w) !== null) return true;
  return !Array.from(w).every(hexOrLookalike);
}

/**
 * What a piece of typed or pasted text is. Codex32 by its "cl1"/"ms1" start;
 * words when at least two thirds of the tokens (see splitWords) are word-like
 * (wordLikeToken: not hex-only like "ffee", not hex typed with look-alikes like
 * "0O1l"); hex when it is (mostly) hex digits, those look-alikes and separators. A
 * heuristic: it only chooses which parser explains the errors — a hex copy with an
 * "O" for a 0 gets the hex parser's precise error, not "word 1 is not in the list".
 */
export function detectSecretTextKind(text: string): 'hex' | 'words' | 'codex32' | 'unknown' {
  const t = text.trim();
  if (t === '') return 'unknown';
  const compact = t.replace(/\s+/gu, '');
  if (/^(cl|ms)1/iu.test(compact)) return 'codex32';
  const tokens = splitWords(t);
  const wordLike = tokens.filter(wordLikeToken).length;
  if (wordLike > 0 && wordLike * 3 >= tokens.length * 2) return 'words';
  const body = compact.replace(/^0x/iu, '').replace(/[-\u2010-\u2015]/gu, '');
  const hexChars = Array.from(body).filter((c) => hexOrLookalike(c.toLowerCase())).length;
  if (body.length > 0 && hexChars / body.length >= 0.8) return 'hex';
  if (tokens.length > 1 && tokens.every((w) => /^[a-z]+$/u.test(w))) return 'words';
  return 'unknown';
}
