/**
 * What goes inside the sealed boxes (cldcb-protocol §5.1, §5.2; original
 * `client/LD/DbWrite.hpp`, `client/Plugin/DbWriteHandler.cpp`).
 *
 * Increment plaintext:
 *   0x00 (format) ‖ u32 data_version ‖ u64 n ‖ n × (u64 byte_len ‖ UTF-8 statement)
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
import { concatBytes, takeFromChunks, u32be, u64be, utf8 } from '../bytes';
import { CldcbError } from '../errors';
import { BOX_HEADER_SIZE, BOX_TAG_SIZE, Sealer, type SealerOptions } from './seal';

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

export interface DecodedIncrementPlaintext {
  readonly dataVersion: number;
  readonly statements: string[];
}

type DecoderState = 'header' | 'length' | 'statement' | 'done';

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Streaming decoder of an increment plaintext: feed the plaintexts of the increment's
 * chunks in order with `push`, which returns the statements completed so far; `finish`
 * checks that exactly n statements arrived and nothing follows.
 * Declared lengths are never allocated before the bytes exist.
 */
export class IncrementPlaintextDecoder {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private state: DecoderState = 'header';
  private remaining = 0n;
  private need = 13;
  private consumed = 0;
  private dv: number | undefined;
  private declared: bigint | undefined;
  private readonly what: string;

  constructor(what = 'increment') {
    this.what = what;
  }

  /** data_version from the header (after the first 5 bytes). */
  get dataVersion(): number | undefined {
    return this.dv;
  }

  /** Number of statements declared by the header. */
  get declaredCount(): bigint | undefined {
    return this.declared;
  }

  private take(n: number): Uint8Array {
    const out = takeFromChunks(this.queue, n);
    this.queued -= n;
    this.consumed += n;
    return out;
  }

  /**
   * @returns statements completed by this piece.
   * @throws CldcbError unsupported (format byte ≠ 0), bad_input (invalid UTF-8, absurd
   *   lengths, bytes after the last statement).
   */
  push(piece: Uint8Array): string[] {
    if (piece.length === 0) return [];
    if (this.state === 'done')
      throw new CldcbError('bad_input', `${this.what}: ${piece.length} extra bytes after the last statement (byte ${this.consumed} of the plaintext).`);
    this.queue.push(piece.slice());
    this.queued += piece.length;
    const out: string[] = [];
    while (this.queued >= this.need && !this.isDone()) {
      if (this.state === 'header') {
        const h = this.take(13);
        if (h[0] !== INCREMENT_FORMAT)
          throw new CldcbError('unsupported', `${this.what}: plaintext format ${h[0]} is not supported (only 0, uncompressed SQL).`);
        const v = new DataView(h.buffer);
        this.dv = v.getUint32(1, false);
        this.declared = v.getBigUint64(5, false);
        this.remaining = this.declared;
        this.advance();
      } else if (this.state === 'length') {
        const l = new DataView(this.take(8).buffer).getBigUint64(0, false);
        if (l > BigInt(MAX_STATEMENT_BYTES))
          throw new CldcbError('bad_input', `${this.what}: statement ${this.declared! - this.remaining} declares ${l} bytes (more than ${MAX_STATEMENT_BYTES}); the plaintext is corrupt.`);
        this.need = Number(l);
        this.state = 'statement';
      } else {
        const b = this.take(this.need);
        const index = this.declared! - this.remaining;
        try {
          out.push(textDecoder.decode(b));
        } catch {
          throw new CldcbError('bad_input', `${this.what}: statement ${index} is not valid UTF-8.`);
        }
        this.remaining--;
        this.advance();
      }
    }
    if (this.isDone() && this.queued > 0)
      throw new CldcbError('bad_input', `${this.what}: ${this.queued} extra bytes after the last statement (byte ${this.consumed} of the plaintext).`);
    return out;
  }

  private isDone(): boolean {
    return this.state === 'done';
  }

  private advance(): void {
    if (this.remaining === 0n) {
      this.state = 'done';
      this.need = 0;
    } else {
      this.state = 'length';
      this.need = 8;
    }
  }

  /**
   * @returns the data_version and the number of statements.
   * @throws CldcbError truncated when the plaintext ended early.
   */
  finish(): { dataVersion: number; count: number } {
    if (this.state !== 'done') {
      const where =
        this.state === 'header'
          ? 'in the 13-byte header'
          : `in statement ${this.declared! - this.remaining} of ${this.declared} (${this.state === 'length' ? 'its length' : 'its text'})`;
      throw new CldcbError('truncated', `${this.what}: plaintext ended after ${this.consumed + this.queued} bytes, ${where}.`);
    }
    return { dataVersion: this.dv!, count: Number(this.declared!) };
  }
}

/**
 * Decode a whole increment plaintext.
 * @throws CldcbError truncated / bad_input / unsupported
 */
export function decodeIncrementPlaintext(plaintext: Uint8Array | readonly Uint8Array[], what = 'increment'): DecodedIncrementPlaintext {
  const d = new IncrementPlaintextDecoder(what);
  const statements: string[] = [];
  for (const p of plaintext instanceof Uint8Array ? [plaintext] : plaintext) statements.push(...d.push(p));
  const { dataVersion } = d.finish();
  return { dataVersion, statements };
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
