/**
 * secp256k1 operations used by the cldcb protocol, behind a small interface so
 * Node code can swap in native libsecp256k1 (shared/node/nativeSeal.ts)
 * while shared/ stays pure JS (@noble/secp256k1 3.2.0).
 *
 * Semantics follow the original C++ (`common/Secp256k1/*.cpp`):
 * - ECDH = SHA256(compressed(priv · PUB)) — libsecp256k1's default hash
 *   (cldcb-protocol §2, §4, §5).
 * - ECDSA signatures are 64-byte compact r‖s over a 32-byte hash, RFC 6979
 *   nonces, low-S on output. On input the original *normalises* to low-S before
 *   verifying (`Signature.cpp`), so a high-S signature is accepted: we do the same.
 */
import * as secp from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { CldcbError } from '../errors';
import { sha256 } from '../crypto/hash';
import { zeroize } from '../bytes';

// noble v3 needs these for synchronous signing (toolchain.md §6). Idempotent.
secp.hashes.sha256 = nobleSha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(nobleSha256, key, msg);

/** The order n of the secp256k1 group. */
export const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The secp256k1 operations the cldcb core needs. Implementations must give identical bytes. */
export interface SecpBackend {
  readonly name: string;
  /** Is this a 33-byte compressed (02/03) encoding of a point on the curve? Never throws. */
  isValidPoint(pub33: Uint8Array): boolean;
  /** compressed(priv·G). @throws CldcbError bad_input for an invalid private key. */
  publicKey(priv: Uint8Array): Uint8Array;
  /** SHA256(compressed(priv · pub)). @throws CldcbError bad_input for an invalid key or point. */
  ecdhHash(priv: Uint8Array, pub33: Uint8Array): Uint8Array;
  /** Deterministic (RFC 6979) low-S compact signature of a 32-byte hash. @throws CldcbError bad_input */
  signHash(hash32: Uint8Array, priv: Uint8Array): Uint8Array;
  /** Verify a compact signature (high-S accepted, as the original normalises). Never throws. */
  verifyHash(sig64: Uint8Array, hash32: Uint8Array, pub33: Uint8Array): boolean;
}

/** True when `b` is a 33-byte compressed encoding (02/03) of a point on the curve. */
export function isValidCompressedPubkey(b: Uint8Array): boolean {
  if (b.length !== 33 || (b[0] !== 0x02 && b[0] !== 0x03)) return false;
  try {
    return secp.utils.isValidPublicKey(b, true);
  } catch {
    return false;
  }
}

/** True when `b` is a valid 32-byte secret key (1 ≤ k < n). */
export function isValidPrivateKey(b: Uint8Array): boolean {
  return b.length === 32 && secp.utils.isValidSecretKey(b);
}

/**
 * Split a compact signature into (r, s) and check 1 ≤ r, s < n (what
 * libsecp256k1's parse_compact + verify require).
 * @returns null when out of range or not 64 bytes.
 */
export function parseCompactSignature(sig: Uint8Array): { r: bigint; s: bigint } | null {
  if (sig.length !== 64) return null;
  let r = 0n;
  let s = 0n;
  for (let i = 0; i < 32; i++) r = (r << 8n) | BigInt(sig[i]!);
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]!);
  if (r === 0n || s === 0n || r >= CURVE_N || s >= CURVE_N) return null;
  return { r, s };
}

/**
 * libsecp256k1 `secp256k1_ecdsa_signature_normalize`: replace s by n − s when
 * s > n/2. Returns a new array; input must be a well-formed compact signature.
 * @throws CldcbError bad_input when r or s is out of range.
 */
export function normalizeSignature(sig: Uint8Array): Uint8Array {
  const p = parseCompactSignature(sig);
  if (!p) throw new CldcbError('bad_input', 'signature: r or s is out of range (not a valid compact secp256k1 signature).');
  const out = sig.slice();
  if (p.s > CURVE_N >> 1n) {
    let s = CURVE_N - p.s;
    for (let i = 63; i >= 32; i--) {
      out[i] = Number(s & 0xffn);
      s >>= 8n;
    }
  }
  return out;
}

/** Pure-JS backend (@noble/secp256k1). Runs everywhere; ~200–300 ECDH or verifies per second. */
export const nobleSecp: SecpBackend = {
  name: 'noble',
  isValidPoint: isValidCompressedPubkey,
  publicKey(priv) {
    if (!isValidPrivateKey(priv)) throw new CldcbError('bad_input', 'private key: not a valid secp256k1 secret key.');
    return secp.getPublicKey(priv, true);
  },
  ecdhHash(priv, pub33) {
    if (!isValidPrivateKey(priv)) throw new CldcbError('bad_input', 'private key: not a valid secp256k1 secret key.');
    if (!isValidCompressedPubkey(pub33)) throw new CldcbError('bad_input', 'public key: not a valid compressed secp256k1 point.');
    const point = secp.getSharedSecret(priv, pub33, true);
    try {
      return sha256(point);
    } finally {
      zeroize(point);
    }
  },
  signHash(hash32, priv) {
    if (hash32.length !== 32) throw new CldcbError('bad_length', `signature hash: expected 32 bytes, got ${hash32.length}.`);
    if (!isValidPrivateKey(priv)) throw new CldcbError('bad_input', 'private key: not a valid secp256k1 secret key.');
    return secp.sign(hash32, priv, { prehash: false, lowS: true, extraEntropy: false });
  },
  verifyHash(sig64, hash32, pub33) {
    if (sig64.length !== 64 || hash32.length !== 32 || !isValidCompressedPubkey(pub33)) return false;
    if (!parseCompactSignature(sig64)) return false;
    try {
      return secp.verify(sig64, hash32, pub33, { prehash: false, lowS: false });
    } catch {
      return false;
    }
  },
};
