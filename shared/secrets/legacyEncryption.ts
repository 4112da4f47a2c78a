/**
 * The legacy 73-byte encrypted hsm_secret (cln-facts.md §1b; common/hsm_secret.c
 * get_encryption_key(), encrypt_legacy_hsm_secret(), decrypt_hsm_secret()).
 *
 *   key  = Argon2id v1.3 (t = 3, m = 256 MiB, p = 1: libsodium's
 *          crypto_pwhash_argon2id_{OPS,MEM}LIMIT_MODERATE), 32 bytes,
 *          over strlen(passphrase) bytes, salt "c-lightning" + 5 NUL bytes
 *   file = header[24] ‖ crypto_secretstream_xchacha20poly1305_push(secret32, tag 0)
 *          (1 encrypted tag byte ‖ 32 bytes ‖ 16-byte MAC)  = 73 bytes
 *
 * Both primitives come from libsodium (libsodium-wrappers-sumo, WASM), the
 * library CLN itself uses — nothing here is hand-rolled. Decryption checks the
 * MAC (a wrong passphrase fails there) and, like CLN, ignores the tag value.
 */
import sodium from 'libsodium-wrappers-sumo';
import { CldcbError } from '../errors';
import { utf8, zeroize } from '../bytes';
import { cStringBytes } from './words';

export const ENCRYPTED_HSM_SECRET_LEN = 73;
const HEADER_LEN = 24;
/** `"c-lightning\0\0\0\0\0"` (16 bytes). */
export const HSM_ENCRYPTION_SALT: Uint8Array = (() => {
  const s = new Uint8Array(16);
  s.set(utf8('c-lightning'));
  return s;
})();

type Sodium = typeof sodium;
let ready: Promise<Sodium> | undefined;

/** libsodium, initialised once (≈20 ms the first time). */
export function getSodium(): Promise<Sodium> {
  ready ??= sodium.ready.then(() => sodium);
  return ready;
}

/**
 * CLN's `get_encryption_key()`: Argon2id MODERATE over the passphrase bytes (up
 * to the first NUL, as strlen). Takes ≈1 s and 256 MiB. Exported so the lead can
 * benchmark it. Zeroize the result.
 * @throws CldcbError wrong_passphrase when libsodium refuses the passphrase length (as CLN).
 */
export async function deriveLegacyEncryptionKey(passphrase: string | Uint8Array): Promise<Uint8Array> {
  const s = await getSodium();
  const pw = typeof passphrase === 'string' ? cStringBytes(passphrase) : passphrase;
  try {
    return s.crypto_pwhash(
      32,
      pw,
      HSM_ENCRYPTION_SALT,
      s.crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
      s.crypto_pwhash_argon2id_MEMLIMIT_MODERATE,
      s.crypto_pwhash_ALG_ARGON2ID13,
    );
  } catch {
    throw new CldcbError('wrong_passphrase', 'The passphrase cannot be used: its length is outside what Argon2id accepts.');
  } finally {
    if (typeof passphrase === 'string') zeroize(pw);
  }
}

/**
 * Open a 73-byte encrypted hsm_secret with a derived key.
 * @returns the 32-byte secret, or null when the MAC does not verify (wrong key).
 * @throws CldcbError bad_length when `file` is not 73 bytes.
 */
export async function decryptLegacyHsmSecret(file: Uint8Array, key: Uint8Array): Promise<Uint8Array | null> {
  if (file.length !== ENCRYPTED_HSM_SECRET_LEN)
    throw new CldcbError('bad_length', `Encrypted hsm_secret: expected ${ENCRYPTED_HSM_SECRET_LEN} bytes, got ${file.length}.`);
  const s = await getSodium();
  let state;
  try {
    state = s.crypto_secretstream_xchacha20poly1305_init_pull(file.slice(0, HEADER_LEN), key);
  } catch {
    return null;
  }
  let r: { message: Uint8Array; tag: number } | false;
  try {
    r = s.crypto_secretstream_xchacha20poly1305_pull(state, file.slice(HEADER_LEN), null);
  } catch {
    return null; // some wrapper versions throw instead of returning false
  }
  if (!r || r.message.length !== 32) {
    if (r) zeroize(r.message);
    return null;
  }
  return r.message;
}

/**
 * Make a 73-byte encrypted hsm_secret (what `hsmtool encrypt` writes; the header
 * is random). CLN deprecates this format (v25.12) — used for tests and for
 * re-creating a file an operator already had.
 */
export async function encryptLegacyHsmSecret(secret32: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
  if (secret32.length !== 32) throw new CldcbError('bad_length', `Legacy encryption takes a 32-byte secret, got ${secret32.length} bytes.`);
  const s = await getSodium();
  const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
  const c = s.crypto_secretstream_xchacha20poly1305_push(state, secret32, null, s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  const out = new Uint8Array(ENCRYPTED_HSM_SECRET_LEN);
  out.set(header, 0);
  out.set(c, HEADER_LEN);
  return out;
}
