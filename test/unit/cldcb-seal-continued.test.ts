/**
 * Continued sealed streams (extension v1, shared/cldcb/seal.ts): an increment may continue
 * the stream an earlier increment started with `01 ‖ u64 n ‖ AEAD_K(n, "CLDCB 01", pt)`,
 * followed by ordinary messages n+1, n+2, … Byte layout, round trips, and every refusal
 * (all CldcbError('not_authentic'), the stream position unchanged).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as secp from '@noble/secp256k1';
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import { CldcbError } from '../../shared/errors';
import { nobleSecp } from '../../shared/cldcb/curve';
import {
  BOX_AD,
  BOX_TAG_SIZE,
  boxNonce,
  CONTINUED_AD,
  CONTINUED_HEADER_SIZE,
  CONTINUED_VERSION,
  continuedIndex,
  isContinuedMessage,
  nobleBoxAead,
  Sealer,
  Unsealer,
} from '../../shared/cldcb/seal';

const NPK = hexToBytes('1ff8408eee5b9d9d65ca6d3698067b551f93aef9b548f05520369ed435383673');
const NID = nobleSecp.publicKey(NPK);
const CPK = hexToBytes('257f11cd46fb5c79fce3f13a24b9be2d90dde2348575d58657667e6bc035ff3f');
const CID = nobleSecp.publicKey(CPK);
const EPH = sha256(utf8('fixed ephemeral for continued tests'));
const EPH2 = sha256(utf8('another fixed ephemeral'));

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    expect((e as CldcbError).code).toBe('not_authentic');
    return (e as Error).message;
  }
  throw new Error('expected not_authentic');
}

/** 01 ‖ u64 n (big-endian) ‖ rest. */
function continuedPrefix(n: number | bigint, rest: Uint8Array): Uint8Array {
  const head = new Uint8Array(CONTINUED_HEADER_SIZE);
  head[0] = CONTINUED_VERSION;
  new DataView(head.buffer).setBigUint64(1, BigInt(n), false);
  return concatBytes(head, rest);
}

/**
 * One stream as a plugin with our server seals it:
 *   msg 0  start (E ‖ sig ‖ AEAD)              increment A
 *   msg 1  continued                           increment B
 *   msg 2  continued                           increment C
 *   msg 3  continued, msg 4, msg 5 ordinary    increment D (three pieces)
 *   msg 6  continued                           increment E
 */
function sealedStream(ephemeral = EPH) {
  const pts = {
    a: utf8('increment A: the stream start'),
    b: utf8('increment B'),
    c: new Uint8Array(0),
    d: [utf8('increment D, piece 1'), new Uint8Array(300).fill(7), utf8('piece 3')],
    e: utf8('increment E, after the multi-piece one'),
  };
  const s = new Sealer(CPK, NID, { ephemeral });
  const m = {
    a: s.seal(pts.a),
    b: s.sealContinued(pts.b),
    c: s.sealContinued(pts.c),
    d: [s.sealContinued(pts.d[0]!), s.seal(pts.d[1]!), s.seal(pts.d[2]!)],
    e: s.sealContinued(pts.e),
  };
  expect(s.count).toBe(7);
  s.dispose();
  return { pts, m };
}

const hex = (b: Uint8Array): string => bytesToHex(b);

describe('continued messages: layout', () => {
  it('constants: version 0x01, 9-byte header, AD = the 8 ASCII bytes "CLDCB 01" (distinct from "CLDCB 00")', () => {
    expect(CONTINUED_VERSION).toBe(0x01);
    expect(CONTINUED_HEADER_SIZE).toBe(9);
    expect(hex(CONTINUED_AD)).toBe('434c444342203031');
    expect(hex(CONTINUED_AD)).not.toBe(hex(BOX_AD));
  });

  it('01 ‖ u64 n big-endian ‖ AEAD_K(nonce n, "CLDCB 01", pt); length 9 + pt + 16; ordinary pieces are plain AEAD', () => {
    const { pts, m } = sealedStream();
    const E = nobleSecp.publicKey(EPH);
    expect(hex(m.a.subarray(0, 33))).toBe(hex(E));
    // Independent key: K = SHA256(compressed(e · NODE)).
    const K = sha256(secp.getSharedSecret(EPH, NID, true));
    const expectContinued = (c: Uint8Array, n: number, pt: Uint8Array): void => {
      expect(c[0]).toBe(0x01);
      expect(hex(c.subarray(1, 9))).toBe(n.toString(16).padStart(16, '0'));
      expect(c.length).toBe(9 + pt.length + 16);
      expect(hex(c.subarray(9))).toBe(hex(nobleBoxAead.seal(K, boxNonce(n), CONTINUED_AD, pt)));
      expect(continuedIndex(c)).toBe(n);
      expect(isContinuedMessage(c)).toBe(true);
    };
    expectContinued(m.b, 1, pts.b);
    expectContinued(m.c, 2, pts.c);
    expectContinued(m.d[0]!, 3, pts.d[0]!);
    expectContinued(m.e, 6, pts.e);
    // The ordinary pieces of increment D continue the counter with the ordinary AD, no prefix.
    expect(hex(m.d[1]!)).toBe(hex(nobleBoxAead.seal(K, boxNonce(4), BOX_AD, pts.d[1]!)));
    expect(hex(m.d[2]!)).toBe(hex(nobleBoxAead.seal(K, boxNonce(5), BOX_AD, pts.d[2]!)));
    expect(m.d[2]!.length).toBe(pts.d[2]!.length + BOX_TAG_SIZE);
    // Same inputs → same bytes (deterministic with a fixed ephemeral key).
    const again = sealedStream().m;
    expect(hex(again.e)).toBe(hex(m.e));
    expect(isContinuedMessage(m.a)).toBe(false);
  });

  it('continuedIndex reads the 64-bit big-endian index; null beyond 2^53 - 1', () => {
    const tail = new Uint8Array(16);
    expect(continuedIndex(continuedPrefix(0, tail))).toBe(0);
    expect(continuedIndex(continuedPrefix(0x0102, tail))).toBe(0x0102);
    expect(continuedIndex(continuedPrefix(2n ** 32n + 2n, tail))).toBe(2 ** 32 + 2);
    expect(continuedIndex(continuedPrefix(2n ** 53n - 1n, tail))).toBe(Number.MAX_SAFE_INTEGER);
    expect(continuedIndex(continuedPrefix(2n ** 53n, tail))).toBeNull();
    expect(continuedIndex(continuedPrefix(2n ** 64n - 1n, tail))).toBeNull();
    // Works on a view into a larger buffer (byteOffset honoured).
    const big = concatBytes(new Uint8Array([0xaa, 0xbb, 0xcc]), continuedPrefix(77, tail));
    expect(continuedIndex(big.subarray(3))).toBe(77);
  });

  it('isContinuedMessage looks at the first byte only', () => {
    expect(isContinuedMessage(new Uint8Array(0))).toBe(false);
    expect(isContinuedMessage(new Uint8Array([1]))).toBe(true);
    expect(isContinuedMessage(new Uint8Array([2, 1]))).toBe(false);
    expect(isContinuedMessage(new Uint8Array([3]))).toBe(false);
  });

  it('Sealer.sealContinued before message 0 or after dispose: CldcbError internal, and no message is used up', () => {
    const s = new Sealer(CPK, NID, { ephemeral: EPH });
    let err: unknown;
    try {
      s.sealContinued(utf8('too early'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CldcbError);
    expect((err as CldcbError).code).toBe('internal');
    expect(s.count).toBe(0);
    // The stream can still start normally, with nonce 0.
    const first = s.seal(utf8('start'));
    expect(hex(new Unsealer(NPK, { sender: CID }).unseal(first))).toBe(hex(utf8('start')));
    s.dispose();
    expect(() => s.sealContinued(utf8('late'))).toThrow(expect.objectContaining({ code: 'internal' }));
  });
});

describe('continued messages: opening', () => {
  it('round trip: start, continued, empty continued, a three-piece continued increment, continued again', () => {
    const { pts, m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID });
    expect(hex(u.unseal(m.a))).toBe(hex(pts.a));
    expect(u.count).toBe(1);
    expect(hex(u.unsealContinued(m.b, 'increment 1'))).toBe(hex(pts.b));
    expect(u.count).toBe(2);
    expect(hex(u.unsealContinued(m.c))).toBe(hex(pts.c));
    expect(hex(u.unsealContinued(m.d[0]!))).toBe(hex(pts.d[0]!));
    expect(hex(u.unseal(m.d[1]!))).toBe(hex(pts.d[1]!));
    expect(hex(u.unseal(m.d[2]!))).toBe(hex(pts.d[2]!));
    expect(u.count).toBe(6);
    expect(hex(u.unsealContinued(m.e))).toBe(hex(pts.e));
    expect(u.count).toBe(7);
    expect(u.signedBy(CID)).toBe(true);
    u.dispose();
  });

  it('also with an injected AEAD and without an expected sender', () => {
    const { pts, m } = sealedStream();
    let opened = 0;
    const counting = {
      ...nobleBoxAead,
      name: 'counting',
      open: (...a: Parameters<typeof nobleBoxAead.open>) => (opened++, nobleBoxAead.open(...a)),
    };
    const u = new Unsealer(NPK, { crypto: { aead: counting } });
    u.unseal(m.a);
    expect(hex(u.unsealContinued(m.b))).toBe(hex(pts.b));
    expect(opened).toBe(2);
    expect(u.signedBy(CID)).toBe(true);
  });

  it('a gap (a later continued message, earlier ones skipped) is accepted: the v1 chain names what is missing', () => {
    const { pts, m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(m.a);
    expect(hex(u.unsealContinued(m.e))).toBe(hex(pts.e));
    expect(u.count).toBe(7);
  });

  it('an Unsealer whose first message is a continued one: "continues an earlier sealed stream"', () => {
    const { m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID, what: 'increment 5' });
    const msg = refusal(() => u.unseal(m.b));
    expect(msg).toMatch(/continues an earlier sealed stream/);
    expect(msg).toMatch(/^increment 5, message 0: /);
    // A short chunk starting 01 gets the same reason, not "too short".
    expect(refusal(() => new Unsealer(NPK).unseal(new Uint8Array([1, 0, 0])))).toMatch(
      /continues an earlier sealed stream/,
    );
    expect(u.count).toBe(0);
  });

  it('unsealContinued before any stream was opened: refused (the start is missing)', () => {
    const { m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID });
    const msg = refusal(() => u.unsealContinued(m.b, 'increment 1 (data_version 7)'));
    expect(msg).toMatch(/not opened before it/);
    expect(msg).toMatch(/increment that started the stream is missing/);
    expect(msg).toMatch(/^increment 1 \(data_version 7\), message 0:/);
    // And after dispose.
    const v = new Unsealer(NPK, { sender: CID });
    v.unseal(m.a);
    v.dispose();
    expect(refusal(() => v.unsealContinued(m.b))).toMatch(/not opened before it/);
  });

  it('an index that goes back (a replayed or reordered continued message) is refused; the position does not move', () => {
    const { pts, m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(m.a);
    u.unsealContinued(m.b);
    u.unsealContinued(m.c);
    // Replay of B (index 1) and of C itself (index 2): the stream is at 3.
    expect(refusal(() => u.unsealContinued(m.b))).toMatch(
      /names stream message 1, but the stream is already at message 3 \(reordered or repeated data\)/,
    );
    expect(refusal(() => u.unsealContinued(m.c))).toMatch(
      /names stream message 2, but the stream is already at message 3/,
    );
    expect(u.count).toBe(3);
    // Swapped order: E (6) first, then D (3) goes back.
    const w = new Unsealer(NPK, { sender: CID });
    w.unseal(m.a);
    w.unsealContinued(m.e);
    expect(refusal(() => w.unsealContinued(m.d[0]!))).toMatch(/reordered or repeated/);
    // The untouched stream still opens in order.
    expect(hex(u.unsealContinued(m.d[0]!))).toBe(hex(pts.d[0]!));
  });

  it('a flipped index byte: higher index → the tag fails, lower → goes back; every other single-bit flip fails too', () => {
    const { pts, m } = sealedStream();
    /** An Unsealer at stream message 2 (after A and B). */
    const open = (_next: Uint8Array): Unsealer => {
      const u = new Unsealer(NPK, { sender: CID });
      u.unseal(m.a);
      u.unsealContinued(m.b);
      return u;
    };
    // C has index 2; the stream is at 2.
    const up = m.c.slice();
    up[8]! ^= 0x01; // 2 → 3
    const u1 = open(up);
    expect(refusal(() => u1.unsealContinued(up))).toMatch(/authentication tag does not verify/);
    expect(u1.count).toBe(2);
    expect(hex(u1.unsealContinued(m.c))).toBe(hex(pts.c)); // the real one still opens
    const down = m.c.slice();
    down[8]! ^= 0x02; // 2 → 0
    expect(refusal(() => open(down).unsealContinued(down))).toMatch(/reordered or repeated/);
    const high = m.c.slice();
    high[1]! ^= 0x80; // beyond 2^53
    expect(refusal(() => open(high).unsealContinued(high))).toMatch(/beyond 2\^53/);
    for (let i = 0; i < m.c.length; i++)
      for (const bit of [0x01, 0x80]) {
        const bad = m.c.slice();
        bad[i]! ^= bit;
        refusal(() => open(bad).unsealContinued(bad));
      }
  });

  it('a middle (ordinary) piece re-labelled as a continued message is refused (distinct AD), and a start cannot be demoted', () => {
    const { pts, m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(m.a);
    u.unsealContinued(m.b);
    u.unsealContinued(m.c);
    u.unsealContinued(m.d[0]!);
    expect(u.count).toBe(4);
    // msg 4 is an ordinary piece of increment D: promote it to an increment start with its true index.
    const promoted = continuedPrefix(4, m.d[1]!);
    expect(refusal(() => u.unsealContinued(promoted))).toMatch(/authentication tag does not verify/);
    expect(u.count).toBe(4);
    // The demotion: D's continued start stripped of its prefix, opened as an ordinary message 3.
    const v = new Unsealer(NPK, { sender: CID });
    v.unseal(m.a);
    v.unsealContinued(m.b);
    v.unsealContinued(m.c);
    expect(refusal(() => v.unseal(m.d[0]!.subarray(CONTINUED_HEADER_SIZE)))).toMatch(
      /authentication tag does not verify/,
    );
    // An ordinary piece after a continued start must be the next index: skipping one fails.
    expect(refusal(() => u.unseal(m.d[2]!))).toMatch(/message 4: the authentication tag does not verify/);
    expect(hex(u.unseal(m.d[1]!))).toBe(hex(pts.d[1]!));
  });

  it('an ordinary stream-start message fed to unsealContinued: "not a continued message"; so is a too-short one', () => {
    const { m } = sealedStream();
    const other = new Sealer(CPK, NID, { ephemeral: EPH2 }).seal(utf8('another stream start'));
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(m.a);
    expect(refusal(() => u.unsealContinued(m.a))).toMatch(
      new RegExp(
        `not a continued message \\(${m.a.length} bytes, first byte 0x${m.a[0]!.toString(16).padStart(2, '0')}\\)`,
      ),
    );
    expect(refusal(() => u.unsealContinued(other))).toMatch(/not a continued message/);
    expect(refusal(() => u.unsealContinued(m.b.subarray(0, 24)))).toMatch(
      /not a continued message \(24 bytes, first byte 0x01\)/,
    );
    expect(refusal(() => u.unsealContinued(new Uint8Array(0)))).toMatch(
      /not a continued message \(0 bytes\)/,
    );
    expect(u.count).toBe(1);
    // The smallest continued message (empty plaintext, 25 bytes) is accepted in form.
    expect(m.c.length).toBe(25);
  });

  it("another stream's continued message (same client, other ephemeral key) does not open", () => {
    const mine = sealedStream(EPH).m;
    const theirs = sealedStream(EPH2).m;
    const u = new Unsealer(NPK, { sender: CID });
    u.unseal(mine.a);
    expect(refusal(() => u.unsealContinued(theirs.b))).toMatch(/authentication tag does not verify/);
    expect(u.count).toBe(1);
  });

  it('the `what` argument names the increment in later errors', () => {
    const { m } = sealedStream();
    const u = new Unsealer(NPK, { sender: CID, what: 'first' });
    u.unseal(m.a);
    u.unsealContinued(m.b, 'increment 1 (data_version 9)');
    expect(refusal(() => u.unseal(m.d[1]!))).toMatch(/^increment 1 \(data_version 9\), message 2: /);
  });

  it('fuzz: arbitrary chunks to unsealContinued never throw anything but not_authentic', () => {
    const { m } = sealedStream();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), fc.boolean(), (b, opened, keepHead) => {
        const u = new Unsealer(NPK, { sender: CID });
        if (opened) u.unseal(m.a);
        const chunk = keepHead && b.length > 9 ? concatBytes(m.b.subarray(0, 9), b.subarray(9)) : b;
        refusal(() => u.unsealContinued(chunk));
        expect(u.count).toBe(opened ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });
});
