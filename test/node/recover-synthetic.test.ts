/**
 * Recovery of archives made here: v1 (chained, timed) archives, the repeated data_version
 * rule with real statements, replay failures, cancel, and a killed process — never a
 * half-written database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { bytesToHex } from '../../shared/bytes';
import { encodeArchive, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { recover } from '../../shared/node/recovery/engine';
import { makeSyntheticArchive } from './helpers/synthetic';
import { ArchFileWriter } from '../../shared/node/recovery/sources';
import {
  buildArchive,
  bump,
  databaseBytes,
  randomKey,
  recoverOutcome,
  serverDirWith,
  tempSpace,
  type HandIncrement as Inc,
} from './helpers/recovery';
import { ensureServerBuilt, ROOT } from './helpers/server-harness';

const crypto = nativeBoxCrypto();
const NODE = randomKey();
const NODE_ID = crypto.secp.publicKey(NODE);

const space = tempSpace('cldcb-synth-');
const { fresh } = space;
beforeAll(async () => {
  await ensureServerBuilt();
  space.create();
});
afterAll(() => space.remove());

/** A small real database for snapshots. */
function snapshotDb(dv: number, rows: string[] = []): Uint8Array {
  return databaseBytes(space.file('snap', '.sqlite3'), (db) => {
    db.exec(
      'CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name)); CREATE TABLE notes (id INTEGER PRIMARY KEY, txt TEXT);',
    );
    db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', ?)").run(dv);
    for (const r of rows) db.prepare('INSERT INTO notes (txt) VALUES (?)').run(r);
  });
}

const tryRecoverWith = (sd: string, extra: Record<string, unknown> = {}) =>
  recoverOutcome(NODE, sd, fresh('ld'), extra);

for (const pipeline of [true, false])
  describe(`v1 (chained) archives (${pipeline ? 'pipelined' : 'two-pass'} rebuild)`, () => {
    const tryRecover = (sd: string, extra: Record<string, unknown> = {}) =>
      tryRecoverWith(sd, { pipeline, ...extra });
    it('recovers a synthetic v1 archive and shows the sealed time of the last increment', async () => {
      const d = fresh('a');
      const a = makeSyntheticArchive({
        archivePath: path.join(d, 'x.arch'),
        scratchDb: path.join(d, 's.db'),
        nodeId: NODE_ID,
        snapshotRows: 300,
        increments: 40,
        statementsPerIncrement: 10,
        startTime: 1_800_000_000,
      });
      const sd = serverDirWith(fresh('sd'), a.archivePath, a.clientKey);
      const r = await tryRecover(sd);
      expect(r.err).toBeUndefined();
      expect(r.v).toMatchObject({
        chain: 'v1',
        time: 1_800_000_039,
        timeBasis: 'v1',
        dataVersion: a.finalDataVersion,
        increments: 40,
        statements: a.statements,
        stale: false,
        ok: true,
      });
      expect(r.v!.warnings.map((w) => w.kind)).toContain('tail_undetectable');
      expect(r.v!.warnings.map((w) => w.kind)).not.toContain('mtime_time');
      const db = new Database(r.v!.database.path, { readonly: true });
      expect(db.prepare('SELECT count(*) AS c FROM items').get()).toEqual({ c: 300 + 400 });
      db.close();
    });

    it('refuses increments mixed in from another stream of the same client (same data_version, valid seals)', async () => {
      const cpk = randomKey();
      const db = snapshotDb(4);
      const incs = (tag: string): Inc[] =>
        [5, 6, 7, 8].map((dv) => ({
          dv,
          statements: [`INSERT INTO notes (txt) VALUES ('${tag} ${dv}')`, bump(dv)],
        }));
      const A = buildArchive(NODE_ID, cpk, db, 5, incs('a'), 1);
      const B = buildArchive(NODE_ID, cpk, db, 5, incs('b'), 1);
      const starts = (ev: ArchEvent[]) =>
        ev.map((e, i) => (e.type === 'incrementStart' ? i : -1)).filter((i) => i >= 0);
      const sa = starts(A.events);
      const sb = starts(B.events);
      const mixed = [...A.events.slice(0, sa[2]), ...B.events.slice(sb[2], sb[3]), ...A.events.slice(sa[3])];
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(mixed), crypto.secp.publicKey(cpk)));
      expect(r.err?.code).toBe('archive_lost_writes');
      expect(r.err?.message).toMatch(/chain of increments is broken at increment 2 \(data_version 7\)/);
      expect(readdirSync(r.ld)).toEqual([]);
      // The unmixed archive recovers.
      expect(
        (await tryRecover(serverDirWith(fresh('sd'), encodeArchive(A.events), crypto.secp.publicKey(cpk)))).v?.dataVersion,
      ).toBe(8);
    });

    it('refuses an old snapshot served with newer increments', async () => {
      const cpk = randomKey();
      const A = buildArchive(NODE_ID, cpk, snapshotDb(4), 5, [{ dv: 5, statements: [bump(5)] }], 1);
      const B = buildArchive(NODE_ID, cpk, snapshotDb(4, ['older']), 5, [{ dv: 5, statements: [bump(5)] }], 1);
      const reEnd = (ev: ArchEvent[]) => ev.findIndex((e) => e.type === 'reuploadEnd');
      const mixed = [...B.events.slice(0, reEnd(B.events) + 1), ...A.events.slice(reEnd(A.events) + 1)];
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(mixed), crypto.secp.publicKey(cpk)));
      expect(r.err?.code).toBe('archive_lost_writes');
      expect(r.err?.message).toMatch(/does not follow the snapshot/);
    });

    it('applies the repeated data_version rule with real statements (v1 redo names what it replaces)', async () => {
      const cpk = randomKey();
      const incs: Inc[] = [
        { dv: 5, statements: ["INSERT INTO notes (txt) VALUES ('five')", bump(5)] },
        { dv: 6, statements: ["INSERT INTO notes (txt) VALUES ('six, never committed')", bump(6)] },
      ];
      const A = buildArchive(NODE_ID, cpk, snapshotDb(4), 5, incs, 1);
      // redo of 6 (same prev as the first 6), then a PRAGMA-only call at 6, then 7
      const redo = buildArchive(
        NODE_ID,
        cpk,
        snapshotDb(4),
        5,
        [
          ...incs.slice(0, 1),
          { dv: 6, statements: ["INSERT INTO notes (txt) VALUES ('six')", bump(6)], prev: A.hashes[0]! },
        ],
        1,
      );
      const redoHash = redo.hashes[1]!;
      const tail = buildArchive(
        NODE_ID,
        cpk,
        snapshotDb(4),
        5,
        [
          ...incs.slice(0, 1),
          { dv: 6, statements: ['PRAGMA foreign_keys = OFF;'], prev: redoHash },
          { dv: 7, statements: ["INSERT INTO notes (txt) VALUES ('seven')", bump(7)] },
        ],
        1,
      );
      // tail's dv 7 chains to its own PRAGMA increment: rebuild it so its prev is the PRAGMA's hash in our archive
      const starts = (ev: ArchEvent[]) =>
        ev.map((e, i) => (e.type === 'incrementStart' ? i : -1)).filter((i) => i >= 0);
      const sa = starts(A.events);
      const sr = starts(redo.events);
      const st = starts(tail.events);
      const events = [...A.events, ...redo.events.slice(sr[1]), ...tail.events.slice(st[1])];
      expect(sa).toHaveLength(2);
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(events), crypto.secp.publicKey(cpk)));
      expect(r.err).toBeUndefined();
      expect(r.v!.dataVersion).toBe(7);
      expect(r.v!.increments).toBe(4);
      expect(r.v!.incrementsStored).toBe(5);
      expect(r.v!.warnings.find((w) => w.kind === 'repeat_redo')?.message).toMatch(/replaces increment 1\b/);
      const db = new Database(r.v!.database.path, { readonly: true });
      expect(db.prepare('SELECT txt FROM notes ORDER BY id').all()).toEqual([
        { txt: 'five' },
        { txt: 'six' },
        { txt: 'seven' },
      ]);
      db.close();
    });
  });

for (const pipeline of [true, false])
  describe(`replay failures (${pipeline ? 'pipelined' : 'two-pass'} rebuild)`, () => {
    const tryRecover = (sd: string, extra: Record<string, unknown> = {}) =>
      tryRecoverWith(sd, { pipeline, ...extra });
    it('a statement that cannot apply: archive_lost_writes with the increment, no data values', async () => {
      const cpk = randomKey();
      const A = buildArchive(
        NODE_ID,
        cpk,
        snapshotDb(4),
        5,
        [
          { dv: 5, statements: ["INSERT INTO notes (txt) VALUES ('ok')", bump(5)] },
          {
            dv: 6,
            statements: [
              "INSERT INTO notes (txt) VALUES ('ok too')",
              "INSERT INTO channels (secret) VALUES ('s3cr3t-value')",
              bump(6),
            ],
          },
        ],
        0,
      );
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(A.events), crypto.secp.publicKey(cpk)));
      expect(r.err?.code).toBe('archive_lost_writes');
      expect(r.err?.message).toMatch(
        /increment 1 \(data_version 6\) cannot be applied: statement 2 of 3 \(INSERT INTO channels\) fails: no such table: channels/,
      );
      expect(r.err?.message).not.toMatch(/s3cr3t/);
      expect(readdirSync(r.ld)).toEqual([]);
    });
    it('syntax errors lose their quoted tokens', async () => {
      const cpk = randomKey();
      const A = buildArchive(
        NODE_ID,
        cpk,
        snapshotDb(4),
        5,
        [{ dv: 5, statements: ["INSERT INTO notes (txt) VALUES ('s3cr3t", bump(5)] }],
        0,
      );
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(A.events), crypto.secp.publicKey(cpk)));
      expect(r.err?.code).toBe('archive_lost_writes');
      expect(r.err?.message).not.toMatch(/s3cr3t/);
    });
    it('foreign keys are ON as on lightningd\'s connection: a write breaking one cannot apply (more: recover-foreign-keys.test.ts)', async () => {
      const cpk = randomKey();
      const A = buildArchive(
        NODE_ID,
        cpk,
        snapshotDb(4),
        5,
        [
          {
            dv: 5,
            statements: [
              'CREATE TABLE parent (id INTEGER PRIMARY KEY)',
              'CREATE TABLE child (p INTEGER REFERENCES parent(id))',
              bump(5),
            ],
          },
          { dv: 5, statements: ['PRAGMA foreign_keys = ON;'] },
          { dv: 6, statements: ['INSERT INTO child VALUES (42)', bump(6)] },
        ],
        0,
      );
      const r = await tryRecover(serverDirWith(fresh('sd'), encodeArchive(A.events), crypto.secp.publicKey(cpk)));
      expect(r.err?.code).toBe('archive_lost_writes');
      expect(r.err?.message).toMatch(
        /increment 2 \(data_version 6\) cannot be applied: statement 1 of 2 \(INSERT INTO child\) fails: FOREIGN KEY constraint failed/,
      );
      expect(readdirSync(r.ld)).toEqual([]);
    });
  });

describe('pipelined rebuild falls back to two passes when a redo reaches behind a commit', () => {
  it('redo after a PRAGMA-only call of the same version (never made by lightningd): same result as two passes', async () => {
    const cpk = randomKey();
    const A = buildArchive(
      NODE_ID,
      cpk,
      snapshotDb(4),
      5,
      [
        { dv: 5, statements: ["INSERT INTO notes (txt) VALUES ('first try')", bump(5)] },
        { dv: 5, statements: ['PRAGMA foreign_keys = OFF;'] },
        { dv: 5, statements: ["INSERT INTO notes (txt) VALUES ('redo')", bump(5)] },
        { dv: 6, statements: ["INSERT INTO notes (txt) VALUES ('six')", bump(6)] },
      ],
      0,
    );
    const sd = serverDirWith(fresh('sd'), encodeArchive(A.events), crypto.secp.publicKey(cpk));
    const rows = async (pipeline: boolean) => {
      const r = await tryRecoverWith(sd, { pipeline });
      expect(r.err).toBeUndefined();
      const db = new Database(r.v!.database.path, { readonly: true });
      const out = db.prepare('SELECT txt FROM notes ORDER BY id').all();
      db.close();
      return { out, v: r.v! };
    };
    const a = await rows(true);
    const b = await rows(false);
    expect(a.out).toEqual([{ txt: 'redo' }, { txt: 'six' }]);
    expect(a.out).toEqual(b.out);
    expect(a.v.timings.map((t) => t.step)).toContain('replay'); // the two-pass path ran
  });
});

describe('cancel and crash leave no half-written database', () => {
  let big: { sd: string; clientKey: Uint8Array };
  beforeAll(() => {
    const d = fresh('big');
    const a = makeSyntheticArchive({
      archivePath: path.join(d, 'x.arch'),
      scratchDb: path.join(d, 's.db'),
      nodeId: NODE_ID,
      snapshotRows: 20_000,
      increments: 4000,
      statementsPerIncrement: 40,
      rowBytes: 100,
    });
    big = { sd: serverDirWith(fresh('sd'), a.archivePath, a.clientKey), clientKey: a.clientKey };
  }, 120_000);

  it('cancel (AbortSignal) during the replay: cancelled, nothing in the lightning dir', async () => {
    const ld = fresh('ld');
    const ac = new AbortController();
    let replaying = 0;
    const p = recover(
      { nodePrivateKey: NODE, sources: [{ kind: 'serverDir', dir: big.sd }], lightningDir: ld },
      {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'rebuild' && e.phase === 'replay' && ++replaying === 1) ac.abort();
        },
      },
    );
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(replaying).toBeGreaterThan(0);
    expect(readdirSync(ld)).toEqual([]);
  });

  it('kill -9 during the replay: no lightningd.sqlite3; the next run cleans up and succeeds', async () => {
    const ld = fresh('ld');
    const keyFile = path.join(fresh('k'), 'node.key');
    writeFileSync(keyFile, `# npk = ${bytesToHex(NODE)}\n`);
    const args = [
      path.join(ROOT, 'build/cldcb-client.mjs'),
      'recover',
      `--lightning-dir=${ld}`,
      `--from=${big.sd}`,
      `--node-key-file=${keyFile}`,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (/replaying/.test(err)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the CLI ended before the replay: ${err}`)));
    });
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(path.join(ld, 'lightningd.sqlite3'))).toBe(false);
    const leftovers = readdirSync(ld);
    expect(leftovers.every((f) => /^\.lightningd\.sqlite3\.[0-9a-f]{12}\.tmp(-journal)?$/.test(f))).toBe(
      true,
    );
    const r = await tryRecoverWith(big.sd);
    expect(r.err).toBeUndefined();
    // Same lightning dir: a second run removes the leftovers.
    const again = await recover({
      nodePrivateKey: NODE,
      sources: [{ kind: 'serverDir', dir: big.sd }],
      lightningDir: ld,
      inline: true,
    });
    expect(again.integrity).toEqual(['ok']);
    // No --shost: no wrapper, the client key for installplugin and the chain state instead (engine.ts).
    expect(readdirSync(ld).sort()).toEqual(['cldcb-client.key', 'cldcb-plugin.state', 'lightningd.sqlite3']);
    expect(again.warnings.find((w) => w.kind === 'cleaned_up')?.message).toMatch(/^Removed \d+ temporary file\(s\) an interrupted recovery left/);
  }, 120_000);
});

describe('online downloads are written as .arch files', () => {
  it('ArchFileWriter turns footer-less download events into an archive with valid footers', async () => {
    const fixture = path.join(
      ROOT,
      'test/fixtures/cldcb/c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637.arch',
    );
    const events = readArchive(readFileSync(fixture)).map((e): ArchEvent => {
      if (e.type === 'reuploadChunk' || e.type === 'incrementChunk') return { type: e.type, chunk: e.chunk };
      if (e.type === 'incrementStart') return { type: 'incrementStart', dataVersion: e.dataVersion };
      return { type: e.type };
    });
    const file = path.join(fresh('dl'), 'c.arch');
    const w = new ArchFileWriter(file);
    for (const e of events) w.event(e);
    w.close();
    const back = readArchive(readFileSync(file)); // footers checked
    expect(
      back
        .filter((e) => e.type === 'incrementEnd')
        .map((e) => (e.type === 'incrementEnd' ? e.footer!.count : -1)),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(w.messages).toBe(events.length);
  });
});
