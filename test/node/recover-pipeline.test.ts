/**
 * The pipelined rebuild (shared/node/recovery/pipeline.ts) against the two-pass one
 * (replay.ts) on archives long enough for its shortcuts to matter: transactions spanning
 * data_version runs (a commit every 256 increments / 4 MiB), savepoints dropped when the
 * next increment's framing names another data_version, statement batches of consecutive
 * increments merged into one exec(). Each recovery is compared with the other path and
 * with a reference database (the snapshot with the increments lightningd committed applied
 * statement by statement, as lightningd runs them), and the path that ran is read from the
 * verdict's timings:
 *  - long archives (several 256-increment transactions, and a 4 MiB one) recover
 *    identically on both paths, pipelined without falling back;
 *  - redos (repeated data_version with the bump) inside an open transaction, right at its
 *    boundary, and after a repeat without the bump: the redo's writes, not the replaced ones;
 *  - the unauthenticated .arch framing lying about a redo's data_version: the pipeline
 *    drops the savepoint the redo needs, falls back, and the result is the honest one;
 *  - a failing statement among many good increments: the same refusal on both paths,
 *    naming the increment and the statement, nothing left in the lightning directory;
 *  - statements ending with comments (joining them with ";\n" is not enough);
 *  - bugs these tests found, now fixed: hand-made increments on which the two paths
 *    disagreed (transaction statements, deferred foreign keys, an unterminated comment), and
 *    a process abort when the feeder thread was terminated inside a libsecp256k1 call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeArchive, FOOTER_SIZE, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { nativeBoxCrypto } from '../../shared/node/nativeSeal';
import { recover } from '../../shared/node/recovery/engine';
import { makeSyntheticArchive } from './helpers/synthetic';
import type { RecoveryVerdict } from '../../shared/node/recovery/types';
import {
  buildArchive,
  bump,
  databaseBytes,
  expectRefused,
  randomKey,
  recoverOutcome,
  serverDirWith,
  tablesWithSchema,
  tempSpace,
  type HandIncrement,
  type Outcome,
} from './helpers/recovery';
import { ensureServerBuilt } from './helpers/server-harness';

const crypto = nativeBoxCrypto();
const NODE = randomKey();
const NODE_ID = crypto.secp.publicKey(NODE);
const PIPELINED = 'unseal, verify and replay (pipelined)';

const space = tempSpace('cldcb-pipe-');
const { fresh } = space;
beforeAll(async () => {
  await ensureServerBuilt(); // the worker bundle the pipelined rebuild's feeder runs from
  space.create();
}, 240_000);
afterAll(() => space.remove());

// ---------------------------------------------------------------------------------------------
// Archives

/** data_version of the snapshot + 1 (the re-upload header's, the first increment's). */
const R = 5;

/** The snapshot: vars at R − 1 and three notes. */
function snapshotDb(): Uint8Array {
  return databaseBytes(space.file('snap', '.sqlite3'), (db) => {
    db.exec(`
      CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name));
      CREATE TABLE notes (id INTEGER PRIMARY KEY, txt TEXT);
      CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER);
      INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three');
      INSERT INTO counters VALUES ('writes', 0);
    `);
    db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', ?)").run(R - 1);
  });
}

/** A hand-made increment (`replaces`: a redo, v1; `patch`: changes its plaintext before sealing). */
interface Inc extends HandIncrement {
  /** Replaced by a later redo: lightningd never committed it (for the reference). */
  lost?: boolean;
}

/** lightningd's write set k: a row, a counter, the bump. */
const normal = (k: number): Inc => ({
  dv: R + k,
  statements: [
    `INSERT INTO notes (id, txt) VALUES (${1000 + k}, 'inc ${k}')`,
    "UPDATE counters SET n = n + 1 WHERE name = 'writes'",
    bump(R + k),
  ],
});

/** Write set k as lightningd sent it before it died (never committed): touches old rows too. */
const lostAt = (k: number): Inc => ({
  dv: R + k,
  lost: true,
  statements: [
    "UPDATE notes SET txt = 'lost' WHERE id = 1",
    `INSERT INTO notes (id, txt) VALUES (${90_000 + k}, 'lost ${k}')`,
    'DELETE FROM notes WHERE id = 2',
    "UPDATE counters SET n = n + 100 WHERE name = 'writes'",
    bump(R + k),
  ],
});

/** The redo of write set k after the restart, replacing archive index `replaces`. */
const redoAt = (k: number, replaces: number): Inc => ({
  dv: R + k,
  replaces,
  statements: [
    `INSERT INTO notes (id, txt) VALUES (${1000 + k}, 'redo ${k}')`,
    "UPDATE counters SET n = n + 1 WHERE name = 'writes'",
    bump(R + k),
  ],
});

/** More writes at the same data_version without the bump (kept by the rule). */
const keptAt = (k: number): Inc => ({
  dv: R + k,
  statements: [`INSERT INTO notes (id, txt) VALUES (${50_000 + k}, 'kept ${k}')`],
});

const range = (from: number, to: number): Inc[] => Array.from({ length: to - from }, (_, i) => normal(from + i));

/** A hand-made archive in a server directory. */
function serverDir(incs: readonly Inc[], format: 0 | 1, snapshot = snapshotDb()): { sd: string; bytes: Uint8Array; cpk: Uint8Array } {
  const cpk = randomKey();
  const bytes = encodeArchive(buildArchive(NODE_ID, cpk, snapshot, incs[0]!.dv, incs, format).events);
  return { sd: serverDirWith(fresh('sd'), bytes, crypto.secp.publicKey(cpk)), bytes, cpk };
}

/** The byte offset of each increment's framing data_version (the u32 before its chunks). */
function incrementOffsets(bytes: Uint8Array): number[] {
  return readArchive(bytes)
    .filter((e) => e.type === 'incrementStart')
    .map((e) => e.offset!);
}

// ---------------------------------------------------------------------------------------------
// Recovery and databases

const tryRecover = (sd: string, pipeline: boolean): Promise<Outcome> =>
  recoverOutcome(NODE, sd, fresh('ld'), { pipeline });

/** Which rebuild produced the verdict (the pipelined one, or two passes: forced or after a fallback). */
function pathOf(v: RecoveryVerdict): 'pipelined' | 'two-pass' {
  const steps = v.timings.map((t) => t.step);
  if (steps.includes(PIPELINED)) return 'pipelined';
  expect(steps).toEqual(expect.arrayContaining(['unseal and verify', 'replay']));
  return 'two-pass';
}

function dataVersionOf(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get() as { intval: number }).intval;
  } finally {
    db.close();
  }
}

/**
 * What lightningd's database holds: the snapshot with each committed write set applied in
 * its own transaction, statement by statement (prepare + run, as lightningd runs them).
 */
function reference(snapshot: Uint8Array, incs: readonly Inc[]): string {
  const f = path.join(fresh('ref'), 'reference.sqlite3');
  writeFileSync(f, snapshot);
  const db = new Database(f);
  db.pragma('foreign_keys = ON');
  db.pragma('journal_mode = MEMORY'); // rollback kept, no fsync per transaction
  db.pragma('synchronous = OFF');
  for (const inc of incs) {
    if (inc.lost) continue;
    db.exec('BEGIN');
    for (const s of inc.statements) db.prepare(s).run();
    db.exec('COMMIT');
  }
  db.close();
  return f;
}

/** Both paths succeed with the reference's database; returns the two verdicts. */
async function expectBothMatch(sd: string, ref: string): Promise<{ pipe: RecoveryVerdict; two: RecoveryVerdict }> {
  const p = await tryRecover(sd, true);
  const t = await tryRecover(sd, false);
  expect(p.err, p.err?.message).toBeUndefined();
  expect(t.err, t.err?.message).toBeUndefined();
  const want = tablesWithSchema(ref);
  expect(tablesWithSchema(p.v!.database.path)).toEqual(want);
  expect(tablesWithSchema(t.v!.database.path)).toEqual(want);
  expect(p.v!.dataVersion).toBe(dataVersionOf(ref));
  expect(dataVersionOf(p.v!.database.path)).toBe(dataVersionOf(ref));
  expect(t.v!.dataVersion).toBe(dataVersionOf(ref));
  expect(pathOf(t.v!)).toBe('two-pass');
  return { pipe: p.v!, two: t.v! };
}

const notesOf = (file: string): Map<number, string> => {
  const db = new Database(file, { readonly: true });
  try {
    return new Map((db.prepare('SELECT id, txt FROM notes').all() as { id: number; txt: string }[]).map((r) => [r.id, r.txt]));
  } finally {
    db.close();
  }
};

// ---------------------------------------------------------------------------------------------
// a) long archives

describe('long archives: several transactions of the pipelined rebuild, the same database as two passes', () => {
  for (const format of [1, 0] as const)
    it(`700 increments × 2 statements (${format === 1 ? 'v1, continued stream' : 'v0, a stream per increment'}): identical on both paths, pipelined without a fallback`, async () => {
      const d = fresh('syn');
      const a = makeSyntheticArchive({
        archivePath: path.join(d, 'x.arch'),
        scratchDb: path.join(d, 's.db'),
        keepScratchDb: true, // the snapshot, for the reference
        sqlPath: path.join(d, 'x.sql'), // the increments' statements as they are sealed
        nodeId: NODE_ID,
        snapshotRows: 50,
        increments: 700,
        statementsPerIncrement: 1,
        rowBytes: 40,
        format,
      });
      const ref = path.join(d, 'ref.sqlite3');
      copyFileSync(path.join(d, 's.db'), ref);
      const rdb = new Database(ref);
      rdb.exec(readFileSync(path.join(d, 'x.sql'), 'utf8'));
      rdb.close();

      const { pipe, two } = await expectBothMatch(serverDirWith(fresh('sd'), a.archivePath, a.clientKey), ref);
      expect(pathOf(pipe)).toBe('pipelined');
      expect(pipe.dataVersion).toBe(a.finalDataVersion);
      expect(a.finalDataVersion).toBe(100 + 700);
      for (const v of [pipe, two]) expect(v).toMatchObject({ ok: true, increments: 700, incrementsStored: 700, statements: 1400, integrity: ['ok'] });
      expect(tablesWithSchema(ref).items!.rows).toHaveLength(750);
    });

  it('increments of ~60 KB (a transaction ends at 4 MiB, not at 256 increments): identical on both paths', async () => {
    const snap = snapshotDb();
    const big = (k: number): Inc => ({
      dv: R + k,
      statements: [
        `INSERT INTO notes (id, txt) VALUES (${1000 + k}, '${String(k).padStart(6, '0').repeat(5000)}')`,
        `INSERT INTO notes (id, txt) VALUES (${2000 + k}, '${String(k).padEnd(6, 'x').repeat(5000)}')`,
        `UPDATE notes SET txt = '${k}' WHERE id = ${1000 + k - 1}`,
        bump(R + k),
      ],
    });
    const incs = Array.from({ length: 150 }, (_, k) => big(k));
    const { sd } = serverDir(incs, 1, snap);
    const { pipe } = await expectBothMatch(sd, reference(snap, incs));
    expect(pathOf(pipe)).toBe('pipelined');
    expect(pipe).toMatchObject({ increments: 150, dataVersion: R + 149 });
  });
});

// ---------------------------------------------------------------------------------------------
// b) redos inside and at the edge of the pipeline's long transactions

interface Scenario {
  name: string;
  incs: Inc[];
  formats: readonly (0 | 1)[];
  /** Archive indices of the increments a redo replaces (the repeat_redo warning names them). */
  replaced: number[][];
}

/** 600 write sets where lightningd died after the hook of write set `at` and redid it. */
function crashAt(at: number, total = 600): Inc[] {
  return [...range(0, at), lostAt(at), redoAt(at, at), ...range(at + 1, total)];
}

const SCENARIOS: Scenario[] = [
  {
    // Write set 300 is inside the pipeline's second transaction (increments 256–511).
    name: 'a redo at increment 300 (inside the second open transaction)',
    incs: crashAt(300),
    formats: [1, 0],
    replaced: [[300]],
  },
  {
    name: 'a redo of the 256th increment (the last of the first transaction)',
    incs: crashAt(255),
    formats: [1, 0],
    replaced: [[255]],
  },
  {
    name: 'a redo of the 257th increment (the first of the second transaction)',
    incs: crashAt(256),
    formats: [1, 0],
    replaced: [[256]],
  },
  {
    name: 'redos of the first and the last increment, and of two in a row',
    incs: [lostAt(0), redoAt(0, 0), ...range(1, 400), lostAt(400), redoAt(400, 401), lostAt(401), redoAt(401, 403), ...range(402, 599), lostAt(599), redoAt(599, 602)],
    formats: [1, 0],
    replaced: [[0], [401], [403], [602]],
  },
  {
    // At 100 a repeat without the bump is kept; at 450 one is followed by a redo, which
    // replaces both (v1: it repeats the prev of the first; v0: from the first with the bump).
    name: 'repeats without the bump: kept, and followed by a redo that replaces them',
    incs: (() => {
      const incs = [...range(0, 100), keptAt(99), ...range(100, 450), lostAt(450), { ...keptAt(450), lost: true }, redoAt(450, 451), ...range(451, 600)];
      return incs;
    })(),
    formats: [1, 0],
    replaced: [[451, 452]],
  },
  {
    // v1 only: the redo repeats the prev of the repeat without the bump, so only that one goes.
    name: 'a redo replacing only the repeat without the bump (v1 names it by its prev)',
    incs: [...range(0, 300), { ...keptAt(299), lost: true }, redoAt(299, 300), ...range(300, 600)].map((inc, i) =>
      // The redo of 299 follows write set 299 itself: its own rows are new ones (no duplicate key).
      i === 301 ? { ...inc, statements: ["INSERT INTO notes (id, txt) VALUES (60299, 'redo after 299')", "UPDATE counters SET n = n + 1 WHERE name = 'writes'", bump(R + 299)] } : inc,
    ),
    formats: [1],
    replaced: [[300]],
  },
];

describe('redos inside the pipeline\'s long transactions: the redo\'s writes, never the replaced ones', () => {
  for (const sc of SCENARIOS)
    for (const format of sc.formats)
      it(`${sc.name} (v${format})`, async () => {
        const snap = snapshotDb();
        const { sd } = serverDir(sc.incs, format, snap);
        const ref = reference(snap, sc.incs);
        const { pipe, two } = await expectBothMatch(sd, ref);
        expect(pathOf(pipe)).toBe('pipelined');
        const replayed = sc.incs.filter((i) => !i.lost).length;
        for (const v of [pipe, two]) {
          expect(v).toMatchObject({ ok: true, increments: replayed, incrementsStored: sc.incs.length, integrity: ['ok'] });
          const redoWarnings = v.warnings.filter((w) => w.kind === 'repeat_redo').map((w) => w.message);
          expect(redoWarnings).toHaveLength(sc.replaced.length);
          sc.replaced.forEach((r, k) => expect(redoWarnings[k]).toMatch(new RegExp(`replaces increments? ${r.join(', ')}\\.`)));
        }
        // The replaced write sets left nothing: no 'lost' row, row 1 unchanged, row 2 still there.
        const notes = notesOf(pipe.database.path);
        expect([...notes.values()].filter((t) => t.startsWith('lost'))).toEqual([]);
        expect(notes.get(1)).toBe('one');
        expect(notes.get(2)).toBe('two');
        for (const inc of sc.incs.filter((i) => i.replaces !== undefined)) {
          const m = /VALUES \((\d+), '([^']*)'\)/.exec(inc.statements[0]!)!;
          expect(notes.get(Number(m[1]))).toBe(m[2]);
        }
        for (const inc of sc.incs.filter((i) => i.lost && !i.statements.some((s) => s.includes("'lost"))))
          expect(notes.has(Number(/VALUES \((\d+),/.exec(inc.statements[0]!)![1]))).toBe(false);
      });

  it('the kept repeat (no bump) survives while the one before a redo does not', async () => {
    const snap = snapshotDb();
    const sc = SCENARIOS[4]!;
    const { sd } = serverDir(sc.incs, 1, snap);
    const p = await tryRecover(sd, true);
    expect(p.err).toBeUndefined();
    const notes = notesOf(p.v!.database.path);
    expect(notes.get(50_099)).toBe('kept 99');
    expect(notes.has(50_450)).toBe(false);
    expect(notes.get(1450)).toBe('redo 450');
    expect(p.v!.warnings.filter((w) => w.kind === 'repeat_same_version').map((w) => w.index)).toEqual([100, 452]);
  });
});

// ---------------------------------------------------------------------------------------------
// c) the framing lies about a redo's data_version

describe('the .arch framing lies about data_versions: the pipeline falls back, never a wrong database', () => {
  /** Write set 300 lost and redone (archive 300, 301), then 302… (write sets 301…). */
  const incs = crashAt(300, 520);
  let snap: Uint8Array;
  let bytes: Uint8Array;
  let cpk: Uint8Array;
  let honest: Record<string, unknown>;
  beforeAll(async () => {
    snap = snapshotDb();
    cpk = randomKey();
    bytes = encodeArchive(buildArchive(NODE_ID, cpk, snap, incs[0]!.dv, incs, 1).events);
    const r = await tryRecover(serverDirWith(fresh('sd'), bytes, crypto.secp.publicKey(cpk)), true);
    expect(r.err).toBeUndefined();
    expect(pathOf(r.v!)).toBe('pipelined');
    honest = tablesWithSchema(r.v!.database.path);
    expect(honest).toEqual(tablesWithSchema(reference(snap, incs)));
  });

  /** The archive with increment `index`'s framing data_version (only the u32 at its start) set to `dv`. */
  const lieAt = (index: number, dv: number): Uint8Array => {
    const b = new Uint8Array(bytes);
    const at = incrementOffsets(bytes)[index]!;
    new DataView(b.buffer).setUint32(at, dv, false);
    return b;
  };

  for (const { name, index, dv, pipelined } of [
    // The pipeline drops the savepoint of increment 300 (the next framing names another
    // data_version); the redo needs it: the two-pass path runs.
    { name: "the redo's framing names the next data_version", index: 301, dv: R + 301, pipelined: false },
    { name: "the redo's framing names the previous data_version", index: 301, dv: R + 299, pipelined: false },
    // Only increment 299's savepoint goes (no redo needs it): the pipeline carries on.
    { name: "the replaced increment's framing names the next one, the redo's its own", index: 300, dv: R + 301, pipelined: true },
  ])
    it(`${name}: the database of the untampered archive (via ${pipelined ? 'the pipeline' : 'the fallback'}), footer and framing warnings`, async () => {
      const sd = serverDirWith(fresh('sd'), lieAt(index, dv), crypto.secp.publicKey(cpk));
      for (const pipeline of [true, false]) {
        const r = await tryRecover(sd, pipeline);
        // A refusal would be safe too, but the sealed data is intact: this archive recovers.
        expect(r.err, `refused: ${r.err?.message}`).toBeUndefined();
        expect(tablesWithSchema(r.v!.database.path)).toEqual(honest);
        expect(r.v!.dataVersion).toBe(R + 519);
        expect(pathOf(r.v!)).toBe(pipeline && pipelined ? 'pipelined' : 'two-pass');
        const w = r.v!.warnings;
        expect(w.find((x) => x.kind === 'dv_mismatch')?.message).toMatch(
          new RegExp(`increment ${index}: the archive framing says data_version ${dv} but the sealed data says ${R + 300}`),
        );
        // The footer still records the honest data_version: warned about, not refused.
        expect(w.find((x) => x.kind === 'footer_damaged')?.message).toMatch(
          new RegExp(`the footer of increment ${index} .*it records data_version ${R + 300}, not ${dv}`),
        );
      }
    });

  it('a lie re-encoded with a matching footer (the server wrote it): same database, only the dv_mismatch warning', async () => {
    const ev = readArchive(bytes).map((e): ArchEvent => {
      if (e.type === 'reuploadChunk' || e.type === 'incrementChunk') return { type: e.type, chunk: e.chunk };
      if (e.type === 'incrementStart') return { type: e.type, dataVersion: e.dataVersion };
      return { type: e.type };
    });
    const starts = ev.map((e, i) => (e.type === 'incrementStart' ? i : -1)).filter((i) => i >= 0);
    ev[starts[301]!] = { type: 'incrementStart', dataVersion: R + 301 };
    const tampered = encodeArchive(ev);
    // Only the framing u32 and the footer's data_version (and hash) differ.
    expect(tampered.length).toBe(bytes.length);
    const sd = serverDirWith(fresh('sd'), tampered, crypto.secp.publicKey(cpk));
    const p = await tryRecover(sd, true);
    expect(p.err, p.err?.message).toBeUndefined();
    expect(tablesWithSchema(p.v!.database.path)).toEqual(honest);
    expect(pathOf(p.v!)).toBe('two-pass');
    expect(p.v!.warnings.map((w) => w.kind)).toContain('dv_mismatch');
    expect(p.v!.warnings.map((w) => w.kind)).not.toContain('footer_damaged');
  });

  it('the footer alone lies (framing honest): the pipeline keeps its savepoints and ends pipelined, with the footer warning', async () => {
    const b = new Uint8Array(bytes);
    const at = readArchive(bytes).filter((e) => e.type === 'incrementEnd')[301]!.offset!;
    new DataView(b.buffer).setUint32(at + 8, R + 301, false); // after u64 last_length
    expect(at + FOOTER_SIZE).toBeLessThanOrEqual(b.length);
    const r = await tryRecover(serverDirWith(fresh('sd'), b, crypto.secp.publicKey(cpk)), true);
    expect(r.err, r.err?.message).toBeUndefined();
    expect(pathOf(r.v!)).toBe('pipelined');
    expect(tablesWithSchema(r.v!.database.path)).toEqual(honest);
    expect(r.v!.warnings.find((w) => w.kind === 'footer_damaged')?.message).toMatch(/checksum does not match.*records data_version 306, not 305/);
  });
});

// ---------------------------------------------------------------------------------------------
// d) a failing statement among many good increments

describe('a failing statement in the middle of many merged increments: the same refusal on both paths', () => {
  const cases = [
    {
      name: 'INSERT into a missing table',
      bad: "INSERT INTO channels_gone (id, secret) VALUES (1, 's3cr3t-value')",
      message: /^increment 400 \(data_version 405\) cannot be applied: statement 2 of 3 \(INSERT INTO channels_gone\) fails: no such table: channels_gone\. /,
    },
    {
      name: 'a UNIQUE violation (a row an earlier increment wrote)',
      bad: "INSERT INTO notes (id, txt) VALUES (1017, 's3cr3t-value')",
      message: /^increment 400 \(data_version 405\) cannot be applied: statement 2 of 3 \(INSERT INTO notes\) fails: UNIQUE constraint failed: notes\.id\. /,
    },
  ];
  for (const c of cases)
    it(`${c.name}: archive_lost_writes naming increment 400, statement 2 of 3; nothing in the lightning directory`, async () => {
      const incs = [
        ...range(0, 400),
        { dv: R + 400, statements: ["INSERT INTO notes (id, txt) VALUES (1400, 'fine')", c.bad, bump(R + 400)] },
        ...range(401, 600),
      ];
      const { sd } = serverDir(incs, 1);
      const p = await tryRecover(sd, true);
      const t = await tryRecover(sd, false);
      const mp = expectRefused(p, 'archive_lost_writes');
      const mt = expectRefused(t, 'archive_lost_writes');
      expect(mt).toMatch(c.message);
      expect(mp).toBe(mt);
      expect(mp).not.toMatch(/s3cr3t/);
    });

  it('a failing statement in a redo (held until its end, then merged): the same refusal on both paths', async () => {
    const incs = crashAt(300, 500);
    incs[301] = { ...incs[301]!, statements: [incs[301]!.statements[0]!, 'INSERT INTO nowhere VALUES (1)', ...incs[301]!.statements.slice(1)] };
    const { sd } = serverDir(incs, 1);
    const p = await tryRecover(sd, true);
    const t = await tryRecover(sd, false);
    const mt = expectRefused(t, 'archive_lost_writes');
    expect(mt).toMatch(/^increment 301 \(data_version 305\) cannot be applied: statement 2 of 4 \(INSERT INTO nowhere\) fails: no such table: nowhere\. /);
    expect(expectRefused(p, 'archive_lost_writes')).toBe(mt);
  });

  it('a statement that is not valid UTF-8: the same refusal on both paths', async () => {
    const incs = range(0, 500);
    // 'é' (C3 A9) in write set 250 becomes C3 28: a broken sequence, same length.
    incs[250] = {
      ...incs[250]!,
      statements: ["INSERT INTO notes (id, txt) VALUES (1250, 'caf\u00e9')", ...incs[250]!.statements.slice(1)],
      patch: (pt) => {
        const at = pt.findIndex((b, i) => b === 0xc3 && pt[i + 1] === 0xa9);
        expect(at).toBeGreaterThan(0);
        pt[at + 1] = 0x28;
      },
    };
    const { sd } = serverDir(incs, 1);
    const p = await tryRecover(sd, true);
    const t = await tryRecover(sd, false);
    expect(t.err, 'the two-pass path must refuse').toBeDefined();
    const mt = expectRefused(t, t.err!.code);
    expect(mt).toMatch(/increment 250 .*statement \d+ is not valid UTF-8/);
    expect(p.err?.code).toBe(t.err!.code);
    expect(expectRefused(p, t.err!.code)).toBe(mt);
  });
});

// ---------------------------------------------------------------------------------------------
// e) statements ending with a comment

describe('statements ending with a comment (a ";\\n" after them is inside the comment)', () => {
  it('`-- comment` after a statement in the middle of an increment, and after its bump: the right database on both paths', async () => {
    const snap = snapshotDb();
    const incs = range(0, 600);
    incs[200] = {
      dv: R + 200,
      statements: [
        "INSERT INTO notes (id, txt) VALUES (1200, 'two hundred') -- the row",
        "INSERT INTO notes (id, txt) VALUES (70200, 'after the comment')",
        `${bump(R + 200)} -- the bump`,
      ],
    };
    const { sd } = serverDir(incs, 1, snap);
    const { pipe } = await expectBothMatch(sd, reference(snap, incs));
    const notes = notesOf(pipe.database.path);
    expect(notes.get(1200)).toBe('two hundred');
    expect(notes.get(70200)).toBe('after the comment');
    expect(pipe.dataVersion).toBe(R + 599);
  });

  it('`-- comment` only after the last statement of an increment (the pipeline merges it with the next increment\'s batch): the right database', async () => {
    const snap = snapshotDb();
    const incs = range(0, 600);
    incs[450] = { ...incs[450]!, statements: [...incs[450]!.statements.slice(0, 2), `${bump(R + 450)} -- bump of 450`] };
    const { sd } = serverDir(incs, 1, snap);
    const { pipe } = await expectBothMatch(sd, reference(snap, incs));
    const notes = notesOf(pipe.database.path);
    expect(notes.get(1450)).toBe('inc 450');
    expect(notes.get(1451)).toBe('inc 451');
    expect(pipe.dataVersion).toBe(R + 599);
  });
});

// ---------------------------------------------------------------------------------------------
// Found by these tests: hand-made increments (authentic — sealed with the client's key — but
// not what lightningd writes) on which the two paths disagreed. Each test states the expected
// behaviour (the comments describe the bug as found); the tests beside them pin the two-pass side.

/** Write set k without lightningd's bump (hand-made data, as the original programs' test run). */
const noBump = (k: number): Inc => ({ dv: R + k, statements: [`INSERT INTO notes (id, txt) VALUES (${1000 + k}, 'inc ${k}')`] });

/** The snapshot with a DEFERRABLE INITIALLY DEFERRED foreign key (checked at COMMIT). */
function deferredSnapshot(): Uint8Array {
  return databaseBytes(space.file('snap', '.sqlite3'), (db) => {
    db.exec(`
      CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name));
      CREATE TABLE notes (id INTEGER PRIMARY KEY, txt TEXT);
      CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER);
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
      INSERT INTO counters VALUES ('writes', 0);
    `);
    db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', ?)").run(R - 1);
  });
}

describe('bugs found here (fixed): long transactions and merged batches must not change what an increment means', () => {
  // BUG: increment 280 (of 300, inside the pipeline's second transaction, 256–511) ends with
  // a ROLLBACK statement; the increments carry no data_version bump (the rebuild sets
  // data_version itself, with the missing_bump warning). The two-pass path refuses (each
  // increment is its own transaction; it fails with integrity_failed "no such savepoint:
  // cldcb_batch"). The pipelined path returns ok, pipelined, data_version 304 — a database
  // without the rows of increments 256–280: the ROLLBACK undid its whole open transaction
  // and nothing noticed (the later savepoints restart a transaction, the bumps are set).
  const rollbackIncs = (): Inc[] => {
    const incs = Array.from({ length: 300 }, (_, k) => noBump(k));
    incs[280] = { dv: R + 280, statements: ["INSERT INTO notes (id, txt) VALUES (1280, 'inc 280')", 'ROLLBACK'] };
    return incs;
  };
  // Fixed: both paths refuse any transaction statement before running it (chain.ts StatementBytesFacts).
  const ROLLBACK_MESSAGE = /increment 280 \(data_version 285\): statement 2 is a transaction statement \(ROLLBACK\); lightningd's write sets never contain one/;
  for (const pipeline of [false, true])
    it(`a ROLLBACK statement in a hand-made increment: the ${pipeline ? 'pipelined' : 'two-pass'} path refuses it, naming it`, async () => {
      const { sd } = serverDir(rollbackIncs(), 0);
      const p = await tryRecover(sd, pipeline);
      expect(p.v ? { rows: notesOf(p.v.database.path).size, path: pathOf(p.v) } : undefined, 'a database was accepted').toBeUndefined();
      expect(expectRefused(p, 'archive_lost_writes')).toMatch(ROLLBACK_MESSAGE);
    });
  for (const word of ['COMMIT', 'BEGIN', 'SAVEPOINT x', 'release x', '  end'])
    it(`a "${word.trim()}" statement is refused as well (pipelined)`, async () => {
      const incs = Array.from({ length: 20 }, (_, k) => noBump(k));
      incs[7] = { dv: R + 7, statements: [word, "INSERT INTO notes (id, txt) VALUES (1007, 'inc 7')"] };
      const { sd } = serverDir(incs, 0);
      expect(expectRefused(await tryRecover(sd, true), 'archive_lost_writes')).toMatch(/statement 1 is a transaction statement/);
    });

  // BUG: with a DEFERRABLE INITIALLY DEFERRED foreign key, increment 280's violation shows at
  // COMMIT. The two-pass path names increment 280; the pipelined one commits only at the
  // end of its transaction and names the last increment in it (299, data_version 304).
  const deferredIncs = (fixedLater: boolean): Inc[] => {
    const incs = range(0, 300);
    incs[280] = { ...incs[280]!, statements: ['INSERT INTO child VALUES (1, 77)', ...incs[280]!.statements] };
    if (fixedLater) incs[281] = { ...incs[281]!, statements: ['INSERT INTO parent VALUES (77)', ...incs[281]!.statements] };
    return incs;
  };
  const DEFERRED_MESSAGE =
    /^increment 280 \(data_version 285\) cannot be committed: FOREIGN KEY constraint failed\. The archive lacks writes/;
  for (const fixedLater of [false, true])
    it(`a deferred foreign key broken by increment 280${fixedLater ? ' (and mended by 281)' : ''}: the two-pass path refuses, naming increment 280`, async () => {
      const { sd } = serverDir(deferredIncs(fixedLater), 1, deferredSnapshot());
      expect(expectRefused(await tryRecover(sd, false), 'archive_lost_writes')).toMatch(DEFERRED_MESSAGE);
    });
  // Fixed: deferred constraints send the pipeline to the two-pass path (a commit per increment).
  it('a deferred foreign key broken by increment 280: the pipelined path names increment 280 too', async () => {
    const { sd } = serverDir(deferredIncs(false), 1, deferredSnapshot());
    expect(expectRefused(await tryRecover(sd, true), 'archive_lost_writes')).toMatch(DEFERRED_MESSAGE);
  });
  // BUG: lightningd's COMMIT of write set 280 would have failed; the pipelined path accepts
  // the archive (ok, pipelined) because increment 281 mends the key before its transaction
  // ends: a database with a write set lightningd could not have committed.
  it('a deferred foreign key broken by increment 280 and mended by 281: the pipelined path refuses too', async () => {
    const { sd } = serverDir(deferredIncs(true), 1, deferredSnapshot());
    const p = await tryRecover(sd, true);
    expect(p.v ? pathOf(p.v) : undefined, 'a database was accepted').toBeUndefined();
    expect(expectRefused(p, 'archive_lost_writes')).toMatch(DEFERRED_MESSAGE);
  });

  // BUG: a statement ending inside an unterminated /* comment (valid alone: SQLite ends the
  // comment at the end of the text) swallows every statement joined after it in one exec().
  // The two-pass path joins one increment's statements; the pipelined one also the next
  // increments' (coalesce()): after a bump ending in "/*" it loses the following increments
  // and refuses with integrity_failed ("data_version 285 but the last increment is 304").
  const openCommentIncs = (): Inc[] => {
    const incs = range(0, 300);
    incs[280] = { ...incs[280]!, statements: [...incs[280]!.statements.slice(0, 2), `${bump(R + 280)} /* open`] };
    return incs;
  };
  it('a bump ending in an unterminated /* comment: the two-pass path rebuilds lightningd\'s database', async () => {
    const snap = snapshotDb();
    const incs = openCommentIncs();
    const { sd } = serverDir(incs, 1, snap);
    const t = await tryRecover(sd, false);
    expect(t.err, t.err?.message).toBeUndefined();
    expect(tablesWithSchema(t.v!.database.path)).toEqual(tablesWithSchema(reference(snap, incs)));
  });
  // Fixed: a plaintext holding "/*" or "--" runs its statements one exec() each (both paths).
  it('a bump ending in an unterminated /* comment: the pipelined path rebuilds it too', async () => {
    const snap = snapshotDb();
    const incs = openCommentIncs();
    const { sd } = serverDir(incs, 1, snap);
    const p = await tryRecover(sd, true);
    expect(p.err?.message).toBeUndefined();
    expect(tablesWithSchema(p.v!.database.path)).toEqual(tablesWithSchema(reference(snap, incs)));
  });
  // BUG (both paths): without lightningd's bump nothing checks data_version, so a statement
  // swallowed by an unterminated /* goes unnoticed: ok, and row 2280 is missing.
  it('an unterminated /* comment in a hand-made increment without bumps: never a database without the swallowed statement (both paths)', async () => {
    const snap = snapshotDb();
    const incs = Array.from({ length: 300 }, (_, k) => noBump(k));
    incs[280] = { dv: R + 280, statements: ["INSERT INTO notes (id, txt) VALUES (1280, 'inc 280') /* open", "INSERT INTO notes (id, txt) VALUES (2280, 'swallowed')"] };
    const { sd } = serverDir(incs, 0, snap);
    const want = tablesWithSchema(reference(snap, incs));
    // The rebuild sets data_version itself for increments without lightningd's bump (with a
    // warning); the statement-only reference does not: compare vars apart.
    const { vars: _wantVars, ...wantTables } = want;
    for (const pipeline of [true, false]) {
      const r = await tryRecover(sd, pipeline);
      expect(r.err?.message).toBeUndefined();
      const { vars: _gotVars, ...gotTables } = tablesWithSchema(r.v!.database.path);
      expect(gotTables, `${pipeline ? 'pipelined' : 'two-pass'}: accepted a different database`).toEqual(wantTables);
      expect(notesOf(r.v!.database.path).has(2280), 'the statement after the open comment was applied').toBe(true);
      expect(dataVersionOf(r.v!.database.path)).toBe(R + 299);
    }
  });

  // BUG (crash): the feeder thread calls libsecp256k1 (the `secp256k1` package, built on
  // node-addon-api with C++ exceptions and without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS)
  // for every sealed stream it opens. It is stopped with worker.terminate() while it may
  // still be working: by engine.ts (feeder.stop() when the rebuild job ends — cancel, error)
  // and, inline, by runPipeline's finally (also on a PipelineFallback). When the termination
  // lands inside a secp256k1 call, the binding's napi_unwrap fails, its error cannot be
  // thrown into the terminating thread, and the C++ runtime aborts the whole process:
  // "terminate called after throwing an instance of 'Napi::Error'". Seen once in a full run
  // of this file (inline fallback, the missing-table test: the fork died), and reproduced
  // with this loop — Cancel during the replay, worker threads as in the app and the CLI —
  // in 2 of 3 runs of 100 cancels (at the 12th and the 30th), and with 1,500 inline
  // fallbacks (abort after 50–100). Skipped: when it happens it kills the test process
  // instead of failing one test; unskip to reproduce.
  // Fixed: the feeder is never terminated; it sees the cancel flags and ends its job itself.
  it('cancelling during the replay never aborts the process (feeder terminated inside a libsecp256k1 call)', async () => {
    const { sd } = serverDir(range(0, 6000), 1); // a stream per increment: an ECDH and a signature check each
    for (let i = 0; i < 40; i++) {
      const ac = new AbortController();
      let replaying = 0;
      const p = recover(
        { nodePrivateKey: NODE, sources: [{ kind: 'serverDir', dir: sd }], lightningDir: fresh('ld') },
        { signal: ac.signal, onEvent: (e) => void (e.type === 'rebuild' && e.phase === 'replay' && ++replaying === 1 && ac.abort()) },
      );
      await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    }
  }, 600_000);
});
