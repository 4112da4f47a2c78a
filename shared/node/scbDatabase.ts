/**
 * Static channel backup entries from a lightningd.sqlite3 (a rebuilt one, or a
 * copy of the node's), the same data `staticbackup` would print
 * (lightningd/peer_control.c json_add_scb; wallet/wallet.c; cln-facts.md §6):
 *
 *   channels.id                        → id (dbid)
 *   channels.full_channel_id           → cid (else derived from the funding outpoint, BOLT 2)
 *   peers.node_id                      → node_id
 *   peers.last_known_address (wireaddr blob), else peers.address ("host:port") → addr
 *   channels.funding_tx_id / _outnum   → funding (txid stored in internal byte order)
 *   channels.funding_satoshi           → funding_sats
 *   channels.channel_type              → type (NULL in very old rows: rebuilt like migrate_fill_in_channel_type)
 *   shachains + shachain_known (by pos) via channels.shachain_remote_id → TLV shachain
 *   channels.*_basepoint_remote        → TLV basepoints
 *   channels.funder (0 LOCAL, 1 REMOTE) → TLV opener
 *   channel_configs.to_self_delay of channels.channel_config_remote → TLV remote_to_self_delay
 *
 * The file is opened read-only (`readonly: true, fileMustExist: true`); nothing is written.
 */
import Database from 'better-sqlite3';
import { CldcbError } from '../errors';
import { ByteReader } from '../bytes';
import type { Network } from '../scb/channelKeys';
import { normaliseScbChannel, deriveChannelId, type ScbChannel } from '../scb/channels';
import { channelTypeFromBits } from '../scb/channelType';
import { networkFromGenesisHash } from '../scb/network';
import type { Basepoints, ModernScbChan, ScbTlvs, Shachain } from '../scb/scbChan';
import { parseWireAddrText, readWireAddr, type WireAddr } from '../scb/wireaddr';

/** lightningd/channel_state.h (stored in the database, never renumbered). */
export const CHANNEL_STATE_NAMES: Record<number, string> = {
  1: 'DUALOPEND_OPEN_INIT',
  2: 'CHANNELD_AWAITING_LOCKIN',
  3: 'CHANNELD_NORMAL',
  4: 'CHANNELD_SHUTTING_DOWN',
  5: 'CLOSINGD_SIGEXCHANGE',
  6: 'CLOSINGD_COMPLETE',
  7: 'AWAITING_UNILATERAL',
  8: 'FUNDING_SPEND_SEEN',
  9: 'ONCHAIN',
  10: 'CLOSED',
  11: 'DUALOPEND_OPEN_COMMITTED',
  12: 'DUALOPEND_AWAITING_LOCKIN',
  13: 'CHANNELD_AWAITING_SPLICE',
  14: 'DUALOPEND_OPEN_COMMIT_READY',
};
const STATE_DUALOPEND_OPEN_INIT = 1;
const STATE_CLOSED = 10;

export interface DatabaseScbEntry {
  readonly entry: ModernScbChan;
  /** lightningd's channel state name, e.g. "CHANNELD_NORMAL". */
  readonly state: string;
}

export interface ReadScbDatabaseOptions {
  /** Also list channels in state CLOSED (lightningd has forgotten them; staticbackup omits them). Default false. */
  readonly includeClosed?: boolean;
}

type Row = Record<string, unknown>;

function blob(v: unknown): Uint8Array | null {
  return v instanceof Uint8Array ? new Uint8Array(v) : null;
}
function big(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new CldcbError('bad_input', `${what} is missing or not an integer.`);
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

function col(cols: Set<string>, name: string, alias = name): string {
  return cols.has(name) ? `c.${name} AS ${alias}` : `NULL AS ${alias}`;
}

/** channel_type for rows from before the column existed (wallet/db.c migrate_fill_in_channel_type). */
function legacyChannelType(r: Row): Uint8Array {
  const bits: number[] = [];
  if (Number(r.option_anchor_outputs ?? 0)) bits.push(20, 12);
  else if (r.local_static_remotekey_start !== null && big(r.local_static_remotekey_start ?? 0, 'local_static_remotekey_start') !== 0x7fffffffffffffffn)
    bits.push(12);
  const flags = Number(r.channel_flags ?? 1);
  if (r.alias_remote !== null && r.alias_remote !== undefined && !(flags & 1)) bits.push(46);
  if (r.minimum_depth !== null && r.minimum_depth !== undefined && Number(r.minimum_depth) === 0) bits.push(50);
  return channelTypeFromBits(bits);
}

function peerAddress(r: Row, where: string): WireAddr | null {
  const lka = blob(r.last_known_address);
  if (lka && lka.length > 0) {
    try {
      return readWireAddr(new ByteReader(lka, `${where} peers.last_known_address`), 'address');
    } catch {
      // fall back to the text column
    }
  }
  return typeof r.address === 'string' ? parseWireAddrText(r.address) : null;
}

function point(v: unknown, what: string): Uint8Array | null {
  const b = blob(v);
  if (b === null) return null;
  if (b.length !== 33) throw new CldcbError('bad_input', `${what}: expected a 33-byte point, got ${b.length} bytes.`);
  return b;
}

/**
 * Read every channel's SCB entry from a lightningd database.
 * @param path the database file; opened read-only.
 * @throws CldcbError file_not_found, bad_input (not a lightningd database, damaged rows), io_error.
 */
export function readScbEntriesFromDatabase(path: string, opts: ReadScbDatabaseOptions = {}): DatabaseScbEntry[] {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_CANTOPEN' || /does not exist/i.test(String((e as Error).message)))
      throw new CldcbError('file_not_found', `${path}: no such database file (or it cannot be opened). Check the path.`);
    throw new CldcbError('io_error', `${path}: cannot open it as an SQLite database.`);
  }
  try {
    db.defaultSafeIntegers(true);
    let chanCols: Set<string>;
    let peerCols: Set<string>;
    try {
      chanCols = columnsOf(db, 'channels');
      peerCols = columnsOf(db, 'peers');
    } catch {
      throw new CldcbError('bad_input', `${path}: not an SQLite database (or it is damaged).`);
    }
    for (const need of ['id', 'peer_id', 'state', 'funding_tx_id', 'funding_tx_outnum', 'funding_satoshi'])
      if (!chanCols.has(need)) throw new CldcbError('bad_input', `${path}: not a lightningd database (table channels has no ${need} column).`);
    if (!peerCols.has('node_id')) throw new CldcbError('bad_input', `${path}: not a lightningd database (table peers has no node_id column).`);
    const optional = [
      'funder',
      'full_channel_id',
      'channel_type',
      'option_anchor_outputs',
      'local_static_remotekey_start',
      'channel_flags',
      'alias_remote',
      'minimum_depth',
      'shachain_remote_id',
      'channel_config_remote',
      'revocation_basepoint_remote',
      'payment_basepoint_remote',
      'htlc_basepoint_remote',
      'delayed_payment_basepoint_remote',
    ];
    const sql = `SELECT c.id AS id, c.state AS state, c.funding_tx_id AS funding_tx_id, c.funding_tx_outnum AS funding_tx_outnum,
        c.funding_satoshi AS funding_satoshi, ${optional.map((n) => col(chanCols, n)).join(', ')},
        p.node_id AS node_id, ${peerCols.has('address') ? 'p.address' : 'NULL'} AS address,
        ${peerCols.has('last_known_address') ? 'p.last_known_address' : 'NULL'} AS last_known_address
      FROM channels c JOIN peers p ON p.id = c.peer_id ORDER BY c.id`;
    const rows = db.prepare(sql).all() as Row[];
    const hasShachains = (() => {
      try {
        return columnsOf(db, 'shachains').has('min_index') && columnsOf(db, 'shachain_known').has('hash');
      } catch {
        return false;
      }
    })();
    const hasConfigs = (() => {
      try {
        return columnsOf(db, 'channel_configs').has('to_self_delay');
      } catch {
        return false;
      }
    })();
    const shaHead = hasShachains ? db.prepare('SELECT min_index, num_valid FROM shachains WHERE id = ?') : null;
    const shaKnown = hasShachains ? db.prepare('SELECT pos, idx, hash FROM shachain_known WHERE shachain_id = ? ORDER BY pos') : null;
    const cfg = hasConfigs ? db.prepare('SELECT to_self_delay FROM channel_configs WHERE id = ?') : null;

    const out: DatabaseScbEntry[] = [];
    for (const r of rows) {
      const id = big(r.id, `${path}: channels.id`);
      const where = `${path}: channel ${id}`;
      const state = Number(r.state);
      if (state === STATE_DUALOPEND_OPEN_INIT) continue;
      if (state === STATE_CLOSED && !opts.includeClosed) continue;
      const nodeId = blob(r.node_id);
      if (!nodeId || nodeId.length !== 33) throw new CldcbError('bad_input', `${where}: the peer's node_id is not 33 bytes.`);
      const txid = blob(r.funding_tx_id);
      if (!txid || txid.length !== 32) throw new CldcbError('bad_input', `${where}: funding_tx_id is not 32 bytes.`);
      const outnum = Number(big(r.funding_tx_outnum, `${where}: funding_tx_outnum`));
      const fullCid = blob(r.full_channel_id);
      const cid = fullCid && fullCid.length === 32 ? fullCid : deriveChannelId(txid, outnum);
      const typeBlob = blob(r.channel_type);
      const channelType = typeBlob ?? legacyChannelType(r);

      const tlvs: { shachain?: Shachain; basepoints?: Basepoints; opener?: 'local' | 'remote'; remoteToSelfDelay?: number } = {};
      if (shaHead && shaKnown && r.shachain_remote_id !== null && r.shachain_remote_id !== undefined) {
        const head = shaHead.get(r.shachain_remote_id) as Row | undefined;
        if (head) {
          const numValid = Number(big(head.num_valid, `${where}: shachains.num_valid`));
          const known = (shaKnown.all(r.shachain_remote_id) as Row[]).slice(0, numValid).map((k) => {
            const hash = blob(k.hash);
            if (!hash || hash.length !== 32) throw new CldcbError('bad_input', `${where}: a shachain_known hash is not 32 bytes.`);
            return { index: big(k.idx, `${where}: shachain_known.idx`), hash };
          });
          if (known.length !== numValid)
            throw new CldcbError('bad_input', `${where}: shachains says ${numValid} known secrets but shachain_known has ${known.length}.`);
          tlvs.shachain = { minIndex: big(head.min_index, `${where}: shachains.min_index`), known };
        }
      }
      const bp = [
        point(r.revocation_basepoint_remote, `${where}: revocation_basepoint_remote`),
        point(r.payment_basepoint_remote, `${where}: payment_basepoint_remote`),
        point(r.htlc_basepoint_remote, `${where}: htlc_basepoint_remote`),
        point(r.delayed_payment_basepoint_remote, `${where}: delayed_payment_basepoint_remote`),
      ];
      if (bp.every((p) => p !== null)) tlvs.basepoints = { revocation: bp[0]!, payment: bp[1]!, htlc: bp[2]!, delayedPayment: bp[3]! };
      if (r.funder !== null && r.funder !== undefined) tlvs.opener = Number(r.funder) === 0 ? 'local' : 'remote';
      if (cfg && r.channel_config_remote !== null && r.channel_config_remote !== undefined) {
        const c = cfg.get(r.channel_config_remote) as Row | undefined;
        if (c && c.to_self_delay !== null) tlvs.remoteToSelfDelay = Number(c.to_self_delay);
      }
      const entry: ModernScbChan = {
        id,
        cid,
        nodeId,
        addr: peerAddress(r, where),
        fundingTxid: txid,
        fundingOutnum: outnum,
        fundingSats: big(r.funding_satoshi, `${where}: funding_satoshi`),
        channelType,
        tlvs: tlvs as ScbTlvs,
      };
      out.push({ entry, state: CHANNEL_STATE_NAMES[state] ?? `STATE_${state}` });
    }
    return out;
  } catch (e) {
    if (e instanceof CldcbError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw new CldcbError('bad_input', `${path}: not an SQLite database (or it is damaged).`);
    throw new CldcbError('io_error', `${path}: cannot read the channels (${code ?? 'database error'}).`);
  } finally {
    db.close();
  }
}

export interface ScbDatabaseResult {
  /** The SCB entries, as staticbackup would print them (recoverchannel payload material). */
  readonly entries: ModernScbChan[];
  /** The normalised channels, in the same order. */
  readonly channels: ScbChannel[];
  /** lightningd's state of each channel, same order. */
  readonly states: string[];
}

/**
 * The channels of a lightningd database as ScbChannel (to_remote derived from the secret).
 * @throws CldcbError as readScbEntriesFromDatabase, and bad_length for a wrong secret size.
 */
export function readScbDatabase(path: string, secretData: Uint8Array, network: Network, opts: ReadScbDatabaseOptions = {}): ScbDatabaseResult {
  const list = readScbEntriesFromDatabase(path, opts);
  return {
    entries: list.map((x) => x.entry),
    channels: list.map((x) => normaliseScbChannel(x.entry, secretData, network, 'database')),
    states: list.map((x) => x.state),
  };
}

/**
 * The network a lightningd database runs on, from its `vars.genesis_hash` (shared/scb/network.ts);
 * null when it records none or another chain.
 */
export function readDatabaseNetwork(path: string): Network | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT blobval FROM vars WHERE name = 'genesis_hash'").get() as { blobval?: Uint8Array | null } | undefined;
    return row?.blobval ? networkFromGenesisHash(Buffer.from(row.blobval).toString('hex')) : null;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
