/**
 * What goes inside the sealed boxes (cldcb-protocol §5.1, §5.2; original
 * `client/LD/DbWrite.hpp`, `client/Plugin/DbWriteHandler.cpp`).
 *
 * Increment plaintext (kinds by first byte, see {@link IncrementReader}):
 *   v0 (the original): 0x00 ‖ u32 data_version ‖ u64 n ‖ n × (u64 byte_len ‖ UTF-8 statement)
 *   v1 (ours, chained): 0x01 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u64 n ‖ n × (…)
 *   v2 (ours, chained, with events): 0x02 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32]
 *       ‖ u16 ext_len ‖ ext ‖ u64 n ‖ n × (…), ext = (u8 type ‖ u16 len ‖ value)* (docs/PROTOCOL.md §3)
 * Reupload: first plaintext = cpk(32) ‖ u32 data_version (36 bytes), then the raw
 * `lightningd.sqlite3` bytes in 64984-byte pieces.
 *
 * Split rule for increments (ours): every piece is at most 64887 bytes, the original's
 * piece size. Sealed, the first chunk is ≤ 97 + 64887 + 16 = 65000 bytes and later
 * chunks ≤ 64887 + 16 = 64903 bytes — all within the 1..65527 chunk limit (§3.2) and
 * the original server's u16 archive lengths, so the original server stores and serves
 * them unchanged. (The original plugin asserts `ciphertext.size() < 65000`, so it dies
 * on any increment plaintext ≥ 64887 bytes — bug 1, §8.2 — and never sends a
 * multi-chunk increment; we must.) Recovery does not depend on the split: the decoder
 * concatenates the plaintexts of all chunks of an increment.
 */
import { bytesToHex, concatBytes, equalBytes, hexToBytes, u32be, u64be, utf8, zeroize } from '../bytes';
import { createSha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { snapshotChainValue } from './chain';
import { formatClientId } from './ids';
import { BOX_HEADER_SIZE, BOX_TAG_SIZE, Sealer, Unsealer, type BoxCrypto, type SealerOptions } from './seal';

/** Increment plaintext piece: 65000 − 33 − 64 − 16 (§5.1). */
export const INCREMENT_PIECE_SIZE = 65000 - BOX_HEADER_SIZE - BOX_TAG_SIZE;
/** Database piece in a reupload: 65000 − 16 (§5.2). */
export const REUPLOAD_PIECE_SIZE = 65000 - BOX_TAG_SIZE;
/** Size of the first reupload plaintext: cpk(32) ‖ u32 dv. */
export const REUPLOAD_HEADER_SIZE = 36;
/** Plaintext format byte: 0 = uncompressed SQL statements. */
export const INCREMENT_FORMAT = 0;

/** Largest statement we will assemble (bytes). Longer declared lengths are treated as corrupt. */
export const MAX_STATEMENT_BYTES = 256 * 1024 * 1024;

function checkU32(dv: number): void {
  if (!Number.isInteger(dv) || dv < 0 || dv > 0xffffffff) throw new CldcbError('bad_input', `data_version ${dv} is not a u32.`);
}

/**
 * Encode a db_write as an increment plaintext (§5.1).
 * @throws CldcbError bad_input for a data_version outside u32.
 */
export function encodeIncrementPlaintext(dataVersion: number, statements: readonly string[]): Uint8Array {
  checkU32(dataVersion);
  const parts: Uint8Array[] = [new Uint8Array([INCREMENT_FORMAT]), u32be(dataVersion), u64be(BigInt(statements.length))];
  for (const s of statements) {
    const b = utf8(s);
    parts.push(u64be(BigInt(b.length)), b);
  }
  return concatBytes(...parts);
}

/**
 * Encode a v1 increment plaintext (docs/PROTOCOL.md §3): what the plugin sends, and what
 * tests and benchmarks seal.
 * @throws CldcbError bad_input / bad_length for out-of-range fields.
 */
export function encodeIncrementPlaintextV1(dataVersion: number, unixTime: number, prev32: Uint8Array, statements: readonly string[]): Uint8Array {
  checkU32(dataVersion);
  if (!Number.isSafeInteger(unixTime) || unixTime < 0) throw new CldcbError('bad_input', `time ${unixTime} is not a unix time.`);
  if (prev32.length !== 32) throw new CldcbError('bad_length', `prev: expected 32 bytes, got ${prev32.length}.`);
  const bodies = statements.map((st) => utf8(st));
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

/**
 * Cut a byte array into pieces of at most `size` bytes (views, no copy). An empty input
 * gives no pieces.
 */
export function splitPieces(bytes: Uint8Array, size: number): Uint8Array[] {
  if (!Number.isInteger(size) || size < 1) throw new CldcbError('internal', 'piece size must be a positive integer (a bug in CLDCB).');
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.subarray(o, Math.min(bytes.length, o + size)));
  return out;
}

/** Increment plaintext → pieces of ≤ 64887 bytes (see the split rule above). */
export function splitIncrementPlaintext(plaintext: Uint8Array): Uint8Array[] {
  return splitPieces(plaintext, INCREMENT_PIECE_SIZE);
}

/**
 * A db_write → the `incremental_chunk` bodies (one fresh Sealer per db_write, as the original).
 * @throws CldcbError bad_input for invalid keys or data_version.
 */
export function sealIncrement(
  clientPriv: Uint8Array,
  nodeId: Uint8Array,
  dataVersion: number,
  statements: readonly string[],
  opts: SealerOptions = {},
): Uint8Array[] {
  const pt = encodeIncrementPlaintext(dataVersion, statements);
  const sealer = new Sealer(clientPriv, nodeId, opts);
  try {
    return splitIncrementPlaintext(pt).map((p) => sealer.seal(p));
  } finally {
    sealer.dispose();
    pt.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// The increment reader: every kind of plaintext, streamed

/** An incremental hash (node:crypto's Hash, or noble's through {@link nobleIncrementalHash}). */
export interface IncrementalHash {
  update(data: Uint8Array): unknown;
  /** Hex digest. */
  digestHex(): string;
}

/** SHA-256 in pure JS, for readers without node:crypto. */
export function nobleIncrementalHash(): IncrementalHash {
  const h = createSha256();
  return { update: (d) => h.update(d), digestHex: () => bytesToHex(h.digest()) };
}

/**
 * What a v2 increment says besides its statements (docs/PROTOCOL.md §3, "Events"):
 *  - `stop`: lightningd let the plugin go (`stopping`: writes may follow that no plugin saw), or
 *    lightningd exited with its database at this data_version, which the backup holds (`stopped`);
 *  - `unanchored`: the plugin had no chain head, so `prev` is not the previous increment's hash;
 *  - `servers`: the node's backup servers and quorum (issue 11), so a recovery learns n and k
 *    from the sealed backup and not only from what the operator types.
 */
export interface IncrementEvents {
  readonly stop?: 'stopping' | 'stopped';
  readonly unanchored?: true;
  readonly servers?: { readonly quorum: number; readonly serverIds: readonly string[] };
}

/** ext TLV types: odd ones may be ignored by a reader that does not know them, even ones may not (BOLT 1's rule). */
export const EVENT_TLV = { stop: 1, unanchored: 2, servers: 3 } as const;
const STOP_KINDS = { 1: 'stopping', 2: 'stopped' } as const;

export interface IncrementHeader {
  /** The plaintext's first byte: 0 = original, 1 = chained, 2 = chained with events (docs/PROTOCOL.md §3). */
  readonly format: 0 | 1 | 2;
  readonly dataVersion: number;
  /** Chained kinds: unix time (seconds) when the plugin sealed the increment. */
  readonly time?: number;
  /** Chained kinds: hex SHA-256 the chain expects before this increment. */
  readonly prev?: string;
  readonly count: number;
  /** v2: its events. */
  readonly events?: IncrementEvents;
}

export interface IncrementEnd extends IncrementHeader {
  /** Hex SHA-256 of the whole plaintext (what the next chained increment's `prev` must be). */
  readonly hash: string;
  /**
   * Hex SHA-256 of the statements part only (after the header), when asked for: the same
   * db_write stored by two servers has the same statements but another `prev` (each server's
   * chain starts at its own snapshot), so this is what compares their content (issue 11).
   */
  readonly bodyHash?: string;
  /** Plaintext size in bytes. */
  readonly size: number;
}

/** Big-endian u32 at b[o]. */
const u32At = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Big-endian u64 at b[o] as a number, or -1 when it exceeds 2^53 (no DataView or BigInt: this runs per statement). */
function u64At(b: Uint8Array, o: number): number {
  const hi = u32At(b, o);
  return hi >= 0x200000 ? -1 : hi * 0x100000000 + u32At(b, o + 4);
}

/** A u64 as a decimal string, exact (only for messages about corrupt lengths). */
function u64Text(b: Uint8Array, o: number): string {
  return ((BigInt(u32At(b, o)) << 32n) | BigInt(u32At(b, o + 4))).toString();
}

/** The events of a v2 header's ext (between the u16 ext_len and n). @throws CldcbError bad_input / unsupported. */
function decodeEvents(ext: Uint8Array, what: string): IncrementEvents {
  const out: { stop?: 'stopping' | 'stopped'; unanchored?: true; servers?: { quorum: number; serverIds: string[] } } = {};
  let o = 0;
  let last = -1;
  while (o < ext.length) {
    if (ext.length - o < 3) throw new CldcbError('bad_input', `${what}: its events end inside a record header.`);
    const type = ext[o]!;
    const len = (ext[o + 1]! << 8) | ext[o + 2]!;
    const v = ext.subarray(o + 3, o + 3 + len);
    if (v.length !== len) throw new CldcbError('bad_input', `${what}: event ${type} declares ${len} bytes, ${v.length} are there.`);
    if (type <= last) throw new CldcbError('bad_input', `${what}: its events are not in ascending order (type ${type} after ${last}).`);
    last = type;
    o += 3 + len;
    if (type === EVENT_TLV.stop) {
      const kind = len === 1 ? STOP_KINDS[v[0]! as 1 | 2] : undefined;
      if (!kind) throw new CldcbError('bad_input', `${what}: its stop event is malformed.`);
      out.stop = kind;
    } else if (type === EVENT_TLV.unanchored) {
      if (len !== 0) throw new CldcbError('bad_input', `${what}: its unanchored event carries data.`);
      out.unanchored = true;
    } else if (type === EVENT_TLV.servers) {
      const n = v[1];
      if (len < 2 || n === undefined || n < 1 || len !== 2 + 33 * n || v[0]! < 1 || v[0]! > n)
        throw new CldcbError('bad_input', `${what}: its servers event is malformed (quorum ${v[0]} of ${n}, ${len} bytes).`);
      out.servers = { quorum: v[0]!, serverIds: Array.from({ length: n }, (_, i) => bytesToHex(v.subarray(2 + 33 * i, 2 + 33 * (i + 1)))) };
    } else if (type % 2 === 0) throw new CldcbError('unsupported', `${what}: it carries event ${type}, which this version of CLDCB does not understand (made by a newer one?).`);
  }
  return out;
}

/** Encode events as a v2 ext (types ascending). */
function encodeEvents(e: IncrementEvents): Uint8Array {
  const recs: Uint8Array[] = [];
  const rec = (type: number, value: Uint8Array): void => {
    recs.push(Uint8Array.of(type, value.length >> 8, value.length & 0xff), value);
  };
  if (e.stop) rec(EVENT_TLV.stop, Uint8Array.of(e.stop === 'stopping' ? 1 : 2));
  if (e.unanchored) rec(EVENT_TLV.unanchored, new Uint8Array(0));
  if (e.servers) {
    const n = e.servers.serverIds.length;
    if (n < 1 || n > 255 || e.servers.quorum < 1 || e.servers.quorum > n) throw new CldcbError('bad_input', `servers event: quorum ${e.servers.quorum} of ${n} servers.`);
    rec(EVENT_TLV.servers, concatBytes(Uint8Array.of(e.servers.quorum, n), ...e.servers.serverIds.map((h) => hexToBytes(h, 'server id', 33))));
  }
  return concatBytes(...recs);
}

/**
 * Encode a v2 increment plaintext: v1's fields, then events (docs/PROTOCOL.md §3).
 * @throws CldcbError bad_input / bad_length for out-of-range fields.
 */
export function encodeIncrementPlaintextV2(dataVersion: number, unixTime: number, prev32: Uint8Array, statements: readonly string[], events: IncrementEvents): Uint8Array {
  const v1 = encodeIncrementPlaintextV1(dataVersion, unixTime, prev32, statements);
  const ext = encodeEvents(events);
  if (ext.length > 0xffff) throw new CldcbError('bad_input', 'increment events: more than 65535 bytes.');
  const out = new Uint8Array(v1.length + 2 + ext.length);
  out.set(v1.subarray(0, 45), 0);
  out[0] = 2;
  out[45] = ext.length >> 8;
  out[46] = ext.length & 0xff;
  out.set(ext, 47);
  out.set(v1.subarray(45), 47 + ext.length);
  return out;
}

interface IncrementKind {
  /** Bytes of the header that say how long the rest of it is (all of it for fixed headers). */
  readonly headerSize: number;
  /** Bytes of header after the first `headerSize` (variable headers). */
  more?(prefix: Uint8Array): number;
  header(h: Uint8Array, what: string): { header: IncrementHeader; countAt: number };
}

/**
 * The kinds of increment plaintext, by their first byte: the size of the header and what it
 * says. Every kind then holds `n × (u64 len ‖ utf8 statement)`. A new kind is one more case.
 *   0: 0x00 ‖ u32 data_version ‖ u64 n                                  (cldcb-protocol §5.1)
 *   1: 0x01 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u64 n       (docs/PROTOCOL.md §3)
 *   2: 0x02 ‖ u32 data_version ‖ u64 unix_time ‖ prev[32] ‖ u16 ext_len ‖ ext ‖ u64 n
 */
const INCREMENT_KINDS: Readonly<Record<number, IncrementKind>> = {
  0: { headerSize: 13, header: (h) => ({ header: { format: 0, dataVersion: u32At(h, 1), count: u64At(h, 5) }, countAt: 5 }) },
  1: {
    headerSize: 53,
    header: (h) => ({
      header: { format: 1, dataVersion: u32At(h, 1), time: u32At(h, 5) * 0x100000000 + u32At(h, 9), prev: bytesToHex(h.subarray(13, 45)), count: u64At(h, 45) },
      countAt: 45,
    }),
  },
  2: {
    headerSize: 47,
    more: (p) => ((p[45]! << 8) | p[46]!) + 8,
    header: (h, what) => {
      const countAt = h.length - 8;
      return {
        header: {
          format: 2,
          dataVersion: u32At(h, 1),
          time: u32At(h, 5) * 0x100000000 + u32At(h, 9),
          prev: bytesToHex(h.subarray(13, 45)),
          count: u64At(h, countAt),
          events: decodeEvents(h.subarray(47, countAt), what),
        },
        countAt,
      };
    },
  },
};
/** v0 header size: format ‖ u32 dv ‖ u64 n. */
export const V0_HEADER_SIZE = INCREMENT_KINDS[0]!.headerSize;
/** v1 header size: format ‖ u32 dv ‖ u64 time ‖ prev[32] ‖ u64 n. */
export const V1_HEADER_SIZE = INCREMENT_KINDS[1]!.headerSize;

/** What a reader without decoding needs to know about each statement (the recovery's pass 1 and replay plan). */
export interface StatementSink {
  /** A complete statement's bytes (a view, valid only during the call), numbered from 0. */
  statement(bytes: Uint8Array, index: number): void;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

type ReaderState = 'header' | 'length' | 'statement' | 'done';

/**
 * The one reader of increment plaintexts, streamed so an increment of any size never sits in
 * memory whole: `push` the plaintexts of the increment's sealed chunks in order, then `finish`.
 * Each statement goes to `sink` (as bytes, a view) and, when `decode` (the default without a
 * sink), comes back from `push` as a string. Written for throughput: statements are cut out of
 * each piece in place, pieces are only joined for an item that spans them, and lengths are
 * read without BigInt or DataView. Declared lengths are never allocated before the bytes exist.
 */
export class IncrementReader {
  private state: ReaderState = 'header';
  /** Bytes of the item being assembled across pieces (header, length or statement). */
  private parts: Uint8Array[] = [];
  private partLen = 0;
  private need = 1;
  private header: IncrementHeader | undefined;
  private remaining = 0;
  private index = 0;
  private size = 0;
  /** A variable header's whole size, once its prefix said it. */
  private headerSize: number | undefined;
  /** Plaintext offset where the statements begin (set once the header is read). */
  private bodyAt: number | undefined;
  private bodyHash: IncrementalHash | undefined;
  private readonly decode: boolean;

  /**
   * @param hash the plaintext's hash (the chain's `prev` of the next increment); default noble SHA-256.
   * @param what names the increment in messages.
   */
  constructor(
    private readonly hash: IncrementalHash = nobleIncrementalHash(),
    private readonly what = 'increment',
    private readonly sink?: StatementSink,
    decode?: boolean,
    /** Also hash the statements part alone ({@link IncrementEnd.bodyHash}). */
    bodyHash?: IncrementalHash,
  ) {
    this.decode = decode ?? sink === undefined;
    this.bodyHash = bodyHash;
  }

  /** The header, once its bytes have arrived. */
  get headerInfo(): IncrementHeader | undefined {
    return this.header;
  }

  /** `n` bytes starting at piece[o] joined with what was kept, or undefined (all kept). */
  private take(piece: Uint8Array, o: number, n: number): Uint8Array | undefined {
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

  /**
   * @returns statements completed by this piece (decode mode; otherwise empty).
   * @throws CldcbError unsupported (unknown kind), bad_input (absurd lengths, bad UTF-8, extra bytes).
   */
  push(piece: Uint8Array): string[] {
    const out: string[] = [];
    if (piece.length === 0) return out;
    this.hash.update(piece);
    const start = this.size;
    this.size += piece.length;
    if (this.bodyHash) {
      try {
        return this.read(piece, out);
      } finally {
        if (this.bodyAt !== undefined && this.bodyAt < this.size) this.bodyHash.update(piece.subarray(Math.max(0, this.bodyAt - start)));
      }
    }
    return this.read(piece, out);
  }

  private read(piece: Uint8Array, out: string[]): string[] {
    let o = 0;
    while (o < piece.length) {
      if (this.state === 'done')
        throw new CldcbError('bad_input', `${this.what}: ${piece.length - o} extra bytes after the last statement (byte ${this.size - (piece.length - o)} of the plaintext).`);
      if (this.state === 'header') {
        const format = this.partLen > 0 ? this.parts[0]![0]! : piece[o]!;
        const kind = INCREMENT_KINDS[format];
        if (kind === undefined) throw new CldcbError('unsupported', `${this.what}: plaintext format ${format} is not supported (0 = original, 1 = chained, 2 = chained with events).`);
        // A variable header is taken in two steps: its fixed prefix, then (prefix and rest) again.
        const size = this.headerSize ?? kind.headerSize;
        const before = this.partLen;
        const h = this.take(piece, o, size);
        o += h === undefined ? piece.length - o : size - before;
        if (!h) break;
        if (kind.more && this.headerSize === undefined) {
          this.headerSize = kind.headerSize + kind.more(h);
          this.parts = [h.slice()];
          this.partLen = h.length;
          continue;
        }
        this.headerSize = undefined;
        this.bodyAt = this.size - (piece.length - o);
        const { header, countAt } = kind.header(h, this.what);
        if (header.count < 0) throw new CldcbError('bad_input', `${this.what}: declares ${u64Text(h, countAt)} statements; the plaintext is corrupt.`);
        this.header = header;
        this.remaining = header.count;
        this.state = this.remaining === 0 ? 'done' : 'length';
        continue;
      }
      if (this.state === 'length') {
        let len: number;
        let l: Uint8Array | undefined;
        if (this.partLen === 0 && piece.length - o >= 8) {
          // The common case: read it in place (no view per statement).
          len = u64At(piece, o);
          l = piece;
          o += 8;
          if (len < 0 || len > MAX_STATEMENT_BYTES)
            throw new CldcbError('bad_input', `${this.what}: statement ${this.index} declares ${u64Text(l, o - 8)} bytes (more than ${MAX_STATEMENT_BYTES}); the plaintext is corrupt.`);
        } else {
          const before = this.partLen;
          l = this.take(piece, o, 8);
          o += l === undefined ? piece.length - o : 8 - before;
          if (!l) break;
          len = u64At(l, 0);
          if (len < 0 || len > MAX_STATEMENT_BYTES)
            throw new CldcbError('bad_input', `${this.what}: statement ${this.index} declares ${u64Text(l, 0)} bytes (more than ${MAX_STATEMENT_BYTES}); the plaintext is corrupt.`);
        }
        this.need = len;
        this.state = 'statement';
        if (this.need > 0) continue;
      }
      // statement
      let bytes: Uint8Array | undefined;
      if (this.need === 0) bytes = piece.subarray(o, o);
      else {
        const before = this.partLen;
        bytes = this.take(piece, o, this.need);
        o += bytes === undefined ? piece.length - o : this.need - before;
        if (!bytes) break;
      }
      this.sink?.statement(bytes, this.index);
      if (this.decode) {
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
    if (this.header === undefined) throw new CldcbError('truncated', `${this.what}: plaintext ended after ${this.size} bytes, inside its header.`);
    if (this.state !== 'done')
      throw new CldcbError(
        'truncated',
        `${this.what}: plaintext ended after ${this.size} bytes, in statement ${this.index} of ${this.header.count} (${this.state === 'length' ? 'its length' : 'its text'}).`,
      );
    const h = this.header;
    const end: { -readonly [K in keyof IncrementEnd]: IncrementEnd[K] } = { format: h.format, dataVersion: h.dataVersion, count: h.count, hash: this.hash.digestHex(), size: this.size };
    if (h.time !== undefined) end.time = h.time;
    if (h.prev !== undefined) end.prev = h.prev;
    if (h.events !== undefined) end.events = h.events;
    if (this.bodyHash) end.bodyHash = this.bodyHash.digestHex();
    return end;
  }
}

export interface DecodedIncrementPlaintext extends IncrementHeader {
  readonly statements: string[];
}

/**
 * Decode a whole increment plaintext (any kind) held in memory.
 * @throws CldcbError truncated / bad_input / unsupported
 */
export function decodeIncrementPlaintext(plaintext: Uint8Array | readonly Uint8Array[], what = 'increment'): DecodedIncrementPlaintext {
  const r = new IncrementReader(nobleIncrementalHash(), what);
  const statements: string[] = [];
  for (const p of plaintext instanceof Uint8Array ? [plaintext] : plaintext) statements.push(...r.push(p));
  const { hash: _hash, size: _size, ...header } = r.finish();
  return { ...header, statements };
}

// ---------------------------------------------------------------------------------------------
// Reupload (§5.2)

/**
 * First reupload plaintext: cpk(32) ‖ u32 data_version. Contains the client private key:
 * zeroize the result after sealing.
 * @throws CldcbError bad_length / bad_input
 */
export function encodeReuploadHeader(clientPriv: Uint8Array, dataVersion: number): Uint8Array {
  if (clientPriv.length !== 32) throw new CldcbError('bad_length', `client private key: expected 32 bytes, got ${clientPriv.length}.`);
  checkU32(dataVersion);
  return concatBytes(clientPriv, u32be(dataVersion));
}

/**
 * @returns the client private key (zeroize after use) and the data_version.
 * @throws CldcbError bad_length when not 36 bytes.
 */
export function decodeReuploadHeader(plaintext: Uint8Array): { clientPrivateKey: Uint8Array; dataVersion: number } {
  if (plaintext.length !== REUPLOAD_HEADER_SIZE)
    throw new CldcbError('bad_length', `reupload header: expected ${REUPLOAD_HEADER_SIZE} bytes (cpk ‖ data_version), got ${plaintext.length}.`);
  const dataVersion = new DataView(plaintext.buffer, plaintext.byteOffset, 36).getUint32(32, false);
  return { clientPrivateKey: plaintext.slice(0, 32), dataVersion };
}

/** Database file → pieces of ≤ 64984 bytes (views). */
export function splitDatabase(db: Uint8Array): Uint8Array[] {
  return splitPieces(db, REUPLOAD_PIECE_SIZE);
}

/**
 * A whole reupload → the `reupload_chunk` bodies: header box (149 bytes) then ≤ 65000-byte
 * database boxes. For large files, drive a Sealer directly with {@link encodeReuploadHeader}
 * and 64984-byte reads instead.
 * @throws CldcbError bad_input for invalid keys.
 */
export function sealReupload(clientPriv: Uint8Array, nodeId: Uint8Array, dataVersion: number, db: Uint8Array, opts: SealerOptions = {}): Uint8Array[] {
  const header = encodeReuploadHeader(clientPriv, dataVersion);
  const sealer = new Sealer(clientPriv, nodeId, opts);
  try {
    return [sealer.seal(header), ...splitDatabase(db).map((p) => sealer.seal(p))];
  } finally {
    sealer.dispose();
    header.fill(0);
  }
}

/**
 * Opens a re-upload section (§5.2): its first box is cpk ‖ u32 data_version — the cpk must be
 * the key of the expected client (or, when none is expected, of whoever signed the box), so
 * archives swapped between clients are refused — and the boxes after it are the database.
 * The one reader of re-uploads: the recovery's passes, its pipeline, its probe and the tests.
 */
export class ReuploadOpener {
  private readonly unsealer: Unsealer;
  private header36: Uint8Array | undefined;
  private opened = false;
  private clientPriv: Uint8Array | undefined;
  private dv = 0;
  private client: Uint8Array | undefined;

  /**
   * @param nodePriv node private key (by reference until the first box is open).
   * @param clientKey the expected client (33 bytes); undefined: learnt from the cpk inside.
   * @param keepClientKey keep the cpk for {@link takeClientKey} (a fresh plugin wrapper); otherwise it is wiped at once.
   */
  constructor(
    nodePriv: Uint8Array,
    clientKey: Uint8Array | undefined,
    private readonly opts: { readonly crypto: BoxCrypto; readonly what: string; readonly keepClientKey?: boolean },
  ) {
    this.client = clientKey;
    this.unsealer = new Unsealer(nodePriv, { ...(clientKey ? { sender: clientKey } : {}), crypto: opts.crypto, what: `${opts.what}: re-upload` });
  }


  /** data_version of the re-upload header (the snapshot is the state just before it). */
  get dataVersion(): number {
    return this.dv;
  }

  /** The client whose backup this is (the expected one, or the one the cpk names). */
  get clientKey(): Uint8Array | undefined {
    return this.client;
  }

  /**
   * Open the next box of the section.
   * @returns the database piece it holds, or undefined for the header box.
   * @throws CldcbError not_authentic (a box does not open, the first is no header, or it holds another client's key).
   */
  open(chunk: Uint8Array): Uint8Array | undefined {
    const pt = this.unsealer.unseal(chunk);
    if (this.opened) return pt;
    let h: { clientPrivateKey: Uint8Array; dataVersion: number };
    try {
      h = decodeReuploadHeader(pt);
    } catch {
      zeroize(pt);
      throw new CldcbError('not_authentic', `${this.opts.what}: the first re-upload box is not a re-upload header (${pt.length} bytes, expected 36).`);
    }
    this.header36 = pt;
    this.opened = true;
    const pub = this.opts.crypto.secp.publicKey(h.clientPrivateKey);
    if (this.client === undefined ? !this.unsealer.signedBy(pub) : !equalBytes(pub, this.client)) {
      zeroize(h.clientPrivateKey);
      this.dispose();
      throw new CldcbError(
        'not_authentic',
        this.client === undefined
          ? `${this.opts.what}: the re-upload's header is not signed by the client key inside it.`
          : `${this.opts.what}: the re-upload carries the key of another client (${formatClientId(pub)}); the archives were swapped or mixed.`,
      );
    }
    this.client = pub;
    this.dv = h.dataVersion;
    if (this.opts.keepClientKey) this.clientPriv = h.clientPrivateKey;
    else zeroize(h.clientPrivateKey);
    return undefined;
  }

  /**
   * The section ended: forget the stream key.
   * @throws CldcbError truncated when it held no header box.
   */
  end(): void {
    if (!this.opened) throw new CldcbError('truncated', `${this.opts.what}: the re-upload section is empty (no header box).`);
    this.unsealer.dispose();
  }

  /** The chain value the first v1 increment's `prev` must equal (docs/PROTOCOL.md §3); wipes the header. */
  chainValue(snapshotSha256: Uint8Array): Uint8Array {
    if (this.header36 === undefined) throw new CldcbError('truncated', `${this.opts.what}: no re-upload header.`);
    try {
      return snapshotChainValue(this.header36, snapshotSha256);
    } finally {
      zeroize(this.header36);
      this.header36 = undefined;
    }
  }

  /** The cpk (with `keepClientKey`), handed over: zeroize it after use. */
  takeClientKey(): Uint8Array | undefined {
    const k = this.clientPriv;
    this.clientPriv = undefined;
    return k;
  }

  /** Wipe the header (it holds the client private key), any kept cpk, and the stream key. */
  dispose(): void {
    zeroize(this.header36, this.clientPriv);
    this.header36 = undefined;
    this.clientPriv = undefined;
    this.unsealer.dispose();
  }
}
