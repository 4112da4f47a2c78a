/**
 * The replay has foreign keys as lightningd's connection has them (db/db_sqlite3.c turns
 * them ON at open; prepare_table_manip / complete_table_manip turn them OFF/ON outside a
 * transaction around a table rebuild, reported as their own db_write calls at the repeated
 * data_version, cln-facts §8): ON DELETE CASCADE / SET NULL changes, which are not in the
 * log, happen in the replay too, and a table rebuild does not cascade. Each recovery is
 * compared row by row with a reference database: the snapshot with lightningd's calls
 * applied on a foreign-keys-ON connection (test/node/helpers/replay.ts applyIncrement:
 * leading PRAGMAs before BEGIN, trailing ones after COMMIT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { CldcbError } from '../../shared/errors';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { recover } from '../../shared/node/recovery/engine';
import type { RecoveryVerdict } from '../../shared/node/recovery/types';
import { applyIncrement, compareDatabases } from './helpers/replay';
import {
  buildArchive,
  bump,
  databaseBytes,
  randomKey,
  serverDirWith,
  tempSpace,
  type HandIncrement as Inc,
} from './helpers/recovery';
import { ensureServerBuilt } from './helpers/server-harness';

const crypto = nativeBoxCrypto();
const NODE = randomKey();
const NODE_ID = crypto.secp.publicKey(NODE);

const space = tempSpace('cldcb-fk-');
const { fresh } = space;
beforeAll(async () => {
  await ensureServerBuilt(); // the worker bundle the pipelined rebuild's feeder runs from
  space.create();
});
afterAll(() => space.remove());

/** lightningd-shaped children of `channels`: CASCADE (column and table constraint) and SET NULL. */
const SCHEMA = `
  CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name));
  CREATE TABLE channels (id INTEGER PRIMARY KEY, peer TEXT);
  CREATE TABLE channel_htlcs (id INTEGER PRIMARY KEY, channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE, note TEXT);
  CREATE TABLE channel_configs (id INTEGER PRIMARY KEY, channel_id INTEGER, FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE);
  CREATE TABLE payments (id INTEGER PRIMARY KEY, channel_id INTEGER REFERENCES channels(id) ON DELETE SET NULL);
`;

/** The snapshot: channels 1–3 with children (`extra` runs with foreign keys off). */
function snapshotDb(dv: number, extra = ''): Uint8Array {
  return databaseBytes(space.file('snap', '.sqlite3'), (db) => {
    db.exec(SCHEMA);
    db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', ?)").run(dv);
    db.exec(`
      INSERT INTO channels VALUES (1, 'a'), (2, 'b'), (3, 'c');
      INSERT INTO channel_htlcs VALUES (1, 1, 'h1'), (2, 1, 'h2'), (3, 2, 'h3'), (4, 3, 'h4');
      INSERT INTO channel_configs VALUES (1, 1), (2, 2), (3, 3);
      INSERT INTO payments VALUES (1, 1), (2, 2), (3, 3);
    `);
    if (extra) {
      db.pragma('foreign_keys = OFF');
      db.exec(extra);
    }
  });
}

const incrementStarts = (ev: ArchEvent[]): number[] =>
  ev.map((e, i) => (e.type === 'incrementStart' ? i : -1)).filter((i) => i >= 0);

/** A server directory holding the archive of these events, for the client key `cpk`. */
const serverDirOf = (events: ArchEvent[], cpk: Uint8Array): string =>
  serverDirWith(fresh('sd'), encodeArchive(events), crypto.secp.publicKey(cpk));

async function recoverFrom(sd: string, pipeline: boolean): Promise<RecoveryVerdict> {
  const v = await recover({ nodePrivateKey: NODE, sources: [{ kind: 'serverDir', dir: sd }], lightningDir: fresh('ld'), inline: true, pipeline });
  // The path asked for ran (the pipelined one did not fall back to two passes).
  expect(v.timings.map((t) => t.step)).toContain(pipeline ? 'unseal, verify and replay (pipelined)' : 'replay');
  return v;
}

/**
 * The reference: the snapshot with lightningd's calls applied on a connection with foreign
 * keys ON, as lightningd's; 'restart' opens a new connection (lightningd restarted).
 */
function referenceDb(snapshot: Uint8Array, calls: (string[] | 'restart')[]): string {
  const f = path.join(fresh('ref'), 'reference.sqlite3');
  writeFileSync(f, snapshot);
  const open = (): Database.Database => {
    const db = new Database(f);
    db.pragma('foreign_keys = ON');
    return db;
  };
  let db = open();
  for (const c of calls) {
    if (c === 'restart') {
      db.close();
      db = open();
    } else applyIncrement(db, c);
  }
  db.close();
  return f;
}

function rows(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const all = (sql: string): unknown[] => db.prepare(sql).all();
    return {
      channels: all('SELECT id FROM channels ORDER BY id'),
      htlcs: all('SELECT id, channel_id FROM channel_htlcs ORDER BY id'),
      configs: all('SELECT id, channel_id FROM channel_configs ORDER BY id'),
      payments: all('SELECT id, channel_id FROM payments ORDER BY id'),
    };
  } finally {
    db.close();
  }
}

/** A table rebuild of `channels` as prepare_table_manip / complete_table_manip report it. */
const REBUILD = [
  'CREATE TABLE new_channels (id INTEGER PRIMARY KEY, peer TEXT, capacity INTEGER)',
  'INSERT INTO new_channels SELECT id, peer, NULL FROM channels',
  'DROP TABLE channels',
  'ALTER TABLE new_channels RENAME TO channels',
  bump(6),
];
const OFF = 'PRAGMA foreign_keys = OFF;';
const ON = 'PRAGMA foreign_keys = ON;';
/** lightningd's db_write calls: a write, the rebuild between OFF and ON, then a delete that must cascade. */
const CALLS: Inc[] = [
  { dv: 5, statements: ["INSERT INTO channel_htlcs VALUES (5, 2, 'h5')", bump(5)] },
  { dv: 5, statements: [OFF] },
  { dv: 6, statements: REBUILD },
  { dv: 6, statements: [ON] },
  { dv: 7, statements: ['DELETE FROM channels WHERE id = 3', bump(7)] },
];
/** What lightningd's database holds after CALLS: the rebuild kept every child, the delete cascaded. */
const AFTER_CALLS = {
  channels: [{ id: 1 }, { id: 2 }],
  htlcs: [
    { id: 1, channel_id: 1 },
    { id: 2, channel_id: 1 },
    { id: 3, channel_id: 2 },
    { id: 5, channel_id: 2 },
  ],
  configs: [
    { id: 1, channel_id: 1 },
    { id: 2, channel_id: 2 },
  ],
  payments: [
    { id: 1, channel_id: 1 },
    { id: 2, channel_id: 2 },
    { id: 3, channel_id: null },
  ],
};

for (const pipeline of [true, false])
  describe(`foreign keys as lightningd has them (${pipeline ? 'pipelined' : 'two-pass'} rebuild)`, () => {
    it('a deleted parent takes its ON DELETE CASCADE children with it and sets ON DELETE SET NULL columns to NULL', async () => {
      const cpk = randomKey();
      const snap = snapshotDb(4);
      const incs: Inc[] = [
        { dv: 5, statements: ["INSERT INTO channel_htlcs VALUES (5, 2, 'h5')", bump(5)] },
        { dv: 6, statements: ['DELETE FROM channels WHERE id = 2', bump(6)] },
        { dv: 7, statements: ["UPDATE channels SET peer = 'c2' WHERE id = 3", 'DELETE FROM channels WHERE id = 3', bump(7)] },
      ];
      const v = await recoverFrom(serverDirOf(buildArchive(NODE_ID, cpk, snap, 5, incs).events, cpk), pipeline);
      expect(v).toMatchObject({ ok: true, dataVersion: 7, foreignKeyViolations: 0 });
      expect(rows(v.database.path)).toEqual({
        channels: [{ id: 1 }],
        htlcs: [
          { id: 1, channel_id: 1 },
          { id: 2, channel_id: 1 },
        ],
        configs: [{ id: 1, channel_id: 1 }],
        payments: [
          { id: 1, channel_id: 1 },
          { id: 2, channel_id: null },
          { id: 3, channel_id: null },
        ],
      });
      expect(compareDatabases(v.database.path, referenceDb(snap, incs.map((i) => i.statements)))).toEqual([]);
      expect(v.warnings.map((w) => w.kind)).not.toContain('fk_violations');
    });

    // How each kind of server stores lightningd's calls (docs/PROTOCOL.md §2, plugin/backup.ts).
    const layouts: { name: string; incs: Inc[] }[] = [
      { name: 'each call its own increment (our server)', incs: CALLS },
      {
        name: 'PRAGMA calls merged into the previous increment (original server): trailing PRAGMAs',
        incs: [
          { dv: 5, statements: [...CALLS[0]!.statements, OFF] },
          { dv: 6, statements: [...REBUILD, ON] },
          CALLS[4]!,
        ],
      },
      {
        name: 'PRAGMA held after a plugin restart (original server): leading and trailing PRAGMAs',
        incs: [CALLS[0]!, { dv: 6, statements: [OFF, ...REBUILD, ON] }, CALLS[4]!],
      },
    ];
    for (const layout of layouts)
      it(`a table rebuild between PRAGMA foreign_keys = OFF and ON keeps the children: ${layout.name}`, async () => {
        const cpk = randomKey();
        const snap = snapshotDb(4);
        const v = await recoverFrom(serverDirOf(buildArchive(NODE_ID, cpk, snap, 5, layout.incs).events, cpk), pipeline);
        expect(v).toMatchObject({ ok: true, dataVersion: 7, increments: layout.incs.length, foreignKeyViolations: 0 });
        expect(rows(v.database.path)).toEqual(AFTER_CALLS);
        expect(compareDatabases(v.database.path, referenceDb(snap, CALLS.map((c) => c.statements)))).toEqual([]);
      });

    it('a redo after PRAGMA foreign_keys = OFF runs with foreign keys ON (lightningd restarted)', async () => {
      const cpk = randomKey();
      const snap = snapshotDb(4);
      // lightningd died after the rebuild's hook, before its COMMIT; restarted, it redid dv 6.
      const A = buildArchive(NODE_ID, cpk, snap, 5, CALLS.slice(0, 3));
      const redo: Inc = { dv: 6, statements: ['DELETE FROM channels WHERE id = 3', bump(6)], prev: A.hashes[1]! };
      const B = buildArchive(NODE_ID, cpk, snap, 5, [...CALLS.slice(0, 2), redo]);
      const events = [...A.events, ...B.events.slice(incrementStarts(B.events)[2])];
      const v = await recoverFrom(serverDirOf(events, cpk), pipeline);
      expect(v).toMatchObject({ ok: true, dataVersion: 6, increments: 3, incrementsStored: 4, foreignKeyViolations: 0 });
      const ref = referenceDb(snap, [CALLS[0]!.statements, [OFF], 'restart', redo.statements]);
      expect(compareDatabases(v.database.path, ref)).toEqual([]);
      expect(rows(v.database.path).htlcs).toEqual([
        { id: 1, channel_id: 1 },
        { id: 2, channel_id: 1 },
        { id: 3, channel_id: 2 },
        { id: 5, channel_id: 2 },
      ]);
    });

    it('the same rebuild increment sent twice (re-send after an unknown outcome) is not a restart', async () => {
      const cpk = randomKey();
      const snap = snapshotDb(4);
      const A = buildArchive(NODE_ID, cpk, snap, 5, CALLS);
      const s = incrementStarts(A.events);
      const events = [...A.events.slice(0, s[3]), ...A.events.slice(s[2], s[3]), ...A.events.slice(s[3])];
      const v = await recoverFrom(serverDirOf(events, cpk), pipeline);
      expect(v).toMatchObject({ ok: true, dataVersion: 7, increments: 5, incrementsStored: 6, foreignKeyViolations: 0 });
      expect(rows(v.database.path)).toEqual(AFTER_CALLS);
      expect(compareDatabases(v.database.path, referenceDb(snap, CALLS.map((c) => c.statements)))).toEqual([]);
    });

    it('a write breaking a foreign key lightningd enforces cannot apply: archive_lost_writes', async () => {
      const cpk = randomKey();
      const incs: Inc[] = [
        { dv: 5, statements: ["INSERT INTO channel_htlcs VALUES (5, 2, 'h5')", bump(5)] },
        { dv: 6, statements: ["INSERT INTO channel_htlcs VALUES (6, 42, 's3cr3t')", bump(6)] },
      ];
      const err = await recoverFrom(serverDirOf(buildArchive(NODE_ID, cpk, snapshotDb(4), 5, incs).events, cpk), pipeline).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CldcbError);
      expect((err as CldcbError).code).toBe('archive_lost_writes');
      expect((err as CldcbError).message).toMatch(
        /increment 1 \(data_version 6\) cannot be applied: statement 1 of 2 \(INSERT INTO channel_htlcs\) fails: FOREIGN KEY constraint failed/,
      );
      expect((err as CldcbError).message).not.toMatch(/s3cr3t/);
    });

    it('foreign key violations already in the snapshot are reported, with the warning', async () => {
      const cpk = randomKey();
      const snap = snapshotDb(4, "INSERT INTO channel_htlcs VALUES (9, 77, 'orphan')");
      const incs: Inc[] = [{ dv: 5, statements: ['DELETE FROM channels WHERE id = 3', bump(5)] }];
      const v = await recoverFrom(serverDirOf(buildArchive(NODE_ID, cpk, snap, 5, incs).events, cpk), pipeline);
      expect(v).toMatchObject({ ok: true, foreignKeyViolations: 1, foreignKeyTables: ['channel_htlcs'] });
      expect(v.warnings.find((w) => w.kind === 'fk_violations')?.message).toMatch(/a database lightningd wrote has none/);
      expect(compareDatabases(v.database.path, referenceDb(snap, incs.map((i) => i.statements)))).toEqual([]);
    });
  });
