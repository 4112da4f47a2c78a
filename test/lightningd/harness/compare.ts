/**
 * What "the same node" means to the tier (lightningd-rig.md §4.10).
 *  - Databases: the schema (sqlite_master), every table ordered by all its columns, and
 *    sqlite_sequence — a 1-msat change anywhere shows.
 *  - RPC state: the stable fields of getinfo, listpeerchannels, listfunds, listpays and
 *    listinvoices, sorted; volatile ones (connection state, status strings, binding,
 *    lightning-dir, version) are left out.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../../../shared/bytes';
import type { LightningNode } from './node';

export interface DbDump {
  readonly schema: readonly string[];
  /** table → rows, each row one canonical string, in ORDER BY all columns. */
  readonly tables: ReadonlyMap<string, readonly string[]>;
  readonly dataVersion: number | undefined;
}

const cell = (v: unknown): string =>
  v instanceof Uint8Array ? `x'${bytesToHex(v)}'` : typeof v === 'bigint' ? v.toString() : JSON.stringify(v);

/**
 * Dump a lightningd database. A database with a hot rollback journal (lightningd killed
 * mid-transaction) is copied with its journal to a temp dir first, so SQLite rolls the
 * copy back exactly as lightningd's next start would, and the original stays untouched.
 */
export function dumpDb(file: string): DbDump {
  if (!existsSync(file)) throw new Error(`${file}: no database`);
  const journal = `${file}-journal`;
  let tmp: string | undefined;
  let open = file;
  if (existsSync(journal)) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'cl-db-'));
    open = path.join(tmp, 'lightningd.sqlite3');
    copyFileSync(file, open);
    copyFileSync(journal, `${open}-journal`);
  }
  const db = new Database(open, { readonly: tmp === undefined, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    const schema = (
      db
        .prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name')
        .raw()
        .all() as unknown[][]
    ).map((r) => r.map(cell).join('|'));
    const tables = new Map<string, string[]>();
    const names = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").raw().all() as [
        string,
      ][]
    ).map((r) => r[0]);
    for (const t of names) {
      const cols = (db.prepare(`SELECT name FROM pragma_table_info(?)`).raw().all(t) as [string][]).map(
        (r) => `"${r[0].replace(/"/g, '""')}"`,
      );
      const rows = db
        .prepare(`SELECT * FROM "${t.replace(/"/g, '""')}" ORDER BY ${cols.join(', ')}`)
        .raw()
        .all() as unknown[][];
      tables.set(
        t,
        rows.map((r) => r.map(cell).join('|')),
      );
    }
    const dv = names.includes('vars')
      ? (db.prepare("SELECT intval FROM vars WHERE name = 'data_version'").raw().get() as
          [bigint] | undefined)
      : undefined;
    return { schema, tables, dataVersion: dv ? Number(dv[0]) : undefined };
  } finally {
    db.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Differences between two dumps, as readable lines (empty when row-identical). At most `limit` lines. */
export function diffDumps(expected: DbDump, actual: DbDump, limit = 20): string[] {
  const out: string[] = [];
  const push = (s: string): void => {
    if (out.length < limit) out.push(s);
  };
  if (expected.dataVersion !== actual.dataVersion)
    push(`data_version: expected ${expected.dataVersion}, got ${actual.dataVersion}`);
  diffLists('schema', expected.schema, actual.schema, push);
  for (const t of new Set([...expected.tables.keys(), ...actual.tables.keys()])) {
    const e = expected.tables.get(t);
    const a = actual.tables.get(t);
    if (!e) push(`table ${t}: only in the rebuilt database`);
    else if (!a) push(`table ${t}: missing from the rebuilt database`);
    else diffLists(`table ${t}`, e, a, push);
  }
  return out;
}

function diffLists(
  what: string,
  e: readonly string[],
  a: readonly string[],
  push: (s: string) => void,
): void {
  const count = (xs: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ce = count(e);
  const ca = count(a);
  for (const [row, n] of ce) if ((ca.get(row) ?? 0) < n) push(`${what}: missing ${short(row)}`);
  for (const [row, n] of ca) if ((ce.get(row) ?? 0) < n) push(`${what}: extra ${short(row)}`);
}

const short = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

type Obj = Record<string, unknown>;
const pick = (o: Obj, keys: readonly string[]): Obj => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
const sortBy = (xs: Obj[]): Obj[] => xs.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

export interface RpcState {
  readonly getinfo: Obj;
  readonly channels: Obj[];
  readonly outputs: Obj[];
  readonly fundsChannels: Obj[];
  readonly pays: Obj[];
  readonly invoices: Obj[];
}

/** The stable RPC state of a node (rig §4.10), sorted. `blockheight` is included: compare at the same tip. */
export async function rpcState(node: LightningNode): Promise<RpcState> {
  const info = await node.call('getinfo');
  const pc = await node.call<{ channels: Obj[] }>('listpeerchannels');
  const funds = await node.call<{ outputs: Obj[]; channels: Obj[] }>('listfunds');
  const pays = await node.call<{ pays: Obj[] }>('listpays');
  const inv = await node.call<{ invoices: Obj[] }>('listinvoices');
  return {
    getinfo: pick(info, ['id', 'num_active_channels', 'num_peers', 'fees_collected_msat', 'blockheight']),
    channels: sortBy(
      pc.channels.map((c) =>
        pick(c, [
          'peer_id',
          'short_channel_id',
          'channel_id',
          'state',
          'opener',
          'to_us_msat',
          'total_msat',
          'funding_txid',
          'funding_outnum',
        ]),
      ),
    ),
    outputs: sortBy(
      funds.outputs.map((o) => pick(o, ['txid', 'output', 'amount_msat', 'status', 'reserved'])),
    ),
    fundsChannels: sortBy(
      funds.channels.map((c) =>
        pick(c, ['short_channel_id', 'our_amount_msat', 'amount_msat', 'funding_txid', 'state']),
      ),
    ),
    pays: sortBy(pays.pays.map((p) => pick(p, ['payment_hash', 'status', 'amount_sent_msat']))),
    invoices: sortBy(inv.invoices.map((i) => pick(i, ['label', 'status', 'amount_msat']))),
  };
}
