/**
 * Test-side recovery: unseal a client's archive with the node key, check it, and replay it
 * into a fresh SQLite database; compare databases row by row. A small stand-in for the real
 * rebuild engine (electron/services/recovery), written from docs/PROTOCOL.md §2–§3 and
 * cldcb-protocol §5–§6:
 *
 *  - snapshot (reupload chunks after the 36-byte header) + increments in archive order;
 *  - plaintext v0 (original plugin) and v1 (ours: time, prev);
 *  - repeated data_version: with the data_version bump = redo, replaces the increment whose
 *    prev it repeats (v1) / the run from the first bump (v0); without it = kept; an
 *    increment byte-identical to the one before it is a retransmission and skipped;
 *  - v1 chain: prev = SHA-256 of the previous replayed plaintext, or for the first one
 *    SHA256("cldcb snapshot" ‖ header36 ‖ SHA256(snapshot));
 *  - replay of one increment: its leading `PRAGMA` statements before BEGIN, the rest in one
 *    transaction, its trailing `PRAGMA` statements after COMMIT (a PRAGMA-only increment
 *    is all outside). That is lightningd's own order for calls made outside a transaction
 *    and for the plugin's merges of them (plugin/backup.ts). Foreign keys are ON, as in
 *    lightningd (so its ON DELETE CASCADE deletions happen in the replay too).
 */
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { bytesToHex, concatBytes, equalBytes } from '../../../shared/bytes';
import { sha256 } from '../../../shared/crypto/hash';
import type { ArchEvent } from '../../../shared/cldcb/arch';
import { decodeReuploadHeader } from '../../../shared/cldcb/plaintexts';
import { isContinuedMessage, Unsealer } from '../../../shared/cldcb/seal';
import { isDataVersionBump, isPragma } from '../../../shared/cldcb/statements';
import { nativeBoxCrypto } from '../../../electron/services/nativeSeal';

export interface DecodedIncrement {
  readonly index: number;
  readonly dataVersion: number;
  readonly format: 0 | 1;
  readonly time?: number;
  readonly prev?: Uint8Array;
  readonly hash: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly statements: string[];
  readonly hasBump: boolean;
}

export interface DecodedBackup {
  readonly headerDv: number;
  readonly snapshot: Uint8Array;
  /** SHA256("cldcb snapshot" ‖ header36 ‖ SHA256(snapshot)). */
  readonly chainValue: Uint8Array;
  readonly increments: DecodedIncrement[];
}

const dec = new TextDecoder('utf-8', { fatal: true });

function decodePlaintext(pt: Uint8Array): Omit<DecodedIncrement, 'index' | 'hash' | 'plaintext' | 'hasBump'> {
  const v = new DataView(pt.buffer, pt.byteOffset, pt.byteLength);
  const format = pt[0];
  let o: number;
  let time: number | undefined;
  let prev: Uint8Array | undefined;
  if (format === 0) o = 5;
  else if (format === 1) {
    time = Number(v.getBigUint64(5, false));
    prev = pt.slice(13, 45);
    o = 45;
  } else throw new Error(`unknown plaintext format ${format}`);
  const dataVersion = v.getUint32(1, false);
  const n = Number(v.getBigUint64(o, false));
  o += 8;
  const statements: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = Number(v.getBigUint64(o, false));
    statements.push(dec.decode(pt.subarray(o + 8, o + 8 + len)));
    o += 8 + len;
  }
  if (o !== pt.length) throw new Error(`plaintext has ${pt.length - o} trailing bytes`);
  return { dataVersion, format: format as 0 | 1, ...(time !== undefined ? { time, prev: prev! } : {}), statements };
}

/** Unseal a whole archive (events from the server or an .arch file). */
export function decodeBackup(events: Iterable<ArchEvent>, nodePriv: Uint8Array, clientKey33: Uint8Array): DecodedBackup {
  const crypto = nativeBoxCrypto();
  let headerDv = -1;
  let header: Uint8Array | undefined;
  const snap: Uint8Array[] = [];
  let u: Unsealer | undefined;
  let stream: Unsealer | undefined;
  const increments: DecodedIncrement[] = [];
  let incPieces: Uint8Array[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'reuploadChunk': {
        u ??= new Unsealer(nodePriv, { sender: clientKey33, crypto, what: 'reupload' });
        const pt = u.unseal(e.chunk);
        if (header === undefined) {
          header = pt;
          headerDv = decodeReuploadHeader(pt).dataVersion;
        } else snap.push(pt);
        break;
      }
      case 'reuploadEnd':
        u = undefined;
        break;
      case 'incrementStart':
        incPieces = [];
        break;
      case 'incrementChunk':
        // The first chunk either starts a stream (E ‖ sig) or continues the last one (01 ‖ n, extension v1).
        if (incPieces.length === 0 && isContinuedMessage(e.chunk)) {
          if (!stream) throw new Error(`increment ${increments.length} continues a stream that was never started`);
          incPieces.push(stream.unsealContinued(e.chunk, `increment ${increments.length}`));
        } else if (incPieces.length === 0) {
          stream = new Unsealer(nodePriv, { sender: clientKey33, crypto, what: `increment ${increments.length}` });
          incPieces.push(stream.unseal(e.chunk));
        } else incPieces.push(stream!.unseal(e.chunk));
        break;
      case 'incrementEnd': {
        const plaintext = concatBytes(...incPieces);
        const d = decodePlaintext(plaintext);
        increments.push({ ...d, index: increments.length, hash: sha256(plaintext), plaintext, hasBump: d.statements.some(isDataVersionBump) });
        break;
      }
    }
  }
  if (!header) throw new Error('archive without a reupload header');
  const snapshot = concatBytes(...snap);
  const chainValue = sha256(concatBytes(new TextEncoder().encode('cldcb snapshot'), header, sha256(snapshot)));
  return { headerDv, snapshot, chainValue, increments };
}

export interface ReplayPlan {
  readonly replay: DecodedIncrement[];
  /** Problems that mean the replay cannot be trusted (gap, broken chain, …). */
  readonly errors: string[];
  readonly notes: string[];
}

/** Choose what to replay (see module comment). */
export function planReplay(b: DecodedBackup): ReplayPlan {
  const replay: DecodedIncrement[] = [];
  const errors: string[] = [];
  const notes: string[] = [];
  const expectedPrev = (pos: number): Uint8Array => (pos === 0 ? b.chainValue : replay[pos - 1]!.hash);
  const link = (d: DecodedIncrement): void => {
    if (d.format === 1 && !equalBytes(d.prev!, expectedPrev(replay.length)))
      errors.push(`chain broken at increment ${d.index} (dv ${d.dataVersion})`);
  };
  for (const d of b.increments) {
    const prev = replay[replay.length - 1];
    if (!prev) {
      if (d.dataVersion !== b.headerDv) errors.push(`first increment dv ${d.dataVersion} ≠ reupload dv ${b.headerDv}`);
      link(d);
      replay.push(d);
      continue;
    }
    if (equalBytes(d.plaintext, prev.plaintext)) {
      notes.push(`increment ${d.index}: retransmission of ${prev.index}, skipped`);
      continue;
    }
    if (d.dataVersion === prev.dataVersion) {
      if (d.hasBump) {
        let runStart = replay.length;
        while (runStart > 0 && replay[runStart - 1]!.dataVersion === d.dataVersion) runStart--;
        let cut = -1;
        for (let i = runStart; i < replay.length; i++) {
          if (d.format === 1 ? equalBytes(expectedPrev(i), d.prev!) : replay[i]!.hasBump) {
            cut = i;
            break;
          }
        }
        if (cut < 0) {
          if (d.format === 1) errors.push(`redo at increment ${d.index} follows none of dv ${d.dataVersion}`);
          cut = replay.length;
        }
        const dropped = replay.splice(cut);
        notes.push(`increment ${d.index}: redo of dv ${d.dataVersion}, replaces ${dropped.map((x) => x.index).join(',') || 'nothing'}`);
      } else notes.push(`increment ${d.index}: more writes at dv ${d.dataVersion}`);
      link(d);
      replay.push(d);
      continue;
    }
    if (d.dataVersion !== (prev.dataVersion + 1) % 2 ** 32) errors.push(`gap: dv ${d.dataVersion} after ${prev.dataVersion}`);
    link(d);
    replay.push(d);
  }
  return { replay, errors, notes };
}

/** Run one increment the way lightningd ran it (see module comment). */
export function applyIncrement(db: Database.Database, statements: readonly string[]): void {
  let a = 0;
  let z = statements.length;
  while (a < z && isPragma(statements[a]!)) a++;
  while (z > a && isPragma(statements[z - 1]!)) z--;
  for (let i = 0; i < a; i++) db.exec(statements[i]!);
  if (z > a) {
    db.exec('BEGIN');
    try {
      for (let i = a; i < z; i++) db.exec(statements[i]!);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
  for (let i = z; i < statements.length; i++) db.exec(statements[i]!);
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
  writeFileSync(outPath, b.snapshot);
  const db = new Database(outPath);
  try {
    for (const d of plan.replay) applyIncrement(db, d.statements);
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
    for (const call of trace) applyIncrement(db, call.writes);
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
