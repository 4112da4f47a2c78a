/**
 * The one base64 (shared/base64.ts), cross-checked against Node's Buffer codec on random
 * bytes, with the leniency people's pasted credentials need and the errors they get.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64, encodeBase64 } from '../../shared/base64';
import { CldcbError } from '../../shared/errors';

const b64 = (b: Uint8Array, url: boolean, pad: boolean) => {
  const s = Buffer.from(b).toString(url ? 'base64url' : 'base64');
  return pad ? s.padEnd(Math.ceil(s.length / 4) * 4, '=') : s.replace(/=+$/, '');
};

describe('base64', () => {
  it('encodes and decodes as Node does, in both alphabets, padded or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), (bytes, url, pad) => {
        const text = encodeBase64(bytes, url, pad);
        expect(text).toBe(b64(bytes, url, pad));
        expect(decodeBase64(text, 'x', url ? 'url' : 'standard')).toEqual(bytes);
        expect(decodeBase64(text, 'x', 'either')).toEqual(bytes);
      }),
    );
  });

  it('ignores the unused low bits of the last character, as ccan and Go do (and Node)', () => {
    // 'Eqs' is 0x12 0xab; 'Eqt'..'Eqv' differ only in the 2 unused bits.
    for (const text of ['Eqs', 'Eqt', 'Equ', 'Eqv', 'Eqv=']) expect(decodeBase64(text, 'x', 'standard')).toEqual(Uint8Array.of(0x12, 0xab));
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/]{2,40}$/), (text) => {
        if (text.length % 4 === 1) return;
        expect(decodeBase64(text, 'x', 'standard')).toEqual(new Uint8Array(Buffer.from(text, 'base64')));
      }),
    );
  });

  it("reads a text that mixes both alphabets when told 'either'", () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0xbf, 0xfe);
    expect(decodeBase64('+/+_/g', 'x', 'either')).toEqual(bytes);
  });

  it('returns a fresh array the caller can zeroize (never a view of a shared pool)', () => {
    const out = decodeBase64(encodeBase64(new Uint8Array(32).fill(7), false, true), 'x', 'standard');
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(32);
  });

  it('names what is wrong, and where', () => {
    const message = (text: string, alphabet: 'standard' | 'url' | 'either') => {
      try {
        decodeBase64(text, 'rune', alphabet);
      } catch (e) {
        expect(e).toBeInstanceOf(CldcbError);
        return (e as CldcbError).message;
      }
      throw new Error(`${text} decoded`);
    };
    expect(message('AB C', 'either')).toBe('rune: character 3 (code 32) is not base64.');
    expect(message('AB+C', 'url')).toMatch(/^rune: character 3 \("\+"\) belongs to standard base64/);
    expect(message('AB-C', 'standard')).toMatch(/^rune: character 3 \("-"\) is URL-safe base64/);
    expect(message('ABC==', 'either')).toMatch(/padding is misplaced/);
    expect(message('ABCDE', 'either')).toMatch(/5 base64 characters cannot be whole bytes/);
  });
});
