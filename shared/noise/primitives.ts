/**
 * The hash, HKDF and ECDH of Noise_XK_secp256k1_ChaChaPoly_SHA256
 * (BOLT 8 "Cryptographic Algorithms Selected"; cldcb-protocol §2).
 */
import * as secp from '@noble/secp256k1';
import { hkdfSha256, sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { zeroize } from '../bytes';

export const PUBKEY_SIZE = 33;
export const PRIVKEY_SIZE = 32;

/**
 * ECDH as BOLT 8 / libsecp256k1's default: SHA256 of the 33-byte compressed
 * point priv·pub (cldcb `common/Secp256k1/ecdh.cpp`). Returns 32 bytes.
 * Injectable so Node code may use a faster native implementation.
 */
export type Ecdh = (priv: Uint8Array, pub: Uint8Array) => Uint8Array;

/** @throws CldcbError bad_input when `pub` is not a valid point (callers check first). */
export const nobleEcdh: Ecdh = (priv, pub) => {
  const point = secp.getSharedSecret(priv, pub, true);
  try {
    return sha256(point);
  } finally {
    zeroize(point);
  }
};

/**
 * BOLT 8 `HKDF(salt, ikm)`: RFC 5869 HKDF-SHA256 with salt = ck, empty info,
 * 64 bytes out, split into two 32-byte halves (cldcb `Noise/Detail/hkdf2.cpp`).
 */
export function hkdf2(ck: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const okm = hkdfSha256(ikm, ck, new Uint8Array(0), 64);
  const out: [Uint8Array, Uint8Array] = [okm.slice(0, 32), okm.slice(32, 64)];
  zeroize(okm);
  return out;
}

/**
 * True for a 33-byte compressed SEC1 key (0x02/0x03 ‖ X) whose X is on the
 * curve. BOLT 8: "If re does not represent a valid point on the secp256k1
 * curve, the responder MUST abort"; cldcb-protocol §2: keys must start 0x02/0x03.
 */
export function isCompressedPubkey(pub: Uint8Array): boolean {
  if (pub.length !== PUBKEY_SIZE || (pub[0] !== 2 && pub[0] !== 3)) return false;
  try {
    secp.Point.fromBytes(pub);
    return true;
  } catch {
    return false;
  }
}

/**
 * The compressed public key of a private key; injectable like {@link Ecdh}.
 * @throws CldcbError bad_input naming `field` when the key is invalid.
 */
export type PublicKeyOf = (priv: Uint8Array, field: string) => Uint8Array;

/**
 * @returns the compressed public key of a 32-byte private key.
 * @throws CldcbError bad_input (the message names `field`, never the key).
 */
export function publicKeyOf(priv: Uint8Array, field: string): Uint8Array {
  if (!(priv instanceof Uint8Array) || priv.length !== PRIVKEY_SIZE || !secp.utils.isValidSecretKey(priv))
    throw new CldcbError('bad_input', `${field}: not a valid 32-byte secp256k1 private key.`);
  return secp.getPublicKey(priv, true);
}

/** A fresh random private key (crypto.getRandomValues via noble). */
export const randomPrivateKey = (): Uint8Array => secp.utils.randomSecretKey();
