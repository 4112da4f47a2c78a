/**
 * The one stream opener (shared/cldcb/seal.ts Unsealer, IncrementStreams) on the recovery's
 * native backend gives the same answers as on the pure-JS one (accepts and refuses the same
 * streams, with the same messages), the native AEAD opens what noble's does, SnapshotHasher
 * on a thread = inline SHA-256, and the parallel stream keys = the keys the rebuild derives
 * itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IncrementStreams, nobleBoxAead, nobleBoxCrypto, Sealer, Unsealer, BOX_AD, boxNonce } from '../../shared/cldcb/seal';
import { concatBytes } from '../../shared/bytes';
import { nativeBoxAead, nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { SnapshotHasher, PARALLEL_HASH_MIN } from '../../shared/node/recovery/snapshotHasher';
import { deriveStreamKeysJob, mergeKeys } from '../../shared/node/recovery/keys';
import { scanArchive } from '../../shared/node/recovery/archiveScan';
import { makeSyntheticArchive } from './helpers/synthetic';
import { randomKey } from './helpers/recovery';

const crypto = nativeBoxCrypto();
const node = randomKey();
const nodeId = crypto.secp.publicKey(node);
const client = randomKey();
const clientId = crypto.secp.publicKey(client);

let tmp: string;
beforeAll(() => (tmp = mkdtempSync(path.join(os.tmpdir(), 'cldcb-fast-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function outcome(open: (c: Uint8Array) => Uint8Array, chunks: Uint8Array[]): string {
  try {
    return chunks.map((c) => Buffer.from(open(c)).toString('hex')).join('|');
  } catch (e) {
    return `error:${(e as { code: string }).code}`;
  }
}

describe('the one opener: native backend = pure-JS backend, with a known sender', () => {
  it('same plaintexts, same refusals under every single-byte change of a stream', () => {
    const s = new Sealer(client, nodeId, { crypto });
    const chunks = [s.seal(randomBytes(40)), s.seal(randomBytes(100)), s.seal(new Uint8Array(0))];
    const ref = (cs: Uint8Array[]) => {
      const u = new Unsealer(node, { sender: clientId, crypto: nobleBoxCrypto });
      return outcome((c) => u.unseal(c), cs);
    };
    const fast = (cs: Uint8Array[]) => {
      const o = new Unsealer(node, { sender: clientId, crypto, what: 'x' });
      return outcome((c) => o.unseal(c), cs);
    };
    expect(fast(chunks)).toBe(ref(chunks));
    expect(fast(chunks)).not.toMatch(/^error/);
    for (let k = 0; k < chunks.length; k++)
      for (let i = 0; i < chunks[k]!.length; i += k === 0 ? 1 : 7) {
        const bad = chunks.map((c) => c.slice());
        bad[k]![i]! ^= 0x01;
        expect(fast(bad), `chunk ${k} byte ${i}`).toBe(ref(bad));
        expect(fast(bad)).toBe('error:not_authentic');
      }
    expect(fast([chunks[1]!, chunks[0]!])).toBe(ref([chunks[1]!, chunks[0]!]));
    // Another client's stream, and a stream for another node.
    const other = new Sealer(randomKey(), nodeId, { crypto }).seal(randomBytes(10));
    expect(fast([other])).toBe('error:not_authentic');
    const elsewhere = new Sealer(client, crypto.secp.publicKey(randomKey()), { crypto }).seal(randomBytes(10));
    expect(fast([elsewhere])).toBe(ref([elsewhere]));
  });

  it('withKey opens the same stream and still checks every tag', () => {
    const s = new Sealer(client, nodeId, { crypto });
    const chunks = [s.seal(randomBytes(40)), s.seal(randomBytes(70))];
    const o = new Unsealer(node, { sender: clientId, crypto, what: 'x' });
    const first = outcome((c) => o.unseal(c), chunks);
    const k = o.streamKey!.slice();
    const o2 = Unsealer.withKey(k, { crypto, what: 'x' });
    expect(outcome((c) => o2.unseal(c), chunks)).toBe(first);
    const bad = chunks.map((c) => c.slice());
    bad[0]![120]! ^= 1;
    expect(outcome((c) => Unsealer.withKey(k.slice(), { crypto, what: 'x' }).unseal(c), bad)).toBe('error:not_authentic');
  });
});

describe('nativeBoxAead (copy-free opening) = nobleBoxAead', () => {
  it('same output, same refusals', () => {
    const k = randomBytes(32);
    for (const n of [0, 1, 64, 65000]) {
      const ct = nativeBoxAead.seal(k, boxNonce(n), BOX_AD, randomBytes(n));
      expect(Buffer.from(nativeBoxAead.open(k, boxNonce(n), BOX_AD, ct)!)).toEqual(Buffer.from(nobleBoxAead.open(k, boxNonce(n), BOX_AD, ct)!));
      const bad = ct.slice();
      bad[bad.length - 1]! ^= 1;
      expect(nativeBoxAead.open(k, boxNonce(n), BOX_AD, bad)).toBeNull();
      expect(nativeBoxAead.open(k, boxNonce(n + 1), BOX_AD, ct)).toBeNull();
    }
  });
});

describe('SnapshotHasher', () => {
  it('hashes on a thread exactly as inline', () => {
    const parts = Array.from({ length: 40 }, (_, i) => new Uint8Array(randomBytes(65_000 + i)));
    const expected = createHash('sha256');
    for (const p of parts) expected.update(p);
    const want = expected.digest('hex');
    const threaded = new SnapshotHasher(PARALLEL_HASH_MIN);
    const inline = new SnapshotHasher(0);
    for (const p of parts) {
      inline.update(p);
      threaded.update(p.slice()); // ownership moves
    }
    expect(Buffer.from(inline.digest()).toString('hex')).toBe(want);
    expect(Buffer.from(threaded.digest()).toString('hex')).toBe(want);
  });
});

describe('stream keys on several cores', () => {
  it('equal the keys pass 1 derives itself, and pass 1 accepts them', () => {
    // One stream per increment (the original plugin, or ours with an original server): one key each.
    const a = makeSyntheticArchive({ archivePath: path.join(tmp, 'k.arch'), scratchDb: path.join(tmp, 'k.db'), nodeId, clientPrivateKey: client, snapshotRows: 50, increments: 30, statementsPerIncrement: 3, streams: 'per-increment' });
    const ctx = { progress: () => {}, cancelled: () => false };
    const parts = [0, 1, 2].map((slice) => deriveStreamKeysJob({ archivePath: a.archivePath, nodePriv: node.slice(), clientKey: clientId, slice, slices: 3 }, ctx));
    expect(parts.map((p) => p.count)).toEqual([30, 30, 30]);
    const keys = mergeKeys(parts);
    const own = scanArchive(a.archivePath, { nodePriv: node, clientKey: clientId });
    expect(Buffer.from(keys).toString('hex')).toBe(Buffer.from(own.streamKeys).toString('hex'));
    const withKeys = scanArchive(a.archivePath, { nodePriv: node, clientKey: clientId, streamKeys: keys });
    expect(withKeys.increments.map((i) => i.hash)).toEqual(own.increments.map((i) => i.hash));
    // A key for the wrong stream is refused by the tag, not trusted.
    const wrong = keys.slice();
    wrong.set(keys.subarray(0, 32), 32 * 5);
    expect(() => scanArchive(a.archivePath, { nodePriv: node, clientKey: clientId, streamKeys: wrong })).toThrow(expect.objectContaining({ code: 'not_authentic' }));
  });
});

/**
 * Continued streams (extension v1): unsealContinued on the native backend = on the pure-JS
 * one, and IncrementStreams routes an archive's increments exactly like a reference router
 * built on the Unsealer alone (a 02/03 first chunk starts a stream, 01 continues the current one).
 */
describe('continued streams: unsealContinued / IncrementStreams, native = pure JS', () => {
  /** Increments as lists of chunks: stream 1 = increments 0–4, stream 2 = increments 5–6. */
  function archiveIncrements(): Uint8Array[][] {
    const s1 = new Sealer(client, nodeId, { crypto });
    const s2 = new Sealer(client, nodeId, { crypto });
    const incs = [
      [s1.seal(randomBytes(60))],
      [s1.sealContinued(randomBytes(30))],
      [s1.sealContinued(new Uint8Array(0))],
      [s1.sealContinued(randomBytes(50)), s1.seal(randomBytes(200)), s1.seal(randomBytes(10))],
      [s1.sealContinued(randomBytes(40))],
      [s2.seal(randomBytes(20)), s2.seal(randomBytes(20))],
      [s2.sealContinued(randomBytes(25))],
    ];
    s1.dispose();
    s2.dispose();
    return incs.map((cs) => cs.map((c) => new Uint8Array(c)));
  }

  /** The outcome of opening every chunk: plaintexts, or the first error's code and message. */
  function run(open: (index: number, chunkNo: number, chunk: Uint8Array, what: string) => Uint8Array, incs: Uint8Array[][]): string {
    const out: string[] = [];
    try {
      incs.forEach((cs, i) => cs.forEach((c, j) => out.push(Buffer.from(open(i, j, c, `increment ${i}`)).toString('hex'))));
      return out.join('|');
    } catch (e) {
      if (!(e instanceof Error) || !('code' in e)) throw e;
      return `error:${(e as { code: string }).code}:${e.message}`;
    }
  }

  /** Reference: the Unsealer alone on the pure-JS backend, routed by hand. */
  const ref = (incs: Uint8Array[][]): string => {
    let cur: Unsealer | undefined;
    return run((_i, j, c, what) => {
      if (j > 0) return cur!.unseal(c);
      if (c.length > 0 && c[0] === 0x01) {
        cur ??= new Unsealer(undefined, { sender: clientId, crypto: nobleBoxCrypto, what });
        return cur.unsealContinued(c, what);
      }
      cur = new Unsealer(node, { sender: clientId, crypto: nobleBoxCrypto, what });
      return cur.unseal(c);
    }, incs);
  };
  const fast = (incs: Uint8Array[][], keyAt?: (i: number) => Uint8Array | undefined): string => {
    const st = new IncrementStreams(node, clientId, crypto, keyAt);
    try {
      return run((i, j, c, what) => st.open(i, j, c, what), incs);
    } finally {
      st.dispose();
    }
  };

  it('the good archive: same plaintexts', () => {
    const incs = archiveIncrements();
    const want = ref(incs);
    expect(want).not.toMatch(/^error/);
    expect(want.split('|')).toHaveLength(10);
    expect(fast(incs)).toBe(want);
  });

  it('unsealContinued alone: same plaintexts and same refusals (code and message) on both backends', () => {
    const incs = archiveIncrements();
    const chunks = incs.slice(0, 5).flat();
    const kinds = ['start', 'cont', 'cont', 'cont', 'plain', 'plain', 'cont'];
    const both = (cs: Uint8Array[]): [string, string] => {
      const u = new Unsealer(node, { sender: clientId, crypto: nobleBoxCrypto, what: 'x' });
      const o = new Unsealer(node, { sender: clientId, crypto, what: 'x' });
      const go = (f: (c: Uint8Array, k: string) => Uint8Array) => {
        try {
          return cs.map((c, i) => Buffer.from(f(c, kinds[i]!)).toString('hex')).join('|');
        } catch (e) {
          return `error:${(e as CldcbErrorLike).code}:${(e as Error).message}`;
        }
      };
      return [
        go((c, k) => (k === 'cont' ? u.unsealContinued(c) : u.unseal(c))),
        go((c, k) => (k === 'cont' ? o.unsealContinued(c) : o.unseal(c))),
      ];
    };
    const [r0, f0] = both(chunks);
    expect(f0).toBe(r0);
    expect(f0).not.toMatch(/^error/);
    // Every single-byte change of every continued message and of the ordinary pieces after one.
    for (const k of [1, 2, 3, 4, 5, 6])
      for (let i = 0; i < chunks[k]!.length; i += k === 4 ? 13 : 1) {
        const bad = chunks.map((c) => c.slice());
        bad[k]![i]! ^= i < 9 ? 0x02 : 0x01;
        const [r, f] = both(bad);
        expect(f, `chunk ${k} byte ${i}`).toBe(r);
        expect(f).toMatch(/^error:not_authentic:/);
      }
    // Replay, swap, a start given as a continued message, a promoted middle piece.
    const replay = [chunks[0]!, chunks[1]!, chunks[2]!, chunks[1]!];
    const swapped = [chunks[0]!, chunks[2]!, chunks[1]!];
    const startAsContinued = [chunks[0]!, chunks[0]!];
    const promoted = [chunks[0]!, chunks[1]!, chunks[2]!, chunks[3]!, concatBytes(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 4]), chunks[4]!)];
    for (const cs of [replay, swapped, startAsContinued, promoted]) {
      const [r, f] = both(cs);
      expect(f).toBe(r);
      expect(f).toMatch(/^error:not_authentic:/);
    }
    expect(both(replay)[1]).toMatch(/reordered or repeated/);
    expect(both(startAsContinued)[1]).toMatch(/not a continued message/);
    expect(both(promoted)[1]).toMatch(/tag does not verify/);
    // A continued message first (no stream): same refusal through open() …
    const [r1, f1] = both([chunks[1]!]);
    expect(f1).toBe(r1);
    expect(f1).toMatch(/continues an earlier sealed stream/);
    // … and through openContinued before anything was opened.
    const u = new Unsealer(node, { sender: clientId, crypto: nobleBoxCrypto, what: 'x' });
    const o = new Unsealer(node, { sender: clientId, crypto, what: 'x' });
    expect(() => o.unsealContinued(chunks[1]!)).toThrow(expect.objectContaining({ code: 'not_authentic', message: expect.stringMatching(/not opened before it/) }));
    expect(() => u.unsealContinued(chunks[1]!)).toThrow(expect.objectContaining({ code: 'not_authentic', message: expect.stringMatching(/not opened before it/) }));
  });

  it('Unsealer.withKey opens a continued message without the stream start, and still checks its tag and index form', () => {
    const incs = archiveIncrements();
    const o = new Unsealer(node, { sender: clientId, crypto, what: 'x' });
    o.unseal(incs[0]![0]!);
    const k = o.streamKey!.slice();
    const want = Buffer.from(o.unsealContinued(incs[3]![0]!)).toString('hex');
    const w = Unsealer.withKey(k.slice(), { crypto, what: 'x' });
    expect(Buffer.from(w.unsealContinued(incs[3]![0]!)).toString('hex')).toBe(want);
    expect(w.count).toBe(4);
    // An ordinary piece after it continues from there.
    expect(Buffer.from(w.unseal(incs[3]![1]!)).toString('hex')).toBe(Buffer.from(o.unseal(incs[3]![1]!)).toString('hex'));
    const bad = incs[3]![0]!.slice();
    bad[20]! ^= 1;
    expect(() => Unsealer.withKey(k.slice(), { crypto, what: 'x' }).unsealContinued(bad)).toThrow(expect.objectContaining({ code: 'not_authentic' }));
    // Another stream's key does not open it.
    const o2 = new Unsealer(node, { sender: clientId, crypto, what: 'y' });
    o2.unseal(incs[5]![0]!);
    expect(() => Unsealer.withKey(o2.streamKey!.slice(), { crypto, what: 'x' }).unsealContinued(incs[3]![0]!)).toThrow(expect.objectContaining({ code: 'not_authentic' }));
  });

  it('tampered archives: IncrementStreams refuses the same cases, with the same messages, as the reference', () => {
    const incs = archiveIncrements();
    const without = (i: number) => incs.filter((_, k) => k !== i);
    const swap = (a: number, b: number) => incs.map((_, k) => incs[k === a ? b : k === b ? a : k]!);
    const dup = (i: number) => [...incs.slice(0, i + 1), incs[i]!, ...incs.slice(i + 1)];
    const flipIndex = (i: number, bit: number) => incs.map((cs, k) => (k === i ? [Uint8Array.from(cs[0]!, (x, j) => (j === 8 ? x ^ bit : x)), ...cs.slice(1)] : cs));
    const cases: Record<string, Uint8Array[][]> = {
      'the stream start removed': without(0),
      'the second stream start removed (its continuation lands on stream 1)': without(5),
      'two continued increments swapped': swap(1, 2),
      'continued increments swapped across a multi-piece one': swap(2, 4),
      'a continued increment duplicated': dup(1),
      'a multi-piece continued increment duplicated': dup(3),
      'the index of a continued increment raised': flipIndex(2, 0x01),
      'the index of a continued increment lowered': flipIndex(4, 0x04),
      'a continued increment moved into the other stream': [...incs.slice(0, 1), ...incs.slice(5, 6), incs[1]!],
      'a middle piece promoted to an increment start': [...incs.slice(0, 3), [incs[3]![0]!], [concatBytes(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 4]), incs[3]![1]!)]],
    };
    for (const [name, tampered] of Object.entries(cases)) {
      const r = ref(tampered);
      expect(r, name).toMatch(/^error:not_authentic:/);
      expect(fast(tampered), name).toBe(r);
    }
    expect(fast(without(0))).toMatch(/^error:not_authentic:increment 0, message 0: it continues a sealed stream that was not opened before it/);
    expect(fast(swap(1, 2))).toMatch(/increment 2, message 3: it names stream message 1/);
    expect(fast(dup(1))).toMatch(/increment 2, message 2: it names stream message 1, but the stream is already at message 2 \(reordered or repeated data\)/);
    expect(fast(without(5))).toMatch(/increment 5, message 7: it names stream message 2/);
    // A gap is not the stream layer's to refuse (the v1 chain names the missing increment):
    // both accept a cut multi-piece increment, or a skipped continued one, alike.
    for (const gap of [incs.map((cs, k) => (k === 3 ? cs.slice(0, 2) : cs)), without(2)]) {
      expect(ref(gap)).not.toMatch(/^error/);
      expect(fast(gap)).toBe(ref(gap));
    }
  });

  it('keyAt from an earlier pass wins: a later pass may skip the increment that started the stream; tags are still checked', () => {
    const incs = archiveIncrements();
    // First pass: the key each increment was opened with.
    const keys: Uint8Array[] = [];
    const st = new IncrementStreams(node, clientId, crypto);
    incs.forEach((cs, i) => {
      cs.forEach((c, j) => st.open(i, j, c, `increment ${i}`));
      keys.push(st.streamKey!.slice());
    });
    st.dispose();
    expect(Buffer.from(keys[4]!).toString('hex')).toBe(Buffer.from(keys[0]!).toString('hex'));
    expect(Buffer.from(keys[6]!).toString('hex')).toBe(Buffer.from(keys[5]!).toString('hex'));
    expect(Buffer.from(keys[5]!).toString('hex')).not.toBe(Buffer.from(keys[0]!).toString('hex'));
    const all = ref(incs).split('|');
    // Second pass over increments 2, 3 and 6 only (indexes kept), with the keys.
    const pick = [2, 3, 6];
    const keyAt = (i: number) => keys[i]?.slice();
    const second = new IncrementStreams(node, clientId, crypto, keyAt);
    const got: string[] = [];
    for (const i of pick) incs[i]!.forEach((c, j) => got.push(Buffer.from(second.open(i, j, c, `increment ${i}`)).toString('hex')));
    second.dispose();
    // Chunk positions in `all`: increment 2 → 2, increment 3 → 3–5, increment 6 → 9.
    expect(got).toEqual([all[2], all[3], all[4], all[5], all[9]]);
    // Without keys, the same skip is refused (increment 2 continues a stream never opened).
    const nokeys = new IncrementStreams(node, clientId, crypto);
    expect(() => nokeys.open(2, 0, incs[2]![0]!, 'increment 2')).toThrow(expect.objectContaining({ code: 'not_authentic', message: expect.stringMatching(/not opened before it/) }));
    nokeys.dispose();
    // A changed continued message is refused even with its key.
    const bad = incs[2]![0]!.slice();
    bad[bad.length - 1]! ^= 1;
    const withKeys = new IncrementStreams(node, clientId, crypto, keyAt);
    expect(() => withKeys.open(2, 0, bad, 'increment 2')).toThrow(expect.objectContaining({ code: 'not_authentic' }));
    withKeys.dispose();
  });

  it('stream keys on several cores for a continued archive: a key for each stream start only, and pass 1 accepts them', () => {
    const a = makeSyntheticArchive({ archivePath: path.join(tmp, 'kc.arch'), scratchDb: path.join(tmp, 'kc.db'), nodeId, clientPrivateKey: client, snapshotRows: 50, increments: 30, statementsPerIncrement: 3, streams: 'continued' });
    const ctx = { progress: () => {}, cancelled: () => false };
    const parts = [0, 1].map((slice) => deriveStreamKeysJob({ archivePath: a.archivePath, nodePriv: node.slice(), clientKey: clientId, slice, slices: 2 }, ctx));
    const keys = mergeKeys(parts);
    expect(keys.length).toBe(30 * 32);
    const own = scanArchive(a.archivePath, { nodePriv: node, clientKey: clientId });
    // pass 1 reports the stream's key for every increment; the keys job only the first (the others continue it).
    const k0 = Buffer.from(own.streamKeys.subarray(0, 32)).toString('hex');
    expect(Buffer.from(keys.subarray(0, 32)).toString('hex')).toBe(k0);
    for (let i = 1; i < 30; i++) {
      expect(Buffer.from(own.streamKeys.subarray(i * 32, i * 32 + 32)).toString('hex')).toBe(k0);
      expect(keys.subarray(i * 32, i * 32 + 32).every((x) => x === 0)).toBe(true);
    }
    for (const given of [keys, own.streamKeys]) {
      const withKeys = scanArchive(a.archivePath, { nodePriv: node, clientKey: clientId, streamKeys: given });
      expect(withKeys.increments.map((i) => i.hash)).toEqual(own.increments.map((i) => i.hash));
    }
  });
});

interface CldcbErrorLike {
  code: string;
}
