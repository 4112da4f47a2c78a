/**
 * Increment plaintexts, both formats (cldcb-protocol §5.1; docs/PROTOCOL.md §3 "Increment
 * plaintext v1"), decoded as a stream so an increment of any size never sits in memory whole:
 *
 *   v0: 0x00 ‖ u32 data_version ‖ u64 n ‖ n × (u64 len ‖ utf8 statement)
 *   v1: 0x01 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u64 n ‖ n × (u64 len ‖ utf8 statement)
 *
 * The SHA-256 of the whole plaintext (all formats) is what the next v1 increment's `prev`
 * must equal.
 *
 * Same rules and errors as shared/cldcb/plaintexts.ts `IncrementPlaintextDecoder` (which
 * reads v0 only; test/unit/recovery-plaintext.test.ts checks both agree on random splits),
 * written for throughput: statements are cut out of each piece in place (no per-statement
 * queue copies), pieces are only joined for a statement that spans them, and in `facts`
 * mode (pass 1) statements are not decoded at all — only the bytes needed to see whether
 * a statement is the data_version bump or a PRAGMA, and the first statement's verb.
 *
 * Pure: the hash is injected (Node passes node:crypto's incremental SHA-256).
 */
import { CldcbError } from '../../../shared/errors';
import { MAX_STATEMENT_BYTES } from '../../../shared/cldcb/plaintexts';

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

/** What pass 1 needs to know about a statement without decoding it. */
export interface StatementSink {
  /** A complete statement's bytes (a view, valid only during the call). */
  statement(bytes: Uint8Array, index: number): void;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Big-endian u64 at b[o] as a number, or -1 when it exceeds 2^53 (read without a DataView or BigInt: this runs per statement). */
function u64(b: Uint8Array, o: number): number {
  const hi = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const lo = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
  return hi >= 0x200000 ? -1 : hi * 0x100000000 + lo;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

type State = 'header' | 'length' | 'statement' | 'done';

/**
 * Streaming reader of one increment plaintext: `push` the plaintexts of the increment's
 * sealed chunks in order, then `finish`. With `decode` (default) `push` returns the
 * statements completed so far as strings; without, each statement's bytes go to `sink`.
 */
export class IncrementReader {
  private state: State = 'header';
  /** Bytes of the item being assembled across pieces (header, length or statement). */
  private parts: Uint8Array[] = [];
  private partLen = 0;
  private need = 1;
  private header: { format: 0 | 1; dataVersion: number; time?: number; prev?: string; count: number } | undefined;
  private remaining = 0;
  private index = 0;
  private size = 0;

  constructor(
    private readonly hash: IncrementalHash,
    private readonly what = 'increment',
    private readonly sink?: StatementSink,
  ) {}

  /** The header, once its bytes have arrived. */
  get headerInfo(): IncrementHeader | undefined {
    return this.header;
  }

  private take(piece: Uint8Array, o: number, n: number): Uint8Array | undefined {
    // Returns `n` bytes starting at piece[o] joined with what was kept, or undefined (all kept).
    const avail = piece.length - o;
    if (this.partLen === 0 && avail >= n) return piece.subarray(o, o + n);
    const k = Math.min(avail, n - this.partLen);
    this.parts.push(piece.subarray(o, o + k));
    this.partLen += k;
    if (this.partLen < n) return undefined;
    const out = new Uint8Array(n);
    let p = 0;
    for (const x of this.parts) {
      out.set(x, p);
      p += x.length;
    }
    this.parts = [];
    this.partLen = 0;
    return out;
  }

  /** How many bytes of `piece` from `o` the current item consumes. */
  private consumed(item: Uint8Array | undefined, piece: Uint8Array, o: number, n: number, before: number): number {
    if (item === undefined) return piece.length - o;
    return n - before;
  }

  /**
   * @returns statements completed by this piece (decode mode; empty in sink mode).
   * @throws CldcbError unsupported (unknown format byte), bad_input (absurd lengths, bad UTF-8, extra bytes).
   */
  push(piece: Uint8Array): string[] {
    const out: string[] = [];
    if (piece.length === 0) return out;
    this.hash.update(piece);
    this.size += piece.length;
    let o = 0;
    while (o < piece.length) {
      if (this.state === 'done')
        throw new CldcbError('bad_input', `${this.what}: ${piece.length - o} extra bytes after the last statement (byte ${this.size - (piece.length - o)} of the plaintext).`);
      if (this.state === 'header') {
        const format = this.partLen > 0 ? this.parts[0]![0]! : piece[o]!;
        if (format !== 0 && format !== 1)
          throw new CldcbError('unsupported', `${this.what}: plaintext format ${format} is not supported (0 = original, 1 = chained).`);
        const n = format === 0 ? V0_HEADER_SIZE : V1_HEADER_SIZE;
        const before = this.partLen;
        const h = this.take(piece, o, n);
        o += this.consumed(h, piece, o, n, before);
        if (!h) break;
        const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
        const dataVersion = v.getUint32(1, false);
        const count = v.getBigUint64(format === 0 ? 5 : 45, false);
        if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw new CldcbError('bad_input', `${this.what}: declares ${count} statements; the plaintext is corrupt.`);
        this.header =
          format === 0
            ? { format: 0, dataVersion, count: Number(count) }
            : { format: 1, dataVersion, time: Number(v.getBigUint64(5, false)), prev: hex(h.subarray(13, 45)), count: Number(count) };
        this.remaining = Number(count);
        this.state = this.remaining === 0 ? 'done' : 'length';
        continue;
      }
      if (this.state === 'length') {
        let len: number;
        let l: Uint8Array | undefined;
        if (this.partLen === 0 && piece.length - o >= 8) {
          // The common case: read it in place (no view per statement).
          len = u64(piece, o);
          l = piece.subarray(o, o + 8);
          o += 8;
          if (len >= 0 && len <= MAX_STATEMENT_BYTES) l = undefined;
        } else {
          const before = this.partLen;
          l = this.take(piece, o, 8);
          o += this.consumed(l, piece, o, 8, before);
          if (!l) break;
          len = u64(l, 0);
        }
        if (len < 0 || len > MAX_STATEMENT_BYTES)
          throw new CldcbError(
            'bad_input',
            `${this.what}: statement ${this.index} declares ${new DataView(l!.buffer, l!.byteOffset, 8).getBigUint64(0, false)} bytes (more than ${MAX_STATEMENT_BYTES}); the plaintext is corrupt.`,
          );
        this.need = len;
        this.state = 'statement';
        if (this.need > 0) continue;
      }
      // statement
      let bytes: Uint8Array | undefined;
      if (this.need === 0) bytes = new Uint8Array(0);
      else {
        const before = this.partLen;
        bytes = this.take(piece, o, this.need);
        o += this.consumed(bytes, piece, o, this.need, before);
        if (!bytes) break;
      }
      if (this.sink) this.sink.statement(bytes, this.index);
      else {
        try {
          out.push(textDecoder.decode(bytes));
        } catch {
          throw new CldcbError('bad_input', `${this.what}: statement ${this.index} is not valid UTF-8.`);
        }
      }
      this.index++;
      this.remaining--;
      this.state = this.remaining === 0 ? 'done' : 'length';
    }
    return out;
  }

  /**
   * @throws CldcbError truncated when the plaintext ended early (inside the header or a statement).
   */
  finish(): IncrementEnd {
    if (this.header === undefined)
      throw new CldcbError('truncated', `${this.what}: plaintext ended after ${this.size} bytes, inside its header.`);
    if (this.state !== 'done')
      throw new CldcbError(
        'truncated',
        `${this.what}: plaintext ended after ${this.size} bytes, in statement ${this.index} of ${this.header.count} (${this.state === 'length' ? 'its length' : 'its text'}).`,
      );
    const h = this.header;
    const end: { -readonly [K in keyof IncrementEnd]: IncrementEnd[K] } = { format: h.format, dataVersion: h.dataVersion, count: h.count, hash: this.hash.digestHex(), size: this.size };
    if (h.time !== undefined) end.time = h.time;
    if (h.prev !== undefined) end.prev = h.prev;
    return end;
  }
}

/**
 * Encode a v1 increment plaintext (docs/PROTOCOL.md §3): what the plugin sends
 * (plugin/increment.ts re-exports it) and what tests and benchmarks seal.
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
