/**
 * Recognition codes (cldcb-protocol §4; original `client/Client/recognize_code.cpp`,
 * `client/LD/checkmessage.cpp`, `server/Archive/RecognitionStorageImpl.cpp`).
 *
 *   ecdh    = SHA256(compressed(cpk · NODE_PUB)) = SHA256(compressed(node_priv · CID))
 *   message = "DO NOT SIGN THIS UNLESS YOU WANT YOUR FUNDS TO BE STOLEN " ‖ hex(ecdh)
 *   hash    = SHA256(SHA256("Lightning Signed Message:" ‖ message))   (lightningd signmessage)
 *   code    = compact ECDSA signature r‖s (64 bytes) by the node key over `hash`
 *
 * Only the node key holder can link a client id to its node: a recovering node scans all
 * records the server lists (message 4) and keeps those whose code verifies.
 */
import { bytesToHex, concatBytes, hexToBytes, utf8, zeroize } from '../bytes';
import { sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { checkPubkey, formatNodeId, parseNodeId } from './ids';
import { nobleSecp, type SecpBackend } from './curve';
import { RECOGNITION_RECORD_SIZE } from './messages';

/** The fixed text before the ECDH hex (§4; note the trailing space). */
export const RECOGNITION_PREFIX = 'DO NOT SIGN THIS UNLESS YOU WANT YOUR FUNDS TO BE STOLEN ';
/** lightningd `signmessage` prefix (no separator before the message). */
export const SIGNED_MESSAGE_PREFIX = 'Lightning Signed Message:';

/** The recognition message for a 32-byte ECDH value. @throws CldcbError bad_length */
export function recognitionMessage(ecdh32: Uint8Array): string {
  if (ecdh32.length !== 32) throw new CldcbError('bad_length', `recognition ECDH value: expected 32 bytes, got ${ecdh32.length}.`);
  return RECOGNITION_PREFIX + bytesToHex(ecdh32);
}

/** lightningd signmessage hash: SHA256(SHA256("Lightning Signed Message:" ‖ message)). */
export function signedMessageHash(message: string | Uint8Array): Uint8Array {
  const m = typeof message === 'string' ? utf8(message) : message;
  return sha256(sha256(concatBytes(utf8(SIGNED_MESSAGE_PREFIX), m)));
}

/** The hash a recognition code signs, from the ECDH value. */
export function recognitionHash(ecdh32: Uint8Array): Uint8Array {
  return signedMessageHash(recognitionMessage(ecdh32));
}

/**
 * The message the node must sign for a client (what an installer passes to lightningd
 * `signmessage`), computed on the client side from cpk and the node id.
 * @throws CldcbError bad_input for invalid keys.
 */
export function recognitionMessageForClient(clientPriv: Uint8Array, nodeId33: Uint8Array, secp: SecpBackend = nobleSecp): string {
  const ecdh = secp.ecdhHash(clientPriv, checkPubkey(nodeId33, 'node id'));
  try {
    return recognitionMessage(ecdh);
  } finally {
    zeroize(ecdh);
  }
}

/**
 * Make the recognition code with the node private key (what lightningd `signmessage`
 * returns as its hex `signature`). Deterministic RFC 6979 nonce and low-S, byte-equal to
 * libsecp256k1's default signer (test/node/cldcb-native.test.ts). Codes made with another
 * nonce (e.g. the fixture's nsig) differ in bytes but verify the same: compare codes by
 * verifying, never by bytes.
 * @throws CldcbError bad_input for invalid keys.
 */
export function signRecognitionCode(nodePriv: Uint8Array, clientKey33: Uint8Array, secp: SecpBackend = nobleSecp): Uint8Array {
  const ecdh = secp.ecdhHash(nodePriv, checkPubkey(clientKey33, 'client key'));
  try {
    return secp.signHash(recognitionHash(ecdh), nodePriv);
  } finally {
    zeroize(ecdh);
  }
}

/**
 * Client-side check of a wrapper's nsig: does `code` verify for (cpk, nid)? Lets an
 * installer catch a wrong nsig before the node ever needs it.
 * @throws CldcbError bad_input for an invalid private key or node id.
 */
export function verifyRecognitionAsClient(clientPriv: Uint8Array, nodeId33: Uint8Array, code64: Uint8Array, secp: SecpBackend = nobleSecp): boolean {
  const ecdh = secp.ecdhHash(clientPriv, checkPubkey(nodeId33, 'node id'));
  try {
    return secp.verifyHash(code64, recognitionHash(ecdh), nodeId33);
  } finally {
    zeroize(ecdh);
  }
}

/**
 * The fast-checker interface: does `code64` prove that `cid33` belongs to the node whose
 * private key is `nodePriv`? Must never throw on hostile `cid33`/`code64` (returns false).
 * Implementations: {@link checkRecognition} (pure JS, reference) and the native one in
 * shared/node/fastRecognition.ts.
 */
export type RecognitionCheck = (nodePriv: Uint8Array, cid33: Uint8Array, code64: Uint8Array) => boolean;

/**
 * Reference implementation (noble): ECDH with the node key, then a plain ECDSA verify
 * against the node pubkey (high-S accepted: the original normalises before verifying).
 * @returns false for any invalid record; throws only for an invalid node key.
 * @throws CldcbError bad_input when `nodePriv` is not a valid private key.
 */
export function checkRecognition(nodePriv: Uint8Array, cid33: Uint8Array, code64: Uint8Array): boolean {
  const nodePub = nobleSecp.publicKey(nodePriv);
  return makeRecognitionChecker(nodePriv, nobleSecp, nodePub)(cid33, code64);
}

/**
 * A checker bound to one node key (computes the node pubkey once). The returned function
 * keeps a reference to `nodePriv`: zeroize it only when done checking.
 * @throws CldcbError bad_input when `nodePriv` is not a valid private key.
 */
export function makeRecognitionChecker(
  nodePriv: Uint8Array,
  secp: SecpBackend = nobleSecp,
  nodePub: Uint8Array = secp.publicKey(nodePriv),
): (cid33: Uint8Array, code64: Uint8Array) => boolean {
  return (cid33, code64) => {
    if (cid33.length !== 33 || code64.length !== 64) return false;
    let ecdh: Uint8Array;
    try {
      ecdh = secp.ecdhHash(nodePriv, cid33);
    } catch {
      return false; // not a valid point
    }
    try {
      return secp.verifyHash(code64, recognitionHash(ecdh), nodePub);
    } finally {
      zeroize(ecdh);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Records (message 4) and the server's `recognition_codes` file (§1.4)

export interface RecognitionRecord {
  /** 33-byte compressed client key (02/03 — not the `c` form). */
  readonly clientKey: Uint8Array;
  /** 64-byte compact signature. */
  readonly code: Uint8Array;
}

/** cid33 ‖ code64 (97 bytes). @throws CldcbError bad_length / bad_input */
export function encodeRecognitionRecord(r: RecognitionRecord): Uint8Array {
  checkPubkey(r.clientKey, 'recognition record client key');
  if (r.code.length !== 64) throw new CldcbError('bad_length', `recognition record code: expected 64 bytes, got ${r.code.length}.`);
  return concatBytes(r.clientKey, r.code);
}

/**
 * 97 bytes → record. The key is only checked for its 02/03 prefix here (a record with an
 * invalid point simply never verifies); `strict` also validates the point.
 * @throws CldcbError bad_length / bad_input
 */
export function decodeRecognitionRecord(b: Uint8Array, strict = false): RecognitionRecord {
  if (b.length !== RECOGNITION_RECORD_SIZE) throw new CldcbError('bad_length', `recognition record: expected 97 bytes, got ${b.length}.`);
  const clientKey = b.slice(0, 33);
  if (clientKey[0] !== 0x02 && clientKey[0] !== 0x03) throw new CldcbError('bad_input', 'recognition record: client key must start with 02 or 03.');
  if (strict) checkPubkey(clientKey, 'recognition record client key');
  return { clientKey, code: b.slice(33, 97) };
}

/**
 * Parse `recognition_codes`: one `<02/03 cid hex> <128 hex code>` per line (§1.4). Blank
 * lines and surrounding whitespace (incl. CR) are tolerated.
 * @throws CldcbError bad_input / bad_hex / bad_length naming the line.
 */
export function parseRecognitionCodesFile(text: string, what = 'recognition_codes'): RecognitionRecord[] {
  const out: RecognitionRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const tokens = lines[i]!.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    const where = `${what} line ${i + 1}`;
    if (tokens.length !== 2) throw new CldcbError('bad_input', `${where}: expected "<client key> <code>", got ${tokens.length} fields.`);
    const clientKey = parseNodeId(tokens[0]!, `${where}: client key`);
    const code = hexToBytes(tokens[1]!, `${where}: code`, 64);
    out.push({ clientKey, code });
  }
  return out;
}

/** Write `recognition_codes` exactly as the original: `<02/03 hex> <128 hex>\n` per record. */
export function formatRecognitionCodesFile(records: readonly RecognitionRecord[]): string {
  return records
    .map((r) => {
      if (r.code.length !== 64) throw new CldcbError('bad_length', `recognition record code: expected 64 bytes, got ${r.code.length}.`);
      return `${formatNodeId(r.clientKey)} ${bytesToHex(r.code)}\n`;
    })
    .join('');
}

/** Records whose code verifies for this node key (the recovery search). */
export function findOwnRecords(
  nodePriv: Uint8Array,
  records: Iterable<RecognitionRecord>,
  check: (cid33: Uint8Array, code64: Uint8Array) => boolean = makeRecognitionChecker(nodePriv),
): RecognitionRecord[] {
  const out: RecognitionRecord[] = [];
  for (const r of records) if (check(r.clientKey, r.code)) out.push(r);
  return out;
}
