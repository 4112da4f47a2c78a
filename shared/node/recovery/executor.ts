/**
 * Runs the replay plan's commands (replayPlan.ts) on a better-sqlite3 database. One executor
 * for both paths; they differ only in how a batch of statements runs:
 *  - 'x' (the pipeline: batches of several increments merged by coalesce(), one exec() each,
 *    bare): any failure, or text that is not UTF-8, is a {@link ReplayFallback} — a good
 *    archive never fails, and a savepoint around every batch would cost as much as a small
 *    increment's statements. The two-pass path then names the statement.
 *  - 'xParts' (the two-pass path: one increment's statements): inside a SAVEPOINT; when the
 *    batch fails it is rolled back and re-run statement by statement, so the refusal names
 *    the increment, its data_version, the statement's number, verb and table, and SQLite's
 *    message without quoted values.
 * Errors never carry SQL text with data values; a failure of the disk the database is written
 * to is named as such (diskErrors.ts), never blamed on the archive.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { CldcbError } from '../../errors';
import { statementWords } from '../../cldcb/statements';
import { diskError } from './diskErrors';
import { ReplayFallback, type PlanCommand } from './replayPlan';

/** SQLite messages that name only schema objects are shown as they are. */
const SAFE_SQLITE = /^(no such table|no such column|no such index|no such function|table \S+ has no column named|table \S+ already exists|index \S+ already exists|(UNIQUE|NOT NULL|FOREIGN KEY|CHECK|PRIMARY KEY) constraint failed|datatype mismatch|database disk image is malformed|database or disk is full)/;

/** SQLite's message without anything quoted (which could be a data value). */
export function safeSqliteMessage(message: string): string {
  if (SAFE_SQLITE.test(message)) return message;
  return message.replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
}

/** A merged batch of statements (the pipeline's coalesce()): ";\n"-joined UTF-8. */
export type BatchCommand = { t: 'x'; i: number; dv: number; sql: Uint8Array };

export interface ReplayStats {
  readonly increments: number;
  readonly statements: number;
  /** PRAGMA statements run outside a transaction. */
  readonly outsidePragmas: number;
  readonly synthesizedBumps: number;
  /** Plaintext bytes replayed. */
  readonly bytes: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Executor {
  readonly stats = { increments: 0, statements: 0, outsidePragmas: 0, synthesizedBumps: 0, bytes: 0 };
  private setDv: BetterSqlite3.Statement | undefined;
  private hasVars: boolean | undefined;

  /**
   * @param what names the archive in messages.
   * @param onIncEnd after increments ended (`n` of them), with the running totals.
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly what: string,
    private readonly onIncEnd?: (n: number, stats: ReplayStats) => void,
  ) {}

  private applyError(i: number, dv: number, n: number, total: number, words: string, msg: string): CldcbError {
    return new CldcbError(
      'archive_lost_writes',
      `increment ${i} (data_version ${dv}) cannot be applied: statement ${n} of ${total} (${words}) fails: ${safeSqliteMessage(msg)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
    );
  }

  /** One statement alone (numbered from 1 in the message). */
  private runOne(i: number, dv: number, n: number, total: number, s: string): void {
    try {
      this.db.exec(s);
    } catch (e) {
      throw diskError(e) ?? this.applyError(i, dv, n, total, statementWords(s), (e as Error).message);
    }
  }

  /** Statement bytes as text; invalid UTF-8 is refused, naming the statement. */
  private text(i: number, dv: number, first: number, parts: readonly Uint8Array[]): string[] {
    return parts.map((p, k) => {
      try {
        return decoder.decode(p);
      } catch {
        throw new CldcbError('bad_input', `${this.what}: increment ${i} (data_version ${dv}): statement ${first + k} is not valid UTF-8.`);
      }
    });
  }

  /**
   * Run one command.
   * @throws CldcbError archive_lost_writes (a statement or a COMMIT fails), bad_input (not
   *   UTF-8), internal; ReplayFallback for a failing merged batch.
   */
  run(c: PlanCommand | BatchCommand): void {
    const db = this.db;
    switch (c.t) {
      case 'begin':
        db.exec('BEGIN');
        break;
      case 'sp':
        if (!c.skip) db.exec(`SAVEPOINT inc${c.i}`);
        break;
      case 'rb':
        db.exec(`ROLLBACK TO inc${c.i}`);
        break;
      case 'commit':
        if (!db.inTransaction)
          throw new CldcbError('archive_lost_writes', `increment ${c.i} (data_version ${c.dv}) ended its own transaction: it is not a lightningd write set.`);
        try {
          db.exec('COMMIT');
        } catch (e) {
          throw diskError(e) ?? new CldcbError(
            'archive_lost_writes',
            `increment ${c.i} (data_version ${c.dv}) cannot be committed: ${safeSqliteMessage((e as Error).message)}. The archive lacks writes this one depends on; refusing to present an incomplete database.`,
          );
        }
        break;
      case 'fkOn':
        if (db.inTransaction) throw new CldcbError('internal', 'foreign keys set inside a transaction (a bug in CLDCB).');
        db.exec('PRAGMA foreign_keys = ON');
        break;
      case 'x': {
        let sql: string;
        try {
          sql = decoder.decode(c.sql);
        } catch {
          throw new ReplayFallback(`increment ${c.i}: a statement is not valid UTF-8`);
        }
        try {
          db.exec(sql);
        } catch (e) {
          const disk = diskError(e);
          if (disk) throw disk;
          throw new ReplayFallback(`increment ${c.i}: a batch of statements failed`);
        }
        break;
      }
      case 'xParts': {
        const list = this.text(c.i, c.dv, c.first, c.parts);
        if (c.alone) {
          this.runOne(c.i, c.dv, c.first + 1, c.total, list[0]!);
          break;
        }
        db.exec('SAVEPOINT cldcb_batch');
        try {
          db.exec(list.join(';\n'));
        } catch (e) {
          const disk = diskError(e);
          if (disk) throw disk;
          db.exec('ROLLBACK TO cldcb_batch');
          // Name the failing statement (or, if all pass alone, the joining was the issue).
          list.forEach((s, k) => this.runOne(c.i, c.dv, c.first + k + 1, c.total, s));
        }
        db.exec('RELEASE cldcb_batch');
        break;
      }
      case 'out': {
        if (db.inTransaction) throw new CldcbError('internal', 'PRAGMA outside a transaction run inside one (a bug in CLDCB).');
        const parts: Uint8Array[] = [];
        let o = 0;
        for (const l of c.lens) {
          parts.push(c.sql.subarray(o, o + l));
          o += l + 2;
        }
        this.text(c.i, c.dv, c.first, parts).forEach((s, k) => this.runOne(c.i, c.dv, c.first + k + 1, c.total, s));
        break;
      }
      case 'bump':
        if (this.varsRow()) {
          this.setDv ??= db.prepare("UPDATE vars SET intval = ? WHERE name = 'data_version'");
          this.setDv.run(c.dv);
          this.stats.synthesizedBumps++;
        }
        break;
      case 'incEnd':
        this.stats.increments += c.n;
        this.stats.statements += c.statements;
        this.stats.outsidePragmas += c.outside;
        this.stats.bytes += c.bytes;
        this.onIncEnd?.(c.n, this.stats);
        break;
    }
  }

  /** Is there a `vars` row for data_version (hand-made snapshots may have none)? */
  private varsRow(): boolean {
    if (this.hasVars) return true;
    try {
      this.hasVars = this.db.prepare("SELECT 1 FROM vars WHERE name = 'data_version'").get() !== undefined;
    } catch {
      this.hasVars = false;
    }
    return this.hasVars;
  }
}
