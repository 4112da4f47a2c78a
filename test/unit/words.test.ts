import { describe, expect, it } from 'vitest';
import { mnemonicToSeedSync } from '@scure/bip39';
import {
  ENGLISH_WORDS,
  UnknownWordError,
  cStringBytes,
  editDistance,
  expandWord,
  mnemonicToSeedRaw,
  nearestWords,
  NEAREST_WORD_LETTERS,
  passphraseIsNormalisationSensitive,
  passphraseSpellings,
  splitWords,
  suggestWords,
  validateMnemonic,
} from '../../shared/secrets/words';
import { CldcbError } from '../../shared/errors';
import { bytesToHex } from '../../shared/bytes';

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
// cln-facts §1c vector: seed of "abandon×11 about" without passphrase.
const ABANDON_SEED =
  '5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4';

function thrown(fn: () => unknown): CldcbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CldcbError) return e;
    throw e;
  }
  throw new Error('expected a CldcbError');
}

describe('English word list', () => {
  it('has 2048 sorted words, unique in their first 4 letters', () => {
    expect(ENGLISH_WORDS).toHaveLength(2048);
    expect([...ENGLISH_WORDS].sort()).toEqual(ENGLISH_WORDS);
    expect(new Set(ENGLISH_WORDS.map((w) => w.slice(0, 4))).size).toBe(2048);
  });
});

describe('editDistance', () => {
  it.each([
    ['abandon', 'abandon', 0],
    ['abandn', 'abandon', 1],
    ['abnadon', 'abandon', 1], // transposition
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s ~ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('suggestWords / nearestWords', () => {
  it('completes a prefix alphabetically', () => {
    expect(suggestWords('aban', 3)).toEqual(['abandon', ...suggestWords('aban', 3).slice(1)]);
    expect(suggestWords('ab', 4)).toEqual(['abandon', 'ability', 'able', 'about']);
    expect(suggestWords('zoo', 1)).toEqual(['zoo']);
  });
  it('falls back to near words for typos', () => {
    expect(suggestWords('abandn', 3)).toContain('abandon');
    expect(suggestWords('', 3)).toEqual([]);
    expect(suggestWords('ab', 0)).toEqual([]);
  });
  it('nearestWords ranks a one-letter typo and a transposition first', () => {
    expect(nearestWords('abandn')[0]).toBe('abandon');
    expect(nearestWords('abnadon')[0]).toBe('abandon');
    expect(nearestWords('wdding')[0]).toBe('wedding');
    expect(nearestWords('ABOUT', 1)).toEqual(['about']);
    expect(nearestWords('xyz', 4)).toHaveLength(4);
  });
  it('compares only the first 16 letters of what was typed (a 4 KB "word" costs what a short one does)', () => {
    const long = 'abandonx' + 'q'.repeat(4096);
    expect(nearestWords(long)).toEqual(nearestWords(long.slice(0, NEAREST_WORD_LETTERS)));
    expect(nearestWords(long)[0]).toBe('abandon');
    // Letters past the 16th play no part (compared in full, this would be 'abandon').
    expect(NEAREST_WORD_LETTERS).toBe(16);
    expect(nearestWords('z'.repeat(16) + 'abandon')).toEqual(nearestWords('z'.repeat(16)));
    expect(() => validateMnemonic(long)).toThrow(/Word 1 of 1 is not in the BIP39 English word list/);
  });
});

describe('validateMnemonic', () => {
  it('returns the canonical form (lower case, single spaces)', () => {
    expect(validateMnemonic(`  ${ABANDON.toUpperCase().replace(/ /g, ' \n\t ')}  `)).toBe(ABANDON);
  });
  it('expands unique 4-letter abbreviations (metal backups)', () => {
    expect(validateMnemonic('aban aban aban aban aban aban aban aban aban aban aban abou')).toBe(ABANDON);
    expect(expandWord('aban')).toBe('abandon');
    expect(expandWord('act')).toBe('act'); // an exact word wins over longer words
    expect(expandWord('ab')).toBeNull();
    expect(() => validateMnemonic('aban '.repeat(11) + 'abou', { expandPrefixes: false })).toThrow(UnknownWordError);
  });
  it('accepts 12–24 words', () => {
    const w24 = 'abandon '.repeat(23) + 'art';
    expect(validateMnemonic(w24)).toBe(w24);
  });
  it('wrong word count says how many were found', () => {
    const e = thrown(() => validateMnemonic('abandon '.repeat(10) + 'about'));
    expect(e.code).toBe('bad_length');
    expect(e.message).toMatch(/Found 11 words/);
    expect(thrown(() => validateMnemonic('   ')).code).toBe('bad_length');
  });
  it('bad checksum names the word range', () => {
    const e = thrown(() => validateMnemonic('abandon '.repeat(11) + 'abandon'));
    expect(e.code).toBe('bad_checksum');
    expect(e.message).toContain('check words 1–12');
    const e24 = thrown(() => validateMnemonic('abandon '.repeat(24)));
    expect(e24.message).toContain('check words 1–24');
  });
  it('unknown word names the position and offers suggestions, but not in the message', () => {
    const e = thrown(() => validateMnemonic(ABANDON.replace(/^((?:\S+ ){4})abandon/, '$1abandn')));
    expect(e).toBeInstanceOf(UnknownWordError);
    expect(e.code).toBe('unknown_word');
    expect((e as UnknownWordError).position).toBe(5);
    expect((e as UnknownWordError).suggestions[0]).toBe('abandon');
    expect(e.message).toMatch(/Word 5 of 12/);
    expect(e.message).not.toMatch(/abandn|abandon/);
  });
});

describe('BIP39 seed without NFKD (libwally / CLN)', () => {
  it('matches the cln-facts vector and @scure/bip39 for ASCII', () => {
    expect(bytesToHex(mnemonicToSeedRaw(ABANDON))).toBe(ABANDON_SEED);
    expect(bytesToHex(mnemonicToSeedRaw(ABANDON, ''))).toBe(ABANDON_SEED);
    expect(mnemonicToSeedRaw(ABANDON, 'TREZOR')).toEqual(mnemonicToSeedSync(ABANDON, 'TREZOR'));
  });
  it('uses the raw bytes of a non-ASCII passphrase (scure normalises to NFKD, CLN does not)', () => {
    const nfc = 'caf\u00e9'; // é precomposed
    const nfd = 'cafe\u0301';
    expect(mnemonicToSeedRaw(ABANDON, nfc)).not.toEqual(mnemonicToSeedRaw(ABANDON, nfd));
    // scure gives the NFKD result for both spellings:
    expect(mnemonicToSeedSync(ABANDON, nfc)).toEqual(mnemonicToSeedRaw(ABANDON, nfd));
    expect(mnemonicToSeedSync(ABANDON, nfc)).not.toEqual(mnemonicToSeedRaw(ABANDON, nfc));
  });
  it('stops at a NUL like strlen()', () => {
    expect(cStringBytes('ab\u0000cd')).toEqual(new Uint8Array([0x61, 0x62]));
    expect(mnemonicToSeedRaw(ABANDON, 'pass\u0000word')).toEqual(mnemonicToSeedRaw(ABANDON, 'pass'));
  });
  it('lists the Unicode spellings of a passphrase, typed one first', () => {
    expect(passphraseSpellings('plain ascii')).toEqual(['plain ascii']);
    expect(passphraseIsNormalisationSensitive('plain')).toBe(false);
    const s = passphraseSpellings('caf\u00e9');
    expect(s[0]).toBe('caf\u00e9');
    expect(s).toContain('cafe\u0301');
    expect(passphraseIsNormalisationSensitive('caf\u00e9')).toBe(true);
  });
  it('splitWords handles any whitespace, commas and list numbering', () => {
    expect(splitWords(' A\tb\n\nc ')).toEqual(['a', 'b', 'c']);
    expect(splitWords('1. abandon 2) ability, 3:able\n10.about 11 act')).toEqual(['abandon', 'ability', 'able', 'about', 'act']);
    expect(splitWords('ffee 1100 12ab')).toEqual(['ffee', '1100', 'ab']);
  });
  it('validates a numbered list copied from paper', () => {
    const numbered = ABANDON.split(' ')
      .map((w, i) => `${i + 1}. ${w}`)
      .join('\n');
    expect(validateMnemonic(numbered)).toBe(ABANDON);
  });
});
