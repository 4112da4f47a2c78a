/**
 * Core Lightning's node key (cln-facts.md §2; hsmd/libhsmd.c node_key()).
 *
 *   salt = 0
 *   do { priv = HKDF(ikm = secret_data[0..32], salt = LE32(salt), info = "nodeid", 32); salt++ }
 *   while (priv is not a valid secp256k1 secret key)
 *   node_id = compressed(priv·G)
 */
import * as secp from '@noble/secp256k1';
import { hkdfSha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { u32le } from '../bytes';

/**
 * @param secretData the hsm_secret's secret_data (32 bytes, or the 64-byte BIP39 seed); only the first 32 bytes are used.
 * @returns the 32-byte node private key. Zeroize it after use.
 * @example nodePrivateKey(utf8('lightning-1') zero-padded) // 41bfd266…7d3d
 */
export function nodePrivateKey(secretData: Uint8Array): Uint8Array {
  if (secretData.length !== 32 && secretData.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes, got ${secretData.length}.`);
  const ikm = secretData.subarray(0, 32);
  for (let salt = 0; ; salt++) {
    const priv = hkdfSha256(ikm, u32le(salt), 'nodeid', 32);
    if (secp.utils.isValidSecretKey(priv)) return priv;
  }
}

/** The 33-byte compressed node id of a secret_data. */
export function nodeIdFromSecret(secretData: Uint8Array): Uint8Array {
  const priv = nodePrivateKey(secretData);
  try {
    return secp.getPublicKey(priv, true);
  } finally {
    priv.fill(0);
  }
}
