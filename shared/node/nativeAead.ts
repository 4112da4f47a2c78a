/**
 * ChaCha20-Poly1305 IETF through node:crypto (OpenSSL): the same bytes as the
 * pure-JS default in shared/noise/aead.ts, about 10× faster for large
 * messages (toolchain.md §6). Node only.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { concatBytes } from '../bytes';
import { type Aead, checkAeadArgs, TAG_SIZE } from '../noise/aead';

/** Uint8Array view → Buffer without copying. */
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** ChaCha20-Poly1305 IETF from node:crypto (`createCipheriv('chacha20-poly1305')`). */
export const nativeAead: Aead = {
  name: 'node',
  seal(key, nonce, ad, plaintext) {
    checkAeadArgs(key, nonce);
    const c = createCipheriv('chacha20-poly1305', buf(key), buf(nonce), { authTagLength: TAG_SIZE });
    if (ad.length > 0) c.setAAD(buf(ad), { plaintextLength: plaintext.length });
    const body = c.update(buf(plaintext));
    const fin = c.final();
    const tag = c.getAuthTag();
    return concatBytes(body, fin, tag); // a plain Uint8Array copy (callers may zeroize or keep it)
  },
  open(key, nonce, ad, sealed) {
    checkAeadArgs(key, nonce, sealed.length);
    const ctLen = sealed.length - TAG_SIZE;
    const d = createDecipheriv('chacha20-poly1305', buf(key), buf(nonce), { authTagLength: TAG_SIZE });
    d.setAuthTag(buf(sealed.subarray(ctLen)));
    if (ad.length > 0) d.setAAD(buf(ad), { plaintextLength: ctLen });
    const body = d.update(buf(sealed.subarray(0, ctLen)));
    try {
      const fin = d.final(); // throws when the tag does not verify
      return concatBytes(body, fin);
    } catch {
      body.fill(0); // unauthenticated plaintext must not escape
      return null;
    }
  },
};
