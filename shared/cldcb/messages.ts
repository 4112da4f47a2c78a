/**
 * cldcb application messages (cldcb-protocol §3; original `common/Protocol/Message.hpp`, `MID.hpp`).
 *
 *   payload = u16 msg_id ‖ tlv* ‖ 0xFF 0x00 0x00
 *   tlv     = u8 type ‖ u16 length ‖ value[length]        (not BOLT TLV; no BigSize)
 *
 * Each payload travels as one Noise transport message (max 65535 bytes, §2).
 */
import { bytesToHex, concatBytes, u16be, u32be } from '../bytes';
import { CldcbError } from '../errors';
import { isValidCompressedPubkey } from './curve';
// extension.ts imports this module's encoder, and this module its TLV constant: used only inside
// functions, so the cycle is harmless for ES modules (nothing reads it while modules load).
import { REQUEST_INCREMENTAL_REUPLOAD_TLV } from './extension';

/** Message ids (§3.2, `common/Protocol/MID.hpp`). */
export const MSG = {
  giveRecognitionCode: 0,
  requestRecognitionCodes: 2,
  responseRecognitionCodes: 4,
  responseRecognitionCodesEnd: 6,
  ping: 8,
  pong: 9,
  requestIncremental: 32,
  responseReupload: 36,
  acknowledgeUpload: 38,
  reuploadChunk: 52,
  reuploadEnd: 54,
  incrementalChunk: 68,
  incrementalEnd: 70,
  requestBackupData: 112,
  responseBackedupReuploadChunk: 114,
  responseBackedupReuploadEnd: 116,
  responseBackedupIncrementalNew: 118,
  responseBackedupIncrementalChunk: 120,
  responseBackedupIncrementalEndall: 122,
  // Extension v1 (docs/PROTOCOL.md §3): only between peers that negotiated it (the
  // server advertises it with TLV 1 in its first ping; originals never see these ids).
  setReadVerifier: 240,
  readVerifierStored: 241,
  proveRead: 242,
  readGranted: 243,
} as const;

export type MessageName = keyof typeof MSG;
export type MessageId = (typeof MSG)[MessageName];

const NAME_OF = new Map<number, MessageName>(Object.entries(MSG).map(([k, v]) => [v, k as MessageName]));

/** The protocol name of a message id, or `unknown(<id>)`. */
export function messageName(id: number): string {
  return NAME_OF.get(id) ?? `unknown(${id})`;
}

/** Largest Noise transport payload (§2). */
export const MAX_PAYLOAD = 65535;
/** Largest chunk in one TLV: 65535 − 2 (id) − 3 (TLV header) − 3 (terminator) (§3.2). */
export const MAX_CHUNK = 65527;
/** Recognition record = 33-byte compressed cid ‖ 64-byte code (§3.2, §4). */
export const RECOGNITION_RECORD_SIZE = 97;
/** Records per message 4: ⌊65527 / 97⌋ = 675 (§3.2). */
export const RECORDS_PER_MESSAGE = 675;
/** The server's ping body: 42 zero bytes (§2.1). */
export const SERVER_PING_BODY = new Uint8Array(42);

export interface RawMessage {
  readonly id: number;
  /** TLVs by type; the first occurrence of a type wins; includes 0xFF (the terminator). */
  readonly tlvs: ReadonlyMap<number, Uint8Array>;
}

/**
 * Serialise a message as the original does: TLVs in ascending type order, then `FF 00 00`
 * unless a type-0xFF TLV is already present.
 * @throws CldcbError bad_input for a type outside 0..255 or an id outside 0..65535;
 *   bad_length when a value exceeds 65535 bytes or the payload 65535 bytes.
 */
export function encodeMessage(id: number, tlvs: Iterable<readonly [number, Uint8Array]> = []): Uint8Array {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new CldcbError('bad_input', `message id ${id} is not a u16.`);
  const sorted = new Map<number, Uint8Array>();
  for (const [t, v] of tlvs) {
    if (!Number.isInteger(t) || t < 0 || t > 0xff) throw new CldcbError('bad_input', `message ${messageName(id)}: TLV type ${t} is not a u8.`);
    if (v.length > 0xffff) throw new CldcbError('bad_length', `message ${messageName(id)}: TLV ${t} value has ${v.length} bytes (max 65535).`);
    if (!sorted.has(t)) sorted.set(t, v);
  }
  const parts: Uint8Array[] = [u16be(id)];
  for (const t of [...sorted.keys()].sort((a, b) => a - b)) {
    const v = sorted.get(t)!;
    parts.push(new Uint8Array([t]), u16be(v.length), v);
  }
  if (!sorted.has(0xff)) parts.push(new Uint8Array([0xff, 0, 0]));
  const out = concatBytes(...parts);
  if (out.length > MAX_PAYLOAD)
    throw new CldcbError('bad_length', `message ${messageName(id)}: ${out.length} bytes, more than the ${MAX_PAYLOAD}-byte transport limit.`);
  return out;
}

/**
 * Parse a payload as the original (`S::deserialize(Protocol::Message)`): read TLVs until
 * one of type 0xFF has been read (with its length and value), ignore anything after it;
 * the first TLV of a type wins; unknown types are kept in the map and ignored by the
 * typed decoder. A payload that ends before the 0xFF TLV is complete is truncated.
 * @throws CldcbError truncated (naming the byte offset). Never throws anything else.
 */
export function parseMessage(payload: Uint8Array): RawMessage {
  if (!(payload instanceof Uint8Array)) throw new CldcbError('bad_input', 'message: expected bytes.');
  if (payload.length < 2) throw new CldcbError('truncated', `message: ${payload.length} bytes, too short for a message id.`);
  const id = (payload[0]! << 8) | payload[1]!;
  const tlvs = new Map<number, Uint8Array>();
  let off = 2;
  for (;;) {
    if (off + 3 > payload.length)
      throw new CldcbError('truncated', `message ${messageName(id)}: ends at byte ${payload.length} inside a TLV header at byte ${off} (no FF terminator).`);
    const type = payload[off]!;
    const len = (payload[off + 1]! << 8) | payload[off + 2]!;
    if (off + 3 + len > payload.length)
      throw new CldcbError('truncated', `message ${messageName(id)}: TLV ${type} at byte ${off} declares ${len} bytes but only ${payload.length - off - 3} remain.`);
    const value = payload.subarray(off + 3, off + 3 + len);
    if (!tlvs.has(type)) tlvs.set(type, value);
    off += 3 + len;
    if (type === 0xff) break;
  }
  return { id, tlvs };
}

// ---------------------------------------------------------------------------------------------
// Typed messages

export type CldcbMessage =
  | { readonly type: 'give_recognition_code'; readonly code: Uint8Array }
  | { readonly type: 'request_recognition_codes' }
  | { readonly type: 'response_recognition_codes'; readonly records: readonly Uint8Array[] }
  | { readonly type: 'response_recognition_codes_end' }
  | { readonly type: 'ping'; readonly body: Uint8Array | undefined; readonly tlvs: ReadonlyMap<number, Uint8Array> }
  | { readonly type: 'pong'; readonly body: Uint8Array | undefined; readonly tlvs: ReadonlyMap<number, Uint8Array> }
  | {
      readonly type: 'request_incremental';
      readonly dataVersion: number;
      /** Extension v1 (TLV 1 = 01): the client asks for a re-upload (its chain head is unknown; docs/PROTOCOL.md §3). */
      readonly wantsReupload?: true;
    }
  | { readonly type: 'response_reupload' }
  | { readonly type: 'acknowledge_upload' }
  | { readonly type: 'reupload_chunk'; readonly chunk: Uint8Array }
  | { readonly type: 'reupload_end' }
  | { readonly type: 'incremental_chunk'; readonly chunk: Uint8Array }
  | { readonly type: 'incremental_end' }
  | { readonly type: 'request_backup_data'; readonly clientKey: Uint8Array }
  | { readonly type: 'response_backedup_reupload_chunk'; readonly chunk: Uint8Array }
  | { readonly type: 'response_backedup_reupload_end' }
  | { readonly type: 'response_backedup_incremental_new'; readonly dataVersion: number }
  | { readonly type: 'response_backedup_incremental_chunk'; readonly chunk: Uint8Array }
  | { readonly type: 'response_backedup_incremental_endall' }
  | { readonly type: 'unknown'; readonly id: number; readonly tlvs: ReadonlyMap<number, Uint8Array> };

function tlv0(id: number, m: RawMessage, what: string): Uint8Array {
  const v = m.tlvs.get(0);
  if (v === undefined) throw new CldcbError('protocol_error', `message ${messageName(id)}: TLV 0 (${what}) is missing.`);
  return v;
}

function exactTlv0(id: number, m: RawMessage, what: string, len: number): Uint8Array {
  const v = tlv0(id, m, what);
  if (v.length !== len) throw new CldcbError('protocol_error', `message ${messageName(id)}: ${what} must be ${len} bytes, got ${v.length}.`);
  return v;
}

function chunkTlv0(id: number, m: RawMessage): Uint8Array {
  const v = tlv0(id, m, 'chunk');
  if (v.length < 1 || v.length > MAX_CHUNK)
    throw new CldcbError('protocol_error', `message ${messageName(id)}: chunk must be 1..${MAX_CHUNK} bytes, got ${v.length}.`);
  return v;
}

const u32At = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;

/**
 * Parse and validate a payload into a typed message. TLV values are views into `payload`.
 * Unknown message ids give `{ type: 'unknown' }` (the caller decides: the server disconnects).
 * @throws CldcbError truncated (payload cut short) or protocol_error (a required TLV is
 *   missing or has the wrong size). Never throws anything else, whatever the input.
 */
export function decodeMessage(payload: Uint8Array): CldcbMessage {
  const m = parseMessage(payload);
  const id = m.id;
  switch (id) {
    case MSG.giveRecognitionCode:
      return { type: 'give_recognition_code', code: exactTlv0(id, m, 'recognition code', 64) };
    case MSG.requestRecognitionCodes:
      return { type: 'request_recognition_codes' };
    case MSG.responseRecognitionCodes: {
      const v = tlv0(id, m, 'records');
      if (v.length % RECOGNITION_RECORD_SIZE !== 0)
        throw new CldcbError('protocol_error', `message ${messageName(id)}: ${v.length} bytes is not a whole number of 97-byte records.`);
      const records: Uint8Array[] = [];
      for (let o = 0; o < v.length; o += RECOGNITION_RECORD_SIZE) records.push(v.subarray(o, o + RECOGNITION_RECORD_SIZE));
      return { type: 'response_recognition_codes', records };
    }
    case MSG.responseRecognitionCodesEnd:
      return { type: 'response_recognition_codes_end' };
    case MSG.ping:
      return { type: 'ping', body: m.tlvs.get(0), tlvs: m.tlvs };
    case MSG.pong:
      return { type: 'pong', body: m.tlvs.get(0), tlvs: m.tlvs };
    case MSG.requestIncremental: {
      const dataVersion = u32At(exactTlv0(id, m, 'data_version', 4));
      // TLV 1 is ours (extension v1); the original ignores unknown TLVs, and so do we for other values.
      const ask = m.tlvs.get(REQUEST_INCREMENTAL_REUPLOAD_TLV);
      return ask !== undefined && ask.length === 1 && ask[0] === 1 ? { type: 'request_incremental', dataVersion, wantsReupload: true } : { type: 'request_incremental', dataVersion };
    }
    case MSG.responseReupload:
      return { type: 'response_reupload' };
    case MSG.acknowledgeUpload:
      return { type: 'acknowledge_upload' };
    case MSG.reuploadChunk:
      return { type: 'reupload_chunk', chunk: chunkTlv0(id, m) };
    case MSG.reuploadEnd:
      return { type: 'reupload_end' };
    case MSG.incrementalChunk:
      return { type: 'incremental_chunk', chunk: chunkTlv0(id, m) };
    case MSG.incrementalEnd:
      return { type: 'incremental_end' };
    case MSG.requestBackupData: {
      const key = exactTlv0(id, m, 'client key', 33);
      if (!isValidCompressedPubkey(key))
        throw new CldcbError('protocol_error', `message ${messageName(id)}: client key is not a compressed 02/03 secp256k1 point.`);
      return { type: 'request_backup_data', clientKey: key };
    }
    case MSG.responseBackedupReuploadChunk:
      return { type: 'response_backedup_reupload_chunk', chunk: chunkTlv0(id, m) };
    case MSG.responseBackedupReuploadEnd:
      return { type: 'response_backedup_reupload_end' };
    case MSG.responseBackedupIncrementalNew:
      return { type: 'response_backedup_incremental_new', dataVersion: u32At(exactTlv0(id, m, 'data_version', 4)) };
    case MSG.responseBackedupIncrementalChunk:
      return { type: 'response_backedup_incremental_chunk', chunk: chunkTlv0(id, m) };
    case MSG.responseBackedupIncrementalEndall:
      return { type: 'response_backedup_incremental_endall' };
    default:
      return { type: 'unknown', id, tlvs: m.tlvs };
  }
}

// ---------------------------------------------------------------------------------------------
// Constructors (each returns the payload bytes)

function checkU32(dv: number): number {
  if (!Number.isInteger(dv) || dv < 0 || dv > 0xffffffff) throw new CldcbError('bad_input', `data_version ${dv} is not a u32.`);
  return dv;
}

function checkChunk(name: string, chunk: Uint8Array): Uint8Array {
  // An empty chunk aborts the original server (bug 6, §8.2): never send one.
  if (chunk.length < 1 || chunk.length > MAX_CHUNK) throw new CldcbError('bad_length', `${name}: chunk must be 1..${MAX_CHUNK} bytes, got ${chunk.length}.`);
  return chunk;
}

const empty = (id: number) => (): Uint8Array => encodeMessage(id);

/** 0: the 64-byte compact recognition code (nsig). @throws CldcbError bad_length */
export function giveRecognitionCode(code64: Uint8Array): Uint8Array {
  if (code64.length !== 64) throw new CldcbError('bad_length', `recognition code: expected 64 bytes, got ${code64.length}.`);
  return encodeMessage(MSG.giveRecognitionCode, [[0, code64]]);
}
export const requestRecognitionCodes = empty(MSG.requestRecognitionCodes);
/**
 * 4 × ⌈n/675⌉: the 97-byte records split at 675 per message (none when n = 0).
 * Follow with {@link responseRecognitionCodesEnd}.
 * @throws CldcbError bad_length for a record that is not 97 bytes.
 */
export function responseRecognitionCodes(records: readonly Uint8Array[]): Uint8Array[] {
  for (const r of records)
    if (r.length !== RECOGNITION_RECORD_SIZE) throw new CldcbError('bad_length', `recognition record: expected 97 bytes, got ${r.length}.`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < records.length; i += RECORDS_PER_MESSAGE)
    out.push(encodeMessage(MSG.responseRecognitionCodes, [[0, concatBytes(...records.slice(i, i + RECORDS_PER_MESSAGE))]]));
  return out;
}
export const responseRecognitionCodesEnd = empty(MSG.responseRecognitionCodesEnd);
/** The whole listing reply: 4 × ⌈n/675⌉ then 6 (§3.3). */
export function recognitionCodesListing(records: readonly Uint8Array[]): Uint8Array[] {
  return [...responseRecognitionCodes(records), responseRecognitionCodesEnd()];
}
/** 8: ping, by default with the server's 42 zero bytes. */
export function ping(body: Uint8Array = SERVER_PING_BODY): Uint8Array {
  return encodeMessage(MSG.ping, [[0, body]]);
}
/**
 * 9: pong. The server answers with 42 zero bytes; the plugin echoes the ping's TLVs
 * (§2.1) — pass the parsed ping's `tlvs` (including 0xFF) to echo it byte for byte.
 */
export function pong(tlvs: Iterable<readonly [number, Uint8Array]> = [[0, SERVER_PING_BODY]]): Uint8Array {
  return encodeMessage(MSG.pong, tlvs);
}
/**
 * 32: `00 20 00 00 04 <dv u32> FF 00 00`; with `wantsReupload`, TLV 1 = `01` before the terminator.
 * @throws CldcbError bad_input
 */
export function requestIncremental(dataVersion: number, opts: { wantsReupload?: boolean } = {}): Uint8Array {
  const tlvs: [number, Uint8Array][] = [[0, u32be(checkU32(dataVersion))]];
  if (opts.wantsReupload) tlvs.push([REQUEST_INCREMENTAL_REUPLOAD_TLV, Uint8Array.of(1)]);
  return encodeMessage(MSG.requestIncremental, tlvs);
}
export const responseReupload = empty(MSG.responseReupload);
export const acknowledgeUpload = empty(MSG.acknowledgeUpload);
/** 52. @throws CldcbError bad_length unless 1..65527 bytes. */
export function reuploadChunk(chunk: Uint8Array): Uint8Array {
  return encodeMessage(MSG.reuploadChunk, [[0, checkChunk('reupload_chunk', chunk)]]);
}
export const reuploadEnd = empty(MSG.reuploadEnd);
/** 68. @throws CldcbError bad_length unless 1..65527 bytes. */
export function incrementalChunk(chunk: Uint8Array): Uint8Array {
  return encodeMessage(MSG.incrementalChunk, [[0, checkChunk('incremental_chunk', chunk)]]);
}
/** 70: `00 46 FF 00 00`. */
export const incrementalEnd = empty(MSG.incrementalEnd);
/** 112: the 33-byte compressed (02/03, not `c`) client key. @throws CldcbError bad_input */
export function requestBackupData(clientKey33: Uint8Array): Uint8Array {
  if (!isValidCompressedPubkey(clientKey33)) throw new CldcbError('bad_input', 'request_backup_data: client key must be a 33-byte compressed secp256k1 point.');
  return encodeMessage(MSG.requestBackupData, [[0, clientKey33]]);
}
/** 114. @throws CldcbError bad_length unless 1..65527 bytes. */
export function responseBackedupReuploadChunk(chunk: Uint8Array): Uint8Array {
  return encodeMessage(MSG.responseBackedupReuploadChunk, [[0, checkChunk('response_backedup_reupload_chunk', chunk)]]);
}
export const responseBackedupReuploadEnd = empty(MSG.responseBackedupReuploadEnd);
/** 118: starts an increment. @throws CldcbError bad_input */
export function responseBackedupIncrementalNew(dataVersion: number): Uint8Array {
  return encodeMessage(MSG.responseBackedupIncrementalNew, [[0, u32be(checkU32(dataVersion))]]);
}
/** 120. @throws CldcbError bad_length unless 1..65527 bytes. */
export function responseBackedupIncrementalChunk(chunk: Uint8Array): Uint8Array {
  return encodeMessage(MSG.responseBackedupIncrementalChunk, [[0, checkChunk('response_backedup_incremental_chunk', chunk)]]);
}
export const responseBackedupIncrementalEndall = empty(MSG.responseBackedupIncrementalEndall);

/** A short, secret-free description of a message for logs. */
export function describeMessage(m: CldcbMessage): string {
  switch (m.type) {
    case 'request_incremental':
      return `${m.type}(dv ${m.dataVersion}${m.wantsReupload ? ', asks for a re-upload' : ''})`;
    case 'response_backedup_incremental_new':
      return `${m.type}(dv ${m.dataVersion})`;
    case 'response_recognition_codes':
      return `${m.type}(${m.records.length} records)`;
    case 'reupload_chunk':
    case 'incremental_chunk':
    case 'response_backedup_reupload_chunk':
    case 'response_backedup_incremental_chunk':
      return `${m.type}(${m.chunk.length} bytes)`;
    case 'request_backup_data':
      return `${m.type}(${bytesToHex(m.clientKey)})`;
    case 'unknown':
      return `unknown message id ${m.id}`;
    default:
      return m.type;
  }
}
