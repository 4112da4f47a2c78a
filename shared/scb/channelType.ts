/**
 * channel_type: a BOLT 9 feature bitfield, big-endian (bit 0 is the lowest bit
 * of the LAST byte), e.g. 0x401000 = bits 22 + 12 (cln-facts.md §6).
 *
 * Names are Core Lightning's (common/features.c feature_name() minus "option_",
 * as `channel_type_name()` and listpeerchannels print them, without "/even"):
 * bit 12 "static_remotekey", bit 20 "anchor_outputs" (the obsolete anchors
 * type), bit 22 "anchors" (BOLT 9 `option_anchors`, formerly called
 * `option_anchors_zero_fee_htlc_tx`), 46 "scid_alias", 50 "zeroconf".
 * Odd bits get a "/odd" suffix; bits CLN has no name for are "unknown_<bit>".
 */
import { bytesToHex, hexToBytes } from '../bytes';
import { CldcbError } from '../errors';

/** common/features.c fnames[], indexed by bit / 2, "option_" removed. */
const FEATURE_NAMES: readonly (string | null)[] = [
  'data_loss_protect', // 0/1
  'initial_routing_sync',
  'upfront_shutdown_script',
  'gossip_queries',
  'var_onion_optin',
  'gossip_queries_ex', // 10/11
  'static_remotekey',
  'payment_secret',
  'basic_mpp',
  'support_large_channel',
  'anchor_outputs', // 20/21
  'anchors',
  'route_blinding',
  'shutdown_anysegwit',
  'dual_fund',
  'amp', // 30/31
  null,
  'quiesce',
  null,
  'onion_messages',
  null, // 40/41
  'provide_storage',
  'channel_type',
  'scid_alias',
  'payment_metadata',
  'zeroconf', // 50/51
  null,
  'keysend',
  'trampoline_routing',
  null,
  'simple_close', // 60/61
  'splice',
];

export const FEATURE_STATIC_REMOTEKEY = 12;
export const FEATURE_ANCHOR_OUTPUTS_OBSOLETE = 20;
export const FEATURE_ANCHORS = 22;

/** A channel type, ready to show and to serialise as JSON. */
export interface ChannelTypeInfo {
  /** The feature bytes as hex, as stored ("401000"); "" for the obsolete empty type. */
  readonly hex: string;
  /** Set bits, ascending. */
  readonly bits: number[];
  /** CLN's names, in bit order, e.g. ["static_remotekey", "anchors"]. */
  readonly names: string[];
  /** to_remote pays a fixed key (bit 12, or implied by either anchors bit). */
  readonly staticRemotekey: boolean;
  /** Either anchors type (bit 20 or 22): to_remote is a P2WSH with CSV 1. */
  readonly anchors: boolean;
}

/** The name of one feature bit. */
export function featureName(bit: number): string {
  const n = FEATURE_NAMES[bit >> 1];
  if (n == null) return `unknown_${bit}`;
  return bit % 2 === 0 ? n : `${n}/odd`;
}

/** Bits set in a big-endian feature bitfield, ascending. */
export function featureBits(features: Uint8Array): number[] {
  const bits: number[] = [];
  const n = features.length;
  for (let i = 0; i < n * 8; i++) if (features[n - 1 - (i >> 3)]! & (1 << (i & 7))) bits.push(i);
  return bits;
}

/** Describe a channel_type bitfield. */
export function describeChannelType(features: Uint8Array): ChannelTypeInfo {
  const bits = featureBits(features);
  const has = (b: number) => bits.includes(b) || bits.includes(b + 1);
  const anchors = has(FEATURE_ANCHORS) || has(FEATURE_ANCHOR_OUTPUTS_OBSOLETE);
  return {
    hex: bytesToHex(features),
    bits,
    names: bits.map(featureName),
    staticRemotekey: anchors || has(FEATURE_STATIC_REMOTEKEY),
    anchors,
  };
}

/**
 * The shortest big-endian bitfield with these bits set (CLN's set_feature_bit).
 * @throws CldcbError bad_input for a negative or absurd bit number.
 */
export function channelTypeFromBits(bits: readonly number[]): Uint8Array {
  for (const b of bits)
    if (!Number.isInteger(b) || b < 0 || b > 8 * 1024) throw new CldcbError('bad_input', `channel type: bad feature bit ${b}.`);
  const max = bits.length ? Math.max(...bits) : -1;
  const out = new Uint8Array(max < 0 ? 0 : (max >> 3) + 1);
  for (const b of bits) {
    const j = out.length - 1 - (b >> 3);
    out[j] = out[j]! | (1 << (b & 7));
  }
  return out;
}

/** A channel type from its hex form ("401000"). @throws CldcbError bad_hex / bad_length. */
export function channelTypeFromHex(hex: string): Uint8Array {
  return hexToBytes(hex, 'channel type');
}
