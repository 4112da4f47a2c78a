/**
 * Byte helpers used everywhere. Platform-free (Uint8Array only, no Buffer).
 */
import { CldcbError } from './errors';

/** "00" … "ff": one string per byte (half the work of two nibble lookups; the recovery hexes a hash per increment). */
const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX_BYTE[b[i]!]!;
  return s;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Strict hex → bytes (upper or lower case, no separators).
 * @param field names the input in error messages, e.g. "server id".
 * @param expectedLength byte length required, if any.
 * @throws CldcbError bad_hex (naming the position) or bad_length.
 */
export function hexToBytes(hex: string, field = 'hex value', expectedLength?: number): Uint8Array {
  if (hex.length % 2 !== 0) throw new CldcbError('bad_length', `${field}: odd number of hex digits (${hex.length}).`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      const pos = hi < 0 ? 2 * i : 2 * i + 1;
      throw new CldcbError('bad_hex', `${field}: character ${pos + 1} is not a hex digit.`);
    }
    out[i] = (hi << 4) | lo;
  }
  if (expectedLength !== undefined && out.length !== expectedLength)
    throw new CldcbError('bad_length', `${field}: expected ${expectedLength} bytes (${2 * expectedLength} hex digits), got ${out.length}.`);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The first `n` bytes of a queue of chunks, as one new array; the queue is advanced in
 * place (used-up chunks removed, a partly used one replaced by its rest, without copying).
 * The caller keeps its own byte count and makes sure the queue holds at least `n` bytes.
 */
export function takeFromChunks(chunks: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  while (o < n) {
    const head = chunks[0]!;
    const k = Math.min(head.length, n - o);
    out.set(head.subarray(0, k), o);
    o += k;
    if (k === head.length) chunks.shift();
    else chunks[0] = head.subarray(k);
  }
  return out;
}

/** Constant-time for equal lengths (the lengths themselves are not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Overwrite secret material once it is no longer needed. */
export function zeroize(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
export const utf8 = (s: string): Uint8Array => enc.encode(s);
/** @throws CldcbError bad_input when the bytes are not valid UTF-8. */
export function fromUtf8(b: Uint8Array, field = 'text'): string {
  try {
    return dec.decode(b);
  } catch {
    throw new CldcbError('bad_input', `${field}: not valid UTF-8 text.`);
  }
}

export function u16be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 8) & 255, n & 255]);
}
export function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, false);
  return b;
}
export function u64be(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, false);
  return b;
}
export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
export function u64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

/**
 * Sequential big-endian reader over a byte array. Every read checks bounds and
 * throws CldcbError('truncated') naming `what` (e.g. "emergency.recover").
 */
export class ByteReader {
  private off = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get offset(): number {
    return this.off;
  }
  get remaining(): number {
    return this.bytes.length - this.off;
  }
  private need(n: number, field: string): void {
    if (this.off + n > this.bytes.length)
      throw new CldcbError('truncated', `${this.what}: ended early while reading ${field} at byte ${this.off} (needed ${n} more bytes, ${this.remaining} left).`);
  }
  u8(field = 'u8'): number {
    this.need(1, field);
    return this.bytes[this.off++]!;
  }
  u16(field = 'u16'): number {
    this.need(2, field);
    const v = this.view.getUint16(this.off, false);
    this.off += 2;
    return v;
  }
  u32(field = 'u32'): number {
    this.need(4, field);
    const v = this.view.getUint32(this.off, false);
    this.off += 4;
    return v;
  }
  u64(field = 'u64'): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.off, false);
    this.off += 8;
    return v;
  }
  bytesN(n: number, field = 'bytes'): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.off);
    this.off = this.bytes.length;
    return v;
  }
}
