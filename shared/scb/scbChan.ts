/**
 * One channel in a static channel backup (common/scb_wire.csv; cln-facts.md §6).
 * Big-endian throughout, like BOLT.
 *
 * modern_scb_chan (v25.02+; staticbackup, recoverchannel, message 6137):
 *   u64 id (dbid) || [32] cid || [33] node_id || wireaddr addr
 *   || [32] funding txid (internal byte order) || u32 outnum || u64 funding_sats
 *   || u16 len || [len] channel_type || u32 len_tlv || [len_tlv] scb_tlvs
 *
 * legacy_scb_chan (message 6135): the same up to channel_type, with an extra
 * `u8 unused` between node_id and addr, and no TLVs.
 *
 * scb_tlvs (BOLT 1 TLV stream: bigsize type, bigsize length, value; ascending types):
 *   1 shachain:  u64 min_index || u32 num_valid || num_valid × (u64 index || [32] hash)   (their_shachain)
 *   3 basepoints: revocation[33] || payment[33] || htlc[33] || delayed_payment[33]       (THEIR basepoints)
 *   5 opener: u8 (0 LOCAL, 1 REMOTE)
 *   7 remote_to_self_delay: u16
 *
 * Every read is bounds-checked; hostile input only ever raises CldcbError.
 */
import * as secp from '@noble/secp256k1';
import { ByteReader, bytesToHex, concatBytes, hexToBytes, u16be, u32be, u64be } from '../bytes';
import { CldcbError } from '../errors';
import { encodeWireAddr, readWireAddr, type WireAddr } from './wireaddr';

/** CLN's struct shachain holds at most 49 known entries (ccan/crypto/shachain). */
export const SHACHAIN_MAX_KNOWN = 49;

export interface ShachainEntry {
  readonly index: bigint;
  readonly hash: Uint8Array;
}
export interface Shachain {
  readonly minIndex: bigint;
  readonly known: readonly ShachainEntry[];
}
/** The peer's basepoints (33-byte compressed points). */
export interface Basepoints {
  readonly revocation: Uint8Array;
  readonly payment: Uint8Array;
  readonly htlc: Uint8Array;
  readonly delayedPayment: Uint8Array;
}
export type Side = 'local' | 'remote';

export interface ScbTlvs {
  readonly shachain?: Shachain;
  readonly basepoints?: Basepoints;
  readonly opener?: Side;
  readonly remoteToSelfDelay?: number;
  /** Unknown odd TLVs, kept so a re-encoded entry is byte-identical. */
  readonly unknown?: readonly { readonly type: bigint; readonly value: Uint8Array }[];
}

/** The fields legacy and modern entries share. */
export interface ScbChanCore {
  readonly id: bigint;
  readonly cid: Uint8Array;
  readonly nodeId: Uint8Array;
  /**
   * The peer's address. Always set for decoded entries; null only for channels
   * read from a database whose peer address is not an internet address (a unix
   * socket): such channels cannot be given to recoverchannel, and CLN's own
   * staticbackup skips them.
   */
  readonly addr: WireAddr | null;
  /** 32 bytes in internal (wire) order, i.e. reversed from the usual display. */
  readonly fundingTxid: Uint8Array;
  readonly fundingOutnum: number;
  readonly fundingSats: bigint;
  /** BOLT 9 feature bytes. */
  readonly channelType: Uint8Array;
}
export interface ModernScbChan extends ScbChanCore {
  readonly tlvs: ScbTlvs;
}
export interface LegacyScbChan extends ScbChanCore {
  /** Written as 0 since v23.08; before, the wireaddr_internal type. Ignored. */
  readonly unused: number;
}

const TLV_SHACHAIN = 1n;
const TLV_BASEPOINTS = 3n;
const TLV_OPENER = 5n;
const TLV_REMOTE_TO_SELF_DELAY = 7n;

/** BOLT 1 BigSize, minimally encoded. @throws CldcbError truncated / bad_input (not minimal). */
export function readBigSize(r: ByteReader, field: string): bigint {
  const start = r.offset;
  const b = r.u8(field);
  let v: bigint;
  let min: bigint;
  if (b < 0xfd) return BigInt(b);
  if (b === 0xfd) {
    v = BigInt(r.u16(field));
    min = 0xfdn;
  } else if (b === 0xfe) {
    v = BigInt(r.u32(field));
    min = 0x10000n;
  } else {
    v = r.u64(field);
    min = 0x100000000n;
  }
  if (v < min) throw new CldcbError('bad_input', `${r.what}: ${field} at byte ${start} is not minimally encoded.`);
  return v;
}

export function encodeBigSize(v: bigint): Uint8Array {
  if (v < 0n || v > 0xffffffffffffffffn) throw new CldcbError('bad_input', `bigsize ${v} out of range.`);
  if (v < 0xfdn) return new Uint8Array([Number(v)]);
  if (v <= 0xffffn) return concatBytes(new Uint8Array([0xfd]), u16be(Number(v)));
  if (v <= 0xffffffffn) return concatBytes(new Uint8Array([0xfe]), u32be(Number(v)));
  return concatBytes(new Uint8Array([0xff]), u64be(v));
}

function readPoint(r: ByteReader, field: string): Uint8Array {
  const at = r.offset;
  const b = r.bytesN(33, field).slice();
  if (!secp.utils.isValidPublicKey(b, true))
    throw new CldcbError('bad_input', `${r.what}: ${field} at byte ${at} is not a valid compressed secp256k1 point.`);
  return b;
}

function readShachain(r: ByteReader, field: string): Shachain {
  const minIndex = r.u64(`${field} min_index`);
  const numValid = r.u32(`${field} num_valid`);
  if (numValid > SHACHAIN_MAX_KNOWN)
    throw new CldcbError('bad_input', `${r.what}: ${field} claims ${numValid} known secrets; at most ${SHACHAIN_MAX_KNOWN} are possible.`);
  const known: ShachainEntry[] = [];
  for (let i = 0; i < numValid; i++) {
    const index = r.u64(`${field} entry ${i} index`);
    const hash = r.bytesN(32, `${field} entry ${i} hash`).slice();
    known.push({ index, hash });
  }
  return { minIndex, known };
}

function readTlvs(r: ByteReader, field: string): ScbTlvs {
  let shachain: Shachain | undefined;
  let basepoints: Basepoints | undefined;
  let opener: Side | undefined;
  let remoteToSelfDelay: number | undefined;
  const unknown: { type: bigint; value: Uint8Array }[] = [];
  let last = -1n;
  while (r.remaining > 0) {
    const at = r.offset;
    const type = readBigSize(r, `${field} TLV type`);
    if (type <= last)
      throw new CldcbError('bad_input', `${r.what}: ${field} TLV type ${type} at byte ${at} is not in ascending order.`);
    last = type;
    const len = readBigSize(r, `${field} TLV ${type} length`);
    if (len > BigInt(r.remaining))
      throw new CldcbError('truncated', `${r.what}: ${field} TLV ${type} claims ${len} bytes but only ${r.remaining} are left.`);
    const value = r.bytesN(Number(len), `${field} TLV ${type}`);
    const v = new ByteReader(value, r.what);
    const name = `${field} TLV ${type}`;
    switch (type) {
      case TLV_SHACHAIN:
        shachain = readShachain(v, `${field} shachain`);
        break;
      case TLV_BASEPOINTS:
        basepoints = {
          revocation: readPoint(v, `${field} revocation basepoint`),
          payment: readPoint(v, `${field} payment basepoint`),
          htlc: readPoint(v, `${field} htlc basepoint`),
          delayedPayment: readPoint(v, `${field} delayed_payment basepoint`),
        };
        break;
      case TLV_OPENER: {
        const o = v.u8(`${field} opener`);
        if (o > 1) throw new CldcbError('bad_input', `${r.what}: ${field} opener is ${o}; only 0 (local) and 1 (remote) exist.`);
        opener = o === 0 ? 'local' : 'remote';
        break;
      }
      case TLV_REMOTE_TO_SELF_DELAY:
        remoteToSelfDelay = v.u16(`${field} remote_to_self_delay`);
        break;
      default:
        // BOLT 1: an unknown even type must not be ignored; an odd one may be.
        if (type % 2n === 0n)
          throw new CldcbError('unsupported', `${r.what}: ${field} has unknown required TLV type ${type}; a newer version of this tool is needed.`);
        unknown.push({ type, value: value.slice() });
        continue;
    }
    if (v.remaining !== 0)
      throw new CldcbError('bad_input', `${r.what}: ${name} has ${v.remaining} unexpected extra bytes.`);
  }
  const out: {
    shachain?: Shachain;
    basepoints?: Basepoints;
    opener?: Side;
    remoteToSelfDelay?: number;
    unknown?: { type: bigint; value: Uint8Array }[];
  } = {};
  if (shachain) out.shachain = shachain;
  if (basepoints) out.basepoints = basepoints;
  if (opener) out.opener = opener;
  if (remoteToSelfDelay !== undefined) out.remoteToSelfDelay = remoteToSelfDelay;
  if (unknown.length) out.unknown = unknown;
  return out;
}

function readCore(r: ByteReader, field: string, legacy: boolean): ScbChanCore & { unused?: number } {
  const id = r.u64(`${field} id`);
  const cid = r.bytesN(32, `${field} channel_id`).slice();
  const nodeId = r.bytesN(33, `${field} node_id`).slice();
  const unused = legacy ? r.u8(`${field} unused byte`) : undefined;
  const addr = readWireAddr(r, `${field} peer address`);
  const fundingTxid = r.bytesN(32, `${field} funding txid`).slice();
  const fundingOutnum = r.u32(`${field} funding outnum`);
  const fundingSats = r.u64(`${field} funding_sats`);
  const typeLen = r.u16(`${field} channel_type length`);
  const channelType = r.bytesN(typeLen, `${field} channel_type`).slice();
  const core = { id, cid, nodeId, addr, fundingTxid, fundingOutnum, fundingSats, channelType };
  return unused === undefined ? core : { ...core, unused };
}

/**
 * Read one modern_scb_chan.
 * @param field names the entry in errors, e.g. "channel 2".
 * @throws CldcbError truncated / bad_input / unsupported.
 */
export function readModernScbChan(r: ByteReader, field: string): ModernScbChan {
  const core = readCore(r, field, false);
  const lenTlv = r.u32(`${field} TLV length`);
  const tlvBytes = r.bytesN(lenTlv, `${field} TLVs`);
  const tlvs = readTlvs(new ByteReader(tlvBytes, r.what), field);
  return { ...core, tlvs };
}

/** Read one legacy_scb_chan. @throws CldcbError truncated / bad_input / unsupported. */
export function readLegacyScbChan(r: ByteReader, field: string): LegacyScbChan {
  const core = readCore(r, field, true);
  return { ...core, unused: core.unused ?? 0 };
}

/** Legacy → modern with empty TLVs, as chanbackup's convert_from_legacy(). */
export function legacyToModern(c: LegacyScbChan): ModernScbChan {
  return {
    id: c.id,
    cid: c.cid,
    nodeId: c.nodeId,
    addr: c.addr,
    fundingTxid: c.fundingTxid,
    fundingOutnum: c.fundingOutnum,
    fundingSats: c.fundingSats,
    channelType: c.channelType,
    tlvs: {},
  };
}

function checkLen(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new CldcbError('bad_length', `${what}: expected ${n} bytes, got ${b.length}.`);
}

function encodeCore(c: ScbChanCore, unused: number | undefined): Uint8Array[] {
  checkLen(c.cid, 32, 'channel_id');
  checkLen(c.nodeId, 33, 'node_id');
  checkLen(c.fundingTxid, 32, 'funding txid');
  if (c.addr === null)
    throw new CldcbError('unsupported', `channel ${c.id}: the peer has no internet address, so there is no SCB entry for it (CLN skips it too).`);
  if (c.channelType.length > 0xffff) throw new CldcbError('bad_length', 'channel_type: too long.');
  const parts = [u64be(c.id), c.cid, c.nodeId];
  if (unused !== undefined) parts.push(new Uint8Array([unused & 255]));
  parts.push(encodeWireAddr(c.addr), c.fundingTxid, u32be(c.fundingOutnum), u64be(c.fundingSats), u16be(c.channelType.length), c.channelType);
  return parts;
}

function tlv(type: bigint, value: Uint8Array): Uint8Array {
  return concatBytes(encodeBigSize(type), encodeBigSize(BigInt(value.length)), value);
}

/** Serialise the scb_tlvs stream (ascending types). */
export function encodeScbTlvs(t: ScbTlvs): Uint8Array {
  const recs: { type: bigint; bytes: Uint8Array }[] = [];
  if (t.shachain) {
    if (t.shachain.known.length > SHACHAIN_MAX_KNOWN) throw new CldcbError('bad_length', 'shachain: too many entries.');
    const parts = [u64be(t.shachain.minIndex), u32be(t.shachain.known.length)];
    for (const k of t.shachain.known) {
      checkLen(k.hash, 32, 'shachain hash');
      parts.push(u64be(k.index), k.hash);
    }
    recs.push({ type: TLV_SHACHAIN, bytes: tlv(TLV_SHACHAIN, concatBytes(...parts)) });
  }
  if (t.basepoints) {
    const b = t.basepoints;
    for (const p of [b.revocation, b.payment, b.htlc, b.delayedPayment]) checkLen(p, 33, 'basepoint');
    recs.push({ type: TLV_BASEPOINTS, bytes: tlv(TLV_BASEPOINTS, concatBytes(b.revocation, b.payment, b.htlc, b.delayedPayment)) });
  }
  if (t.opener) recs.push({ type: TLV_OPENER, bytes: tlv(TLV_OPENER, new Uint8Array([t.opener === 'local' ? 0 : 1])) });
  if (t.remoteToSelfDelay !== undefined)
    recs.push({ type: TLV_REMOTE_TO_SELF_DELAY, bytes: tlv(TLV_REMOTE_TO_SELF_DELAY, u16be(t.remoteToSelfDelay)) });
  for (const u of t.unknown ?? []) recs.push({ type: u.type, bytes: tlv(u.type, u.value) });
  recs.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return concatBytes(...recs.map((x) => x.bytes));
}

/** Serialise a modern_scb_chan (towire_modern_scb_chan). @throws CldcbError bad_length / unsupported. */
export function encodeModernScbChan(c: ModernScbChan): Uint8Array {
  const tlvs = encodeScbTlvs(c.tlvs);
  return concatBytes(...encodeCore(c, undefined), u32be(tlvs.length), tlvs);
}

/** Serialise a legacy_scb_chan. @throws CldcbError bad_length / unsupported. */
export function encodeLegacyScbChan(c: LegacyScbChan): Uint8Array {
  return concatBytes(...encodeCore(c, c.unused));
}

/**
 * Decode one modern_scb_chan from hex (a `staticbackup` / `recoverchannel` entry).
 * The whole string must be one entry.
 * @throws CldcbError bad_hex / truncated / bad_input / unsupported.
 */
export function decodeModernScbChanHex(hex: string, field: string): ModernScbChan {
  const bytes = hexToBytes(hex, field);
  const r = new ByteReader(bytes, field);
  const c = readModernScbChan(r, 'entry');
  if (r.remaining !== 0) throw new CldcbError('bad_input', `${field}: ${r.remaining} extra bytes after the channel entry.`);
  return c;
}

/** The hex string recoverchannel takes for one channel. */
export function modernScbChanHex(c: ModernScbChan): string {
  return bytesToHex(encodeModernScbChan(c));
}
