/**
 * libsodium crypto_secretstream_xchacha20poly1305, as chanbackup uses it
 * (cln-facts.md §6, plugins/chanbackup.c write_scb / decrypt_scb):
 *
 *   file = header[24] || push(plaintext, ad = none, tag = TAG_MESSAGE)   (24 + len + 17 bytes)
 *
 * Reading is init_pull + one pull; CLN ignores the returned tag, so do we.
 * We use libsodium itself (WASM) rather than a hand-rolled port: its MAC
 * padding quirk (cln-facts §1b) matters for files of arbitrary length.
 */
import sodium from 'libsodium-wrappers-sumo';

export const SECRETSTREAM_HEADER_BYTES = 24;
export const SECRETSTREAM_A_BYTES = 17;

let readyPromise: Promise<void> | undefined;

/** libsodium's WASM must be initialised once before use. */
export function sodiumReady(): Promise<void> {
  readyPromise ??= sodium.ready;
  return readyPromise;
}

/**
 * Decrypt one secretstream message with a 32-byte key.
 * @returns the plaintext, or null when the MAC does not verify (wrong key, any
 *   altered byte) or the input is too short to hold a header and a MAC.
 */
export async function secretstreamOpen(key: Uint8Array, file: Uint8Array): Promise<Uint8Array | null> {
  await sodiumReady();
  if (file.length < SECRETSTREAM_HEADER_BYTES + SECRETSTREAM_A_BYTES) return null;
  try {
    const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(file.subarray(0, SECRETSTREAM_HEADER_BYTES), key);
    const r = sodium.crypto_secretstream_xchacha20poly1305_pull(state, file.subarray(SECRETSTREAM_HEADER_BYTES), null);
    if (r === false) return null;
    return r.message; // r.tag is not checked, as in CLN's decrypt_scb()
  } catch {
    return null; // libsodium.js throws on some malformed inputs; to us it is the same: not authentic
  }
}

/**
 * Encrypt like chanbackup's write_scb(): a fresh random header, one push with TAG_MESSAGE (0).
 * @returns header[24] || ciphertext || MAC (plaintext length + 41 bytes).
 */
export async function secretstreamSeal(key: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
  await sodiumReady();
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const c = sodium.crypto_secretstream_xchacha20poly1305_push(
    state,
    plaintext,
    null,
    sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
  );
  const out = new Uint8Array(header.length + c.length);
  out.set(header, 0);
  out.set(c, header.length);
  return out;
}
