/**
 * Test-side recovery: unseal a client's archive with the node key, check it, and replay it
 * into a fresh SQLite database; compare databases row by row. Built on the one codec and the
 * one replay plan: test/unit/helpers/decode.ts composes shared/cldcb (framer, readers,
 * opener, chain planner), and each write set runs through the recovery's replay plan
 * (shared/node/recovery/replayPlan.ts: leading PRAGMAs before BEGIN, the rest in one
 * transaction, trailing PRAGMAs after COMMIT; foreign keys ON as on lightningd's connection,
 * again before a redo) and its statement-by-statement executor — here one write set at a
 * time, in memory, as lightningd ran them. What it decides is what the recovery decides; the
 * independent check is the comparison with the database lightningd itself wrote.
 */
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { bytesToHex, concatBytes, utf8 } from '../../../shared/bytes';
import type { ArchEvent } from '../../../shared/cldcb/arch';
import { nativeBoxCrypto } from '../../../shared/node/nativeSeal';
import { Executor } from '../../../shared/node/recovery/executor';
import { ReplayPlanner } from '../../../shared/node/recovery/replayPlan';
import { decodeArchive, type DecodedArchive, type DecodedIncrement } from '../../unit/helpers/decode';

export type { DecodedIncrement } from '../../unit/helpers/decode';

export interface DecodedBackup extends DecodedArchive {
  /** data_version of the re-upload header. */
  readonly headerDv: number;
}

/** Unseal a whole archive (events from the server or an .arch file), with the native backend. */
export function decodeBackup(events: Iterable<ArchEvent>, nodePriv: Uint8Array, clientKey33: Uint8Array): DecodedBackup {
  const d = decodeArchive(events, nodePriv, clientKey33, { crypto: nativeBoxCrypto() });
  return { ...d, headerDv: d.reuploadDataVersion };
}

export interface ReplayPlan {
  readonly replay: DecodedIncrement[];
  /** Problems that mean the replay cannot be trusted (gap, broken chain, …): the planner's refusal. */
  readonly errors: string[];
  /** The planner's warnings. */
  readonly notes: string[];
}

/** What to replay: the chain planner's decision. */
export function planReplay(b: DecodedBackup): ReplayPlan {
  return { replay: b.replay, errors: b.plan.fatal ? [b.plan.fatal.message] : [], notes: b.warnings.map((w) => w.message) };
}

/** Run write sets the way lightningd ran them: the recovery's replay plan, statement by statement (see module comment). */
function writeSets(db: Database.Database): { run(statements: readonly string[], how?: { synthesizeBump?: boolean; restart?: boolean }, dataVersion?: number): void } {
  const executor = new Executor(db, 'test replay');
  const plan = new ReplayPlanner({ emit: (c) => executor.run(c), handedOff: 0 }, { what: 'test replay' });
  let index = 0;
  return {
    run(statements, how = {}, dataVersion = 0) {
      try {
        plan.writeSet(index++, dataVersion, statements.map((s) => utf8(s)), how);
      } catch (e) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
    },
  };
}

/** Run one increment the way lightningd ran it (see module comment). */
export function applyIncrement(db: Database.Database, statements: readonly string[]): void {
  writeSets(db).run(statements);
}

/**
 * Rebuild the database at `outPath` from a decoded backup.
 * @returns the plan that was applied.
 * @throws Error when the plan has errors (unless `force`).
 */
export function replayToFile(b: DecodedBackup, outPath: string, force = false): ReplayPlan {
  const plan = planReplay(b);
  if (plan.errors.length > 0 && !force) throw new Error(`archive cannot be replayed: ${plan.errors.join('; ')}`);
  for (const s of ['', '-journal', '-wal', '-shm']) rmSync(outPath + s, { force: true });
  writeFileSync(outPath, concatBytes(...b.snapshot));
  const db = new Database(outPath);
  try {
    db.pragma('foreign_keys = ON'); // as lightningd's connection
    const sets = writeSets(db);
    const restarts = new Set(b.plan.restarts);
    const bumps = new Set(b.plan.missingBumps);
    for (const d of plan.replay) sets.run(d.statements, { synthesizeBump: bumps.has(d.index), restart: restarts.has(d.index) }, d.dataVersion);
  } finally {
    db.close();
  }
  return plan;
}

/** Replay raw db_write calls (a fixture trace) into a fresh database, like lightningd. */
export function replayTrace(trace: readonly { data_version: number; writes: string[] }[], outPath: string): void {
  for (const s of ['', '-journal', '-wal', '-shm']) rmSync(outPath + s, { force: true });
  const db = new Database(outPath);
  try {
    db.pragma('foreign_keys = ON'); // as lightningd's connection
    const sets = writeSets(db);
    for (const call of trace) sets.run(call.writes, {}, call.data_version);
  } finally {
    db.close();
  }
}

function rowKey(row: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? `x'${bytesToHex(v)}'` : typeof v === 'bigint' ? v.toString() : v]));
}

/**
 * Compare two databases table by table: same tables with the same schema, and the same
 * multiset of rows in each. @returns human-readable differences (empty = identical).
 */
export function compareDatabases(aPath: string, bPath: string): string[] {
  const diffs: string[] = [];
  const open = (p: string): Database.Database => {
    if (!existsSync(p)) throw new Error(`${p} does not exist`);
    // Work on copies: opening may roll back journals and we must not touch fixtures.
    const copy = `${p}.compare-${process.pid}-${Math.random().toString(16).slice(2)}`;
    copyFileSync(p, copy);
    const db = new Database(copy, { readonly: true });
    db.defaultSafeIntegers(true);
    (db as unknown as { __copy: string }).__copy = copy;
    return db;
  };
  const a = open(aPath);
  const b = open(bPath);
  try {
    const schema = (db: Database.Database): Map<string, string> =>
      new Map(
        (db.prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('table','index','view','trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string; sql: string | null }[]).map(
          (r) => [r.name, r.sql ?? ''],
        ),
      );
    const sa = schema(a);
    const sb = schema(b);
    for (const [n, sql] of sa) {
      if (!sb.has(n)) diffs.push(`only in ${aPath}: ${n}`);
      else if (sb.get(n) !== sql) diffs.push(`schema of ${n} differs`);
    }
    for (const n of sb.keys()) if (!sa.has(n)) diffs.push(`only in ${bPath}: ${n}`);
    const tables = (a.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    for (const t of tables) {
      if (!sb.has(t)) continue;
      const rows = (db: Database.Database): string[] => (db.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[]).map(rowKey).sort();
      const ra = rows(a);
      const rb = rows(b);
      if (ra.length !== rb.length) diffs.push(`table ${t}: ${ra.length} rows vs ${rb.length}`);
      else if (ra.some((r, i) => r !== rb[i])) diffs.push(`table ${t}: rows differ`);
    }
  } finally {
    for (const db of [a, b]) {
      const copy = (db as unknown as { __copy: string }).__copy;
      db.close();
      rmSync(copy, { force: true });
    }
  }
  return diffs;
}
