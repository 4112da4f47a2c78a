/**
 * Locating substitution errors with the codex32 checksum (BIP-93: the short checksum corrects up
 * to 4 substitutions): every pattern of 1–4 substitutions in the Core Lightning strings is
 * located exactly; a valid string, or one too damaged, gives null — never a silent guess.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import cl from '../vectors/cln/codex32-cl.json';
import bip93 from '../vectors/bip93/vectors.json';
import { CODEX32_CHARSET, diagnoseCodex32, locateCodex32Errors } from '../../shared/codex32';

const LEET = cl.cases[0]!.codex32;

/** Change the data characters at `positions` (indexes after "cl1") by the given non-zero XORs. */
function damage(s: string, changes: [number, number][]): string {
  const chars = s.split('');
  for (const [p, x] of changes) chars[3 + p] = CODEX32_CHARSET[CODEX32_CHARSET.indexOf(chars[3 + p]!) ^ x]!;
  return chars.join('');
}

describe('locateCodex32Errors', () => {
  it('a valid string has nothing to locate', () => {
    for (const c of cl.cases) expect(locateCodex32Errors(c.codex32)).toBeNull();
  });

  it('locates one wrong character (the example in its JSDoc)', () => {
    const typed = LEET.slice(0, -1) + 'q';
    expect(locateCodex32Errors(typed)).toEqual([{ position: 73, from: 'q', to: 's' }]);
  });

  it('locates every pattern of 1 to 4 substitutions exactly, in every Core Lightning vector', () => {
    const n = LEET.length - 3;
    fc.assert(
      fc.property(
        fc.constantFrom(...cl.cases.map((c) => c.codex32)),
        fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 31 }), { minLength: 4, maxLength: 4 }),
        (good, positions, xors) => {
          const typed = damage(good, positions.map((p, i) => [p, xors[i]!]));
          expect(diagnoseCodex32(typed).checksumOk).toBe(false);
          const fixes = locateCodex32Errors(typed)!;
          expect(fixes.map((f) => f.position).sort((a, b) => a - b)).toEqual(positions.map((p) => p + 3).sort((a, b) => a - b));
          const fixed = typed.split('');
          for (const f of fixes) {
            expect(typed[f.position]).toBe(f.from);
            fixed[f.position] = f.to;
          }
          expect(fixed.join('')).toBe(good);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('characters that cannot appear (b, i, o) are located as errors too', () => {
    const typed = LEET.slice(0, 20) + 'o' + LEET.slice(21);
    const fixes = locateCodex32Errors(typed)!;
    expect(fixes).toEqual([{ position: 20, from: 'o', to: LEET[20] }]);
  });

  it('upper-case strings are located like lower-case ones', () => {
    const typed = damage(LEET, [[10, 3]]).toUpperCase();
    expect(locateCodex32Errors(typed)).toEqual([{ position: 13, from: typed[13]!.toLowerCase(), to: LEET[13] }]);
  });

  it('more errors than the checksum can locate: null or a correction that is itself checked (never a wrong valid-looking string)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: LEET.length - 4 }), { minLength: 9, maxLength: 12 }), (positions) => {
        const typed = damage(LEET, positions.map((p) => [p, 1]));
        const fixes = locateCodex32Errors(typed);
        if (fixes === null) return;
        // A pattern this far from the truth may land within 4 of another valid string: then the
        // candidate is a valid string (so the operator must check it against the paper), never LEET itself.
        const fixed = typed.split('');
        for (const f of fixes) fixed[f.position] = f.to;
        expect(diagnoseCodex32(fixed.join('')).checksumOk).toBe(true);
        expect(fixes.length).toBeLessThanOrEqual(4);
      }),
      { numRuns: 100 },
    );
  });

  it('works for BIP-93 "ms" strings with the short checksum too (test vector 1)', () => {
    const ms = bip93.valid[0]!.secrets[0]!;
    const typed = ms.slice(0, 12) + (ms[12] === 'q' ? 'p' : 'q') + ms.slice(13);
    expect(locateCodex32Errors(typed)).toEqual([{ position: 12, from: typed[12], to: ms[12] }]);
  });

  it('not a short codex32 string: null', () => {
    expect(locateCodex32Errors('hello')).toBeNull();
    expect(locateCodex32Errors('cl1' + 'q'.repeat(120))).toBeNull();
  });
});
