/**
 * The one channel shape the UI and the CLI show, whatever the source
 * (emergency.recover, a `staticbackup` JSON, or a rebuilt lightningd.sqlite3).
 * JSON-serialisable: hex strings and plain numbers only.
 *
 * funding_txid is in the usual DISPLAY byte order (block explorers,
 * listpeerchannels), i.e. the reverse of the wire/SCB/database order (cln-facts §6).
 */
import { bytesToHex } from '../bytes';
import { CldcbError } from '../errors';
import { toRemoteForChannel, type Network, type ToRemote } from './channelKeys';
import { describeChannelType } from './channelType';
import type { ModernScbChan, Side } from './scbChan';
import { formatWireAddr, type WireAddrType } from './wireaddr';

export type ScbSource = 'emergency.recover' | 'staticbackup' | 'database';

export interface ScbChannel {
  /** lightningd's channel dbid (the channel-key derivation uses it). */
  readonly dbid: number;
  readonly channel_id: string;
  readonly peer_id: string;
  /** Printable "host:port" ("1.2.3.4:9735", "[::1]:9735", "xyz.onion:9735"); null if unknown. */
  readonly peer_address: string | null;
  readonly peer_address_type: WireAddrType | null;
  /** Display byte order. */
  readonly funding_txid: string;
  readonly funding_outnum: number;
  readonly funding_sat: number;
  readonly channel_type: {
    /** CLN names without "option_", e.g. ["static_remotekey", "anchors"] (see channelType.ts). */
    readonly names: string[];
    readonly bits: number[];
    /** Feature bytes as stored, e.g. "401000". */
    readonly hex: string;
  };
  /** Who opened (funded) the channel; null when the backup does not say (legacy format). */
  readonly opener: Side | null;
  /**
   * TLV remote_to_self_delay = CLN's their_config.to_self_delay: the delay the peer imposes on
   * this node's own to_local outputs (listpeerchannels calls it `our_to_self_delay`). Null if unknown.
   * It does not delay to_remote: that is spendable at once (static_remotekey) or after 1 block (anchors).
   */
  readonly to_self_delay: number | null;
  /** The backup carries the peer's shachain and basepoints, so a revoked close by the peer can be punished. */
  readonly has_penalty_info: boolean;
  /** Where our funds arrive when the peer force-closes. */
  readonly to_remote: ToRemote;
  readonly source: ScbSource;
  /** Decoded from the legacy (6135) format, which carries no TLVs. */
  readonly legacy_format: boolean;
}

/** Display (RPC, explorer) hex of a txid stored in internal byte order. */
export function txidToDisplay(internal: Uint8Array): string {
  return bytesToHex(internal.slice().reverse());
}

/** BOLT 2: channel_id = funding txid (internal order) XOR funding_output_index in the last 2 bytes (v1 channels). */
export function deriveChannelId(txidInternal: Uint8Array, outnum: number): Uint8Array {
  if (txidInternal.length !== 32) throw new CldcbError('bad_length', 'funding txid: expected 32 bytes.');
  const cid = txidInternal.slice();
  cid[30] = cid[30]! ^ ((outnum >> 8) & 0xff);
  cid[31] = cid[31]! ^ (outnum & 0xff);
  return cid;
}

const MAX_SAT = 21_000_000n * 100_000_000n;

/**
 * Normalise one backup entry and derive its to_remote output from the secret.
 * @param secretData the 32/64-byte secret_data; only its first 32 bytes are used (channel keys, cln-facts §1).
 * @throws CldcbError bad_input (dbid or amount beyond sane ranges), bad_length.
 */
export function normaliseScbChannel(
  c: ModernScbChan,
  secretData: Uint8Array,
  network: Network,
  source: ScbSource,
  legacyFormat = false,
): ScbChannel {
  if (c.id > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CldcbError('bad_input', `${source}: channel dbid ${c.id} is beyond any real node's channel count; the backup is damaged.`);
  if (c.fundingSats > MAX_SAT)
    throw new CldcbError('bad_input', `${source}: channel ${c.id} claims ${c.fundingSats} sat, more than 21 million BTC; the backup is damaged.`);
  const t = describeChannelType(c.channelType);
  return {
    dbid: Number(c.id),
    channel_id: bytesToHex(c.cid),
    peer_id: bytesToHex(c.nodeId),
    peer_address: c.addr ? formatWireAddr(c.addr) : null,
    peer_address_type: c.addr?.type ?? null,
    funding_txid: txidToDisplay(c.fundingTxid),
    funding_outnum: c.fundingOutnum,
    funding_sat: Number(c.fundingSats),
    channel_type: { names: t.names, bits: t.bits, hex: t.hex },
    opener: c.tlvs.opener ?? null,
    to_self_delay: c.tlvs.remoteToSelfDelay ?? null,
    has_penalty_info: c.tlvs.shachain !== undefined && c.tlvs.basepoints !== undefined,
    to_remote: toRemoteForChannel(secretData, c.nodeId, c.id, t, network),
    source,
    legacy_format: legacyFormat,
  };
}

/** Normalise a list of entries (see {@link normaliseScbChannel}). */
export function normaliseScbChannels(
  list: readonly ModernScbChan[],
  secretData: Uint8Array,
  network: Network,
  source: ScbSource,
  legacyFormat = false,
): ScbChannel[] {
  return list.map((c) => normaliseScbChannel(c, secretData, network, source, legacyFormat));
}

/**
 * The compact form the CLI's --json prints (stable: hidden checks use it).
 * channel_type is CLN's name list, e.g. ["static_remotekey", "anchors"].
 */
export function cliChannelJson(c: ScbChannel): Record<string, unknown> {
  return {
    channel_id: c.channel_id,
    peer_id: c.peer_id,
    funding_txid: c.funding_txid,
    funding_outnum: c.funding_outnum,
    funding_sat: c.funding_sat,
    channel_type: c.channel_type.names,
    to_remote_address: c.to_remote.address,
    dbid: c.dbid,
    peer_address: c.peer_address,
    channel_type_hex: c.channel_type.hex,
    opener: c.opener,
    to_self_delay: c.to_self_delay,
    has_penalty_info: c.has_penalty_info,
    to_remote_kind: c.to_remote.kind,
    to_remote_script: c.to_remote.script_hex,
  };
}
