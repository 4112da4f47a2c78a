/**
 * Pieces of the plugin on their own: the JSON stream splitter (random splits), the chain
 * state file (torn slot, other client/server, reopen), the v1 plaintext (against the
 * recovery engine's encoder) and the consistent snapshot (rollback journal and WAL, with
 * uncommitted pages spilled into the files while the transaction is open).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { JsonObjectStream } from '../../plugin/jsonStream';
import { ChainStateFile } from '../../plugin/chainState';
import { encodeIncrementV1, isDataVersionBump, isForeignKeysPragma, sha256, snapshotChainValue } from '../../plugin/increment';
import { takeSnapshot, cleanStaleSnapshots } from '../../plugin/snapshot';
import { encodeIncrementPlaintextV1 } from '../../shared/cldcb/plaintexts';
import { CldcbError } from '../../shared/errors';

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-units-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('JsonObjectStream', () => {
  it('yields the same objects however the text is split, with or without separators', () => {
    const value = fc.object({ maxDepth: 3, values: [fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant('}{"\\')] });
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 40 }), fc.constantFrom('', '\n', '\n\n', ' \r\n\t'), (objs, cuts, sep) => {
        const text = objs.map((o) => JSON.stringify(o)).join(sep);
        const s = new JsonObjectStream();
        const got: unknown[] = [];
        let i = 0;
        for (const c of cuts) {
          got.push(...s.push(text.slice(i, i + c)));
          i += c;
        }
        got.push(...s.push(text.slice(i)));
        expect(got).toEqual(objs.map((o) => JSON.parse(JSON.stringify(o)) as unknown));
        expect(s.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an incomplete object and refuses text that is not JSON', () => {
    const s = new JsonObjectStream();
    expect(s.push('{"a": "x}')).toEqual([]);
    expect(s.pending).toBeGreaterThan(0);
    expect(s.push('"}')).toEqual([{ a: 'x}' }]);
    expect(() => new JsonObjectStream().push('hello')).toThrow(SyntaxError);
  });
});

describe('ChainStateFile', () => {
  const head = { dataVersion: 7, head: new Uint8Array(32).fill(1), runPrev: new Uint8Array(32).fill(2) };

  it('survives a reopen, ignores another binding, and falls back to the other slot when one is torn', () => {
    const file = path.join(work, 'state1');
    const binding = sha256(new Uint8Array([1]));
    const warnings: string[] = [];
    const a = new ChainStateFile(file, binding, (m) => warnings.push(m));
    expect(a.current).toBeUndefined();
    a.save(head);
    a.save({ ...head, dataVersion: 8 });
    a.close();
    const b = new ChainStateFile(file, binding, (m) => warnings.push(m));
    expect(b.current).toEqual({ ...head, dataVersion: 8 });
    b.close();
    // Another client/server: not used.
    const other = new ChainStateFile(file, sha256(new Uint8Array([2])), (m) => warnings.push(m));
    expect(other.current).toBeUndefined();
    other.close();
    expect(warnings.some((w) => /holds no chain head for this client and server/.test(w))).toBe(true);
    // Tear the newest slot (seq 2 → slot 0): the older one (dv 7) is used.
    const bytes = readFileSync(file);
    bytes[60] = bytes[60]! ^ 0xff;
    writeFileSync(file, bytes);
    const c = new ChainStateFile(file, binding, () => {});
    expect(c.current).toEqual(head);
    c.close();
    expect(readFileSync(file).length).toBe(256);
  });

  it('a head staged ahead of its acknowledgement: on disk at once (a crash keeps it), in memory only when committed, gone when unstaged', async () => {
    const file = path.join(work, 'state-staged');
    const binding = sha256(new Uint8Array([3]));
    const a = new ChainStateFile(file, binding, () => {});
    a.save(head);
    const next = { ...head, dataVersion: 8, head: new Uint8Array(32).fill(8) };
    await a.stage(next);
    expect(a.current).toEqual(head); // not acknowledged yet
    // A crash now: the staged head is what a restart finds.
    const crashed = new ChainStateFile(file, binding, () => {});
    expect(crashed.current).toEqual(next);
    crashed.close();
    // The upload failed: unstaged, the previous head is the newest again.
    await a.unstage();
    const after = new ChainStateFile(file, binding, () => {});
    expect(after.current).toEqual(head);
    after.close();
    // Staged then acknowledged: committed, and the next stage writes the other slot.
    await a.stage(next);
    a.commit(next);
    expect(a.current).toEqual(next);
    const third = { ...head, dataVersion: 9, head: new Uint8Array(32).fill(9) };
    await a.stage(third);
    a.commit(third);
    a.close();
    const reopened = new ChainStateFile(file, binding, () => {});
    expect(reopened.current).toEqual(third);
    reopened.close();
  });
});

describe('increment plaintext v1', () => {
  it('matches the recovery engine encoder byte for byte; chain value and classifiers', () => {
    const prev = new Uint8Array(randomBytes(32));
    const st = ["INSERT INTO t VALUES ('é', x'00ff')", 'PRAGMA foreign_keys = OFF;', "UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 4"];
    expect(encodeIncrementV1(5, 1_700_000_000, prev, st)).toEqual(encodeIncrementPlaintextV1(5, 1_700_000_000, prev, st));
    expect(encodeIncrementV1(0xffffffff, 0, prev, [])).toEqual(encodeIncrementPlaintextV1(0xffffffff, 0, prev, []));
    expect(() => encodeIncrementV1(2 ** 32, 0, prev, [])).toThrow(CldcbError);
    expect(snapshotChainValue(new Uint8Array(36), sha256(new Uint8Array(0)))).toHaveLength(32);
    expect(st.map(isDataVersionBump)).toEqual([false, false, true]);
    expect(st.map(isForeignKeysPragma)).toEqual([false, true, false]);
    expect(isForeignKeysPragma('PRAGMA foreign_keys = ON; DROP TABLE x')).toBe(false);
  });
});

describe('takeSnapshot', () => {
  /**
   * A database at data_version 3 (300 committed rows) with an open transaction that rewrites
   * and deletes them: with a tiny page cache SQLite spills those uncommitted pages into the
   * database file (originals in -journal) or the WAL before the hook is called.
   */
  function openWithSpill(dir: string, wal: boolean): Database.Database {
    const db = new Database(path.join(dir, 'lightningd.sqlite3'));
    if (wal) db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE vars (name TEXT PRIMARY KEY, val TEXT, intval INTEGER); INSERT INTO vars (name, intval) VALUES ('data_version', 3); CREATE TABLE big (id INTEGER PRIMARY KEY, x BLOB);");
    const ins = db.prepare('INSERT INTO big VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 300; i++) ins.run(i, Buffer.alloc(3000, 1));
    })();
    db.pragma('cache_size = 2');
    db.exec('BEGIN');
    db.exec('UPDATE big SET x = randomblob(3000)');
    db.exec('DELETE FROM big WHERE id % 3 = 0');
    db.exec("UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = 3");
    return db;
  }

  for (const wal of [false, true]) {
    it(`gives the committed state (data_version − 1) while lightningd's transaction is open (${wal ? 'WAL' : 'rollback journal'})`, async () => {
      const dir = mkdtempSync(path.join(work, 'snap-'));
      const db = openWithSpill(dir, wal);
      try {
        expect(existsSync(path.join(dir, wal ? 'lightningd.sqlite3-wal' : 'lightningd.sqlite3-journal'))).toBe(true);
        if (!wal) {
          // Control: the main file alone (what the original plugin read) holds uncommitted pages.
          const raw = path.join(work, `raw-${path.basename(dir)}.sqlite3`);
          writeFileSync(raw, readFileSync(path.join(dir, 'lightningd.sqlite3')));
          let rawState: string;
          try {
            const r = new Database(raw, { readonly: true });
            rawState = JSON.stringify([r.prepare('SELECT count(*) AS n FROM big WHERE x = ?').get(Buffer.alloc(3000, 1)), r.pragma('integrity_check', { simple: true })]);
            r.close();
          } catch (e) {
            rawState = (e as Error).message;
          }
          expect(rawState).not.toBe(JSON.stringify([{ n: 300 }, 'ok']));
        }
        const snap = await takeSnapshot(dir, 3);
        try {
          const copy = path.join(dir, 'check.sqlite3');
          const parts: Uint8Array[] = [];
          for await (const p of snap.pieces(64_984)) parts.push(p);
          writeFileSync(copy, Buffer.concat(parts));
          expect(parts.length).toBe(Math.ceil(snap.size / 64_984));
          expect(sha256(readFileSync(copy))).toEqual(snap.sha256);
          const c = new Database(copy, { readonly: true });
          expect(c.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get()).toEqual({ intval: 3 });
          expect(c.prepare('SELECT count(*) AS n FROM big WHERE x = ?').get(Buffer.alloc(3000, 1))).toEqual({ n: 300 });
          expect(c.pragma('integrity_check', { simple: true })).toBe('ok');
          c.close();
        } finally {
          snap.dispose();
        }
        await expect(takeSnapshot(dir, 4)).rejects.toMatchObject({ code: 'integrity_failed' });
        expect(readFileSync(path.join(dir, 'lightningd.sqlite3')).length).toBeGreaterThan(0);
      } finally {
        db.exec('COMMIT');
        db.close();
      }
      // The private copies are gone.
      cleanStaleSnapshots(dir);
      expect(readdirSync(dir).filter((f) => f.startsWith('.cldcb-snapshot-'))).toEqual([]);
    });
  }

  it('an absent database is the empty snapshot at data_version 0 only', async () => {
    const dir = mkdtempSync(path.join(work, 'snap-none-'));
    const snap = await takeSnapshot(dir, 0);
    expect(snap.size).toBe(0);
    snap.dispose();
    await expect(takeSnapshot(dir, 5)).rejects.toMatchObject({ code: 'file_not_found' });
  });
});
