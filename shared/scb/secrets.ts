/**
 * Derived secrets: `makesecret` and the static-channel-backup key.
 *
 * cln-facts.md §9 (hsmd/libhsmd.c hsmd_init, handle_derive_secret):
 *
 *   derived_secret_base = HKDF(ikm = secret_data (ALL bytes: 32 legacy / 64 mnemonic), salt = "", info = "derived secrets")
 *   makesecret(info)    = HKDF(ikm = derived_secret_base, salt = "", info)
 *
 * cln-facts.md §6 (plugins/chanbackup.c init): the emergency.recover key is
 * makesecret("scb secret").
 *
 * The "other base" (cln-facts.md §3, §4): a node whose hsm_secret is a 64-byte
 * BIP39 seed may have been restored as a *legacy* 32-byte node from its codex32
 * secret (`exposesecret` / `getsecret` encode only seed[0..32]). Such a node has
 * the same node id and channel keys but makesecret outputs derived from those
 * 32 bytes only, so its emergency.recover is encrypted with a different key.
 * {@link scbKeyCandidates} returns both keys, full secret first.
 */
import { hkdfSha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { zeroize } from '../bytes';

const EMPTY = new Uint8Array(0);

/** Which bytes of secret_data the key was derived from. */
export type ScbKeyBase = 'secret_data' | 'secret_data_first_32';

function assertSecretData(secretData: Uint8Array): void {
  if (!(secretData instanceof Uint8Array)) throw new CldcbError('bad_input', 'secret: expected bytes.');
  if (secretData.length !== 32 && secretData.length !== 64)
    throw new CldcbError('bad_length', `secret: expected 32 or 64 bytes of secret_data, got ${secretData.length}.`);
}

/**
 * HKDF(secret_data, "", "derived secrets") over ALL bytes of secret_data (cln-facts §9).
 * @returns 32 bytes; zeroize after use.
 * @throws CldcbError bad_length unless secretData is 32 or 64 bytes.
 * @example derivedSecretBase(utf8('lightning-1') zero-padded) // 7fd892a8…d625
 */
export function derivedSecretBase(secretData: Uint8Array): Uint8Array {
  assertSecretData(secretData);
  return hkdfSha256(secretData, EMPTY, 'derived secrets', 32);
}

/**
 * The `makesecret` RPC: HKDF(derived_secret_base, "", info) (cln-facts §9).
 * @param info an ASCII label such as "scb secret" or raw bytes (the RPC's hex form).
 * @returns 32 bytes; zeroize after use.
 * @throws CldcbError bad_length unless secretData is 32 or 64 bytes.
 */
export function makeSecret(secretData: Uint8Array, info: string | Uint8Array): Uint8Array {
  const base = derivedSecretBase(secretData);
  try {
    return hkdfSha256(base, EMPTY, info, 32);
  } finally {
    zeroize(base);
  }
}

/** The label chanbackup passes to makesecret (hex 73636220736563726574). */
export const SCB_SECRET_LABEL = 'scb secret';

/**
 * The emergency.recover / peer-storage key, makesecret("scb secret") (cln-facts §6).
 * @returns 32 bytes; zeroize after use.
 * @throws CldcbError bad_length unless secretData is 32 or 64 bytes.
 * @example scbKey(utf8('lightning-1') zero-padded) // a9a2e742…64ed
 */
export function scbKey(secretData: Uint8Array): Uint8Array {
  return makeSecret(secretData, SCB_SECRET_LABEL);
}

export interface ScbKeyCandidate {
  readonly base: ScbKeyBase;
  /** 32-byte key. The caller zeroizes it. */
  readonly key: Uint8Array;
}

/**
 * Every key an emergency.recover made with this secret may use, most likely
 * first: the key from all of secret_data, then (64-byte seeds only) the key from
 * its first 32 bytes (a node restored as legacy from codex32, cln-facts §3/§4).
 * @throws CldcbError bad_length unless secretData is 32 or 64 bytes.
 */
export function scbKeyCandidates(secretData: Uint8Array): ScbKeyCandidate[] {
  const out: ScbKeyCandidate[] = [{ base: 'secret_data', key: scbKey(secretData) }];
  if (secretData.length === 64) out.push({ base: 'secret_data_first_32', key: scbKey(secretData.subarray(0, 32)) });
  return out;
}

/** A sentence for the operator about which key opened a file. */
export function describeScbKeyBase(base: ScbKeyBase, secretLength: number): string {
  if (base === 'secret_data')
    return secretLength === 64
      ? 'Opened with the key derived from the whole 64-byte BIP39 seed (a node created from this mnemonic).'
      : 'Opened with the key derived from the 32-byte hsm_secret.';
  return (
    'Opened with the key derived from the first 32 bytes of the BIP39 seed only: this file was written by a node ' +
    'restored as a legacy node from the codex32 secret (same node id and channels, but a different on-chain wallet ' +
    'and derived secrets). Recover on such a node, or expect wallet funds at its legacy addresses.'
  );
}
