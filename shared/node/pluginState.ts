/**
 * `cldcb-plugin.state`: the plugin's chain head, beside lightningd.sqlite3. One definition of
 * the format, used by the plugin (plugin/chainState.ts keeps it current after every
 * acknowledged increment) and by recovery (which writes it into the recovered lightning
 * directory, so the node's next backup continues the chain the archive holds: issue 10
 * defect 1, docs/PROTOCOL.md §4).
 *
 * What: data_version of the last acknowledged increment, its plaintext hash (`head`, the next
 * increment's prev) and `runPrev` (the prev of the first increment of that data_version: what
 * a redo of an uncommitted transaction must carry, PROTOCOL.md §3). Bound to
 * SHA256(client id 33 ‖ server id 33): a wrapper for another key or server ignores it.
 *
 * Layout: two fixed 128-byte slots, written alternately (slot = seq mod 2) with one pwrite +
 * fdatasync each, so a torn write leaves the other slot intact; the newest valid slot wins.
 *
 *   slot = "CLDCBPS1" ‖ u64 seq ‖ binding[32] ‖ u32 data_version ‖ head[32] ‖ runPrev[32]
 *          ‖ SHA256(the 116 bytes before)[0..12]                               (big-endian)
 */
import { CldcbError } from '../errors';
import { equalBytes } from '../bytes';
import { sha256 } from '../crypto/hash';

/** The file's name, in lightningd's network directory (server 1 of the wrapper). */
export const STATE_FILE = 'cldcb-plugin.state';

/**
 * The state file of the wrapper's server `index` (0-based): server 1 keeps the original name,
 * so a one-server node is unchanged on disk; the others are named by their server id, so a
 * state never follows a server that moved to another place in the wrapper.
 */
export function stateFileName(index: number, serverKey33: Uint8Array): string {
  if (index === 0) return STATE_FILE;
  let hex = '';
  for (const b of serverKey33.subarray(1, 9)) hex += b.toString(16).padStart(2, '0');
  return `cldcb-plugin.${hex}.state`;
}
export const STATE_SLOT_SIZE = 128;
const MAGIC = new TextEncoder().encode('CLDCBPS1');
const BODY = 116;

export interface ChainHead {
  readonly dataVersion: number;
  /** SHA-256 of the last acknowledged increment's plaintext. */
  readonly head: Uint8Array;
  /** prev of the first increment stored for `dataVersion`. */
  readonly runPrev: Uint8Array;
}

/** SHA256(cid33 ‖ sid33): the (client, server) pair a state belongs to. */
export function stateBinding(clientKey33: Uint8Array, serverKey33: Uint8Array): Uint8Array {
  if (clientKey33.length !== 33 || serverKey33.length !== 33)
    throw new CldcbError('bad_length', `plugin state binding: expected two 33-byte keys, got ${clientKey33.length} and ${serverKey33.length} bytes.`);
  const b = new Uint8Array(66);
  b.set(clientKey33, 0);
  b.set(serverKey33, 33);
  return sha256(b);
}

/** One slot. */
export function encodeStateSlot(seq: bigint, binding: Uint8Array, h: ChainHead): Uint8Array {
  if (binding.length !== 32 || h.head.length !== 32 || h.runPrev.length !== 32)
    throw new CldcbError('bad_length', 'plugin state: binding, head and runPrev are 32 bytes each.');
  const b = new Uint8Array(STATE_SLOT_SIZE);
  const v = new DataView(b.buffer);
  b.set(MAGIC, 0);
  v.setBigUint64(8, seq, false);
  b.set(binding, 16);
  v.setUint32(48, h.dataVersion, false);
  b.set(h.head, 52);
  b.set(h.runPrev, 84);
  b.set(sha256(b.subarray(0, BODY)).subarray(0, 12), BODY);
  return b;
}

/** One slot, or undefined when it is empty, damaged or bound to another client/server. */
export function decodeStateSlot(b: Uint8Array, binding: Uint8Array): { seq: bigint; head: ChainHead } | undefined {
  if (b.length < STATE_SLOT_SIZE || !equalBytes(b.subarray(0, 8), MAGIC)) return undefined;
  if (!equalBytes(sha256(b.subarray(0, BODY)).subarray(0, 12), b.subarray(BODY, STATE_SLOT_SIZE))) return undefined;
  if (!equalBytes(b.subarray(16, 48), binding)) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, STATE_SLOT_SIZE);
  return {
    seq: v.getBigUint64(8, false),
    head: { dataVersion: v.getUint32(48, false), head: b.slice(52, 84), runPrev: b.slice(84, 116) },
  };
}

/** The newest valid slot of a whole file's bytes (two slots), or undefined. */
export function decodeStateFile(bytes: Uint8Array, binding: Uint8Array): { seq: bigint; head: ChainHead } | undefined {
  const slots = [decodeStateSlot(bytes.subarray(0, STATE_SLOT_SIZE), binding), decodeStateSlot(bytes.subarray(STATE_SLOT_SIZE, 2 * STATE_SLOT_SIZE), binding)];
  let best: { seq: bigint; head: ChainHead } | undefined;
  for (const s of slots) if (s && (!best || s.seq > best.seq)) best = s;
  return best;
}

/** A fresh file holding `h` (seq 1, in slot 1 as the plugin's first save puts it; slot 0 empty). */
export function encodeStateFile(binding: Uint8Array, h: ChainHead): Uint8Array {
  const out = new Uint8Array(2 * STATE_SLOT_SIZE);
  out.set(encodeStateSlot(1n, binding, h), STATE_SLOT_SIZE);
  return out;
}
