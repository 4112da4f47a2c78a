/**
 * SHA-256 with an exposed chaining state (FIPS 180-4 §6.2), for ccan/rune.
 *
 * A rune's 32-byte "authcode" is the SHA-256 *chaining state* after hashing
 * `secret ‖ endmarker ‖ r1 ‖ endmarker ‖ … ‖ rN ‖ endmarker`, where every
 * endmarker is exactly SHA-256's own final padding for the bytes hashed so far
 * (ccan/ccan/rune/rune.c `rune_sha256_endmarker`). Anyone can add a
 * restriction by resuming from that state; nobody can remove one. noble's
 * sha256 does not let us resume from a given state, so this file has the small
 * compression function. It is checked against noble's sha256 in the tests
 * (test/unit/runes.test.ts).
 */
import { CldcbError } from '../errors';

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** FIPS 180-4 §5.3.3 initial hash value. */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** A resumable SHA-256 computation: 8 state words and the number of bytes already compressed (a multiple of 64). */
export interface Sha256State {
  readonly words: Uint32Array;
  readonly bytes: number;
}

export function sha256Initial(): Sha256State {
  return { words: Uint32Array.from(IV), bytes: 0 };
}

/**
 * Compress whole 64-byte blocks of `data` into a copy of `state`.
 * @throws CldcbError internal when `data.length` is not a multiple of 64 (callers pad first: a bug otherwise).
 */
export function sha256Blocks(state: Sha256State, data: Uint8Array): Sha256State {
  if (data.length % 64 !== 0)
    throw new CldcbError('internal', `SHA-256 state: ${data.length} bytes are not whole 64-byte blocks (a bug in CLDCB).`);
  const h = Uint32Array.from(state.words);
  const w = new Uint32Array(64);
  for (let off = 0; off < data.length; off += 64) {
    for (let t = 0; t < 16; t++) {
      const i = off + 4 * t;
      w[t] = ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0;
    }
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15]!;
      const w2 = w[t - 2]!;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) >>> 0;
    }
    let a = h[0]!,
      b = h[1]!,
      c = h[2]!,
      d = h[3]!,
      e = h[4]!,
      f = h[5]!,
      g = h[6]!,
      hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t]! + w[t]!) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
    h[4] = (h[4]! + e) >>> 0;
    h[5] = (h[5]! + f) >>> 0;
    h[6] = (h[6]! + g) >>> 0;
    h[7] = (h[7]! + hh) >>> 0;
  }
  w.fill(0);
  return { words: h, bytes: state.bytes + data.length };
}

/**
 * `data` followed by the SHA-256 end marker for a total of `state.bytes + data.length`
 * bytes (0x80, zeros, 64-bit big-endian bit count), as whole blocks.
 */
export function withEndMarker(state: Sha256State, data: Uint8Array): Uint8Array {
  const total = state.bytes + data.length;
  const padLen = 1 + ((128 - 8 - (total % 64) - 1) % 64); // ccan rune_sha256_endmarker
  const out = new Uint8Array(data.length + padLen + 8);
  out.set(data, 0);
  out[data.length] = 0x80;
  const bits = BigInt(total) * 8n;
  const view = new DataView(out.buffer);
  view.setBigUint64(data.length + padLen, bits, false);
  return out;
}

/** Hash `data` plus its end marker into `state` (ccan: `sha256_update` + `rune_sha256_endmarker`). */
export function sha256UpdateWithEndMarker(state: Sha256State, data: Uint8Array): Sha256State {
  const padded = withEndMarker(state, data);
  try {
    return sha256Blocks(state, padded);
  } finally {
    padded.fill(0);
  }
}

/** The state words as 32 big-endian bytes (ccan `to_string`: `cpu_to_be32(shactx.s[i])`). */
export function stateToBytes(state: Sha256State): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(4 * i, state.words[i]!, false);
  return out;
}

/** The inverse of stateToBytes, with the number of bytes already hashed. */
export function stateFromBytes(hash32: Uint8Array, bytes: number): Sha256State {
  const view = new DataView(hash32.buffer, hash32.byteOffset, 32);
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = view.getUint32(4 * i, false);
  return { words, bytes };
}
