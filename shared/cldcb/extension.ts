/**
 * Extension v1 of the cldcb protocol (docs/PROTOCOL.md §3): what our server and our clients
 * (plugin, recovery) add to the original, negotiated so that original peers never see it.
 *
 * - Advertisement: the server's first message after the handshake is a ping with TLV 0 = 42
 *   zero bytes (the original's keepalive) and TLV 1 = u16 version. Original clients answer with
 *   a pong echoing the TLVs, which the server drops; our clients remember the version.
 * - Read protection: T = SHA256("cldcb read token" ‖ S), with S the recognition code's ECDH value
 *   (only the node key holder and the client key holder know it); the server keeps V = SHA256(T).
 *     240 set_read_verifier (TLV 0 = V, 32 bytes)          → 241 read_verifier_stored (after fsync)
 *     242 prove_read (TLV 0 = 33-byte 02/03 client key, TLV 1 = T) → 243 read_granted
 * - Forced re-upload: TLV 1 = `01` in request_incremental ({@link REQUEST_INCREMENTAL_REUPLOAD_TLV}).
 * The message ids live in messages.ts `MSG` with every other id (the decoder names them).
 */
import { concatBytes, u16be, utf8 } from '../bytes';
import { sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { isValidCompressedPubkey } from './curve';
import { encodeMessage, MSG, SERVER_PING_BODY, type RawMessage } from './messages';

/** The extension version our programs speak. */
export const EXTENSION_VERSION = 1;
/** TLV type of the version in the advertising ping. */
export const EXTENSION_TLV = 1;
/**
 * TLV type of "please ask me for a re-upload" in request_incremental (value `01`; messages.ts
 * `requestIncremental(dv, { wantsReupload })` writes it and `decodeMessage` reads it). Sent only
 * to a server that advertised v1: the client has no chain head to continue (the state file was
 * lost), so its increment chains to a fresh snapshot (docs/PROTOCOL.md §3).
 */
export const REQUEST_INCREMENTAL_REUPLOAD_TLV = 1;

/** The advertising ping: TLV 0 = 42 zero bytes, TLV 1 = u16 version. */
export function advertisingPing(version = EXTENSION_VERSION): Uint8Array {
  return encodeMessage(MSG.ping, [
    [0, SERVER_PING_BODY],
    [EXTENSION_TLV, u16be(version)],
  ]);
}

/** The extension version a ping advertises (TLV 1), or undefined for an original server's ping. */
export function advertisedVersion(tlvs: ReadonlyMap<number, Uint8Array>): number | undefined {
  const v = tlvs.get(EXTENSION_TLV);
  return v !== undefined && v.length >= 2 ? (v[0]! << 8) | v[1]! : undefined;
}

const READ_TOKEN_TAG = utf8('cldcb read token');

/**
 * Read token `T = SHA256("cldcb read token" ‖ S)` from the recognition-code ECDH value
 * `S = SHA256(compressed(cpk · NODE))` = `SHA256(compressed(node_priv · CLIENT))`.
 * Only the client key holder and the node key holder can compute it.
 * @throws CldcbError bad_length unless S is 32 bytes.
 */
export function readToken(ecdh32: Uint8Array): Uint8Array {
  if (ecdh32.length !== 32) throw new CldcbError('bad_length', `read token: the ECDH value must be 32 bytes, got ${ecdh32.length}.`);
  const m = concatBytes(READ_TOKEN_TAG, ecdh32);
  try {
    return sha256(m);
  } finally {
    m.fill(0); // holds S
  }
}

/** Read verifier `V = SHA256(T)`: what the server stores. @throws CldcbError bad_length unless T is 32 bytes. */
export function readVerifier(token32: Uint8Array): Uint8Array {
  if (token32.length !== 32) throw new CldcbError('bad_length', `read verifier: the token must be 32 bytes, got ${token32.length}.`);
  return sha256(token32);
}

/** 240 set_read_verifier (client → server). */
export const setReadVerifier = (verifier32: Uint8Array): Uint8Array => encodeMessage(MSG.setReadVerifier, [[0, verifier32]]);
/** 241 read_verifier_stored (server → client). */
export const readVerifierStored = (): Uint8Array => encodeMessage(MSG.readVerifierStored);
/** 242 prove_read (client → server). */
export const proveRead = (clientKey33: Uint8Array, token32: Uint8Array): Uint8Array =>
  encodeMessage(MSG.proveRead, [
    [0, clientKey33],
    [1, token32],
  ]);
/** 243 read_granted (server → client). */
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
