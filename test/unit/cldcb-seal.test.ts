import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as secp from '@noble/secp256k1';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import { CldcbError } from '../../shared/errors';
import { nobleSecp } from '../../shared/cldcb/curve';
import { BOX_AD, boxNonce, nobleBoxAead, Sealer, sealStream, Unsealer, unsealStream } from '../../shared/cldcb/seal';

const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const NID = nobleSecp.publicKey(NPK);
const CPK = hexToBytes('257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f');
const CID = nobleSecp.publicKey(CPK);
const EPH = sha256(utf8('fixed ephemeral for tests'));

function notAuthentic(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    expect((e as CldcbError).code).toBe('not_authentic');
    return (e as Error).message;
  }
  throw new Error('expected not_authentic');
}

describe('sealed box (cldcb-protocol §5)', () => {
  it('uses AD = the 8 ASCII bytes "CLDCB 00" and a 12-byte little-endian counter nonce', () => {
    expect(bytesToHex(BOX_AD)).toBe('434c444342203030');
    expect(bytesToHex(boxNonce(0))).toBe('000000000000000000000000');
    expect(bytesToHex(boxNonce(1))).toBe('010000000000000000000000');
    expect(bytesToHex(boxNonce(0x1_0000_0102))).toBe('020100000100000000000000');
    expect(() => boxNonce(-1)).toThrow(CldcbError);
  });

  it('with a fixed ephemeral key: E ‖ sig(H(E)) ‖ AEAD(n=0), then AEAD(n=1)…', () => {
    const pts = [utf8('first'), new Uint8Array(0), utf8('third message')];
    const chunks = sealStream(CPK, NID, pts, { ephemeral: EPH });
    const E = nobleSecp.publicKey(EPH);
    expect(bytesToHex(chunks[0]!.subarray(0, 33))).toBe(bytesToHex(E));
    const sig = chunks[0]!.subarray(33, 97);
    expect(nobleSecp.verifyHash(sig, sha256(E), CID)).toBe(true);
    expect(bytesToHex(sig)).toBe(bytesToHex(nobleSecp.signHash(sha256(E), CPK))); // RFC 6979, deterministic
    expect(chunks.map((c) => c.length)).toEqual([97 + 5 + 16, 16, 13 + 16]);
    // Independent recomputation of every AEAD message.
    const K = sha256(secp.getSharedSecret(EPH, NID, true)); // K = SHA256(compressed(e·NODE)), no HKDF
    expect(bytesToHex(K)).toBe(bytesToHex(sha256(secp.getSharedSecret(NPK, E, true))));
    expect(bytesToHex(chunks[0]!.subarray(97))).toBe(bytesToHex(nobleBoxAead.seal(K, boxNonce(0), BOX_AD, pts[0]!)));
    expect(bytesToHex(chunks[2]!)).toBe(bytesToHex(nobleBoxAead.seal(K, boxNonce(2), BOX_AD, pts[2]!)));
    // Same inputs → same bytes.
    expect(sealStream(CPK, NID, pts, { ephemeral: EPH }).map(bytesToHex)).toEqual(chunks.map(bytesToHex));
    // And it opens.
    expect(unsealStream(NPK, chunks, { sender: CID }).map(bytesToHex)).toEqual(pts.map(bytesToHex));
  });

  it('a random ephemeral key differs every time and still opens', () => {
    const a = sealStream(CPK, NID, [utf8('x')]);
    const b = sealStream(CPK, NID, [utf8('x')]);
    expect(bytesToHex(a[0]!)).not.toBe(bytesToHex(b[0]!));
    expect(bytesToHex(unsealStream(NPK, b, { sender: CID })[0]!)).toBe(bytesToHex(utf8('x')));
  });

  it('flipping any bit of any sealed message gives not_authentic', () => {
    const pts = [utf8('header message, first'), utf8('second')];
    const chunks = sealStream(CPK, NID, pts, { ephemeral: EPH });
    for (let m = 0; m < chunks.length; m++) {
      for (let i = 0; i < chunks[m]!.length; i++) {
        const bad = chunks.map((c) => c.slice());
        bad[m]![i]! ^= 1 << i % 8;
        notAuthentic(() => unsealStream(NPK, bad, { sender: CID }));
      }
    }
  });

  it('rejects the wrong node key, the wrong client, reordering, truncation and garbage', () => {
    const chunks = sealStream(CPK, NID, [utf8('a'), utf8('b'), utf8('c')], { ephemeral: EPH });
    expect(notAuthentic(() => unsealStream(sha256(utf8('other node')), chunks, { sender: CID }))).toMatch(/tag does not verify/);
    expect(notAuthentic(() => unsealStream(NPK, chunks, { sender: NID }))).toMatch(/signature does not verify/);
    expect(notAuthentic(() => unsealStream(NPK, [chunks[0]!, chunks[2]!], { sender: CID }))).toMatch(/message 1/);
    expect(notAuthentic(() => unsealStream(NPK, [chunks[0]!.subarray(0, 112)], { sender: CID }))).toMatch(/too short/);
    expect(notAuthentic(() => unsealStream(NPK, [chunks[0]!, chunks[1]!.subarray(0, 15)], { sender: CID }))).toMatch(/shorter than the 16-byte tag/);
    const v = chunks[0]!.slice();
    v[0] = 4;
    expect(notAuthentic(() => unsealStream(NPK, [v], { sender: CID }))).toMatch(/version byte 0x04/);
    const badPoint = chunks[0]!.slice();
    badPoint.fill(0, 1, 33); // x = 0 is not on the curve
    expect(notAuthentic(() => unsealStream(NPK, [badPoint]))).toMatch(/not a valid curve point/);
  });

  it('a failed message does not advance the stream', () => {
    const chunks = sealStream(CPK, NID, [utf8('a'), utf8('b')], { ephemeral: EPH });
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(chunks[0]!);
    const bad = chunks[1]!.slice();
    bad[0]! ^= 1;
    notAuthentic(() => u.unseal(bad));
    expect(u.count).toBe(1);
    expect(bytesToHex(u.unseal(chunks[1]!))).toBe(bytesToHex(utf8('b')));
  });

  it('without an expected sender, signedBy tells who signed', () => {
    const chunks = sealStream(CPK, NID, [utf8('a')], { ephemeral: EPH });
    const u = new Unsealer(NPK);
    expect(u.signedBy(CID)).toBe(false); // nothing opened yet
    u.unseal(chunks[0]!);
    expect(u.signedBy(CID)).toBe(true);
    expect(u.signedBy(NID)).toBe(false);
  });

  it('the AEAD is pluggable (an injected AEAD is used for every message)', () => {
    let calls = 0;
    const counting = { ...nobleBoxAead, name: 'counting', seal: (...a: Parameters<typeof nobleBoxAead.seal>) => (calls++, nobleBoxAead.seal(...a)) };
    const s = new Sealer(CPK, NID, { ephemeral: EPH, crypto: { aead: counting } });
    s.seal(utf8('1'));
    s.seal(utf8('2'));
    expect(calls).toBe(2);
    s.dispose();
    expect(() => s.seal(utf8('3'))).toThrow(CldcbError);
  });

  it('fuzz: arbitrary chunks never throw anything but not_authentic', () => {
    const good = sealStream(CPK, NID, [utf8('a')], { ephemeral: EPH })[0]!;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, keepHeader) => {
        const chunk = keepHeader && b.length > 97 ? new Uint8Array([...good.subarray(0, 97), ...b.subarray(97)]) : b;
        notAuthentic(() => new Unsealer(NPK, { sender: CID }).unseal(chunk));
      }),
      { numRuns: 200 },
    );
  });
});

