import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { planReplay, type IncrementSummary, type SnapshotSummary } from '../../shared/cldcb/chain';
import { isDataVersionBump as isBump, isForeignKeysPragma, statementWords, StatementBytesFacts } from '../../shared/cldcb/statements';
import { encodeIncrementPlaintext, encodeIncrementPlaintextV1, IncrementReader } from '../../shared/cldcb/plaintexts';

const h = (s: string): string => createHash('sha256').update(s).digest('hex');
const snap = (dv: number): SnapshotSummary => ({ reuploadDataVersion: dv, chainHash: h('snapshot'), size: 4096 });

let n = 0;
/** v0 increment summary. */
function v0(dataVersion: number, bump = true, extra: Partial<IncrementSummary> = {}): IncrementSummary {
  const index = n++;
  return {
    index,
    framingDv: dataVersion,
    dataVersion,
    format: 0,
    hash: h(`inc ${index}`),
    statements: bump ? 2 : 1,
    hasBump: bump,
    ...(bump ? { bumpOld: dataVersion - 1 } : {}),
    pragmaOnly: !bump,
    firstWords: bump ? 'INSERT INTO t' : 'PRAGMA foreign_keys',
    chunks: 1,
    ...extra,
  };
}
function seq(...items: IncrementSummary[]): IncrementSummary[] {
  return items.map((d, i) => ({ ...d, index: i }));
}

describe('planReplay: v0 archives (repeated data_version rule, docs/PROTOCOL.md §2)', () => {
  it('replays a clean run and says a dropped tail cannot be excluded', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(6), v0(7)));
    expect(p.fatal).toBeUndefined();
    expect(p.replay).toEqual([0, 1, 2]);
    expect(p.finalDataVersion).toBe(7);
    expect(p.chain).toBe('v0');
    expect(p.warnings.map((w) => w.kind)).toContain('no_chain');
    expect(p.lastTime).toBeUndefined();
  });
  it('refuses a first increment that is not the snapshot version', () => {
    const p = planReplay(snap(5), seq(v0(6), v0(7)));
    expect(p.fatal?.code).toBe('archive_lost_writes');
    expect(p.fatal?.message).toMatch(/first increment has data_version 6 but the snapshot was made for 5/);
  });
  it('refuses a gap, naming how many versions are missing', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(6), v0(9)));
    expect(p.fatal?.code).toBe('archive_lost_writes');
    expect(p.fatal?.message).toMatch(/2 version\(s\) of writes are missing/);
  });
  it('refuses increments out of order', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(7), v0(6)));
    expect(p.fatal?.code).toBe('archive_lost_writes');
  });
  it('refuses an archive with no increment', () => {
    expect(planReplay(snap(5), []).fatal?.code).toBe('archive_lost_writes');
  });
  it('keeps a repeat without the bump (PRAGMA foreign_keys calls)', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(5, false), v0(6), v0(6, false)));
    expect(p.replay).toEqual([0, 1, 2, 3]);
    expect(p.warnings.filter((w) => w.kind === 'repeat_same_version')).toHaveLength(2);
    expect(p.missingBumps).toEqual([]);
  });
  it('lets a repeat with the bump replace the uncommitted one', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(6), v0(6), v0(7)));
    expect(p.replay).toEqual([0, 2, 3]);
    expect(p.warnings.find((w) => w.kind === 'repeat_redo')?.message).toMatch(/replaces increment 1\b/);
  });
  it('cuts from the first bump of the run (as shared/cldcb/archiveDecode.ts)', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(6, false), v0(6), v0(6, false), v0(6)));
    expect(p.replay).toEqual([0, 1, 4]);
  });
  it('a redo of the snapshot version replaces the first increment', () => {
    const p = planReplay(snap(5), seq(v0(5), v0(5), v0(6)));
    expect(p.replay).toEqual([1, 2]);
    expect(p.fatal).toBeUndefined();
  });
  it('notes increments that advance without the bump, and u32 wrap is continuous', () => {
    const p = planReplay(snap(0xffffffff), seq(v0(0xffffffff, false, { pragmaOnly: false, firstWords: 'INSERT INTO notes' }), v0(0)));
    expect(p.fatal).toBeUndefined();
    expect(p.missingBumps).toEqual([0]);
    expect(p.warnings.map((w) => w.kind)).toContain('missing_bump');
  });
  it('warns when framing and sealed data_version differ, or the bump names another old value', () => {
    const p = planReplay(snap(5), seq(v0(5, true, { framingDv: 9 }), v0(6, true, { bumpOld: 3 })));
    expect(p.fatal).toBeUndefined();
    expect(p.warnings.map((w) => w.kind)).toEqual(expect.arrayContaining(['dv_mismatch', 'bump_mismatch']));
  });
  it('reports footer count drift as harmless', () => {
    const p = planReplay(snap(5), seq(v0(5, true, { footerCount: 0 }), v0(6, true, { footerCount: 2 })));
    expect(p.warnings.find((w) => w.kind === 'count_drift')?.severity).toBe('info');
  });
});

/** A v1 chain: each increment's prev is the previous hash. */
function v1chain(start: number, dvs: { dv: number; bump?: boolean; prevOf?: number }[]): IncrementSummary[] {
  const out: IncrementSummary[] = [];
  dvs.forEach((x, i) => {
    const prev = x.prevOf !== undefined ? (x.prevOf < 0 ? h('snapshot') : out[x.prevOf]!.hash) : i === 0 ? h('snapshot') : out[i - 1]!.hash;
    out.push({
      index: i,
      framingDv: x.dv,
      dataVersion: x.dv,
      format: 1,
      time: 1_700_000_000 + i,
      prev,
      hash: h(`v1 ${start} ${i}`),
      statements: 1,
      hasBump: x.bump ?? true,
      pragmaOnly: x.bump === false,
      firstWords: 'UPDATE vars',
      chunks: 1,
    });
  });
  return out;
}

describe('planReplay: v1 chain (docs/PROTOCOL.md §3)', () => {
  it('accepts a clean chain and reports the last time', () => {
    const p = planReplay(snap(5), v1chain(0, [{ dv: 5 }, { dv: 6 }, { dv: 6, bump: false }, { dv: 7 }]));
    expect(p.fatal).toBeUndefined();
    expect(p.chain).toBe('v1');
    expect(p.lastTime).toBe(1_700_000_003);
    expect(p.warnings.map((w) => w.kind)).toContain('tail_undetectable');
    expect(p.warnings.map((w) => w.kind)).not.toContain('no_chain');
  });
  it('refuses an old snapshot mixed with new increments', () => {
    const incs = v1chain(0, [{ dv: 5 }, { dv: 6 }]);
    const p = planReplay({ ...snap(5), chainHash: h('another snapshot') }, incs);
    expect(p.fatal?.code).toBe('archive_lost_writes');
    expect(p.fatal?.message).toMatch(/does not follow the snapshot/);
  });
  it('refuses an increment swapped in from another backup with the same data_version', () => {
    const a = v1chain(0, [{ dv: 5 }, { dv: 6 }, { dv: 7 }]);
    const b = v1chain(1, [{ dv: 5 }, { dv: 6 }, { dv: 7 }]);
    const p = planReplay(snap(5), [a[0]!, { ...b[1]!, index: 1 }, a[2]!]);
    expect(p.fatal?.code).toBe('archive_lost_writes');
    expect(p.fatal?.message).toMatch(/chain of increments is broken at increment 1/);
  });
  it('lets the chain name the increment a redo replaces', () => {
    // 5, 6a, 6-pragma, 6b (redo of 6a: same prev as 6a), 7 after 6b
    const incs = v1chain(0, [{ dv: 5 }, { dv: 6 }, { dv: 6, bump: false }, { dv: 6, prevOf: 0 }, { dv: 7 }]);
    const p = planReplay(snap(5), incs);
    expect(p.fatal).toBeUndefined();
    expect(p.replay).toEqual([0, 3, 4]);
  });
  it('refuses a redo that follows none of its version', () => {
    const incs = v1chain(0, [{ dv: 5 }, { dv: 6 }, { dv: 6, prevOf: -1 }]);
    expect(planReplay(snap(5), incs).fatal?.code).toBe('archive_lost_writes');
  });
  it('flags a mixed v0/v1 archive', () => {
    const incs = [v1chain(0, [{ dv: 5 }])[0]!, { ...v0(6), index: 1 }];
    const p = planReplay(snap(5), incs);
    expect(p.chain).toBe('mixed');
    expect(p.warnings.map((w) => w.kind)).toContain('mixed_chain');
  });
});

describe('statement classification (no data values leave it)', () => {
  it('recognises lightningd data_version bumps', () => {
    expect(isBump("UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 41")).toBe(true);
    expect(isBump("UPDATE vars SET intval=42 WHERE name='data_version'")).toBe(true);
    expect(isBump("UPDATE vars SET val='x' WHERE name='data_version'")).toBe(false);
    expect(isBump("UPDATE vars SET intval=1 WHERE name='bip32_max_index'")).toBe(false);
  });
  it('knows the foreign_keys pragma', () => {
    expect(isForeignKeysPragma('PRAGMA foreign_keys = OFF;')).toBe(true);
    expect(isForeignKeysPragma('pragma foreign_keys=ON')).toBe(true);
    expect(isForeignKeysPragma('PRAGMA user_version')).toBe(false);
  });
  it('describes statements by verb and table only', () => {
    expect(statementWords("INSERT INTO channels (id, scid) VALUES (1, 'secret')")).toBe('INSERT INTO channels');
    expect(statementWords("insert or replace into vars VALUES ('x')")).toBe('INSERT OR REPLACE INTO vars');
    expect(statementWords('CREATE TABLE IF NOT EXISTS "peers" (id)')).toBe('CREATE TABLE IF NOT EXISTS peers');
    expect(statementWords("SELECT 'secret'")).toBe('SELECT');
    expect(statementWords('')).toBe('(empty)');
  });
  it('collects facts over an increment', () => {
    const facts = new StatementBytesFacts();
    const f = { add: (s: string) => facts.statement(new TextEncoder().encode(s)), get onlyPragmas() { return facts.onlyPragmas; }, get hasBump() { return facts.hasBump; }, get bumpOld() { return facts.bumpOld; } };
    for (const s of ['PRAGMA foreign_keys = OFF;']) f.add(s);
    expect(f.onlyPragmas).toBe(true);
    f.add("UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 7");
    expect(f.onlyPragmas).toBe(false);
    expect(f.hasBump).toBe(true);
    expect(f.bumpOld).toBe(7);
  });
});

describe('IncrementReader (v0 and v1 plaintexts, streamed)', () => {
  const hashOf = () => {
    const x = createHash('sha256');
    return { update: (d: Uint8Array) => x.update(d), digestHex: () => x.digest('hex') };
  };
  const stmts = ['CREATE TABLE t (a)', "INSERT INTO t VALUES ('é')", 'x'.repeat(70_000)];
  const small = ['CREATE TABLE t (a)', "INSERT INTO t VALUES ('é')", ''];
  it('reads v0 in any piece sizes', () => {
    for (const [list, size] of [[small, 1], [small, 7], [stmts, 13], [stmts, 64887], [stmts, 1e6]] as const) {
      const pt = encodeIncrementPlaintext(9, list);
      const r = new IncrementReader(hashOf());
      const got: string[] = [];
      for (let o = 0; o < pt.length; o += size) got.push(...r.push(pt.subarray(o, o + size)));
      const end = r.finish();
      expect(got).toEqual(list);
      expect(end).toMatchObject({ format: 0, dataVersion: 9, count: 3, size: pt.length, hash: createHash('sha256').update(pt).digest('hex') });
    }
  });
  it('reads v1 with its time and prev', () => {
    const prev = new Uint8Array(32).fill(0xab);
    for (const [list, size] of [[small, 1], [small, 20], [stmts, 53], [stmts, 54], [stmts, 1e6]] as const) {
      const pt = encodeIncrementPlaintextV1(0xfffffffe, 1_795_000_000, prev, list);
      const r = new IncrementReader(hashOf());
      const got: string[] = [];
      for (let o = 0; o < pt.length; o += size) got.push(...r.push(pt.subarray(o, o + size)));
      expect(got).toEqual(list);
      expect(r.finish()).toMatchObject({ format: 1, dataVersion: 0xfffffffe, time: 1_795_000_000, prev: 'ab'.repeat(32), count: 3 });
    }
  });
  it('refuses unknown formats, truncation and trailing bytes', () => {
    const pt = encodeIncrementPlaintextV1(1, 1, new Uint8Array(32), ['a']);
    const bad = pt.slice();
    bad[0] = 0x7f; // no such kind
    expect(() => new IncrementReader(hashOf()).push(bad)).toThrow(expect.objectContaining({ code: 'unsupported' }));
    const r = new IncrementReader(hashOf());
    r.push(pt.subarray(0, pt.length - 1));
    expect(() => r.finish()).toThrow(expect.objectContaining({ code: 'truncated' }));
    const r2 = new IncrementReader(hashOf());
    r2.push(pt.subarray(0, 30));
    expect(() => r2.finish()).toThrow(expect.objectContaining({ code: 'truncated' }));
    expect(() => new IncrementReader(hashOf()).push(new Uint8Array([...pt, 0]))).toThrow(expect.objectContaining({ code: 'bad_input' }));
  });
});
