/**
 * Pass 2: replay the planned increments into the snapshot with better-sqlite3, streaming
 * from the archive file again (memory stays flat: statements live only until their batch
 * is executed).
 *
 * - Foreign keys are ON, as on lightningd's connection (db_sqlite3.c turns them on at open),
 *   so its ON DELETE CASCADE / SET NULL changes — not in the log — happen here too. The log's
 *   own `PRAGMA foreign_keys = …` (around table rebuilds) run where lightningd ran them:
 *   outside any transaction (inside one SQLite ignores them). Before a redo (plan.restarts:
 *   lightningd restarted) foreign keys are set ON again, as its new connection had them.
 * - Each increment runs in its own transaction: its leading PRAGMA statements before BEGIN,
 *   its trailing ones after COMMIT (an increment of PRAGMAs only runs wholly outside). That is
 *   lightningd's order for calls outside a transaction and for the plugin's merges of them
 *   (docs/PROTOCOL.md §2, plugin/backup.ts). A PRAGMA between two other statements (never
 *   made by lightningd) stays inside the transaction, as in test/node/helpers/replay.ts.
 * - Statements are executed in batches with `exec()` (one prepare per statement inside
 *   SQLite, no JS round trip per statement): toolchain.md §10 measured this at ~2× the
 *   sqlite3 CLI. Each batch sits in a SAVEPOINT so a failing batch is re-run statement by
 *   statement to name the failing statement precisely.
 * - Every increment is unsealed again and its plaintext hash must equal pass 1's: the file
 *   cannot change between the passes unnoticed.
 * - An increment that advances data_version without lightningd's bump statement (only
 *   hand-made data does that) gets the bump lightningd's commit would have made.
 *
 * Errors never carry SQL text with data values: the increment, the statement number, its
 * verb and table, and SQLite's message with any quoted token removed.
 */
import { diskError } from './diskErrors';
import { closeSync, openSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { CldcbError } from '../../../shared/errors';
import { ArchReader, type ArchEvent } from '../../../shared/cldcb/arch';
import { formatClientId } from '../../../shared/cldcb/ids';
import { IncrementStreams, type BoxCrypto } from '../../../shared/cldcb/seal';
import { nativeBoxCrypto } from '../nativeSeal';
import { sha256Stream, walkArchiveFile } from './archiveScan';
import { isPragma, statementWords } from '../../../shared/cldcb/statements';
import type { IncrementSummary } from '../../../shared/cldcb/chain';
import { IncrementReader } from '../../../shared/cldcb/plaintexts';

/** Text executed per exec() call. */
export const BATCH_CHARS = 1 << 20;

/** SQLite messages that name only schema objects are shown as they are. */
const SAFE_SQLITE = /^(no such table|no such column|no such index|no such function|table \S+ has no column named|table \S+ already exists|index \S+ already exists|(UNIQUE|NOT NULL|FOREIGN KEY|CHECK|PRIMARY KEY) constraint failed|datatype mismatch|database disk image is malformed|database or disk is full)/;

/** SQLite's message without anything quoted (which could be a data value). */
export function safeSqliteMessage(message: string): string {
  if (SAFE_SQLITE.test(message)) return message;
  return message.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
}

export interface ReplayOptions {
  readonly nodePriv: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly crypto?: BoxCrypto;
  readonly cancelled?: () => boolean;
  /** Called after each replayed increment. */
  readonly progress?: (done: number, total: number, statements: number, bytes: number) => void;
  readonly what?: string;
  readonly batchChars?: number;
  /** Pass 1's stream keys (32 bytes per increment); without, each stream is opened from scratch. */
  readonly streamKeys?: Uint8Array;
  /** The plan's redos (archive positions): foreign keys are set ON before each. */
  readonly restarts?: readonly number[];
}

export interface ReplayStats {
  readonly increments: number;
  readonly statements: number;
  /** PRAGMA statements run outside a transaction. */
  readonly outsidePragmas: number;
  readonly synthesizedBumps: number;
  /** Plaintext bytes replayed. */
  readonly bytes: number;
}

/**
 * Apply `plan` (archive positions, in order) from `path` into `db`.
 * @param incrementsOffset byte offset of the first increment (from pass 1).
 * @param summaries pass 1's summaries, by archive position.
 * @throws CldcbError archive_lost_writes (a statement failed: names increment, dv, statement,
 *   SQLite's reason), not_authentic (the file changed since pass 1, or a box does not open),
 *   cancelled, io_error.
 */
export function replayArchive(
  db: BetterSqlite3.Database,
  path: string,
  incrementsOffset: number,
  summaries: readonly IncrementSummary[],
  plan: readonly number[],
  opts: ReplayOptions,
): ReplayStats {
  const crypto = opts.crypto ?? nativeBoxCrypto();
  const what = opts.what ?? `archive ${formatClientId(opts.clientKey)}.arch`;
  const batchChars = opts.batchChars ?? BATCH_CHARS;
  const planned = new Map<number, number>(plan.map((idx, k) => [idx, k]));
  const advances = new Set<number>();
  for (let k = 0; k < plan.length; k++) {
    const d = summaries[plan[k]!]!;
    const before = k === 0 ? undefined : summaries[plan[k - 1]!]!;
    if ((before === undefined || before.dataVersion !== d.dataVersion) && !d.hasBump) advances.add(d.index);
  }
  const hasVarsRow = (): boolean => {
    try {
      return db.prepare("SELECT 1 FROM vars WHERE name = 'data_version'").get() !== undefined;
    } catch {
      return false;
    }
  };
  const keyAt = (i: number): Uint8Array | undefined => {
    const k = opts.streamKeys?.subarray(i * 32, i * 32 + 32);
    return k && k.length === 32 && k.some((x) => x !== 0) ? k.slice() : undefined;
  };
  const restarts = new Set(opts.restarts ?? []);
  const stats = { increments: 0, statements: 0, outsidePragmas: 0, synthesizedBumps: 0, bytes: 0 };
  const lastIndex = plan.length > 0 ? plan[plan.length - 1]! : -1;
  if (lastIndex < 0) return stats;

  let disposeStreams = (): void => undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CldcbError('io_error', `${path}: cannot open the archive again (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  }
  try {
    const reader = new ArchReader({ checkFooters: false, what, views: true });
    // The reader expects a re-upload section first: give it an empty one and start at the increments.
    reader.push(new Uint8Array(2));
    let index = -1;
    const streams = new IncrementStreams(opts.nodePriv, opts.clientKey, crypto, keyAt);
    disposeStreams = () => streams.dispose();
    let cur:
      | {
          d: IncrementSummary;
          what: string;
          chunk: number;
          reader: IncrementReader;
          batch: string[];
          /** Number of the batch's first statement (1-based). */
          batchFirst: number;
          chars: number;
          n: number;
          /** BEGIN sent (the first statement that is not a PRAGMA came). */
          inTx: boolean;
          /** PRAGMAs after the last other statement, with the number of the first. */
          tail: string[];
          tailFirst: number;
        }
      | undefined;
    let done = false;

    const fail = (d: IncrementSummary, n: number, words: string, msg: string): never => {
      throw new CldcbError(
        'archive_lost_writes',
        `increment ${d.index} (data_version ${d.dataVersion}) cannot be applied: statement ${n} of ${d.statements} (${words}) fails: ${safeSqliteMessage(msg)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
      );
    };

    const runOne = (d: IncrementSummary, n: number, s: string): void => {
      try {
        db.exec(s);
      } catch (e) {
        throw diskError(e) ?? fail(d, n, statementWords(s), (e as Error).message);
      }
    };

    /** PRAGMAs lightningd ran outside a transaction. */
    const runOutside = (d: IncrementSummary, first: number, list: readonly string[]): void => {
      if (db.inTransaction)
        throw new CldcbError('internal', 'PRAGMA outside a transaction run inside one (a bug in CLDCB).');
      list.forEach((s, k) => runOne(d, first + k, s));
      stats.outsidePragmas += list.length;
    };

    const commit = (d: IncrementSummary): void => {
      try {
        db.exec('COMMIT');
      } catch (e) {
        throw diskError(e) ?? new CldcbError(
          'archive_lost_writes',
          `increment ${d.index} (data_version ${d.dataVersion}) cannot be committed: ${safeSqliteMessage((e as Error).message)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
        );
      }
    };

    const flush = (): void => {
      const c = cur!;
      if (c.batch.length === 0) return;
      const first = c.batchFirst;
      db.exec('SAVEPOINT cldcb_batch');
      try {
        db.exec(c.batch.join(';\n'));
        db.exec('RELEASE cldcb_batch');
      } catch {
        db.exec('ROLLBACK TO cldcb_batch');
        // Name the failing statement (or, if all pass alone, the batch joining was the issue).
        c.batch.forEach((s, k) => runOne(c.d, first + k, s));
        db.exec('RELEASE cldcb_batch');
      }
      c.batch = [];
      c.chars = 0;
    };

    const toBatch = (c: NonNullable<typeof cur>, s: string, n: number): void => {
      // A statement with a comment runs alone: joined with others, an unterminated /* would
      // swallow the statements after it (lightningd prepared each statement on its own).
      const alone = s.includes('/*') || s.includes('--');
      if (alone) flush();
      if (c.batch.length === 0) c.batchFirst = n;
      c.batch.push(s);
      c.chars += s.length;
      if (alone) flush();
    };

    const onEvent = (e: ArchEvent): void => {
      switch (e.type) {
        case 'incrementStart': {
          index++;
          if (index > lastIndex) {
            done = true;
            return;
          }
          if (!planned.has(index)) return;
          const d = summaries[index]!;
          if (d.framingDv !== e.dataVersion)
            throw new CldcbError('not_authentic', `${what}: the archive changed while it was being read (increment ${index}). Nothing was written; copy the archive again.`);
          const w = `${what}: increment ${index} (data_version ${d.dataVersion})`;
          cur = {
            d,
            what: w,
            chunk: 0,
            reader: new IncrementReader(sha256Stream(), w),
            batch: [],
            batchFirst: 1,
            chars: 0,
            n: 0,
            inTx: false,
            tail: [],
            tailFirst: 0,
          };
          // lightningd restarted before a redo: its new connection has foreign keys ON.
          if (restarts.has(index)) db.exec('PRAGMA foreign_keys = ON');
          break;
        }
        case 'incrementChunk': {
          if (!cur || done) return;
          const pt = streams.open(index, cur.chunk++, e.chunk, cur.what);
          stats.bytes += pt.length;
          const c = cur;
          for (const s of c.reader.push(pt)) {
            const n = ++c.n;
            if (isPragma(s)) {
              if (!c.inTx) runOutside(c.d, n, [s]); // leading: before BEGIN
              else {
                if (c.tail.length === 0) c.tailFirst = n;
                c.tail.push(s); // trailing, unless another statement follows
              }
              continue;
            }
            if (c.tail.length > 0) {
              // Not trailing after all: between two statements, inside the transaction.
              c.tail.forEach((t, k) => toBatch(c, t, c.tailFirst + k));
              c.tail = [];
            }
            if (!c.inTx) {
              db.exec('BEGIN');
              c.inTx = true;
            }
            toBatch(c, s, n);
            if (c.chars >= batchChars) flush();
          }
          break;
        }
        case 'incrementEnd': {
          if (!cur || done) return;
          const c = cur;
          const end = c.reader.finish();
          if (end.hash !== c.d.hash)
            throw new CldcbError('not_authentic', `${what}: increment ${c.d.index} differs from the first reading: the archive changed while it was being read. Nothing was written; copy the archive again.`);
          flush();
          if (advances.has(c.d.index) && hasVarsRow()) {
            db.prepare("UPDATE vars SET intval = ? WHERE name = 'data_version'").run(c.d.dataVersion);
            stats.synthesizedBumps++;
          }
          if (c.inTx) {
            if (!db.inTransaction)
              throw new CldcbError('archive_lost_writes', `increment ${c.d.index} (data_version ${c.d.dataVersion}) ended its own transaction: it is not a lightningd write set.`);
            commit(c.d);
          }
          if (c.tail.length > 0) runOutside(c.d, c.tailFirst, c.tail); // trailing: after COMMIT
          stats.statements += c.n;
          stats.increments++;
          cur = undefined;
          opts.progress?.(stats.increments, plan.length, stats.statements, stats.bytes);
          if (index === lastIndex) done = true;
          break;
        }
        default:
          break;
      }
    };

    try {
      walkArchiveFile(fd, reader, { from: incrementsOffset, ...(opts.cancelled ? { cancelled: opts.cancelled } : {}), onEvent: (e) => (onEvent(e), done) });
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      // A file cut before its first increment: shorter than pass 1 read it (said below).
      if (!(e instanceof CldcbError && e.code === 'truncated')) throw e;
    }
    if (stats.increments !== plan.length)
      throw new CldcbError('not_authentic', `${what}: the archive became shorter while it was being read (${stats.increments} of ${plan.length} increments replayed). Nothing was written; copy the archive again.`);
    return stats;
  } finally {
    disposeStreams();
    closeSync(fd);
  }
}
