/**
 * Increment plaintexts, both formats (cldcb-protocol §5.1; docs/PROTOCOL.md §3 "Increment
 * plaintext v1"), decoded as a stream so an increment of any size never sits in memory whole:
 *
 *   v0: 0x00 ‖ u32 data_version ‖ u64 n ‖ n × (u64 len ‖ utf8 statement)
 *   v1: 0x01 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u64 n ‖ n × (u64 len ‖ utf8 statement)
 *
 * The statement part is the same in both, so the statements are decoded by
 * shared/cldcb/plaintexts.ts `IncrementPlaintextDecoder` (v0 only) fed a v0 header
 * `00 ‖ dv ‖ n` in place of the v1 header. The SHA-256 of the whole plaintext (all
 * formats) is what the next v1 increment's `prev` must equal.
 *
 * Pure: the hash is injected (Node passes node:crypto's incremental SHA-256).
 */
import { CldcbError } from '../../../shared/errors';
import { IncrementPlaintextDecoder } from '../../../shared/cldcb/plaintexts';

/** v0 header: format ‖ u32 dv ‖ u64 n. */
export const V0_HEADER_SIZE = 13;
/** v1 header: format ‖ u32 dv ‖ u64 time ‖ prev[32] ‖ u64 n. */
export const V1_HEADER_SIZE = 53;

/** An incremental hash (node:crypto Hash or any object with the same two methods). */
export interface IncrementalHash {
  update(data: Uint8Array): unknown;
  /** Hex digest. */
  digestHex(): string;
}

export interface IncrementHeader {
  readonly format: 0 | 1;
  readonly dataVersion: number;
  /** v1 only: unix time (seconds) when the plugin sealed the increment. */
  readonly time?: number;
  /** v1 only: hex SHA-256 the chain expects before this increment. */
  readonly prev?: string;
  readonly count: number;
}

export interface IncrementEnd extends IncrementHeader {
  /** Hex SHA-256 of the whole plaintext. */
  readonly hash: string;
  /** Plaintext size in bytes. */
  readonly size: number;
}

const hex = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
};

/**
 * Streaming reader of one increment plaintext: `push` the plaintexts of the increment's
 * sealed chunks in order (returns the statements completed so far), then `finish`.
 */
export class IncrementReader {
  private head: Uint8Array[] = [];
  private headLen = 0;
  private header: Omit<IncrementHeader, 'count'> & { count?: number } | undefined;
  private readonly inner: IncrementPlaintextDecoder;
  private size = 0;

  constructor(
    private readonly hash: IncrementalHash,
    private readonly what = 'increment',
  ) {
    this.inner = new IncrementPlaintextDecoder(what);
  }

  /** The header, once its bytes have arrived. */
  get headerInfo(): IncrementHeader | undefined {
    const h = this.header;
    return h && h.count !== undefined ? (h as IncrementHeader) : undefined;
  }

  /**
   * @returns statements completed by this piece.
   * @throws CldcbError unsupported (unknown format byte), bad_input (corrupt lengths, bad UTF-8, extra bytes).
   */
  push(piece: Uint8Array): string[] {
    if (piece.length === 0) return [];
    this.hash.update(piece);
    this.size += piece.length;
    if (this.header !== undefined) return this.inner.push(piece);
    this.head.push(piece);
    this.headLen += piece.length;
    const all = this.headLen === piece.length ? piece : concat(this.head, this.headLen);
    const format = all[0]!;
    if (format !== 0 && format !== 1)
      throw new CldcbError('unsupported', `${this.what}: plaintext format ${format} is not supported (0 = original, 1 = chained).`);
    const need = format === 0 ? V0_HEADER_SIZE : V1_HEADER_SIZE;
    if (all.length < need) {
      if (this.head.length > 1) this.head = [all];
      return [];
    }
    this.head = [];
    const v = new DataView(all.buffer, all.byteOffset, all.byteLength);
    const dataVersion = v.getUint32(1, false);
    if (format === 0) {
      this.header = { format: 0, dataVersion, count: Number(v.getBigUint64(5, false)) };
      return this.inner.push(all);
    }
    const time = Number(v.getBigUint64(5, false));
    const prev = hex(all.subarray(13, 45));
    const n = all.subarray(45, 53);
    this.header = { format: 1, dataVersion, time, prev, count: Number(v.getBigUint64(45, false)) };
    // The statement part is identical to v0: give the v0 decoder a v0 header.
    const v0 = new Uint8Array(V0_HEADER_SIZE + all.length - V1_HEADER_SIZE);
    v0[0] = 0;
    v0.set(all.subarray(1, 5), 1);
    v0.set(n, 5);
    v0.set(all.subarray(V1_HEADER_SIZE), V0_HEADER_SIZE);
    return this.inner.push(v0);
  }

  /**
   * @throws CldcbError truncated when the plaintext ended early (inside the header or a statement).
   */
  finish(): IncrementEnd {
    if (this.header === undefined)
      throw new CldcbError('truncated', `${this.what}: plaintext ended after ${this.headLen} bytes, inside its header.`);
    const { count } = this.inner.finish();
    return { ...(this.header as IncrementHeader), count, hash: this.hash.digestHex(), size: this.size };
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Encode a v1 increment plaintext (docs/PROTOCOL.md §3). Recovery only reads v1; this
 * encoder is here for tests and benchmarks that must make chained archives.
 * @throws CldcbError bad_input for out-of-range fields.
 */
export function encodeIncrementPlaintextV1(dataVersion: number, unixTime: number, prev32: Uint8Array, statements: readonly string[]): Uint8Array {
  if (!Number.isInteger(dataVersion) || dataVersion < 0 || dataVersion > 0xffffffff) throw new CldcbError('bad_input', `data_version ${dataVersion} is not a u32.`);
  if (!Number.isSafeInteger(unixTime) || unixTime < 0) throw new CldcbError('bad_input', `time ${unixTime} is not a unix time.`);
  if (prev32.length !== 32) throw new CldcbError('bad_length', `prev: expected 32 bytes, got ${prev32.length}.`);
  const enc = new TextEncoder();
  const bodies = statements.map((s) => enc.encode(s));
  const total = V1_HEADER_SIZE + bodies.reduce((a, b) => a + 8 + b.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out[0] = 1;
  v.setUint32(1, dataVersion, false);
  v.setBigUint64(5, BigInt(unixTime), false);
  out.set(prev32, 13);
  v.setBigUint64(45, BigInt(statements.length), false);
  let o = V1_HEADER_SIZE;
  for (const b of bodies) {
    v.setBigUint64(o, BigInt(b.length), false);
    out.set(b, o + 8);
    o += 8 + b.length;
  }
  return out;
}
