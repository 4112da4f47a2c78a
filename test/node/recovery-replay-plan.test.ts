/**
 * The replay plan (shared/node/recovery/replayPlan.ts) on its own, without threads or
 * SQLite: the commands it emits for write sets and for archive events — where PRAGMAs go, the
 * bump it makes, foreign keys before a redo, statements with comment markers alone, the
 * savepoints and the roll-back of a redo, and when it gives up for the two-pass path.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '../../shared/bytes';
import { readArchive, encodeIncrementAfter, encodeReuploadSection, nextFooterCount, type ArchEvent } from '../../shared/cldcb/arch';
import { nobleSecp } from '../../shared/cldcb/curve';
import { sealIncrement, sealReupload } from '../../shared/cldcb/plaintexts';
import { IncrementStreams } from '../../shared/cldcb/seal';
import { sha256 } from '../../shared/crypto/hash';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { sha256Stream } from '../../shared/node/recovery/archiveScan';
import { ReplayFallback, ReplayPlanner, type PlanCommand } from '../../shared/node/recovery/replayPlan';
import { bump, randomKey } from './helpers/recovery';

const dec = new TextDecoder();
/** A command as text: what it runs, statements by number. */
function show(c: PlanCommand): string {
  switch (c.t) {
    case 'xParts':
      return `x${c.alone ? '1' : ''}@${c.i}#${c.first}/${c.total}[${c.parts.map((p) => dec.decode(p)).join(' | ')}]`;
    case 'out': {
      const list: string[] = [];
      let o = 0;
      for (const l of c.lens) {
        list.push(dec.decode(c.sql.subarray(o, o + l)));
        o += l + 2;
      }
      return `out@${c.i}#${c.first}/${c.total}[${list.join(' | ')}]`;
    }
    case 'sp':
      return `sp@${c.i}${c.skip ? ' (dropped)' : ''}`;
    case 'rb':
      return `rb@${c.i}`;
    case 'bump':
      return `bump@${c.i}=${c.dv}`;
    case 'commit':
      return `commit@${c.i}`;
    case 'incEnd':
      return `end@${c.i}`;
    default:
      return c.t;
  }
}

/** Commands as the plan leaves them (a savepoint may be dropped until it is handed off: nothing is, here). */
function recorder(): { readonly cmds: string[]; sink: { emit(c: PlanCommand): void; handedOff: number } } {
  const list: PlanCommand[] = [];
  return {
    get cmds() {
      return list.map(show);
    },
    sink: { emit: (c) => list.push(c), handedOff: 0 },
  };
}

describe('write sets (the rules of where a statement runs)', () => {
  const run = (statements: string[], how: { synthesizeBump?: boolean; restart?: boolean } = {}): string[] => {
    const r = recorder();
    new ReplayPlanner(r.sink, { what: 't' }).writeSet(3, 9, statements.map(utf8), how);
    return r.cmds;
  };

  it("leading PRAGMAs before BEGIN, trailing ones after COMMIT, one between two statements inside (lightningd's order)", () => {
    expect(run(['PRAGMA foreign_keys = OFF;', 'INSERT INTO a VALUES (1)', 'PRAGMA x', 'UPDATE a SET b = 2', 'PRAGMA foreign_keys = ON;'])).toEqual([
      'out@3#0/5[PRAGMA foreign_keys = OFF;]',
      'begin',
      'x@3#1/5[INSERT INTO a VALUES (1) | PRAGMA x | UPDATE a SET b = 2]',
      'commit@3',
      'out@3#4/5[PRAGMA foreign_keys = ON;]',
      'end@3',
    ]);
  });

  it('a PRAGMA-only write set runs wholly outside a transaction', () => {
    expect(run(['PRAGMA foreign_keys = OFF;', 'PRAGMA foreign_keys = ON;'])).toEqual(['out@3#0/2[PRAGMA foreign_keys = OFF; | PRAGMA foreign_keys = ON;]', 'end@3']);
  });

  it('the bump lightningd would have made, before COMMIT; foreign keys ON before a redo', () => {
    expect(run(['INSERT INTO a VALUES (1)'], { synthesizeBump: true, restart: true })).toEqual(['fkOn', 'begin', 'x@3#0/1[INSERT INTO a VALUES (1)]', 'bump@3=9', 'commit@3', 'end@3']);
  });

  it('a write set with a comment marker runs each statement alone', () => {
    expect(run(['INSERT INTO a VALUES (1) /* open', 'INSERT INTO a VALUES (2)'])).toEqual([
      'begin',
      'x1@3#0/2[INSERT INTO a VALUES (1) /* open]',
      'x1@3#1/2[INSERT INTO a VALUES (2)]',
      'commit@3',
      'end@3',
    ]);
  });
});

describe('archive events, planned online (the pipeline)', () => {
  const crypto = nativeBoxCrypto();
  const node = randomKey();
  const nodeId = nobleSecp.publicKey(node);
  const cpk = randomKey();
  const cid = nobleSecp.publicKey(cpk);
  const R = 5;
  const snapshot = utf8('not really a database');

  /** A v0 archive (a stream per increment) → its events. */
  function events(incs: [number, string[]][]): ArchEvent[] {
    const parts = [encodeReuploadSection(sealReupload(cpk, nodeId, R, snapshot, { crypto }))];
    let count: number | null = null;
    for (const [dv, st] of incs) {
      parts.push(encodeIncrementAfter(dv, sealIncrement(cpk, nodeId, dv, st, { crypto }), count));
      count = nextFooterCount(count);
    }
    return readArchive(concatBytes(...parts));
  }

  function plan(incs: [number, string[]][]): { cmds: string[]; error?: unknown } {
    const r = recorder();
    const streams = new IncrementStreams(node, cid, crypto);
    const p = new ReplayPlanner(r.sink, { what: 't', streams, hash: sha256Stream });
    const header = concatBytes(cpk, new Uint8Array([0, 0, 0, R]));
    p.snapshot({ reuploadDataVersion: R, chainHash: Buffer.from(sha256(concatBytes(utf8('cldcb snapshot'), header, sha256(snapshot)))).toString('hex'), size: snapshot.length });
    try {
      for (const e of events(incs)) {
        if (e.type === 'incrementStart') p.incrementStart(e.dataVersion, e.offset);
        else if (e.type === 'incrementChunk') p.incrementChunk(e.chunk);
        else if (e.type === 'incrementEnd') p.incrementEnd(e.footer);
      }
      const verdict = p.finish()!;
      expect(verdict.fatal).toBeUndefined();
      return { cmds: r.cmds };
    } catch (error) {
      return { cmds: r.cmds, error };
    } finally {
      streams.dispose();
    }
  }

  it('one transaction across increments, a savepoint each (dropped once the next data_version shows no redo can cut it)', () => {
    const { cmds, error } = plan([
      [R, ['INSERT INTO a VALUES (1)', bump(R)]],
      [R + 1, ['INSERT INTO a VALUES (2)', bump(R + 1)]],
    ]);
    expect(error).toBeUndefined();
    expect(cmds).toEqual([
      'begin',
      'sp@0 (dropped)',
      `x@0#0/2[INSERT INTO a VALUES (1) | ${bump(R)}]`,
      'end@0',
      'sp@1',
      `x@1#0/2[INSERT INTO a VALUES (2) | ${bump(R + 1)}]`,
      'end@1',
      'commit@1',
    ]);
  });

  it('a redo is held to its end, rolls back to the savepoint of what it replaces, and turns foreign keys on again after a commit', () => {
    const { cmds, error } = plan([
      [R, ['INSERT INTO a VALUES (1)', bump(R)]],
      [R + 1, ['INSERT INTO a VALUES (2)', bump(R + 1)]],
      [R + 1, ['INSERT INTO a VALUES (3)', bump(R + 1)]],
    ]);
    expect(error).toBeUndefined();
    expect(cmds.slice(4)).toEqual(['sp@1', `x@1#0/2[INSERT INTO a VALUES (2) | ${bump(R + 1)}]`, 'end@1', 'rb@1', 'commit@1', 'fkOn', 'begin', 'sp@2', `x@2#0/2[INSERT INTO a VALUES (3) | ${bump(R + 1)}]`, 'end@2', 'commit@2']);
  });

  it('a redo that would cut behind a commit (PRAGMAs ran outside in between) goes to the two-pass path', () => {
    const { error } = plan([
      [R, ['INSERT INTO a VALUES (1)', bump(R)]],
      [R, ['PRAGMA foreign_keys = OFF;']],
      [R, ['INSERT INTO a VALUES (3)', bump(R)]],
    ]);
    expect(error).toBeInstanceOf(ReplayFallback);
    expect((error as Error).message).toMatch(/increment 2 replaces increments already committed/);
  });

  it('deferred constraints go to the two-pass path (checked only at COMMIT, a spanning transaction would hide them)', () => {
    const { error } = plan([[R, ['CREATE TABLE c (p REFERENCES q DEFERRABLE INITIALLY DEFERRED)', bump(R)]]]);
    expect(error).toBeInstanceOf(ReplayFallback);
  });
});
