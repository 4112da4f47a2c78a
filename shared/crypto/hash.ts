/**
 * Hash primitives (noble). Platform-free; Node-side hot paths may use
 * node:crypto instead (see shared/node/).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { utf8 } from '../bytes';

export const sha256 = (m: Uint8Array): Uint8Array => nobleSha256(m);
/** An incremental SHA-256: `update` any number of times, then `digest` once. */
export const createSha256 = (): { update(m: Uint8Array): unknown; digest(): Uint8Array } => nobleSha256.create();
export const hmacSha256 = (key: Uint8Array, msg: Uint8Array): Uint8Array => hmac(nobleSha256, key, msg);

/**
 * RFC 5869 HKDF-SHA256 as Core Lightning's ccan/crypto/hkdf_sha256. An empty
 * salt equals RFC 5869's default (HMAC pads the key with zeros). `info` strings
 * are raw ASCII without a NUL (cln-facts.md, conventions).
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return hkdf(nobleSha256, ikm, salt, typeof info === 'string' ? utf8(info) : info, length);
}
