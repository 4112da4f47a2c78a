/**
 * Row-by-row comparison of two SQLite databases (the drill's verification, and the tests'
 * "row-identical"): same tables (schema SQL), same rows in every table. Both are opened
 * read-only; rows are streamed in a canonical order (every column ascending), so memory
 * stays flat. Reports counts and table names, never row contents.
 */
import Database from 'better-sqlite3';
import { CldcbError } from '../../errors';

export interface TableDiff {
  readonly table: string;
  readonly rowsA: number;
  readonly rowsB: number;
  /** Rows present in A and not in B, and the other way round (as multisets). */
  readonly onlyInA: number;
  readonly onlyInB: number;
  readonly schemaDiffers: boolean;
}

export interface CompareResult {
  /** Same schema and same rows everywhere. */
  readonly identical: boolean;
  readonly tables: number;
  readonly rows: number;
  readonly differences: TableDiff[];
  readonly onlyInA: string[];
  readonly onlyInB: string[];
  /** vars.data_version of each (null: none). */
  readonly dataVersionA: number | null;
  readonly dataVersionB: number | null;
}

function open(file: string): Database.Database {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('query_only = ON');
    return db;
  } catch (e) {
    throw new CldcbError('file_not_found', `${file}: cannot open it as an SQLite database (${(e as Error).message.split('\n')[0]}).`);
  }
}

function schema(db: Database.Database): Map<string, string> {
  const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string | null }[];
  return new Map(rows.map((r) => [r.name, (r.sql ?? '').replace(/\s+/g, ' ').trim()]));
}

function dataVersion(db: Database.Database): number | null {
  try {
    const r = db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").get() as { intval: number | bigint | null } | undefined;
    return r && r.intval !== null ? Number(r.intval) : null;
  } catch {
    return null;
  }
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A canonical, comparable text of one row (blobs as hex, integers exact). */
function rowKey(r: unknown[]): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `i:${v}` : Buffer.isBuffer(v) ? `x:${v.toString('hex')}` : typeof v === 'number' ? (Number.isInteger(v) ? `i:${v}` : `r:${v}`) : v));
}

function* ordered(db: Database.Database, table: string, columns: string[]): Generator<string> {
  const order = columns.length ? columns.map((c) => `${q(c)} ASC`).join(', ') : 'rowid';
  const stmt = db.prepare(`SELECT * FROM ${q(table)} ORDER BY ${order}`).raw(true).safeIntegers(true);
  for (const r of stmt.iterate() as Iterable<unknown[]>) yield rowKey(r);
}

/**
 * Compare `a` with `b`.
 * @param ignore tables to leave out (e.g. none for a drill).
 * @throws CldcbError file_not_found when a file is not a database.
 */
export function compareDatabases(a: string, b: string, ignore: readonly string[] = []): CompareResult {
  const da = open(a);
  const db = open(b);
  try {
    const sa = schema(da);
    const sb = schema(db);
    const onlyInA = [...sa.keys()].filter((t) => !sb.has(t) && !ignore.includes(t));
    const onlyInB = [...sb.keys()].filter((t) => !sa.has(t) && !ignore.includes(t));
    const differences: TableDiff[] = [];
    let rows = 0;
    let tables = 0;
    for (const [t, sqlA] of sa) {
      if (!sb.has(t) || ignore.includes(t)) continue;
      tables++;
      const colsA = (da.prepare(`PRAGMA table_info(${q(t)})`).all() as { name: string }[]).map((c) => c.name);
      const colsB = (db.prepare(`PRAGMA table_info(${q(t)})`).all() as { name: string }[]).map((c) => c.name);
      const schemaDiffers = sqlA !== sb.get(t) || colsA.join('\0') !== colsB.join('\0');
      let nA = 0;
      let nB = 0;
      let oA = 0;
      let oB = 0;
      if (!schemaDiffers) {
        // Merge two sorted streams; SQLite's ORDER BY and our keys agree on equality, and
        // counting by a local multiset around each position keeps this correct.
        const ia = ordered(da, t, colsA);
        const ib = ordered(db, t, colsB);
        const pending = new Map<string, number>();
        let x = ia.next();
        let y = ib.next();
        while (!x.done || !y.done) {
          if (!x.done) {
            nA++;
            pending.set(x.value, (pending.get(x.value) ?? 0) + 1);
            x = ia.next();
          }
          if (!y.done) {
            nB++;
            pending.set(y.value, (pending.get(y.value) ?? 0) - 1);
            y = ib.next();
          }
          if (pending.size > 10_000) {
            for (const [k, v] of pending) if (v === 0) pending.delete(k);
          }
        }
        for (const v of pending.values()) {
          if (v > 0) oA += v;
          else if (v < 0) oB -= v;
        }
      } else {
        nA = Number((da.prepare(`SELECT count(*) AS n FROM ${q(t)}`).get() as { n: number }).n);
        nB = Number((db.prepare(`SELECT count(*) AS n FROM ${q(t)}`).get() as { n: number }).n);
      }
      rows += nA;
      if (schemaDiffers || oA > 0 || oB > 0) differences.push({ table: t, rowsA: nA, rowsB: nB, onlyInA: oA, onlyInB: oB, schemaDiffers });
    }
    return {
      identical: differences.length === 0 && onlyInA.length === 0 && onlyInB.length === 0,
      tables,
      rows,
      differences,
      onlyInA,
      onlyInB,
      dataVersionA: dataVersion(da),
      dataVersionB: dataVersion(db),
    };
  } finally {
    da.close();
    db.close();
  }
}
