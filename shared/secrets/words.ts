/**
 * BIP39 English words as Core Lightning uses them (cln-facts.md §1c, §3).
 *
 * - Validation: libwally `bip39_mnemonic_validate` against the **English** list
 *   only — 12/15/18/21/24 known words, checksum valid. We use @scure/bip39 for
 *   the list and the entropy/checksum maths.
 * - Seed: `PBKDF2-HMAC-SHA512(password = mnemonic bytes, salt = "mnemonic" +
 *   passphrase bytes, 2048, 64)`. libwally applies **no NFKD normalisation**:
 *   the raw UTF-8 bytes are used. @scure/bip39's `mnemonicToSeed` normalises
 *   both strings to NFKD (as BIP39 says), so we call PBKDF2 ourselves on the raw
 *   bytes (`mnemonicToSeedRaw`). The English words are ASCII and for an ASCII
 *   passphrase NFKD changes nothing, so both give the same seed (tested). For a
 *   non-ASCII passphrase they can differ (e.g. "é" typed as U+00E9 is one code
 *   point, NFKD makes it "e" + U+0301): CLN hashes exactly the bytes that were
 *   typed, and so do we.
 * - C strings: libwally and CLN take `strlen()` of both strings, so a NUL cuts
 *   them short; `cStringBytes` does the same.
 *
 * Helpers for people typing words: `suggestWords` (autocomplete),
 * `nearestWords` (edit distance + common prefix), and `validateMnemonic`, whose
 * errors name the word position and never contain the words themselves.
 */
import { mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { CldcbError } from '../errors';
import { utf8, zeroize } from '../bytes';

/** The 2048 BIP39 English words, sorted (the list CLN validates against). */
export const ENGLISH_WORDS: readonly string[] = wordlist;
const WORD_SET: ReadonlySet<string> = new Set(wordlist);

/** Word counts BIP39 allows. */
export const MNEMONIC_WORD_COUNTS = [12, 15, 18, 21, 24] as const;

/**
 * An unknown word. `position` is 1-based. `suggestions` holds the nearest
 * English words for the UI; they are deliberately **not** in `message`
 * (they are probably the real secret word, and messages get shown and logged).
 */
export class UnknownWordError extends CldcbError {
  constructor(
    readonly position: number,
    readonly suggestions: readonly string[],
    message: string,
  ) {
    super('unknown_word', message);
    this.name = 'CldcbError';
  }
}

/** True when `w` (exactly, lower case) is one of the 2048 English words. */
export function isBip39Word(w: string): boolean {
  return WORD_SET.has(w);
}

/** Optimal-string-alignment distance (Levenshtein + adjacent transposition). */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m]!;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Letters of a typed word that are compared (BIP39 words have at most 8). The distance to
 * each of the 2048 words costs length × 8 steps: without a cap a 4 KB paste that is one
 * "word" (a secret file or the app's text field allows that much) took ~2 s (found by
 * scripts/fuzz.mjs); with it, a suggestion costs the same whatever was typed.
 */
export const NEAREST_WORD_LETTERS = 16;

/**
 * The English words closest to `word` (its first {@link NEAREST_WORD_LETTERS} letters):
 * smallest edit distance first, then the longest common prefix (BIP39 words are unique in
 * their first 4 letters, so a right beginning is strong evidence), then alphabetical.
 * @example nearestWords('abandn') // ['abandon', …]
 */
export function nearestWords(word: string, limit = 5): string[] {
  const w = word.trim().toLowerCase().slice(0, NEAREST_WORD_LETTERS);
  if (w === '' || limit <= 0) return [];
  const scored = ENGLISH_WORDS.map((c) => ({ c, d: editDistance(w, c), p: Math.min(commonPrefix(w, c), 4) }));
  scored.sort((x, y) => x.d - y.d || y.p - x.p || (x.c < y.c ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.c);
}

/**
 * Autocomplete: the words starting with `partial` (alphabetical), then, if
 * fewer than `limit`, the nearest words by edit distance (for typos).
 * @example suggestWords('aban', 3) // ['abandon', …]
 */
export function suggestWords(partial: string, limit = 5): string[] {
  const p = partial.trim().toLowerCase();
  if (p === '' || limit <= 0) return [];
  const out = ENGLISH_WORDS.filter((w) => w.startsWith(p)).slice(0, limit);
  if (out.length < limit) {
    for (const w of nearestWords(p, limit + out.length)) {
      if (out.length >= limit) break;
      if (!out.includes(w)) out.push(w);
    }
  }
  return out;
}

/**
 * Split typed text into lower-case words. Whitespace, commas and semicolons
 * separate; numbering copied from a paper list ("1.", "2)", "3:" — alone or
 * stuck to the word, as in "1.abandon") is dropped, so positions in errors are
 * the word numbers.
 */
export function splitWords(text: string): string[] {
  return text
    .trim()
    .toLowerCase()
    .split(/[\s,;]+/u)
    .map((w) => w.replace(/^\d{1,2}[.):-]?(?=\p{L})/u, ''))
    .filter((w) => w !== '' && !/^\d{1,2}[.):-]?$/u.test(w));
}

/**
 * The one English word a typed token stands for: the word itself, or — for a
 * token of 4+ letters that starts exactly one word — that word (metal backups
 * often keep only the first 4 letters, which BIP39 makes unique). Else null.
 */
export function expandWord(token: string): string | null {
  if (WORD_SET.has(token)) return token;
  if (token.length < 4) return null;
  const hits = ENGLISH_WORDS.filter((w) => w.startsWith(token));
  return hits.length === 1 ? hits[0]! : null;
}

export interface ValidateOptions {
  /** Accept unique 4+-letter abbreviations ("aban" → "abandon"). Default true. */
  expandPrefixes?: boolean;
}

/**
 * Validate typed words and return the mnemonic in the exact form CLN writes and
 * libwally accepts: lower-case English words separated by single spaces.
 * @throws CldcbError bad_length (word count), UnknownWordError unknown_word
 *   (naming the 1-based position; suggestions on the error object),
 *   bad_checksum ("check words 1–12").
 */
export function validateMnemonic(text: string, opts: ValidateOptions = {}): string {
  const tokens = splitWords(text);
  if (tokens.length === 0) throw new CldcbError('bad_length', 'No words found: type the 12 to 24 words of the mnemonic.');
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const w = opts.expandPrefixes === false ? (WORD_SET.has(t) ? t : null) : expandWord(t);
    if (w === null) {
      throw new UnknownWordError(
        i + 1,
        nearestWords(t, 5),
        `Word ${i + 1} of ${tokens.length} is not in the BIP39 English word list: check its spelling against your copy (the first 4 letters identify every word).`,
      );
    }
    words.push(w);
  }
  if (!(MNEMONIC_WORD_COUNTS as readonly number[]).includes(words.length))
    throw new CldcbError(
      'bad_length',
      `Found ${words.length} words; a BIP39 mnemonic has 12, 15, 18, 21 or 24 words (Core Lightning creates 12). Check for a missing or doubled word.`,
    );
  const mnemonic = words.join(' ');
  let entropy: Uint8Array | undefined;
  try {
    entropy = mnemonicToEntropy(mnemonic, wordlist);
  } catch {
    throw new CldcbError(
      'bad_checksum',
      `BIP39 checksum does not match: check words 1–${words.length} against your copy (one word is wrong, or two are swapped; the last word also carries the checksum).`,
    );
  } finally {
    zeroize(entropy);
  }
  return mnemonic;
}

/** UTF-8 bytes of `s` up to (not including) the first NUL, as C's strlen() sees them. */
export function cStringBytes(s: string): Uint8Array {
  const b = utf8(s);
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.slice(0, nul);
}

/**
 * The 64-byte BIP39 seed exactly as libwally `bip39_mnemonic_to_seed` computes
 * it for CLN: PBKDF2-HMAC-SHA512 over the **raw** bytes (no NFKD), salt
 * "mnemonic" + passphrase, 2048 iterations. A missing passphrase is the empty
 * one. Does not validate the words (see `validateMnemonic`). Zeroize the result.
 */
export function mnemonicToSeedRaw(mnemonic: string | Uint8Array, passphrase?: string | Uint8Array): Uint8Array {
  const m = typeof mnemonic === 'string' ? cStringBytes(mnemonic) : mnemonic;
  const p = passphrase === undefined ? new Uint8Array(0) : typeof passphrase === 'string' ? cStringBytes(passphrase) : passphrase;
  const salt = new Uint8Array(8 + p.length);
  salt.set(utf8('mnemonic'));
  salt.set(p, 8);
  try {
    return pbkdf2(sha512, m, salt, { c: 2048, dkLen: 64 });
  } finally {
    zeroize(salt);
    if (typeof passphrase === 'string') zeroize(p);
    if (typeof mnemonic === 'string') zeroize(m);
  }
}

/**
 * Different Unicode spellings of a passphrase (as typed, NFC, NFD, NFKC, NFKD),
 * without duplicates, the typed one first. CLN uses raw bytes, so a passphrase
 * set on a system that produced NFD and typed later as NFC will not match;
 * when a check value exists (encrypted file MAC, mnemonic seed hash) we may
 * try these spellings safely — only the one CLN really used can verify.
 */
export function passphraseSpellings(p: string): string[] {
  const out = [p];
  for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD'] as const) {
    const v = p.normalize(form);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** True when the passphrase's bytes depend on Unicode normalisation (worth a warning in the UI). */
export function passphraseIsNormalisationSensitive(p: string): boolean {
  return passphraseSpellings(p).length > 1;
}
