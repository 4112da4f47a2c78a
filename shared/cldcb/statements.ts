/**
 * What a db_write statement is, for the rules of the protocol (cln-facts §8; docs/PROTOCOL.md
 * §2): the data_version bump, PRAGMAs (where lightningd ran them: outside a transaction),
 * transaction statements (never in a lightningd write set), deferred constraints, and a
 * value-free description. One set of classifiers for the plugin, the recovery readers, the
 * replay plan and the tests; nothing here ever returns a data value.
 *
 * Each rule exists once, on bytes where the recovery reads bytes (pass 1 and the replay plan
 * never decode most statements) and on strings through the same code.
 */
import { CldcbError } from '../errors';

/**
 * The data_version bump every transactional db_write ends with (cln-facts §8):
 * `UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = K`.
 */
const BUMP_RE = /^\s*UPDATE\s+vars\s+SET\s+intval\s*=[\s\S]*?\bWHERE\s+name\s*=\s*'data_version'/i;
/** The bump's `AND intval = K` (the data_version it expects before it). */
const BUMP_OLD_RE = /\bAND\s+intval\s*=\s*(\d+)\s*;?\s*$/i;
/**
 * `PRAGMA foreign_keys = OFF;` / `ON;` exactly as one statement. lightningd emits exactly
 * these two around its table rebuilds (db/db_sqlite3.c prepare_table_manip /
 * complete_table_manip, cln-facts §8), reported without a data_version bump. The plugin uses
 * this to decide that a write set changes only a connection setting and no stored data, so it
 * must be strict: a prefix match (`PRAGMA foreign_keys…` — the rule recovery once had) would
 * also take `PRAGMA foreign_keys = ON; DROP TABLE x` or `PRAGMA foreign_keys` (a query) for
 * that setting. The values SQLite accepts for a boolean pragma are allowed; nothing may follow.
 */
const FK_PRAGMA_RE = /^\s*PRAGMA\s+foreign_keys\s*=\s*(ON|OFF|0|1|TRUE|FALSE|YES|NO)\s*;?\s*$/i;
const VERB_RE =
  /^\s*(INSERT(?:\s+OR\s+[A-Z]+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+[A-Z]+)?|DELETE\s+FROM|CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)(?:\s+IF\s+NOT\s+EXISTS)?|DROP\s+(?:TABLE|INDEX|VIEW|TRIGGER)(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE|PRAGMA)\s+["`[]?([A-Za-z_][A-Za-z0-9_]*)/i;

const encoder = new TextEncoder();
const looseDecoder = new TextDecoder('utf-8');

/** Does this statement bump data_version? */
export function isDataVersionBump(statement: string): boolean {
  return BUMP_RE.test(statement);
}

/** The K of the bump's `AND intval = K`, if any. */
export function bumpOldValue(statement: string): number | undefined {
  const m = BUMP_OLD_RE.exec(statement);
  return m ? Number(m[1]) : undefined;
}

/** `PRAGMA foreign_keys = ON/OFF;` and nothing else: changes a connection setting, never stored data. */
export function isForeignKeysPragma(statement: string): boolean {
  return FK_PRAGMA_RE.test(statement);
}

/** "INSERT INTO channels", "CREATE TABLE vars", or the first word: safe to show (no values). */
export function statementWords(statement: string): string {
  const m = VERB_RE.exec(statement);
  if (m) return `${m[1]!.replace(/\s+/g, ' ').toUpperCase()} ${m[2]}`;
  const w = /^\s*([A-Za-z]+)/.exec(statement);
  return w ? w[1]!.toUpperCase() : '(empty)';
}

/** Offset of the first byte after the ASCII blanks SQLite skips (space, \t \n \v \f \r). */
function skipBlanks(b: Uint8Array): number {
  let o = 0;
  while (o < b.length && (b[o] === 0x20 || (b[o]! >= 0x09 && b[o]! <= 0x0d))) o++;
  return o;
}

/** Case-insensitive ASCII keyword at b[o…] followed by a non-identifier byte (or the end). */
function keywordAt(b: Uint8Array, o: number, word: string): boolean {
  if (b.length - o < word.length) return false;
  for (let i = 0; i < word.length; i++) if ((b[o + i]! | 0x20) !== word.charCodeAt(i)) return false;
  const next = b[o + word.length];
  return next === undefined || !((next >= 0x30 && next <= 0x39) || ((next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a) || next === 0x5f);
}

/**
 * Does the statement start (after ASCII blanks) with the keyword PRAGMA? PRAGMAs are
 * connection settings lightningd ran outside any transaction; the replay runs them there.
 */
export function isPragmaBytes(b: Uint8Array): boolean {
  return keywordAt(b, skipBlanks(b), 'pragma');
}

/** {@link isPragmaBytes} on a string. */
export function isPragma(statement: string): boolean {
  return isPragmaBytes(encoder.encode(statement));
}

/**
 * A db_write call of PRAGMAs only (at least one statement): lightningd ran it outside any
 * transaction (db/db_sqlite3.c complete_table_manip: `PRAGMA foreign_keys` is a no-op inside
 * one). For what plays lightningd towards the plugin (lightningdPlayer.ts, the tests' writers);
 * the recovery learns the same from {@link StatementBytesFacts.onlyPragmas}.
 */
export function isPragmaOnlyCall(statements: readonly string[]): boolean {
  return statements.length > 0 && statements.every(isPragma);
}

const TRANSACTION_WORDS = ['begin', 'commit', 'end', 'rollback', 'savepoint', 'release'];

/**
 * The transaction keyword a statement starts with (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT,
 * RELEASE), or undefined. lightningd's write sets never hold one (cln-facts §8: its own BEGIN
 * and COMMIT are not reported), and replaying one would end or undo the replay's transaction.
 */
export function transactionKeyword(b: Uint8Array): string | undefined {
  const o = skipBlanks(b);
  const c = (b[o] ?? 0) | 0x20;
  // b, c, e, r, s: the only first letters of a transaction statement (one byte test per statement).
  if (c !== 0x62 && c !== 0x63 && c !== 0x65 && c !== 0x72 && c !== 0x73) return undefined;
  return TRANSACTION_WORDS.find((w) => keywordAt(b, o, w));
}

/** Does the statement mention "defer" (DEFERRED constraints, PRAGMA defer_foreign_keys), any case? */
function mentionsDeferred(b: Uint8Array): boolean {
  for (let i = 0; i + 5 <= b.length; i++)
    if ((b[i]! | 0x20) === 0x64 && (b[i + 1]! | 0x20) === 0x65 && (b[i + 2]! | 0x20) === 0x66 && (b[i + 3]! | 0x20) === 0x65 && (b[i + 4]! | 0x20) === 0x72) return true;
  return false;
}

/**
 * The facts of one increment's statements, from their bytes, without decoding them all (the
 * recovery's hot path): only statements starting with UPDATE are decoded (to see the bump),
 * and the first statement's first 200 bytes (for its verb and table).
 */
export class StatementBytesFacts {
  statements = 0;
  hasBump = false;
  bumpOld: number | undefined;
  pragmaOnly = true;
  firstWords = '';
  /** A CREATE or PRAGMA mentions deferred constraints (foreign keys checked only at COMMIT). */
  defers = false;

  /** @param what names the increment in the refusal of a transaction statement. */
  constructor(private readonly what = 'increment') {}

  /**
   * @throws CldcbError archive_lost_writes for a transaction statement (see {@link transactionKeyword}).
   */
  statement(b: Uint8Array): void {
    const o = skipBlanks(b);
    if (this.statements === 0) this.firstWords = statementWords(looseDecoder.decode(b.subarray(0, Math.min(b.length, 200))));
    this.statements++;
    const tx = transactionKeyword(b);
    if (tx)
      throw new CldcbError(
        'archive_lost_writes',
        `${this.what}: statement ${this.statements} is a transaction statement (${tx.toUpperCase()}); lightningd's write sets never contain one, so this archive holds hand-made or altered data. Refusing to replay it.`,
      );
    const pragma = keywordAt(b, o, 'pragma');
    if (!this.defers && (pragma || keywordAt(b, o, 'create')) && mentionsDeferred(b)) this.defers = true;
    if (!pragma) this.pragmaOnly = false;
    if (!this.hasBump && keywordAt(b, o, 'update')) {
      const s = looseDecoder.decode(b);
      if (isDataVersionBump(s)) {
        this.hasBump = true;
        this.bumpOld = bumpOldValue(s);
      }
    }
  }

  /** Every statement is a PRAGMA (at least one statement). */
  get onlyPragmas(): boolean {
    return this.statements > 0 && this.pragmaOnly;
  }
}
