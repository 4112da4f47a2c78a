/**
 * Native fast paths (shared/node/nativeSeal.ts, fastRecognition.ts) give the same
 * answers and bytes as the pure-JS core in shared/cldcb.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import { decodeArchive } from '../unit/helpers/decode';
import { CURVE_N, nobleSecp } from '../../shared/cldcb/curve';
import { parseClientId } from '../../shared/cldcb/ids';
import { sealIncrement, sealReupload } from '../../shared/cldcb/plaintexts';
import { checkRecognition, findOwnRecords, makeRecognitionChecker, signRecognitionCode, type RecognitionRecord } from '../../shared/cldcb/recognition';
import { BOX_AD, boxNonce, nobleBoxAead, unsealStream } from '../../shared/cldcb/seal';
import { fastCheckRecognition, fastFindOwnRecords, makeFastRecognitionChecker } from '../../shared/node/fastRecognition';
import { makeNativeSecp, nativeBoxAead, nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { randomKey } from './helpers/recovery';

const DIR = path.join(__dirname, '../fixtures/cldcb');
const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const CID = parseClientId('c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637');
const CPK = hexToBytes('257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f');
const NID = nobleSecp.publicKey(NPK);
const NSIG = hexToBytes(
  '04193b32a9d9234e8ecbb1c787d2b5d2686019a639a8d93ebe181a901a22693b534dceaea0b1818d0578347ba0ca8f95128a81b6583a5fbc8e7bc30071a64e77',
);
const native = makeNativeSecp();

function negateS(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (const b of sig.subarray(32)) s = (s << 8n) | BigInt(b);
  let t = CURVE_N - s;
  const out = sig.slice();
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

describe('native AEAD (node:crypto chacha20-poly1305) = @noble/ciphers', () => {
  it('same bytes for random keys, nonces and lengths; rejects tampering', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.uint8Array({ maxLength: 2000 }), (k, n, pt) => {
        const a = nobleBoxAead.seal(k, boxNonce(n), BOX_AD, pt);
        const b = nativeBoxAead.seal(k, boxNonce(n), BOX_AD, pt);
        expect(bytesToHex(b)).toBe(bytesToHex(a));
        expect(bytesToHex(nativeBoxAead.open(k, boxNonce(n), BOX_AD, a)!)).toBe(bytesToHex(pt));
        const bad = a.slice();
        bad[bad.length - 1]! ^= 1;
        expect(nativeBoxAead.open(k, boxNonce(n), BOX_AD, bad)).toBeNull();
        expect(nativeBoxAead.open(k, boxNonce(n + 1), BOX_AD, a)).toBeNull();
      }),
      { numRuns: 200 },
    );
    expect(nativeBoxAead.open(new Uint8Array(32), boxNonce(0), BOX_AD, new Uint8Array(15))).toBeNull();
    expect(() => nativeBoxAead.seal(new Uint8Array(31), boxNonce(0), BOX_AD, new Uint8Array(1))).toThrow(/32 bytes/);
  });
});

describe('native secp256k1 (libsecp256k1) = noble', () => {
  it('public keys, ECDH hashes and RFC 6979 signatures are byte-equal', () => {
    for (let i = 0; i < 30; i++) {
      const a = randomKey();
      const b = randomKey();
      const pb = nobleSecp.publicKey(b);
      expect(bytesToHex(native.publicKey(a))).toBe(bytesToHex(nobleSecp.publicKey(a)));
      expect(bytesToHex(native.ecdhHash(a, pb))).toBe(bytesToHex(nobleSecp.ecdhHash(a, pb)));
      const h = sha256(a);
      const sig = native.signHash(h, a);
      expect(bytesToHex(sig)).toBe(bytesToHex(nobleSecp.signHash(h, a)));
      const pa = nobleSecp.publicKey(a);
      for (const [s, pub, want] of [
        [sig, pa, true],
        [negateS(sig), pa, true], // high-S accepted (normalised), like the original
        [sig, pb, false],
        [new Uint8Array(64), pa, false],
        [new Uint8Array(64).fill(0xff), pa, false],
      ] as [Uint8Array, Uint8Array, boolean][]) {
        expect(native.verifyHash(s, h, pub)).toBe(want);
        expect(nobleSecp.verifyHash(s, h, pub)).toBe(want);
      }
    }
    expect(() => native.ecdhHash(NPK, new Uint8Array(33))).toThrow(/not a valid compressed/);
    expect(() => native.publicKey(new Uint8Array(32))).toThrow(/not a valid secp256k1 secret key/);
  });
});

describe('fast recognition check (one fixed-base multiplication) = reference verify', () => {
  it('agrees on the sample record and its variants', () => {
    const fast = makeFastRecognitionChecker(NPK);
    const ref = makeRecognitionChecker(NPK);
    const other = randomKey();
    const cases: [Uint8Array, Uint8Array, Uint8Array, boolean][] = [
      [NPK, CID, NSIG, true],
      [NPK, CID, negateS(NSIG), true], // high-S
      [other, CID, NSIG, false], // wrong node
      [NPK, nobleSecp.publicKey(other), NSIG, false], // wrong client
      [NPK, CID, new Uint8Array(64), false],
      [NPK, CID, new Uint8Array(64).fill(0xff), false],
      [NPK, new Uint8Array(33), NSIG, false], // not a point
      [NPK, CID.subarray(1), NSIG, false],
    ];
    for (const [n, c, s, want] of cases) {
      expect(fastCheckRecognition(n, c, s)).toBe(want);
      expect(checkRecognition(n, c, s)).toBe(want);
    }
    for (let i = 0; i < 64; i++) {
      const bad = NSIG.slice();
      bad[i]! ^= 0x10;
      expect(fast(CID, bad)).toBe(ref(CID, bad));
      expect(fast(CID, bad)).toBe(false);
    }
    expect(() => makeFastRecognitionChecker(new Uint8Array(32))).toThrow(/node private key/);
  });

  it('agrees on random keys: valid, invalid, wrong node, high-S', () => {
    for (let i = 0; i < 40; i++) {
      const node = randomKey();
      const client = nobleSecp.publicKey(randomKey());
      const code = signRecognitionCode(node, client, native);
      const wrongNode = randomKey();
      const variants: [Uint8Array, Uint8Array][] = [
        [node, code],
        [node, negateS(code)],
        [wrongNode, code],
        [node, signRecognitionCode(wrongNode, client)],
        [node, new Uint8Array([...code.subarray(0, 32), ...sha256(code)])],
      ];
      for (const [n, c] of variants) expect(fastCheckRecognition(n, client, c)).toBe(checkRecognition(n, client, c));
      expect(fastCheckRecognition(node, client, code)).toBe(true);
      expect(fastCheckRecognition(node, client, negateS(code))).toBe(true);
      expect(fastCheckRecognition(wrongNode, client, code)).toBe(false);
    }
  });

  it('the batch search finds the same records as the reference search', () => {
    const node = randomKey();
    const recs: RecognitionRecord[] = [];
    for (let i = 0; i < 60; i++) {
      const client = nobleSecp.publicKey(randomKey());
      const code = signRecognitionCode(i % 3 === 0 ? node : randomKey(), client, native);
      recs.push({ clientKey: client, code: i % 5 === 0 ? negateS(code) : code });
    }
    recs.push({ clientKey: new Uint8Array(33), code: recs[0]!.code }, { clientKey: recs[0]!.clientKey, code: new Uint8Array(64) }, recs[3]!, recs[3]!);
    const ref = findOwnRecords(node, recs);
    expect(ref.length).toBe(22);
    expect(fastFindOwnRecords(node, recs)).toEqual(ref);
    expect(fastFindOwnRecords(node, [])).toEqual([]);
    expect(fastFindOwnRecords(NPK, [{ clientKey: CID, code: NSIG }, ...recs])).toEqual([{ clientKey: CID, code: NSIG }]);
  });

  it('is faster than a full native verify path (informational)', () => {
    const fast = makeFastRecognitionChecker(NPK);
    const slow = makeRecognitionChecker(NPK, native);
    const n = 2000;
    let t = performance.now();
    for (let i = 0; i < n; i++) fast(CID, NSIG);
    const tf = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) slow(CID, NSIG);
    const ts = performance.now() - t;
    const recs = Array.from({ length: n }, () => ({ clientKey: CID, code: NSIG }));
    t = performance.now();
    expect(fastFindOwnRecords(NPK, recs).length).toBe(n);
    const tb = performance.now() - t;
    console.log(`recognition check: fast ${Math.round((n / tf) * 1000)}/s, batch ${Math.round((n / tb) * 1000)}/s, ecdh+verify ${Math.round((n / ts) * 1000)}/s`);
    expect(tf).toBeGreaterThan(0);
  });
});

describe('sealed box and archive decoding with native crypto = pure JS', () => {
  it('same sealed bytes with a fixed ephemeral key; each side opens the other', () => {
    const eph = sha256(utf8('ephemeral'));
    const stmts = ['x'.repeat(140_000), "UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 6"];
    const a = sealIncrement(CPK, NID, 7, stmts, { ephemeral: eph });
    const b = sealIncrement(CPK, NID, 7, stmts, { ephemeral: eph, crypto: nativeBoxCrypto() });
    expect(b.map(bytesToHex)).toEqual(a.map(bytesToHex));
    const db = new Uint8Array(randomBytes(150_000));
    const r1 = sealReupload(CPK, NID, 7, db, { ephemeral: eph });
    const r2 = sealReupload(CPK, NID, 7, db, { ephemeral: eph, crypto: nativeBoxCrypto() });
    expect(r2.map(bytesToHex)).toEqual(r1.map(bytesToHex));
    expect(unsealStream(NPK, r1, { sender: nobleSecp.publicKey(CPK), crypto: nativeBoxCrypto() }).length).toBe(r1.length);
  });

  it('decodes the fixture archive identically', () => {
    const arch = new Uint8Array(readFileSync(path.join(DIR, 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637.arch')));
    const a = decodeArchive(arch, NPK, CID);
    const b = decodeArchive(arch, NPK, CID, { crypto: nativeBoxCrypto() });
    expect(b.replay.map((d) => [d.dataVersion, d.statements])).toEqual(a.replay.map((d) => [d.dataVersion, d.statements]));
    expect(Buffer.compare(Buffer.concat(b.snapshot), Buffer.concat(a.snapshot))).toBe(0);
    expect(b.warnings).toEqual(a.warnings);
    const bad = arch.slice();
    bad[200]! ^= 1;
    expect(() => decodeArchive(bad, NPK, CID, { crypto: nativeBoxCrypto() })).toThrow(/not verify/);
  });
});
