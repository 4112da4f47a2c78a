/**
 * Native fast paths for the sealed box (cldcb-protocol §5), Node only:
 * - ChaCha20-Poly1305 IETF through node:crypto (OpenSSL), ~10× the pure-JS speed;
 * - secp256k1 through the `secp256k1` package's libsecp256k1 bindings (~100× noble for
 *   ECDH and verify — toolchain.md §6), the library the original C++ used.
 * Both give the same bytes as the defaults in shared/cldcb (tested in test/node/cldcb-native.test.ts).
 * Inject with `{ crypto: nativeBoxCrypto() }` into Sealer / Unsealer / IncrementStreams.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { CldcbError } from '../errors';
import { BOX_TAG_SIZE, type BoxAead, type BoxCrypto } from '../cldcb/seal';
import type { SecpBackend } from '../cldcb/curve';
import { checkAeadArgs } from '../noise/aead';
import { nativeAead } from './nativeAead';

/** The part of the `secp256k1` (v5) binding API we use. */
export interface NativeSecp256k1 {
  privateKeyVerify(priv: Uint8Array): boolean;
  publicKeyVerify(pub: Uint8Array): boolean;
  publicKeyCreate(priv: Uint8Array, compressed?: boolean): Uint8Array;
  ecdh(pub: Uint8Array, priv: Uint8Array): Uint8Array;
  ecdsaSign(msg32: Uint8Array, priv: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean;
  signatureNormalize(sig: Uint8Array): Uint8Array;
}

let cached: NativeSecp256k1 | undefined;

/**
 * Load the libsecp256k1 bindings (`secp256k1/bindings`, never the package's silent
 * pure-JS `elliptic` fallback).
 * @throws CldcbError unsupported when the native module cannot be loaded.
 */
export function loadNativeSecp256k1(): NativeSecp256k1 {
  if (cached) return cached;
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url);
    cached = req('secp256k1/bindings') as NativeSecp256k1;
    return cached;
  } catch (e) {
    throw new CldcbError('unsupported', 'The native secp256k1 module could not be loaded; use the pure-JS path instead.', { cause: e });
  }
}

/**
 * ChaCha20-Poly1305 IETF from node:crypto; output `ct ‖ tag`, like @noble/ciphers. Sealing is
 * the Noise AEAD's (nativeAead.ts). Opening runs per archive chunk in the recovery, so it
 * returns the decipher's own output as a plain Uint8Array view — no copy of every plaintext
 * (a tenth of the unseal time), no Buffer wrappers; unauthenticated output is wiped. A sealed
 * input shorter than the tag gives `null` (the Unsealer names the message), where Noise throws.
 */
export const nativeBoxAead: BoxAead = {
  name: nativeAead.name,
  seal: nativeAead.seal,
  open(key, nonce, ad, sealed) {
    checkAeadArgs(key, nonce);
    if (sealed.length < BOX_TAG_SIZE) return null;
    const ctLen = sealed.length - BOX_TAG_SIZE;
    // node:crypto takes any ArrayBufferView (and copies the key and IV).
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: BOX_TAG_SIZE });
    d.setAuthTag(sealed.subarray(ctLen));
    d.setAAD(ad, { plaintextLength: ctLen });
    const body = d.update(sealed.subarray(0, ctLen));
    try {
      d.final(); // throws when the tag does not verify; ChaCha20 has no final block
    } catch {
      body.fill(0);
      return null;
    }
    // A plain Uint8Array view: its slice() copies (Buffer's would not).
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  },
};

/** SHA-256 through node:crypto. */
export function nodeSha256(data: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(data).digest();
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
}

/**
 * libsecp256k1 backend. ECDH uses the library's default hash, SHA256(compressed point) —
 * the same definition as the original (`common/Secp256k1/ecdh.cpp`).
 * @throws CldcbError unsupported when the native module is missing.
 */
export function makeNativeSecp(native: NativeSecp256k1 = loadNativeSecp256k1()): SecpBackend {
  /** 33 bytes, 02/03, on the curve — libsecp256k1's parse (µs; noble's square root is ~0.1 ms). */
  const isValidPoint = (pub33: Uint8Array): boolean => pub33.length === 33 && (pub33[0] === 2 || pub33[0] === 3) && native.publicKeyVerify(pub33);
  const badPriv = (): never => {
    throw new CldcbError('bad_input', 'private key: not a valid secp256k1 secret key.');
  };
  return {
    name: 'libsecp256k1',
    publicKey(priv) {
      if (priv.length !== 32 || !native.privateKeyVerify(priv)) badPriv();
      return new Uint8Array(native.publicKeyCreate(priv, true));
    },
    isValidPoint,
    ecdhHash(priv, pub33) {
      if (priv.length !== 32 || !native.privateKeyVerify(priv)) badPriv();
      const bad = (): never => {
        throw new CldcbError('bad_input', 'public key: not a valid compressed secp256k1 point.');
      };
      if (pub33.length !== 33 || (pub33[0] !== 2 && pub33[0] !== 3)) bad();
      try {
        // The binding parses (checks) the point itself. Its output is a fresh Uint8Array (not
        // Buffer's pool), handed over as it is: a copy would leave the original unzeroized.
        return native.ecdh(pub33, priv);
      } catch {
        return bad();
      }
    },
    signHash(hash32, priv) {
      if (hash32.length !== 32) throw new CldcbError('bad_length', `signature hash: expected 32 bytes, got ${hash32.length}.`);
      if (priv.length !== 32 || !native.privateKeyVerify(priv)) badPriv();
      return new Uint8Array(native.ecdsaSign(hash32, priv).signature);
    },
    verifyHash(sig64, hash32, pub33) {
      if (sig64.length !== 64 || hash32.length !== 32 || pub33.length !== 33 || (pub33[0] !== 2 && pub33[0] !== 3)) return false;
      // An invalid point fails the binding's parse (caught below).
      try {
        // The original parses then normalises to low-S before verifying (Signature.cpp).
        const sig = native.signatureNormalize(sig64.slice());
        return native.ecdsaVerify(sig, hash32, pub33);
      } catch {
        return false; // r or s ≥ n, or an invalid point
      }
    },
  };
}

let nativeCrypto: BoxCrypto | undefined;

/**
 * Native AEAD + libsecp256k1, for the Sealer / Unsealer / IncrementStreams `crypto` options.
 * @throws CldcbError unsupported when the native module is missing.
 */
export function nativeBoxCrypto(): BoxCrypto {
  nativeCrypto ??= { aead: nativeBoxAead, secp: makeNativeSecp() };
  return nativeCrypto;
}
