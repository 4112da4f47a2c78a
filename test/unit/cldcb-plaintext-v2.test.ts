/**
 * Increment plaintext v2 (shared/cldcb/plaintexts.ts; docs/PROTOCOL.md §3 "Events"): v1's
 * fields plus events — the node's stop, an unanchored link, the backup's servers — read by the
 * one increment reader however the pieces fall, and judged by the one chain planner.
 */
import { describe, expect, it } from 'vitest';
import { errorCode as code } from './helpers/errors';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { bytesToHex, concatBytes, hexToBytes } from '../../shared/bytes';
import { encodeIncrementPlaintextV1, encodeIncrementPlaintextV2, IncrementReader, type IncrementEvents } from '../../shared/cldcb/plaintexts';
import { planReplay, type IncrementSummary, type SnapshotSummary } from '../../shared/cldcb/chain';

const PREV = hexToBytes('ab'.repeat(32));
const SID = (i: number): string => '02' + String(i).padStart(2, '0').repeat(32);

function read(pt: Uint8Array, cuts: number[] = []): { end: ReturnType<IncrementReader['finish']>; statements: string[] } {
  const r = new IncrementReader();
  const statements: string[] = [];
  let o = 0;
  for (const c of cuts) {
    statements.push(...r.push(pt.subarray(o, Math.min(pt.length, o + c))));
    o = Math.min(pt.length, o + c);
  }
  statements.push(...r.push(pt.subarray(o)));
  return { end: r.finish(), statements };
}

describe('increment plaintext v2', () => {
  it('is v1 with 0x02, a u16 ext length and the events before n', () => {
    const pt = encodeIncrementPlaintextV2(7, 1_800_000_000, PREV, ['INSERT INTO t VALUES (1)'], { stop: 'stopped' });
    const v1 = encodeIncrementPlaintextV1(7, 1_800_000_000, PREV, ['INSERT INTO t VALUES (1)']);
    expect(pt[0]).toBe(2);
    expect(bytesToHex(pt.subarray(1, 45))).toBe(bytesToHex(v1.subarray(1, 45)));
    expect(bytesToHex(pt.subarray(45, 51))).toBe('0004' + '010001' + '02');
    expect(bytesToHex(pt.subarray(51))).toBe(bytesToHex(v1.subarray(45)));
    const { end, statements } = read(pt);
    expect(end).toMatchObject({ format: 2, dataVersion: 7, time: 1_800_000_000, prev: bytesToHex(PREV), count: 1, events: { stop: 'stopped' } });
    expect(end.hash).toBe(createHash('sha256').update(pt).digest('hex'));
    expect(statements).toEqual(['INSERT INTO t VALUES (1)']);
  });

  it('reads every event the same whatever the piece boundaries', () => {
    const events: IncrementEvents[] = [
      {},
      { stop: 'stopping' },
      { unanchored: true },
      { servers: { quorum: 2, serverIds: [SID(1), SID(2), SID(3)] } },
      { stop: 'stopped', unanchored: true, servers: { quorum: 1, serverIds: [SID(4)] } },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...events), fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 70 }), { maxLength: 8 }), (ev, stmts, cuts) => {
        const pt = encodeIncrementPlaintextV2(9, 5, PREV, stmts, ev);
        const { end, statements } = read(pt, cuts);
        expect(end.events).toEqual(ev);
        expect(statements).toEqual(stmts);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores an unknown odd event, refuses an unknown even one, and refuses malformed events', () => {
    const base = encodeIncrementPlaintextV2(9, 5, PREV, ['x'], {});
    const withExt = (ext: string): Uint8Array => {
      const e = hexToBytes(ext);
      return concatBytes(base.subarray(0, 45), Uint8Array.of(e.length >> 8, e.length & 0xff), e, base.subarray(47));
    };
    expect(read(withExt('63000201ff')).end.events).toEqual({});
    expect(code(() => read(withExt('640000')))).toBe('unsupported');
    expect(code(() => read(withExt('01000103')))).toBe('bad_input'); // stop kind 3
    expect(code(() => read(withExt('0200010000')))).toBe('bad_input'); // unanchored with data
    expect(code(() => read(withExt('030002' + '0301')))).toBe('bad_input'); // quorum 3 of 1
    expect(code(() => read(withExt('020000' + '010001' + '01')))).toBe('bad_input'); // not ascending
    expect(code(() => read(withExt('0100')))).toBe('bad_input'); // record header cut
    for (let cut = 1; cut < base.length; cut++) expect(code(() => read(base.subarray(0, cut))), `cut ${cut}`).toBe('truncated');
  });
});

describe('the chain planner and v2 events', () => {
  const h = (s: string): string => createHash('sha256').update(s).digest('hex');
  const snap: SnapshotSummary = { reuploadDataVersion: 5, chainHash: h('snapshot'), size: 1 };
  function chain(items: { dv: number; events?: IncrementEvents; prev?: string; bump?: boolean }[]): IncrementSummary[] {
    const out: IncrementSummary[] = [];
    items.forEach((x, i) => {
      out.push({
        index: i,
        framingDv: x.dv,
        dataVersion: x.dv,
        format: x.events ? 2 : 1,
        ...(x.events ? { events: x.events } : {}),
        time: 1_800_000_000 + i,
        prev: x.prev ?? (i === 0 ? snap.chainHash : out[i - 1]!.hash),
        hash: h(`inc ${i}`),
        statements: x.bump === false ? 0 : 1,
        hasBump: x.bump ?? true,
        pragmaOnly: false,
        firstWords: 'UPDATE vars',
        chunks: 1,
      });
    });
    return out;
  }

  it('a declared unanchored link is accepted and reported; an undeclared one is a broken chain', () => {
    const p = planReplay(snap, chain([{ dv: 5 }, { dv: 6 }, { dv: 7, prev: h('elsewhere'), events: { unanchored: true } }, { dv: 8 }]));
    expect(p.fatal).toBeUndefined();
    expect(p.unanchored).toEqual([2]);
    expect(p.warnings.find((w) => w.kind === 'unanchored')?.message).toMatch(/starts again at increment 2/);
    const q = planReplay(snap, chain([{ dv: 5 }, { dv: 6 }, { dv: 7, prev: h('elsewhere') }]));
    expect(q.fatal?.message).toMatch(/chain of increments is broken at increment 2/);
    // Declared, but the data_versions still must follow.
    expect(planReplay(snap, chain([{ dv: 5 }, { dv: 9, prev: h('elsewhere'), events: { unanchored: true } }])).fatal?.message).toMatch(/3 version\(s\) of writes are missing/);
  });

  it('says how the backup ends: stopping, stopped, or (a later increment) running', () => {
    expect(planReplay(snap, chain([{ dv: 5 }, { dv: 5, bump: false, events: { stop: 'stopping' } }])).ending).toBe('stopping');
    expect(planReplay(snap, chain([{ dv: 5 }, { dv: 5, bump: false, events: { stop: 'stopping' } }, { dv: 5, bump: false, events: { stop: 'stopped' } }])).ending).toBe('stopped');
    expect(planReplay(snap, chain([{ dv: 5 }, { dv: 5, bump: false, events: { stop: 'stopped' } }, { dv: 6 }])).ending).toBeUndefined();
  });

  it('the last replayed servers event is the backup\'s policy', () => {
    const p = planReplay(snap, chain([{ dv: 5, events: { servers: { quorum: 1, serverIds: [SID(1)] } } }, { dv: 6, events: { servers: { quorum: 2, serverIds: [SID(1), SID(2), SID(3)] } } }, { dv: 7 }]));
    expect(p.servers).toEqual({ quorum: 2, serverIds: [SID(1), SID(2), SID(3)] });
    expect(p.chain).toBe('v1');
  });
});
