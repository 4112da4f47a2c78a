import { describe, expect, it } from 'vitest';
import { errorCode as code } from './helpers/errors';
import fc from 'fast-check';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../shared/bytes';
import { nobleSecp } from '../../shared/cldcb/curve';
import { MAX_CHUNK } from '../../shared/cldcb/messages';
import {
  decodeIncrementPlaintext,
  decodeReuploadHeader,
  encodeIncrementPlaintext,
  encodeReuploadHeader,
  IncrementReader,
  INCREMENT_PIECE_SIZE,
  REUPLOAD_PIECE_SIZE,
  sealIncrement,
  sealReupload,
  splitDatabase,
  splitIncrementPlaintext,
} from '../../shared/cldcb/plaintexts';
import { unsealStream } from '../../shared/cldcb/seal';

const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const NID = nobleSecp.publicKey(NPK);
const CPK = hexToBytes('257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f');
const CID = nobleSecp.publicKey(CPK);

describe('increment plaintext (cldcb-protocol §5.1)', () => {
  it('encodes 0x00 ‖ u32 dv ‖ u64 n ‖ n × (u64 len ‖ utf8)', () => {
    const pt = encodeIncrementPlaintext(0x01020304, ["INSERT INTO t VALUES('é')", '']);
    expect(bytesToHex(pt)).toBe(
      '00' + '01020304' + '0000000000000002' + '000000000000001a' + bytesToHex(utf8("INSERT INTO t VALUES('é')")) + '0000000000000000',
    );
    expect(bytesToHex(encodeIncrementPlaintext(9, []))).toBe('00' + '00000009' + '0000000000000000');
    expect(decodeIncrementPlaintext(pt)).toEqual({ format: 0, dataVersion: 0x01020304, count: 2, statements: ["INSERT INTO t VALUES('é')", ''] });
  });

  it('decodes the same whatever the piece boundaries (streaming)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.string({ maxLength: 40, unit: 'grapheme' }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 10 }),
        (dv, stmts, cuts) => {
          const pt = encodeIncrementPlaintext(dv, stmts);
          const pieces: Uint8Array[] = [];
          let o = 0;
          for (const c of cuts) {
            pieces.push(pt.subarray(o, Math.min(pt.length, o + c)));
            o = Math.min(pt.length, o + c);
          }
          pieces.push(pt.subarray(o));
          const d = new IncrementReader();
          const got: string[] = [];
          for (const p of pieces) got.push(...d.push(p));
          expect(d.finish()).toMatchObject({ dataVersion: dv, count: stmts.length });
          expect(got).toEqual(stmts);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports truncation, trailing bytes, bad UTF-8, absurd lengths and unknown formats', () => {
    const pt = encodeIncrementPlaintext(5, ['abc', 'de']);
    for (let cut = 0; cut < pt.length; cut++) expect(code(() => decodeIncrementPlaintext(pt.subarray(0, cut))), `cut ${cut}`).toBe('truncated');
    expect(() => decodeIncrementPlaintext(pt.subarray(0, 20))).toThrow(/statement 0 of 2/);
    expect(() => decodeIncrementPlaintext(concatBytes(pt, new Uint8Array([0])))).toThrow(/1 extra bytes/);
    const badUtf8 = hexToBytes('00' + '00000001' + '0000000000000001' + '0000000000000001' + 'ff');
    expect(() => decodeIncrementPlaintext(badUtf8)).toThrow(/statement 0 is not valid UTF-8/);
    const huge = hexToBytes('00' + '00000001' + '0000000000000001' + 'ffffffffffffffff');
    expect(code(() => decodeIncrementPlaintext(huge))).toBe('bad_input');
    const unknown = pt.slice();
    unknown[0] = 0x7f; // no such kind (0 original, 1 chained)
    expect(code(() => decodeIncrementPlaintext(unknown))).toBe('unsupported');
  });

  it('fuzz: arbitrary plaintexts only ever give CldcbError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const c = code(() => decodeIncrementPlaintext(b));
        if (c !== undefined) expect(['truncated', 'bad_input', 'unsupported']).toContain(c);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('splitting and sealing increments (our split rule)', () => {
  it('pieces are ≤ 64887 bytes, so chunks are ≤ 65000 (first) and ≤ 64903 (later)', () => {
    expect(INCREMENT_PIECE_SIZE).toBe(64887);
    expect(REUPLOAD_PIECE_SIZE).toBe(64984);
    // The original could send at most 64886 bytes (bug 1); check sizes around the edges.
    for (const n of [1, 64886, 64887, 64888, 2 * 64887, 2 * 64887 + 1, 200_000]) {
      const pieces = splitIncrementPlaintext(new Uint8Array(n));
      expect(pieces.reduce((a, p) => a + p.length, 0)).toBe(n);
      expect(pieces.length).toBe(Math.ceil(n / 64887));
      for (const p of pieces) expect(p.length).toBeLessThanOrEqual(64887);
    }
    expect(splitIncrementPlaintext(new Uint8Array(0))).toEqual([]);
  });

  it('a large db_write becomes several chunks that decode back', () => {
    const big = 'INSERT INTO t VALUES(' + "'" + 'x'.repeat(150_000) + "')";
    const stmts = ['PRAGMA foreign_keys = OFF;', big, "UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 41"];
    const chunks = sealIncrement(CPK, NID, 42, stmts);
    expect(chunks.length).toBe(3);
    expect(chunks[0]!.length).toBe(65000);
    expect(chunks[1]!.length).toBe(64903);
    for (const c of chunks) {
      expect(c.length).toBeGreaterThanOrEqual(1);
      expect(c.length).toBeLessThanOrEqual(MAX_CHUNK);
    }
    const pts = unsealStream(NPK, chunks, { sender: CID });
    expect(decodeIncrementPlaintext(pts)).toEqual({ format: 0, dataVersion: 42, count: 3, statements: stmts });
  });
});

describe('reupload plaintexts (cldcb-protocol §5.2)', () => {
  it('header is cpk ‖ u32 dv (36 bytes) and seals to 149 bytes', () => {
    const h = encodeReuploadHeader(CPK, 5);
    expect(bytesToHex(h)).toBe(bytesToHex(CPK) + '00000005');
    expect(decodeReuploadHeader(h)).toEqual({ clientPrivateKey: CPK, dataVersion: 5 });
    expect(() => decodeReuploadHeader(h.subarray(1))).toThrow(/36 bytes/);
    expect(() => encodeReuploadHeader(CPK.subarray(1), 5)).toThrow(/32 bytes/);
  });

  it('database pieces of 64984 bytes seal to ≤ 65000-byte chunks', () => {
    const db = new Uint8Array(163840).map((_, i) => (i * 7) & 255); // the fixture's size
    expect(splitDatabase(db).map((p) => p.length)).toEqual([64984, 64984, 33872]);
    const chunks = sealReupload(CPK, NID, 5, db);
    expect(chunks.map((c) => c.length)).toEqual([149, 65000, 65000, 33888]);
    const pts = unsealStream(NPK, chunks, { sender: CID });
    expect(decodeReuploadHeader(pts[0]!).dataVersion).toBe(5);
    expect(bytesToHex(concatBytes(...pts.slice(1)))).toBe(bytesToHex(db));
    expect(sealReupload(CPK, NID, 1, new Uint8Array(0)).length).toBe(1);
  });
});
