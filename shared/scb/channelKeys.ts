/**
 * Per-channel keys and our to_remote output (cln-facts.md §7; hsmd/libhsmd.c
 * get_channel_seed; common/derive_basepoints.c; common/key_derive.c; BOLT 3).
 *
 *   channel_base = HKDF(ikm = secret_data[0..32], salt = "", info = "peer seed")
 *   channel_seed = HKDF(ikm = channel_base, salt = peer_id(33) || LE64(dbid), info = "per-peer seed")   (41-byte salt)
 *   keys[192]    = HKDF(ikm = channel_seed, salt = "", info = "c-lightning", L = 192)
 *                  order f, r, h, p, d, shaseed: funding, revocation, htlc, payment, delayed_payment, shaseed
 *
 *   per_commitment_secret(n) = shachain_from_seed(shaseed, 2^48 − 1 − n)   (BOLT 3 "generate_from_seed")
 *
 * to_remote when the peer force-closes:
 *   static_remotekey:  P2WPKH(payment_basepoint)
 *   anchors:           P2WSH(21 <payment_basepoint> ad 51 b2)  = <key> OP_CHECKSIGVERIFY OP_1 OP_CHECKSEQUENCEVERIFY
 *   neither (old):     key = payment_basepoint + SHA256(per_commitment_point || payment_basepoint)·G (derive_simple_*)
 */
import * as secp from '@noble/secp256k1';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { bech32 } from '@scure/base';
import { bytesToHex, concatBytes, u64le, zeroize } from '../bytes';
import { hkdfSha256, sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { describeChannelType, type ChannelTypeInfo } from './channelType';

const EMPTY = new Uint8Array(0);
const CURVE_N = secp.Point.CURVE().n;

export const NETWORKS = ['bitcoin', 'testnet', 'signet', 'regtest'] as const;
export type Network = (typeof NETWORKS)[number];
/** Segwit address prefixes (BIP 173; CLN bitcoin/chainparams.c). */
export const NETWORK_HRP: Record<Network, string> = { bitcoin: 'bc', testnet: 'tb', signet: 'tb', regtest: 'bcrt' };

export function isNetwork(x: unknown): x is Network {
  return typeof x === 'string' && (NETWORKS as readonly string[]).includes(x);
}

function assertSecretData(secretData: Uint8Array): void {
  if (!(secretData instanceof Uint8Array) || (secretData.length !== 32 && secretData.length !== 64))
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes of secret_data, got ${secretData?.length}.`);
}

function assertPeerAndDbid(peerId: Uint8Array, dbid: bigint): void {
  if (!(peerId instanceof Uint8Array) || peerId.length !== 33)
    throw new CldcbError('bad_length', `peer id: expected 33 bytes, got ${peerId?.length}.`);
  if (typeof dbid !== 'bigint' || dbid < 0n || dbid > 0xffffffffffffffffn) throw new CldcbError('bad_input', `channel dbid ${String(dbid)} is not a u64.`);
}

/**
 * HKDF(secret_data[0..32], "", "peer seed") — hsm_channel_secret_base.
 * @returns 32 bytes; zeroize after use.
 * @throws CldcbError bad_length.
 */
export function channelBase(secretData: Uint8Array): Uint8Array {
  assertSecretData(secretData);
  return hkdfSha256(secretData.subarray(0, 32), EMPTY, 'peer seed', 32);
}

/**
 * HKDF(channel_base, peer_id || LE64(dbid), "per-peer seed") — get_channel_seed().
 * @returns 32 bytes; zeroize after use.
 * @throws CldcbError bad_length / bad_input.
 * @example channelSeed(l1 secret, l2 node id, 1n) // 35536e0e…6db7
 */
export function channelSeed(secretData: Uint8Array, peerId: Uint8Array, dbid: bigint): Uint8Array {
  assertPeerAndDbid(peerId, dbid);
  const base = channelBase(secretData);
  try {
    return hkdfSha256(base, concatBytes(peerId, u64le(dbid)), 'per-peer seed', 32);
  } finally {
    zeroize(base);
  }
}

/** The six 32-byte secrets of one channel. Zeroize with {@link zeroizeChannelKeys}. */
export interface ChannelSecrets {
  readonly funding: Uint8Array;
  readonly revocation: Uint8Array;
  readonly htlc: Uint8Array;
  readonly payment: Uint8Array;
  readonly delayedPayment: Uint8Array;
  readonly shaseed: Uint8Array;
}

/**
 * The channel's secrets: HKDF(channel_seed, "", "c-lightning", 192), order f, r, h, p, d, shaseed.
 * @throws CldcbError bad_length / bad_input.
 */
export function channelSecrets(secretData: Uint8Array, peerId: Uint8Array, dbid: bigint): ChannelSecrets {
  const seed = channelSeed(secretData, peerId, dbid);
  const keys = hkdfSha256(seed, EMPTY, 'c-lightning', 192);
  zeroize(seed);
  const part = (i: number) => keys.slice(32 * i, 32 * i + 32);
  const out = {
    funding: part(0),
    revocation: part(1),
    htlc: part(2),
    payment: part(3),
    delayedPayment: part(4),
    shaseed: part(5),
  };
  zeroize(keys);
  return out;
}

export function zeroizeChannelKeys(k: ChannelSecrets): void {
  zeroize(k.funding, k.revocation, k.htlc, k.payment, k.delayedPayment, k.shaseed);
}

/** Our basepoints for a channel (33-byte compressed points). */
export interface ChannelBasepoints {
  readonly funding: Uint8Array;
  readonly revocation: Uint8Array;
  readonly htlc: Uint8Array;
  readonly payment: Uint8Array;
  readonly delayedPayment: Uint8Array;
}

export function basepointsOf(k: ChannelSecrets): ChannelBasepoints {
  const pub = (s: Uint8Array) => secp.getPublicKey(s, true);
  return { funding: pub(k.funding), revocation: pub(k.revocation), htlc: pub(k.htlc), payment: pub(k.payment), delayedPayment: pub(k.delayedPayment) };
}

/** Our basepoints, with the secrets zeroized before returning. @throws CldcbError bad_length / bad_input. */
export function channelBasepoints(secretData: Uint8Array, peerId: Uint8Array, dbid: bigint): ChannelBasepoints {
  const k = channelSecrets(secretData, peerId, dbid);
  try {
    return basepointsOf(k);
  } finally {
    zeroizeChannelKeys(k);
  }
}

const SHACHAIN_MAX_INDEX = (1n << 48n) - 1n;

/**
 * BOLT 3 generate_from_seed(seed, I): for B = 47 … 0, if bit B of I is set, flip bit B of P and P = SHA256(P).
 * @throws CldcbError bad_input for an index ≥ 2^48.
 */
export function shachainFromSeed(seed: Uint8Array, index: bigint): Uint8Array {
  if (seed.length !== 32) throw new CldcbError('bad_length', 'shachain seed: expected 32 bytes.');
  if (index < 0n || index > SHACHAIN_MAX_INDEX) throw new CldcbError('bad_input', `shachain index ${index} is out of range.`);
  let p: Uint8Array = seed.slice();
  for (let b = 47; b >= 0; b--) {
    if ((index >> BigInt(b)) & 1n) {
      p[b >> 3] = p[b >> 3]! ^ (1 << (b & 7));
      const next = sha256(p);
      zeroize(p);
      p = next;
    }
  }
  return p;
}

/**
 * Our per-commitment secret for commitment number n: shachain_from_seed(shaseed, 2^48 − 1 − n).
 * @throws CldcbError bad_input for n outside 0 … 2^48 − 1.
 */
export function perCommitmentSecret(shaseed: Uint8Array, n: bigint): Uint8Array {
  if (n < 0n || n > SHACHAIN_MAX_INDEX) throw new CldcbError('bad_input', `commitment number ${n} is out of range.`);
  return shachainFromSeed(shaseed, SHACHAIN_MAX_INDEX - n);
}

/** per_commitment_point = per_commitment_secret · G. */
export function perCommitmentPoint(shaseed: Uint8Array, n: bigint): Uint8Array {
  const s = perCommitmentSecret(shaseed, n);
  try {
    return secp.getPublicKey(s, true);
  } finally {
    zeroize(s);
  }
}

function num(b: Uint8Array): bigint {
  return secp.etc.bytesToNumberBE(b);
}
const num32 = (n: bigint): Uint8Array => secp.etc.numberToBytesBE(n);

/**
 * BOLT 3 "localpubkey … derivation": privkey = basepoint_secret + SHA256(per_commitment_point || basepoint) mod n
 * (common/key_derive.c derive_simple_privkey). Used for to_remote of channels without static_remotekey.
 * @throws CldcbError bad_input for an invalid point or secret.
 */
export function deriveSimplePrivkey(basepointSecret: Uint8Array, perCommitmentPointBytes: Uint8Array): Uint8Array {
  if (!secp.utils.isValidSecretKey(basepointSecret)) throw new CldcbError('bad_input', 'basepoint secret is not a valid key.');
  if (!secp.utils.isValidPublicKey(perCommitmentPointBytes, true)) throw new CldcbError('bad_input', 'per-commitment point is not a valid compressed point.');
  const basepoint = secp.getPublicKey(basepointSecret, true);
  const tweak = num(sha256(concatBytes(perCommitmentPointBytes, basepoint)));
  const k = secp.etc.mod(num(basepointSecret) + tweak, CURVE_N);
  if (k === 0n) throw new CldcbError('bad_input', 'derived key is zero.');
  return num32(k);
}

/** The matching public key: basepoint + SHA256(per_commitment_point || basepoint)·G. @throws CldcbError bad_input. */
export function deriveSimplePubkey(basepoint: Uint8Array, perCommitmentPointBytes: Uint8Array): Uint8Array {
  let P: secp.Point;
  try {
    secp.Point.fromBytes(perCommitmentPointBytes);
    P = secp.Point.fromBytes(basepoint);
  } catch {
    throw new CldcbError('bad_input', 'basepoint or per-commitment point is not a valid point.');
  }
  const tweak = secp.etc.mod(num(sha256(concatBytes(perCommitmentPointBytes, basepoint))), CURVE_N);
  return P.add(secp.Point.BASE.multiply(tweak)).toBytes(true);
}

export const hash160 = (b: Uint8Array): Uint8Array => ripemd160(sha256(b));

/** Segwit v0 address for a 20- or 32-byte witness program (BIP 173). */
export function segwitV0Address(program: Uint8Array, network: Network): string {
  return bech32.encode(NETWORK_HRP[network], [0, ...bech32.toWords(program)]);
}

/** A script's segwit v0 address, or null when the script is not P2WPKH/P2WSH. */
export function scriptToAddress(script: Uint8Array, network: Network): string | null {
  if (script.length === 22 && script[0] === 0 && script[1] === 0x14) return segwitV0Address(script.subarray(2), network);
  if (script.length === 34 && script[0] === 0 && script[1] === 0x20) return segwitV0Address(script.subarray(2), network);
  return null;
}

/** `<key> OP_CHECKSIGVERIFY OP_1 OP_CHECKSEQUENCEVERIFY` (bitcoin_wscript_to_remote_anchored, csv 1). */
export function anchorsToRemoteWitnessScript(paymentBasepoint: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([0x21]), paymentBasepoint, new Uint8Array([0xad, 0x51, 0xb2]));
}

export type ToRemoteKind = 'p2wpkh' | 'p2wsh-anchors' | 'non-static';

/** Where our funds go when the peer force-closes. JSON-serialisable. */
export interface ToRemote {
  readonly kind: ToRemoteKind;
  /** Segwit address; null for 'non-static' (it changes with every commitment). */
  readonly address: string | null;
  /** scriptPubKey hex; null for 'non-static'. */
  readonly script_hex: string | null;
  /** The P2WSH witness script (anchors only). */
  readonly witness_script_hex?: string;
  /** Our payment basepoint for this channel (the to_remote key for static channels). */
  readonly payment_basepoint: string;
  /** Blocks the output is locked after confirmation: 1 for anchors, 0 otherwise. */
  readonly csv: number;
}

/**
 * The to_remote output for a payment basepoint and channel type.
 * static_remotekey → P2WPKH; anchors (bit 20 or 22) → P2WSH of the anchored script;
 * neither → 'non-static' without an address. Leased channels (option_will_fund)
 * lock anchors' to_remote until the lease ends; the SCB does not say, so csv 1 is assumed.
 * @throws CldcbError bad_length for a basepoint that is not 33 bytes.
 */
export function toRemote(paymentBasepoint: Uint8Array, channelType: Uint8Array | ChannelTypeInfo, network: Network): ToRemote {
  if (paymentBasepoint.length !== 33) throw new CldcbError('bad_length', 'payment basepoint: expected 33 bytes.');
  const t = channelType instanceof Uint8Array ? describeChannelType(channelType) : channelType;
  const pb = bytesToHex(paymentBasepoint);
  if (t.anchors) {
    const ws = anchorsToRemoteWitnessScript(paymentBasepoint);
    const program = sha256(ws);
    return {
      kind: 'p2wsh-anchors',
      address: segwitV0Address(program, network),
      script_hex: '0020' + bytesToHex(program),
      witness_script_hex: bytesToHex(ws),
      payment_basepoint: pb,
      csv: 1,
    };
  }
  if (t.staticRemotekey) {
    const program = hash160(paymentBasepoint);
    return { kind: 'p2wpkh', address: segwitV0Address(program, network), script_hex: '0014' + bytesToHex(program), payment_basepoint: pb, csv: 0 };
  }
  return { kind: 'non-static', address: null, script_hex: null, payment_basepoint: pb, csv: 0 };
}

/**
 * Derive our to_remote output for one channel straight from the secret (secrets are zeroized).
 * @throws CldcbError bad_length / bad_input.
 */
export function toRemoteForChannel(
  secretData: Uint8Array,
  peerId: Uint8Array,
  dbid: bigint,
  channelType: Uint8Array | ChannelTypeInfo,
  network: Network,
): ToRemote {
  const { payment } = channelBasepoints(secretData, peerId, dbid);
  return toRemote(payment, channelType, network);
}
