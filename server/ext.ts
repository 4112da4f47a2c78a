/**
 * Extension v1 on the server side (docs/PROTOCOL.md §3).
 *
 * - Advertisement: the first message after the handshake is a ping with TLV 0 = 42 zero
 *   bytes (as the original's keepalive) and TLV 1 = u16 version. Original clients answer
 *   with a pong, which the server drops.
 * - 240 set_read_verifier (TLV 0 = V, 32 bytes) → 241 read_verifier_stored, after fsync.
 * - 242 prove_read (TLV 0 = 33-byte 02/03 client key, TLV 1 = T, 32 bytes) → 243 read_granted
 *   when SHA256(T) = V (or when that client has no verifier); a wrong T closes the connection.
 */
import { u16be } from '../shared/bytes';
import { isValidCompressedPubkey } from '../shared/cldcb/curve';
import { encodeMessage, MSG, SERVER_PING_BODY, type RawMessage } from '../shared/cldcb/messages';
import { CldcbError } from '../shared/errors';

export const EXTENSION_VERSION = 1;
/** TLV type of the version in the advertising ping. */
export const EXTENSION_TLV = 1;

/** The advertising ping: TLV 0 = 42 zero bytes, TLV 1 = u16 version. */
export function advertisingPing(version = EXTENSION_VERSION): Uint8Array {
  return encodeMessage(MSG.ping, [
    [0, SERVER_PING_BODY],
    [EXTENSION_TLV, u16be(version)],
  ]);
}

export const readVerifierStored = (): Uint8Array => encodeMessage(MSG.readVerifierStored);
export const readGranted = (): Uint8Array => encodeMessage(MSG.readGranted);

/** 240 → V. @throws CldcbError protocol_error unless TLV 0 has exactly 32 bytes. */
export function decodeSetReadVerifier(m: RawMessage): Uint8Array {
  const v = m.tlvs.get(0);
  if (v === undefined || v.length !== 32) throw new CldcbError('protocol_error', `set_read_verifier: the verifier must be 32 bytes, got ${v?.length ?? 'none'}.`);
  return v;
}

/** 242 → (client key, T). @throws CldcbError protocol_error for a missing or malformed TLV. */
export function decodeProveRead(m: RawMessage): { clientKey: Uint8Array; token: Uint8Array } {
  const key = m.tlvs.get(0);
  const token = m.tlvs.get(1);
  if (key === undefined || !isValidCompressedPubkey(key))
    throw new CldcbError('protocol_error', 'prove_read: TLV 0 must be a 33-byte compressed client key (02/03).');
  if (token === undefined || token.length !== 32) throw new CldcbError('protocol_error', `prove_read: the read token must be 32 bytes, got ${token?.length ?? 'none'}.`);
  return { clientKey: key, token };
}
