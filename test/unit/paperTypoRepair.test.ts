/**
 * shared/paper/typoRepair.ts: the indexable enumeration (order, direct
 * indexing, dedupe, completeness) and the word enumeration.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HexRepairSpace, WordRepairSpace, rankPair, splitRange, unrankPair } from '../../shared/paper/typoRepair';
import { parseTypedHexCopy } from '../../shared/paper/copyText';
import { LOOKALIKES, lookalikeAlternatives, readAsHex } from '../../shared/paper/lookalikes';
import { bytesToHex } from '../../shared/bytes';
import { ENGLISH_WORDS, editDistance } from '../../shared/secrets/words';

const FFEE = 'ffeeddccbbaa99887766554433221100'.repeat(2);
const hexArb = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

const hamming = (a: string, b: string): number => {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
};

describe('pair ranking', () => {
  it('unrankPair is the inverse of rankPair for all 2016 pairs, in lexicographic order', () => {
    let r = 0;
    for (let i = 0; i < 64; i++)
      for (let j = i + 1; j < 64; j++) {
        expect(rankPair(i, j)).toBe(r);
        expect(unrankPair(r)).toEqual([i, j]);
        r++;
      }
    expect(r).toBe(2016);
  });
});

describe('look-alike table', () => {
  it('maps every non-hex key to a hex digit first, and lists only hex digits', () => {
    for (const [k, v] of Object.entries(LOOKALIKES)) {
      expect(v.length).toBeGreaterThan(0);
      for (const d of v) expect(d).toMatch(/^[0-9a-f]$/);
      expect(readAsHex(k)).toMatch(/^[0-9a-f]$/);
      expect(lookalikeAlternatives(k)).not.toContain(readAsHex(k));
    }
    expect(readAsHex('o')).toBe('0');
    expect(readAsHex('x')).toBeNull();
    expect(lookalikeAlternatives('b')).toEqual(['6', '8', 'd']);
  });
});

describe('HexRepairSpace', () => {
  it('has the documented segments in order: look-alike, transposition, single (960), look-alike pairs, double (453,600)', () => {
    const s = HexRepairSpace.fromText(FFEE);
    expect(s.segments.map((g) => g.kind)).toEqual(['lookalike', 'transposition', 'single', 'lookalike', 'double']);
    const len = s.segments.map((g) => g.end - g.start);
    expect([len[1], len[2], len[4]]).toEqual([63, 960, 453_600]);
    expect(s.phase1End).toBe(s.segments[3]!.start);
    expect(s.phase1End).toBeLessThan(1_500); // stage 1 is about a thousand candidates
    expect(s.phase2End).toBe(s.segments[4]!.start);
    expect(s.size).toBe(s.segments[4]!.end);
    expect(() => s.kindAt(s.size)).toThrow(RangeError);
    expect(() => s.kindAt(-1)).toThrow(RangeError);
  });

  it('computes any slot directly, and write() agrees with candidateAt()', () => {
    fc.assert(
      fc.property(hexArb, fc.nat(), (hex, r) => {
        const s = HexRepairSpace.fromText(hex);
        const k = r % s.size;
        const c = s.candidateAt(k);
        const out = new Uint8Array(32);
        const ok = s.write(k, out);
        expect(ok).toBe(c !== null);
        if (c) {
          expect(bytesToHex(out)).toBe(c.hex);
          expect(c.kind).toBe(s.kindAt(k));
          expect(c.hex).not.toBe(hex);
          for (const ch of c.changes) expect(hex[ch.position]).toBe(ch.from);
          expect(hamming(c.hex, hex)).toBe(c.changes.length);
          if (c.kind === 'single') expect(c.changes).toHaveLength(1);
          if (c.kind === 'double') expect(c.changes).toHaveLength(2);
          if (c.kind === 'transposition') {
            const [a, b] = c.changes;
            expect(b!.position).toBe(a!.position + 1);
            expect([a!.to, b!.to]).toEqual([b!.from, a!.from]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds a known change at the slot the index formula says', () => {
    const s = HexRepairSpace.fromText(FFEE);
    // double: digits 10 and 40 (0-based) changed to the 3rd and 7th other values
    const d = s.phase2End + rankPair(10, 40) * 225 + 3 * 15 + 7;
    const c = s.candidateAt(d)!;
    expect(c.changes.map((x) => x.position)).toEqual([10, 40]);
    const other = (r: number, base: number) => (r < base ? r : r + 1);
    expect(c.changes[0]!.to).toBe(other(3, parseInt(FFEE[10]!, 16)).toString(16));
    expect(c.changes[1]!.to).toBe(other(7, parseInt(FFEE[40]!, 16)).toString(16));
  });

  // Full dedupe + completeness check on one copy with look-alike letters and repeated characters:
  // every candidate is distinct and different from the copy as read; exactly the 960 single and the
  // 453,600 double substitutions are present (each once), plus the systematic look-alikes and the copy as read.
  it('enumerates every single and pair of substitutions exactly once (no duplicates)', () => {
    const typed = 'bbbo' + FFEE.slice(4, 60) + 'l5s2';
    const s = HexRepairSpace.fromText(typed);
    const read = parseTypedHexCopy(typed).hex;
    const seen = new Set<string>();
    const byDistance = new Map<number, number>();
    const out = new Uint8Array(32);
    let holes = 0;
    for (let k = 0; k < s.size; k++) {
      if (!s.write(k, out)) {
        holes++;
        continue;
      }
      const key = String.fromCharCode(...out);
      if (seen.has(key)) throw new Error(`slot ${k} repeats an earlier candidate`);
      seen.add(key);
      const d = hamming(bytesToHex(out), read);
      byDistance.set(d, (byDistance.get(d) ?? 0) + 1);
    }
    expect(byDistance.get(0)).toBe(1); // the copy as read ("o" → 0, "l" → 1, "s" → 5)
    expect(byDistance.get(1)).toBe(960);
    expect(byDistance.get(2)).toBe(453_600);
    const systematic = [...byDistance.entries()].filter(([d]) => d >= 3).reduce((a, [, n]) => a + n, 0);
    expect(systematic).toBeGreaterThan(0); // "b" three times → b→6, b→8, b→d everywhere
    expect(holes + seen.size).toBe(s.size);
    expect(s.candidateAt(0)!.changes.map((c) => c.position)).toEqual([3, 60, 62]);
  });

  it('orders a look-alike before a transposition before a single before a look-alike pair before a double', () => {
    const s = HexRepairSpace.fromText(FFEE);
    const firstOf = (pred: (h: string) => boolean): number => {
      const out = new Uint8Array(32);
      for (let k = 0; k < s.size; k++) if (s.write(k, out) && pred(bytesToHex(out))) return k;
      return -1;
    };
    const lookalike = firstOf((h) => h === '6' + FFEE.slice(1) || h === FFEE.slice(0, 8) + '6' + FFEE.slice(9)); // b→6 at digit 9
    const swap = firstOf((h) => h === 'fefe' + FFEE.slice(4)); // digits 2 and 3 swapped
    const single = firstOf((h) => h === '3' + FFEE.slice(1));
    const dbl = firstOf((h) => h === '33' + FFEE.slice(2));
    const lookPair = firstOf((h) => h === '77' + FFEE.slice(2)); // f→7 twice
    expect(s.kindAt(lookalike)).toBe('lookalike');
    expect(s.kindAt(swap)).toBe('transposition');
    expect(s.kindAt(single)).toBe('single');
    expect(s.kindAt(dbl)).toBe('double');
    expect(lookalike).toBeLessThan(swap);
    expect(swap).toBeLessThan(single);
    expect(single).toBeLessThan(lookPair);
    expect(lookPair).toBeLessThan(dbl);
    expect(s.kindAt(lookPair)).toBe('lookalike');
    expect(lookPair).toBeGreaterThanOrEqual(s.phase1End);
    expect(lookPair).toBeLessThan(s.phase2End);
  });

  it('search() reports every match in a range, skips holes and stops when cancelled', () => {
    const s = HexRepairSpace.fromText(FFEE);
    const test = (c: Uint8Array) => c[0]! >> 4 === 0; // first digit 0
    const r = s.search(s.phase2End, s.phase2End + 20_000, test);
    let brute = 0;
    const out = new Uint8Array(32);
    for (let k = s.phase2End; k < s.phase2End + 20_000; k++) if (s.write(k, out) && out[0]! >> 4 === 0) brute++;
    expect(r.matches.length).toBe(brute);
    expect(brute).toBeGreaterThan(1);
    for (const k of r.matches) expect(s.candidateAt(k)!.hex.startsWith('0')).toBe(true);
    const progress: number[] = [];
    let calls = 0;
    const stopped = s.search(0, s.size, () => false, { cancelled: () => ++calls > 3, progress: (d) => progress.push(d), every: 100 });
    expect(stopped.stopped).toBe(true);
    expect(stopped.searched).toBeLessThanOrEqual(300);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('splitRange covers [from, to) exactly', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(100_000), fc.integer({ min: 1, max: 16 }), (from, n, parts) => {
        const sl = splitRange(from, from + n, parts);
        let at = from;
        for (const [a, b] of sl) {
          expect(a).toBe(at);
          expect(b).toBeGreaterThan(a);
          at = b;
        }
        expect(at).toBe(from + n);
        expect(sl.length).toBeLessThanOrEqual(parts);
      }),
    );
  });

  it('rejects an unreadable copy with the position, not the characters', () => {
    expect(() => HexRepairSpace.fromText(FFEE.slice(0, 20) + 'x' + FFEE.slice(21))).toThrow(/digit 21 \(line 2, group 2, position 1 of 4\)/);
    expect(() => HexRepairSpace.fromText(FFEE.slice(1))).toThrow(/found 63 digits/);
  });
});

describe('WordRepairSpace', () => {
  const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'.split(' ');

  it('searches swaps, then nearby words, then every word at every position (12 × 2048), deduped', () => {
    const typed = [...ABANDON];
    typed[4] = 'ability';
    const s = new WordRepairSpace(typed, ENGLISH_WORDS, editDistance);
    expect(s.segments.map((g) => g.kind)).toEqual(['swap', 'nearby', 'any']);
    expect(s.segments[2]!.end - s.segments[2]!.start).toBe(12 * 2048);
    const seen = new Set<string>();
    let holes = 0;
    let firstAbandonAt4 = -1;
    for (let k = 0; k < s.size; k++) {
      const c = s.candidateAt(k);
      if (!c) {
        holes++;
        continue;
      }
      const key = c.words.join(' ');
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      if (firstAbandonAt4 < 0 && key === ABANDON.join(' ')) firstAbandonAt4 = k;
    }
    expect(holes).toBeGreaterThan(0);
    expect(firstAbandonAt4).toBeGreaterThanOrEqual(0);
    expect(s.candidateAt(firstAbandonAt4)!.changes).toEqual([{ position: 4, from: 'ability', to: 'abandon' }]);
  });

  it('with one unknown word searches only that position, nearest first', () => {
    const typed = [...ABANDON];
    typed[11] = 'abuot';
    const s = new WordRepairSpace(typed, ENGLISH_WORDS, editDistance);
    expect(s.unknown).toEqual([11]);
    const first = s.candidateAt(0)!;
    expect(first.kind).toBe('nearby');
    expect(first.changes[0]!.position).toBe(11);
    expect(first.words[11]).toBe('about');
    expect(s.segments[2]!.end - s.segments[2]!.start).toBe(2048);
  });

  it('with two unknown words tries the product of their nearest words; more than 3 is refused', () => {
    const typed = [...ABANDON];
    typed[0] = 'abandn';
    typed[11] = 'abuot';
    const s = new WordRepairSpace(typed, ENGLISH_WORDS, editDistance);
    expect(s.size).toBe(64);
    const all = Array.from({ length: s.size }, (_, k) => s.candidateAt(k)!.words.join(' '));
    expect(all).toContain(ABANDON.join(' '));
    expect(() => new WordRepairSpace(['xx', 'yy', 'zz', 'ww', ...ABANDON.slice(4)], ENGLISH_WORDS, editDistance)).toThrow(/4 words are not/);
  });
});
