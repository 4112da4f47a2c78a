/**
 * The AEAD used by Noise_XK (BOLT 8 "Cryptographic Algorithms Selected";
 * cldcb-protocol §2): ChaCha20-Poly1305 IETF (RFC 8439) with a 96-bit nonce of
 * 4 zero bytes ‖ the 64-bit counter little-endian.
 *
 * Pluggable: the default is the pure-JS @noble/ciphers implementation (runs in
 * the browser); Node code can pass `nativeAead` from
 * shared/node/nativeAead.ts (node:crypto, about 10× faster —
 * toolchain.md §6). Both give the same bytes (test/unit/noise.test.ts).
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { CldcbError } from '../errors';

export const KEY_SIZE = 32;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;

/** ChaCha20-Poly1305 IETF, ciphertext and tag kept together as `ct ‖ tag`. */
export interface Aead {
  /** A short name for diagnostics ("noble", "node"). */
  readonly name: string;
  /**
   * @returns ciphertext ‖ 16-byte tag (plaintext.length + 16 bytes).
   * @throws CldcbError bad_length when key or nonce has the wrong size.
   */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * @returns the plaintext, or `null` when the tag does not verify (the Noise
   *   layer turns that into a protocol error that names the act or frame).
   * @throws CldcbError bad_length when key or nonce has the wrong size, or the
   *   input is shorter than a tag.
   */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

/** Argument checks shared by every implementation. @throws CldcbError bad_length */
export function checkAeadArgs(key: Uint8Array, nonce: Uint8Array, sealedLength?: number): void {
  if (key.length !== KEY_SIZE) throw new CldcbError('bad_length', `AEAD key: expected ${KEY_SIZE} bytes, got ${key.length}.`);
  if (nonce.length !== NONCE_SIZE) throw new CldcbError('bad_length', `AEAD nonce: expected ${NONCE_SIZE} bytes, got ${nonce.length}.`);
  if (sealedLength !== undefined && sealedLength < TAG_SIZE)
    throw new CldcbError('bad_length', `AEAD input: expected at least ${TAG_SIZE} bytes (the tag), got ${sealedLength}.`);
}

/**
 * BOLT 8: "the nonce n is encoded as 32 zero bits, followed by a
 * little-endian 64-bit value" (cldcb `Noise/Detail/Aead.cpp` does the same).
 * @throws CldcbError internal when n is not a safe non-negative integer.
 */
export function noiseNonce(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CldcbError('internal', 'Noise nonce out of range (a bug in CLDCB).');
  const out = new Uint8Array(NONCE_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(4, n >>> 0, true);
  view.setUint32(8, Math.floor(n / 2 ** 32), true);
  return out;
}

/** Pure-JS ChaCha20-Poly1305 from @noble/ciphers: the default, browser-safe. */
export const nobleAead: Aead = {
  name: 'noble',
  seal(key, nonce, ad, plaintext) {
    checkAeadArgs(key, nonce);
    return chacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  open(key, nonce, ad, sealed) {
    checkAeadArgs(key, nonce, sealed.length);
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(sealed);
    } catch {
      // noble throws only for a bad tag once the sizes are checked above.
      return null;
    }
  },
};
