/**
 * Recovery of archives whose increments continue one sealed stream (extension v1: our
 * plugin with our server, shared/cldcb/seal.ts "continued streams"): they rebuild the same
 * database as per-increment streams, on the pipelined and the two-pass path (and with stream
 * keys derived up front); a removed stream start, swapped, repeated or re-indexed continued
 * increments are refused (not_authentic) and leave nothing in the lightning directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeArchive, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { splitIncrementPlaintext } from '../../shared/cldcb/plaintexts';
import { continuedIndex, isContinuedMessage, Sealer } from '../../shared/cldcb/seal';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { encodeIncrementPlaintextV1 } from '../../shared/cldcb/plaintexts';
import { makeSyntheticArchive, type SyntheticArchive } from './helpers/synthetic';
import {
  expectRefused,
  randomKey,
  recoverOutcome,
  sealedSnapshot,
  serverDirWith,
  tableRows,
  tempSpace,
  type Outcome,
} from './helpers/recovery';
import { ensureServerBuilt } from './helpers/server-harness';

const crypto = nativeBoxCrypto();
const NODE = randomKey();
const NODE_ID = crypto.secp.publicKey(NODE);
const CPK = randomKey();

const space = tempSpace('cldcb-cont-');
const { fresh } = space;

/** An archive as its re-upload section and its increments (footer-less events, re-encoded with fresh footers). */
interface Parsed {
  reupload: ArchEvent[];
  incs: { dataVersion: number; chunks: Uint8Array[] }[];
}
function parse(bytes: Uint8Array): Parsed {
  const out: Parsed = { reupload: [], incs: [] };
  for (const e of readArchive(bytes)) {
    if (e.type === 'reuploadChunk') out.reupload.push({ type: 'reuploadChunk', chunk: e.chunk });
    else if (e.type === 'incrementStart') out.incs.push({ dataVersion: e.dataVersion, chunks: [] });
    else if (e.type === 'incrementChunk') out.incs[out.incs.length - 1]!.chunks.push(e.chunk);
  }
  return out;
}
function encode(p: Parsed): Uint8Array {
  const ev: ArchEvent[] = [...p.reupload, { type: 'reuploadEnd' }];
  for (const inc of p.incs) {
    ev.push({ type: 'incrementStart', dataVersion: inc.dataVersion });
    for (const c of inc.chunks) ev.push({ type: 'incrementChunk', chunk: c });
    ev.push({ type: 'incrementEnd' });
  }
  return encodeArchive(ev);
}

const tryRecover = (sd: string, extra: Record<string, unknown> = {}): Promise<Outcome> =>
  recoverOutcome(NODE, sd, fresh('ld'), extra);

const ROWS = 200;
const INCS = 30;
const PER = 3;
let cont: SyntheticArchive;
let perInc: SyntheticArchive;
let multi: SyntheticArchive;
let contBytes: Uint8Array;

beforeAll(async () => {
  await ensureServerBuilt();
  space.create();
  const d = fresh('arch');
  const common = {
    nodeId: NODE_ID,
    clientPrivateKey: CPK,
    snapshotRows: ROWS,
    increments: INCS,
    statementsPerIncrement: PER,
    format: 1 as const,
    startTime: 1_800_000_000,
  };
  cont = makeSyntheticArchive({
    ...common,
    archivePath: path.join(d, 'cont.arch'),
    scratchDb: path.join(d, 'c.db'),
    streams: 'continued',
  });
  perInc = makeSyntheticArchive({
    ...common,
    archivePath: path.join(d, 'per.arch'),
    scratchDb: path.join(d, 'p.db'),
    streams: 'per-increment',
  });
  // Increments of ~90 KB: a continued first chunk, then ordinary ones.
  multi = makeSyntheticArchive({
    ...common,
    snapshotRows: 20,
    increments: 6,
    rowBytes: 30_000,
    archivePath: path.join(d, 'multi.arch'),
    scratchDb: path.join(d, 'm.db'),
    streams: 'continued',
  });
  contBytes = new Uint8Array(readFileSync(cont.archivePath));
}, 240_000);
afterAll(() => space.remove());

describe('the synthetic archives are what the tests assume', () => {
  it('continued: one stream start (02/03) right after the re-upload, then continued increments with rising indexes; per-increment: no 01', () => {
    const c = parse(contBytes);
    expect(c.incs).toHaveLength(INCS);
    expect([2, 3]).toContain(c.incs[0]!.chunks[0]![0]);
    expect(c.incs.slice(1).every((i) => isContinuedMessage(i.chunks[0]!))).toBe(true);
    // One chunk per increment here: increment k is stream message k.
    expect(c.incs.map((i) => i.chunks.length).every((x) => x === 1)).toBe(true);
    expect(c.incs.slice(1).map((i) => continuedIndex(i.chunks[0]!))).toEqual(
      Array.from({ length: INCS - 1 }, (_, k) => k + 1),
    );
    const p = parse(new Uint8Array(readFileSync(perInc.archivePath)));
    expect(p.incs.every((i) => [2, 3].includes(i.chunks[0]![0]!))).toBe(true);
    const m = parse(new Uint8Array(readFileSync(multi.archivePath)));
    expect(m.incs.every((i) => i.chunks.length === 2)).toBe(true);
    expect(m.incs.slice(1).map((i) => continuedIndex(i.chunks[0]!))).toEqual([2, 4, 6, 8, 10]);
    expect(cont.statements).toBe(INCS * (PER + 1));
    expect(perInc.statements).toBe(cont.statements);
  });
});

for (const pipeline of [true, false])
  describe(`continued streams (${pipeline ? 'pipelined' : 'two-pass'} rebuild)`, () => {
    const go = (sd: string) => tryRecover(sd, { pipeline });
    const pathStep = pipeline ? 'unseal, verify and replay (pipelined)' : 'replay';

    it('recovers: every statement replayed, the expected rows, and the same database as per-increment streams', async () => {
      const r = await go(serverDirWith(fresh('sd'), cont.archivePath, cont.clientKey));
      expect(r.err).toBeUndefined();
      expect(r.v).toMatchObject({
        ok: true,
        chain: 'v1',
        increments: INCS,
        statements: cont.statements,
        dataVersion: cont.finalDataVersion,
        time: 1_800_000_000 + INCS - 1,
      });
      expect(r.v!.timings.map((t) => t.step)).toContain(pathStep);
      const db = new Database(r.v!.database.path, { readonly: true });
      expect(db.prepare('SELECT count(*) AS c, min(id) AS lo, max(id) AS hi FROM items').get()).toEqual({
        c: ROWS + INCS * PER,
        lo: 0,
        hi: ROWS + INCS * PER - 1,
      });
      expect(db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get()).toEqual({
        intval: cont.finalDataVersion,
      });
      expect(db.prepare('SELECT amount FROM items WHERE id = ?').get(ROWS + 17)).toEqual({
        amount: (ROWS + 17) * 1000,
      });
      db.close();

      const p = await go(serverDirWith(fresh('sd'), perInc.archivePath, perInc.clientKey));
      expect(p.err).toBeUndefined();
      expect(p.v).toMatchObject({
        ok: true,
        increments: INCS,
        statements: perInc.statements,
        dataVersion: perInc.finalDataVersion,
      });
      expect(tableRows(r.v!.database.path)).toEqual(tableRows(p.v!.database.path));
    });

    it('recovers increments of several chunks (a continued first chunk, then ordinary ones)', async () => {
      const r = await go(serverDirWith(fresh('sd'), multi.archivePath, multi.clientKey));
      expect(r.err).toBeUndefined();
      expect(r.v).toMatchObject({
        ok: true,
        increments: 6,
        statements: multi.statements,
        dataVersion: multi.finalDataVersion,
      });
      const db = new Database(r.v!.database.path, { readonly: true });
      expect(db.prepare('SELECT count(*) AS c, sum(length(note)) AS bytes FROM items').get()).toEqual({
        c: 20 + 18,
        bytes: 38 * 30_000,
      });
      db.close();
    });

    it('(a) the increment that started the stream removed: not_authentic, nothing written', async () => {
      const t = parse(contBytes);
      t.incs.splice(0, 1);
      const msg = expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), 'not_authentic');
      expect(msg).toMatch(/increment 0/);
      expect(msg).toMatch(/not opened before it|continues an earlier sealed stream/);
    });

    // The two-pass path unseals the whole archive before it plans: the stream index refuses the
    // swap. The pipelined path plans each increment as it ends, so the chain check on the
    // first swapped increment (a data_version that skips one) fires first.
    const swapCode = pipeline ? 'archive_lost_writes' : 'not_authentic';

    it('(b) two continued increments swapped: refused, nothing written', async () => {
      const t = parse(contBytes);
      [t.incs[5], t.incs[6]] = [t.incs[6]!, t.incs[5]!];
      const msg = expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), swapCode);
      if (pipeline) expect(msg).toMatch(/increment 5 has data_version \d+ right after \d+/);
      else
        expect(msg).toMatch(
          /increment 6 \(data_version \d+\), message 7: it names stream message 5, but the stream is already at message 7 \(reordered or repeated data\)/,
        );
    });

    it("(b') two continued increments' sealed data swapped, the framing data_versions kept: refused", async () => {
      const t = parse(contBytes);
      const [a, b] = [t.incs[10]!, t.incs[11]!];
      t.incs[10] = { dataVersion: a.dataVersion, chunks: b.chunks };
      t.incs[11] = { dataVersion: b.dataVersion, chunks: a.chunks };
      expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), swapCode);
    });

    it("(b'') a continued increment moved 17 places back: refused", async () => {
      const t = parse(contBytes);
      const [moved] = t.incs.splice(20, 1);
      t.incs.splice(3, 0, moved!);
      expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), swapCode);
    });

    it('(c) a continued increment duplicated: not_authentic, nothing written', async () => {
      const t = parse(contBytes);
      t.incs.splice(8, 0, {
        dataVersion: t.incs[8]!.dataVersion,
        chunks: t.incs[8]!.chunks.map((c) => c.slice()),
      });
      const msg = expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), 'not_authentic');
      expect(msg).toMatch(/increment 9/);
      expect(msg).toMatch(/reordered or repeated/);
    });

    it("(d) a flipped byte in a continued increment's index (up or down): not_authentic, nothing written", async () => {
      for (const bit of [0x01, 0x02, 0x40]) {
        const t = parse(contBytes);
        const c = t.incs[12]!.chunks[0]!.slice(); // index 12
        c[8]! ^= bit;
        t.incs[12]!.chunks[0] = c;
        expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), 'not_authentic');
      }
      const t = parse(contBytes);
      const c = t.incs[12]!.chunks[0]!.slice();
      c[1]! ^= 0x01; // index 2^56 + 12: beyond 2^53
      t.incs[12]!.chunks[0] = c;
      expect(expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), 'not_authentic')).toMatch(
        /beyond 2\^53/,
      );
    });

    it('a middle piece promoted to an increment start, and a continued start demoted, are refused', async () => {
      const m = parse(new Uint8Array(readFileSync(multi.archivePath)));
      // Increment 2 (continued message 4, ordinary message 5) replaced by its ordinary piece
      // re-labelled 01 ‖ 5: index and nonce fit (the stream is at 4), only the AD refuses it.
      const promoted = parse(new Uint8Array(readFileSync(multi.archivePath)));
      const head = new Uint8Array(9);
      head[0] = 1;
      head[8] = 5;
      promoted.incs[2] = {
        dataVersion: m.incs[2]!.dataVersion,
        chunks: [new Uint8Array([...head, ...m.incs[2]!.chunks[1]!])],
      };
      expect(
        expectRefused(await go(serverDirWith(fresh('sd'), encode(promoted), multi.clientKey)), 'not_authentic'),
      ).toMatch(/increment 2.*tag does not verify/);
      // Increment 3's continued start stripped of 01 ‖ n and appended to increment 2 as an ordinary piece.
      const demoted = parse(new Uint8Array(readFileSync(multi.archivePath)));
      demoted.incs[2]!.chunks.push(m.incs[3]!.chunks[0]!.subarray(9));
      demoted.incs[3]!.chunks.shift();
      demoted.incs.splice(3, 1);
      expect(
        expectRefused(await go(serverDirWith(fresh('sd'), encode(demoted), multi.clientKey)), 'not_authentic'),
      ).toMatch(/increment 2.*message 6.*tag does not verify/);
    });

    it('a removed continued increment (a gap the stream allows) is refused by the chain: archive_lost_writes', async () => {
      const t = parse(contBytes);
      t.incs.splice(14, 1);
      const msg = expectRefused(await go(serverDirWith(fresh('sd'), encode(t), cont.clientKey)), 'archive_lost_writes');
      expect(msg).toMatch(/increment 14/);
    });

    it('an archive that ends inside its last (continued) increment: that torn tail is dropped with a warning', async () => {
      const r = await go(serverDirWith(fresh('sd'), contBytes.subarray(0, contBytes.length - 60), cont.clientKey));
      expect(r.err).toBeUndefined();
      expect(r.v).toMatchObject({ ok: true, increments: INCS - 1, dataVersion: cont.finalDataVersion - 1 });
      expect(r.v!.warnings.map((w) => w.kind)).toContain('torn_tail');
    });

    it('the last piece of a multi-chunk continued increment cut: refused, nothing written', async () => {
      const t = parse(new Uint8Array(readFileSync(multi.archivePath)));
      t.incs[3]!.chunks.pop();
      const r = await go(serverDirWith(fresh('sd'), encode(t), multi.clientKey));
      expect(r.v).toBeUndefined();
      expect(['not_authentic', 'truncated', 'archive_lost_writes']).toContain(r.err!.code);
      expect(r.err!.message).toMatch(/increment 3/);
      expect(readdirSync(r.ld)).toEqual([]);
    });
  });

describe('continued streams with a lost acknowledgement: the re-send starts a new stream', () => {
  /**
   * What the plugin does with our server when an acknowledgement is lost: the connection is
   * dropped and the same increment (same bytes, same data_version) is sent again on a new
   * connection, as the start of a new stream; later increments continue that one.
   */
  function build(): { bytes: Uint8Array; clientKey: Uint8Array } {
    const cpk = randomKey();
    const f = path.join(fresh('snap'), 's.sqlite3');
    const db = new Database(f);
    db.exec(
      'CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name)); CREATE TABLE notes (id INTEGER PRIMARY KEY, txt TEXT);',
    );
    db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', 4)").run();
    db.close();
    const snap = new Uint8Array(readFileSync(f));
    const { events, snapshotChain } = sealedSnapshot(NODE_ID, cpk, snap, 5);
    let prev = snapshotChain;
    const pts: Uint8Array[] = [];
    const plaintext = (dv: number, i: number): Uint8Array => {
      const pt = encodeIncrementPlaintextV1(dv, 1_800_000_000 + i, prev, [
        `INSERT INTO notes (txt) VALUES ('dv ${dv}')`,
        `UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = ${dv - 1}`,
      ]);
      prev = new Uint8Array(createHash('sha256').update(pt).digest());
      return pt;
    };
    for (let dv = 5; dv <= 9; dv++) pts.push(plaintext(dv, dv - 5));
    const put = (dv: number, pt: Uint8Array, s: Sealer, continued: boolean): void => {
      events.push({ type: 'incrementStart', dataVersion: dv });
      splitIncrementPlaintext(pt).forEach((p, i) =>
        events.push({ type: 'incrementChunk', chunk: i === 0 && continued ? s.sealContinued(p) : s.seal(p) }),
      );
      events.push({ type: 'incrementEnd' });
    };
    const s1 = new Sealer(cpk, NODE_ID, { crypto });
    put(5, pts[0]!, s1, false);
    put(6, pts[1]!, s1, true);
    put(7, pts[2]!, s1, true); // stored, acknowledgement lost
    const s2 = new Sealer(cpk, NODE_ID, { crypto });
    put(7, pts[2]!, s2, false); // the re-send, a new stream
    put(8, pts[3]!, s2, true);
    put(9, pts[4]!, s2, true);
    return { bytes: encodeArchive(events), clientKey: crypto.secp.publicKey(cpk) };
  }

  for (const pipeline of [true, false])
    it(`recovers every write once (${pipeline ? 'pipelined' : 'two-pass'})`, async () => {
      const a = build();
      const r = await tryRecover(serverDirWith(fresh('sd'), a.bytes, a.clientKey), { pipeline });
      expect(r.err).toBeUndefined();
      expect(r.v).toMatchObject({ ok: true, dataVersion: 9, incrementsStored: 6 });
      const db = new Database(r.v!.database.path, { readonly: true });
      expect(db.prepare('SELECT txt FROM notes ORDER BY id').all()).toEqual(
        [5, 6, 7, 8, 9].map((dv) => ({ txt: `dv ${dv}` })),
      );
      db.close();
    });
});

describe('continued streams with stream keys derived on several cores first (parallelKeys, two-pass rebuild)', () => {
  let big: SyntheticArchive;
  beforeAll(() => {
    const d = fresh('big');
    // Over PARALLEL_KEYS_MIN_BYTES (16 MiB), or the keys step is skipped.
    big = makeSyntheticArchive({
      archivePath: path.join(d, 'big.arch'),
      scratchDb: path.join(d, 'b.db'),
      nodeId: NODE_ID,
      snapshotRows: 70_000,
      rowBytes: 250,
      increments: 40,
      statementsPerIncrement: 3,
      streams: 'continued',
    });
    expect(big.archiveBytes).toBeGreaterThan(16 << 20);
  }, 120_000);

  it('recovers, and still refuses a removed stream start and a duplicated continued increment', async () => {
    const opts = { pipeline: false, parallelKeys: true, inline: false, threads: 2, writeWrapper: false };
    const r = await tryRecover(serverDirWith(fresh('sd'), big.archivePath, big.clientKey), opts);
    expect(r.err).toBeUndefined();
    expect(r.v).toMatchObject({
      ok: true,
      increments: 40,
      statements: big.statements,
      dataVersion: big.finalDataVersion,
    });
    expect(r.v!.timings.map((t) => t.step)).toContain('stream keys');
    const bytes = new Uint8Array(readFileSync(big.archivePath));
    const noStart = parse(bytes);
    noStart.incs.splice(0, 1);
    expectRefused(await tryRecover(serverDirWith(fresh('sd'), encode(noStart), big.clientKey), opts), 'not_authentic');
    const dup = parse(bytes);
    dup.incs.splice(20, 0, dup.incs[20]!);
    expectRefused(await tryRecover(serverDirWith(fresh('sd'), encode(dup), big.clientKey), opts), 'not_authentic');
  });
});
