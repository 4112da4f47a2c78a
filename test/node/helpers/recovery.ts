/**
 * Shared set-up for the recovery tests (test/node/recover-*.test.ts): random keys, a test
 * file's temp directory, server directories and hand-made sealed archives, and running the
 * rebuild (shared/node/recovery) with its refusals and databases to compare.
 */
import { expect } from 'vitest';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ArchEvent } from '../../../shared/cldcb/arch';
import { formatClientId, formatServerId } from '../../../shared/cldcb/ids';
import {
  encodeIncrementPlaintext,
  encodeIncrementPlaintextV1,
  encodeReuploadHeader,
  REUPLOAD_PIECE_SIZE,
  splitIncrementPlaintext,
  splitPieces,
} from '../../../shared/cldcb/plaintexts';
import { Sealer } from '../../../shared/cldcb/seal';
import { CldcbError } from '../../../shared/errors';
import { randomPrivateKey } from '../../../shared/noise/primitives';
import { nativeBoxCrypto } from '../../../shared/node/nativeSeal';
import { recover } from '../../../shared/node/recovery/engine';
import type { RecoveryVerdict } from '../../../shared/node/recovery/types';

/** A random valid secp256k1 private key (node, client or server key): shared/noise's generator. */
export const randomKey = (): Uint8Array => randomPrivateKey();

/**
 * A test file's temp directory: `create()` in beforeAll, `remove()` in afterAll; `fresh(name)`
 * makes a new empty directory `<name>-<k>` in it, `file(name, ext)` names a new file there.
 */
export function tempSpace(prefix: string): {
  create(): string;
  remove(): void;
  fresh(name: string): string;
  file(name: string, ext: string): string;
} {
  let root: string | undefined;
  let n = 0;
  const dir = (): string => {
    if (root === undefined) throw new Error('tempSpace: create() it in beforeAll first');
    return root;
  };
  return {
    create: () => (root = mkdtempSync(path.join(os.tmpdir(), prefix))),
    remove: () => {
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    },
    fresh: (name) => {
      const d = path.join(dir(), `${name}-${n++}`);
      mkdirSync(d);
      return d;
    },
    file: (name, ext) => path.join(dir(), `${name}-${n++}${ext}`),
  };
}

/**
 * Make `dir` a server directory holding one archive, `<client id>.arch` (bytes, or a copy of
 * the file at that path), and a server_id (for the wrapper). Returns `dir`.
 */
export function serverDirWith(dir: string, archive: Uint8Array | string, clientId: Uint8Array): string {
  writeFileSync(
    path.join(dir, `${formatClientId(clientId)}.arch`),
    typeof archive === 'string' ? readFileSync(archive) : archive,
  );
  writeFileSync(
    path.join(dir, 'server_id'),
    `# sid = ${formatServerId(nativeBoxCrypto().secp.publicKey(randomKey()))}\n`,
  );
  return dir;
}

/** The original cldcb programs' run (test/fixtures/cldcb, see its README): client 1 reaches data_version 9. */
export const CLDCB_FIX = path.resolve('test/fixtures/cldcb');
export const CLDCB_CID1 = 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637';

/**
 * Make `dir` a copy of the original server's directory (its recognition_codes lost client 1's
 * code, so recovery finds it by opening the archive), its server_id, and client 1's archive
 * (the fixture's, or the file `archive`). Returns `dir`.
 */
export function originalServerDir(dir: string, archive = path.join(CLDCB_FIX, `${CLDCB_CID1}.arch`)): string {
  for (const f of readdirSync(path.join(CLDCB_FIX, 'server_dir'))) copyFileSync(path.join(CLDCB_FIX, 'server_dir', f), path.join(dir, f));
  copyFileSync(path.join(CLDCB_FIX, 'server_id'), path.join(dir, 'server_id'));
  copyFileSync(archive, path.join(dir, `${CLDCB_CID1}.arch`));
  return dir;
}

/** lightningd's data_version bump: the statement that moves it from dv − 1 to dv. */
export const bump = (dv: number): string =>
  `UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = ${dv - 1}`;

/** The bytes of a SQLite database that `build` makes in `file` (a scratch path, removed afterwards): a snapshot. */
export function databaseBytes(file: string, build: (db: Database.Database) => void): Uint8Array {
  const db = new Database(file);
  build(db);
  db.close();
  const b = readFileSync(file);
  rmSync(file);
  return b;
}

/** One increment of a hand-made archive. */
export interface HandIncrement {
  dv: number;
  statements: string[];
  /** v1: this prev instead of the chain's. */
  prev?: Uint8Array;
  /** v1: a redo, repeating the prev of the increment at this archive index. */
  replaces?: number;
  /** Changes the plaintext before it is hashed and sealed. */
  patch?: (pt: Uint8Array) => void;
}

/**
 * The re-upload section of a hand-made archive: the header at `reuploadDv` and the snapshot,
 * sealed in one stream, then the end marker; and the snapshot's chain value (the first v1
 * increment's prev: SHA256("cldcb snapshot" ‖ header ‖ SHA256(snapshot))).
 */
export function sealedSnapshot(
  nodeId: Uint8Array,
  cpk: Uint8Array,
  snapshot: Uint8Array,
  reuploadDv: number,
): { events: ArchEvent[]; snapshotChain: Uint8Array } {
  const header = encodeReuploadHeader(cpk, reuploadDv);
  const s = new Sealer(cpk, nodeId, { crypto: nativeBoxCrypto() });
  const events: ArchEvent[] = [{ type: 'reuploadChunk', chunk: s.seal(header) }];
  for (const p of splitPieces(snapshot, REUPLOAD_PIECE_SIZE))
    events.push({ type: 'reuploadChunk', chunk: s.seal(p) });
  s.dispose();
  events.push({ type: 'reuploadEnd' });
  const snapshotChain = new Uint8Array(
    createHash('sha256')
      .update('cldcb snapshot')
      .update(header)
      .update(createHash('sha256').update(snapshot).digest())
      .digest(),
  );
  return { events, snapshotChain };
}

/**
 * An archive made by hand, as the original plugin seals it (one stream for the re-upload,
 * one per increment): the re-upload header at `reuploadDv`, the snapshot, then the increments
 * as v1 (chained from the snapshot, sealed times 1_795_000_000 + index) or, with `format` 0,
 * v0 plaintexts.
 * Returns its events (so tests can cut and mix them), each increment's plaintext hash and
 * the snapshot's chain value.
 */
export function buildArchive(
  nodeId: Uint8Array,
  cpk: Uint8Array,
  snapshot: Uint8Array,
  reuploadDv: number,
  incs: readonly HandIncrement[],
  format: 0 | 1 = 1,
): { events: ArchEvent[]; hashes: Uint8Array[]; snapshotChain: Uint8Array } {
  const crypto = nativeBoxCrypto();
  const { events, snapshotChain } = sealedSnapshot(nodeId, cpk, snapshot, reuploadDv);
  let last = snapshotChain;
  const prevOf: Uint8Array[] = [];
  const hashes: Uint8Array[] = [];
  incs.forEach((inc, i) => {
    const prev = inc.prev ?? (inc.replaces !== undefined ? prevOf[inc.replaces]! : last);
    prevOf.push(prev);
    const pt =
      format === 1
        ? encodeIncrementPlaintextV1(inc.dv, 1_795_000_000 + i, prev, inc.statements)
        : encodeIncrementPlaintext(inc.dv, inc.statements);
    inc.patch?.(pt);
    last = new Uint8Array(createHash('sha256').update(pt).digest());
    hashes.push(last);
    const si = new Sealer(cpk, nodeId, { crypto });
    events.push({ type: 'incrementStart', dataVersion: inc.dv });
    for (const p of splitIncrementPlaintext(pt)) events.push({ type: 'incrementChunk', chunk: si.seal(p) });
    events.push({ type: 'incrementEnd' });
    si.dispose();
  });
  return { events, hashes, snapshotChain };
}

/** A recovery's verdict, or its refusal; `ld` is the lightning directory it wrote to. */
export type Outcome =
  { v: RecoveryVerdict; err?: undefined; ld: string } | { v?: undefined; err: CldcbError; ld: string };

/** Rebuild (inline) from the server directory `sd` into `ld`; a CldcbError is the outcome, anything else is thrown. */
export async function recoverOutcome(
  nodePrivateKey: Uint8Array,
  sd: string,
  ld: string,
  extra: Record<string, unknown> = {},
): Promise<Outcome> {
  try {
    return {
      v: await recover({
        nodePrivateKey,
        sources: [{ kind: 'serverDir', dir: sd }],
        lightningDir: ld,
        inline: true,
        ...extra,
      }),
      ld,
    };
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    return { err: e, ld };
  }
}

/** A refused recovery: the code, and nothing at all (no database, no temp file, no wrapper) in the lightning directory. Returns the message. */
export function expectRefused(r: Outcome, code: string): string {
  expect(r.v, 'the recovery must be refused').toBeUndefined();
  expect(r.err!.code).toBe(code);
  expect(existsSync(path.join(r.ld, 'lightningd.sqlite3'))).toBe(false);
  expect(readdirSync(r.ld)).toEqual([]);
  return r.err!.message;
}

function readTables<T>(
  file: string,
  each: (db: Database.Database, name: string, sql: string) => T,
): Record<string, T> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as {
      name: string;
      sql: string;
    }[];
    return Object.fromEntries(tables.map((t) => [t.name, each(db, t.name, t.sql)]));
  } finally {
    db.close();
  }
}

const rowsOf = (db: Database.Database, table: string): unknown[] =>
  db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all();

/** Every table's rows (by rowid), for comparing two recovered databases. */
export function tableRows(file: string): Record<string, unknown[]> {
  return readTables(file, (db, name) => rowsOf(db, name));
}

/** Every table's schema and rows (by rowid). */
export function tablesWithSchema(file: string): Record<string, { sql: string; rows: unknown[] }> {
  return readTables(file, (db, name, sql) => ({ sql, rows: rowsOf(db, name) }));
}
