/**
 * A consistent copy of lightningd's database for a re-upload (cldcb-protocol §5.2).
 *
 * The re-upload happens inside a db_write hook: lightningd has executed the statements of
 * the current transaction and waits for us before it COMMITs (cln-facts §8). So the file
 * on disk is the database at data_version − 1, except that SQLite may already have spilled
 * some uncommitted pages of the open transaction into it (with the original pages saved in
 * `lightningd.sqlite3-journal`), or appended uncommitted frames to `-wal` in WAL mode. A
 * plain read of the file (what the original plugin did) can therefore capture a torn mix.
 *
 * What we do: lightningd is blocked, so nothing changes while we copy `lightningd.sqlite3`
 * and its `-journal` / `-wal` (if present) into a private directory. Opening that copy
 * with SQLite (better-sqlite3) treats the copied journal as hot — nobody holds its lock —
 * and rolls the spilled pages back; in WAL mode it ignores frames after the last commit
 * and checkpoints the committed ones into the main file when we close. We then check that
 * `vars.data_version` is what the hook says it must be (data_version − 1 for a transaction
 * carrying the bump; the same data_version for calls made outside a transaction, e.g.
 * `PRAGMA foreign_keys`; 0 = no vars table yet for the very first call), close, hash, and
 * stream that file. The `-shm` file is not copied: SQLite rebuilds it from the WAL.
 */
import { copyFileSync, createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { CldcbError } from '../shared/errors';

export const DB_FILE = 'lightningd.sqlite3';
const TEMP_PREFIX = '.cldcb-snapshot-';

export interface Snapshot {
  /** Path of the consistent private copy. */
  readonly file: string;
  readonly size: number;
  readonly sha256: Uint8Array;
  /** vars.data_version of the copy (0 when the table or row does not exist). */
  readonly dataVersion: number;
  /** Read the copy in pieces of at most `size` bytes. */
  pieces(size: number): AsyncIterable<Uint8Array>;
  /** Delete the private copy. */
  dispose(): void;
}

/** Remove private copies left behind by a killed plugin. */
export function cleanStaleSnapshots(dir: string): void {
  try {
    for (const name of readdirSync(dir)) if (name.startsWith(TEMP_PREFIX)) rmSync(path.join(dir, name), { recursive: true, force: true });
  } catch {
    /* nothing to clean */
  }
}

/** vars.data_version of an open database (0 when the table or row does not exist). */
export function readDataVersion(db: Database.Database): number {
  const hasVars = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vars'").get();
  if (!hasVars) return 0;
  const row = db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get() as { intval: number | bigint | null } | undefined;
  if (!row || row.intval === null) return 0;
  return Number(row.intval);
}

/**
 * Make the consistent copy in `dir` (the network directory, lightningd's cwd).
 * @param expectedDv the data_version the database must be at.
 * @throws CldcbError file_not_found (no database and expectedDv ≠ 0), integrity_failed
 *   (data_version differs: not the database this hook belongs to, e.g. `wallet=` points
 *   elsewhere), io_error.
 */
export async function takeSnapshot(dir: string, expectedDv: number): Promise<Snapshot> {
  const source = path.join(dir, DB_FILE);
  const tmp = mkdtempSync(path.join(dir, TEMP_PREFIX));
  const file = path.join(tmp, DB_FILE);
  const dispose = (): void => rmSync(tmp, { recursive: true, force: true });
  try {
    if (!existsSync(source)) {
      if (expectedDv !== 0)
        throw new CldcbError(
          'file_not_found',
          `${source} does not exist, but lightningd is at data_version ${expectedDv}: cldcb backs up only the default sqlite3 database in lightningd's network directory (not a wallet= elsewhere, nor PostgreSQL).`,
        );
    } else {
      copyFileSync(source, file);
      for (const suffix of ['-journal', '-wal']) if (existsSync(source + suffix)) copyFileSync(source + suffix, file + suffix);
      let dv: number;
      const db = new Database(file, { fileMustExist: true });
      try {
        // Reading rolls back a hot journal / recovers the WAL.
        dv = readDataVersion(db);
        if (db.pragma('journal_mode', { simple: true }) === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
      if (dv !== expectedDv)
        throw new CldcbError(
          'integrity_failed',
          `${source} is at data_version ${dv}, but this db_write needs it at ${expectedDv}: it is not the database lightningd is writing (check wallet=), or it changed during the copy.`,
        );
      for (const suffix of ['-journal', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    }
    const exists = existsSync(file);
    const size = exists ? statSync(file).size : 0;
    const h = createHash('sha256');
    if (exists) for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
    const sha256 = new Uint8Array(h.digest());
    return {
      file,
      size,
      sha256,
      dataVersion: expectedDv,
      async *pieces(pieceSize: number): AsyncIterable<Uint8Array> {
        if (!exists) return;
        const stream = createReadStream(file, { highWaterMark: pieceSize });
        let pending: Buffer = Buffer.alloc(0);
        for await (const c of stream) {
          pending = pending.length === 0 ? (c as Buffer) : Buffer.concat([pending, c as Buffer]);
          while (pending.length >= pieceSize) {
            yield new Uint8Array(pending.subarray(0, pieceSize));
            pending = pending.subarray(pieceSize);
          }
        }
        if (pending.length > 0) yield new Uint8Array(pending);
      },
      dispose,
    };
  } catch (e) {
    dispose();
    if (e instanceof CldcbError) throw e;
    throw new CldcbError('io_error', `Cannot take a consistent copy of ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}
