/**
 * The recovery fast paths give the same answers as the shared reference code:
 * StreamOpener = shared Unsealer (accepts and refuses the same streams), openingAead =
 * nativeBoxAead, SnapshotHasher on a thread = inline SHA-256, and the parallel stream keys
 * = the keys the rebuild derives itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sealer, Unsealer, BOX_AD, boxNonce } from '../../shared/cldcb/seal';
import { nativeBoxAead, nativeBoxCrypto } from '../../electron/services/nativeSeal';
import { openingAead, SnapshotHasher, StreamOpener, PARALLEL_HASH_MIN } from '../../electron/services/recovery/fastPaths';
import { deriveStreamKeysJob, mergeKeys } from '../../electron/services/recovery/keys';
import { scanArchive } from '../../electron/services/recovery/archiveScan';
import { makeSyntheticArchive } from '../../electron/services/recovery/synthetic';

const crypto = nativeBoxCrypto();
const key = (): Uint8Array => {
  for (;;) {
    const k = new Uint8Array(randomBytes(32));
    try {
      crypto.secp.publicKey(k);
      return k;
    } catch {
      /* retry */
    }
  }
};
const node = key();
const nodeId = crypto.secp.publicKey(node);
const client = key();
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

describe('StreamOpener = Unsealer with a known sender', () => {
  it('same plaintexts, same refusals under every single-byte change of a stream', () => {
    const s = new Sealer(client, nodeId, { crypto });
    const chunks = [s.seal(randomBytes(40)), s.seal(randomBytes(100)), s.seal(new Uint8Array(0))];
    const ref = (cs: Uint8Array[]) => {
      const u = new Unsealer(node, { sender: clientId, crypto });
      return outcome((c) => u.unseal(c), cs);
    };
    const fast = (cs: Uint8Array[]) => {
      const o = new StreamOpener(node, clientId, 'x');
      return outcome((c) => o.open(c), cs);
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
    const other = new Sealer(key(), nodeId, { crypto }).seal(randomBytes(10));
    expect(fast([other])).toBe('error:not_authentic');
    const elsewhere = new Sealer(client, crypto.secp.publicKey(key()), { crypto }).seal(randomBytes(10));
    expect(fast([elsewhere])).toBe(ref([elsewhere]));
  });

  it('withKey opens the same stream and still checks every tag', () => {
    const s = new Sealer(client, nodeId, { crypto });
    const chunks = [s.seal(randomBytes(40)), s.seal(randomBytes(70))];
    const o = new StreamOpener(node, clientId, 'x');
    const first = outcome((c) => o.open(c), chunks);
    const k = o.streamKey!.slice();
    const o2 = StreamOpener.withKey(k, 'x');
    expect(outcome((c) => o2.open(c), chunks)).toBe(first);
    const bad = chunks.map((c) => c.slice());
    bad[0]![120]! ^= 1;
    expect(outcome((c) => StreamOpener.withKey(k.slice(), 'x').open(c), bad)).toBe('error:not_authentic');
  });
});

describe('openingAead = nativeBoxAead', () => {
  it('same output, same refusals', () => {
    const k = randomBytes(32);
    for (const n of [0, 1, 64, 65000]) {
      const ct = nativeBoxAead.seal(k, boxNonce(n), BOX_AD, randomBytes(n));
      expect(Buffer.from(openingAead.open(k, boxNonce(n), BOX_AD, ct)!)).toEqual(Buffer.from(nativeBoxAead.open(k, boxNonce(n), BOX_AD, ct)!));
      const bad = ct.slice();
      bad[bad.length - 1]! ^= 1;
      expect(openingAead.open(k, boxNonce(n), BOX_AD, bad)).toBeNull();
      expect(openingAead.open(k, boxNonce(n + 1), BOX_AD, ct)).toBeNull();
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
    const a = makeSyntheticArchive({ archivePath: path.join(tmp, 'k.arch'), scratchDb: path.join(tmp, 'k.db'), nodeId, clientPrivateKey: client, snapshotRows: 50, increments: 30, statementsPerIncrement: 3 });
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
