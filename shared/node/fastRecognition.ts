/**
 * Fast recognition-code check (cldcb-protocol §4) with native libsecp256k1, Node only.
 * Same answers as `checkRecognition` in shared/cldcb/recognition.ts (cross-checked in
 * test/node/cldcb-native.test.ts), for scanning every record a server lists.
 *
 * Per record: one ECDH (variable-base multiplication, unavoidable) and, instead of a full
 * ECDSA verify (a double multiplication u1·G + u2·Q), ONE fixed-base multiplication —
 * possible because we hold the node private key d:
 *
 *   ECDSA verify of (r, s) over z with Q = d·G accepts iff  x(u1·G + u2·Q) mod n = r,
 *   where w = s⁻¹, u1 = z·w, u2 = r·w (all mod n). Substituting Q = d·G:
 *     u1·G + u2·Q = (z·w + r·w·d)·G = ((z + r·d) · s⁻¹)·G.
 *   So we compute u = (z + r·d)·s⁻¹ mod n with bigint arithmetic and check
 *   x(u·G) mod n = r — the very same point, so the very same verdict (u = 0 means the
 *   point at infinity: reject, as verify does).
 *   Low-S: replacing s by n − s negates u, and −P has the same x as P, so high-S
 *   signatures are accepted exactly like the original, which normalises before verifying.
 *
 * For a whole listing, `fastFindOwnRecords` also shares one modular inversion among all
 * records (batch inversion).
 *
 * Secret handling: d is held as a bigint for the checker's lifetime (bigints cannot be
 * zeroized); create the checker for one scan and drop it.
 */
import { CURVE_N, parseCompactSignature } from '../cldcb/curve';
import { RECOGNITION_PREFIX, SIGNED_MESSAGE_PREFIX, type RecognitionCheck, type RecognitionRecord } from '../cldcb/recognition';
import { CldcbError } from '../errors';
import { loadNativeSecp256k1, nodeSha256, type NativeSecp256k1 } from './nativeSeal';

const N = CURVE_N;

function toBig(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
}

function to32(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** a⁻¹ mod n (extended Euclid; n prime, 0 < a < n). */
function invModN(a: bigint): bigint {
  let [r0, r1] = [N, a];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return t0 < 0n ? t0 + N : t0;
}

const HEX = '0123456789abcdef';
const PREFIX_BYTES = new TextEncoder().encode(SIGNED_MESSAGE_PREFIX + RECOGNITION_PREFIX);

/** SHA256(SHA256("Lightning Signed Message:" ‖ "DO NOT SIGN … " ‖ hex(ecdh))). */
function recognitionHashFast(ecdh32: Uint8Array): Uint8Array {
  const m = new Uint8Array(PREFIX_BYTES.length + 64);
  m.set(PREFIX_BYTES);
  let o = PREFIX_BYTES.length;
  for (let i = 0; i < 32; i++) {
    m[o++] = HEX.charCodeAt(ecdh32[i]! >> 4);
    m[o++] = HEX.charCodeAt(ecdh32[i]! & 15);
  }
  return nodeSha256(nodeSha256(m));
}

/** Check the node key and return (private copy, d as bigint). */
function nodeScalar(nodePriv: Uint8Array, native: NativeSecp256k1): { priv: Uint8Array; d: bigint } {
  if (nodePriv.length !== 32 || !native.privateKeyVerify(nodePriv)) throw new CldcbError('bad_input', 'node private key: not a valid secp256k1 secret key.');
  const priv = nodePriv.slice(); // private copy: the caller may zeroize theirs
  return { priv, d: toBig(priv) };
}

/**
 * z (mod n) of a record, or null when the record cannot verify (bad sizes, r/s out of
 * range, client key not a point).
 */
function recordHash(native: NativeSecp256k1, priv: Uint8Array, cid33: Uint8Array, code64: Uint8Array): { z: bigint; r: bigint; s: bigint } | null {
  if (cid33.length !== 33 || (cid33[0] !== 2 && cid33[0] !== 3) || code64.length !== 64) return null;
  const sig = parseCompactSignature(code64);
  if (!sig) return null;
  let ecdh: Uint8Array;
  try {
    ecdh = native.ecdh(cid33, priv); // SHA256(compressed(d · CID)); throws for an invalid point
  } catch {
    return null;
  }
  const z = toBig(recognitionHashFast(ecdh)) % N;
  ecdh.fill(0);
  return { z, r: sig.r, s: sig.s };
}

/** x(u·G) mod n = r, with u = (z + r·d)·w and w = s⁻¹ (see the file comment). */
function finalCheck(native: NativeSecp256k1, z: bigint, r: bigint, w: bigint, d: bigint): boolean {
  const u = (((z + r * d) % N) * w) % N;
  if (u === 0n) return false;
  const p = native.publicKeyCreate(to32(u), true); // u·G, fixed base
  return toBig(p.subarray(1)) % N === r;
}

/**
 * A checker bound to one node key: `(cid33, code64) => boolean`. Never throws for bad
 * records.
 * @throws CldcbError bad_input for an invalid node key; unsupported without the native module.
 */
export function makeFastRecognitionChecker(nodePriv: Uint8Array, native: NativeSecp256k1 = loadNativeSecp256k1()): (cid33: Uint8Array, code64: Uint8Array) => boolean {
  const { priv, d } = nodeScalar(nodePriv, native);
  return (cid33, code64) => {
    const h = recordHash(native, priv, cid33, code64);
    return h !== null && finalCheck(native, h.z, h.r, invModN(h.s), d);
  };
}

/**
 * The recovery search: the records whose code verifies for this node key. Same answers as
 * `findOwnRecords` in shared/cldcb/recognition.ts, faster still: the s⁻¹ of all records
 * come from ONE modular inversion (Montgomery's batch-inversion trick: invert the product,
 * then peel off each factor with two multiplications).
 * @throws CldcbError bad_input for an invalid node key; unsupported without the native module.
 */
export function fastFindOwnRecords(nodePriv: Uint8Array, records: Iterable<RecognitionRecord>, native: NativeSecp256k1 = loadNativeSecp256k1()): RecognitionRecord[] {
  const { priv, d } = nodeScalar(nodePriv, native);
  try {
    const items: { rec: RecognitionRecord; z: bigint; r: bigint; s: bigint }[] = [];
    for (const rec of records) {
      const h = recordHash(native, priv, rec.clientKey, rec.code);
      if (h) items.push({ rec, ...h });
    }
    if (items.length === 0) return [];
    // prefix[i] = s_0 · … · s_i
    const prefix: bigint[] = new Array<bigint>(items.length);
    let acc = 1n;
    for (let i = 0; i < items.length; i++) prefix[i] = acc = (acc * items[i]!.s) % N;
    let inv = invModN(acc);
    const found: boolean[] = new Array<boolean>(items.length);
    for (let i = items.length - 1; i >= 0; i--) {
      const w = i === 0 ? inv : (inv * prefix[i - 1]!) % N; // = s_i⁻¹
      inv = (inv * items[i]!.s) % N; // = (s_0 · … · s_{i-1})⁻¹
      found[i] = finalCheck(native, items[i]!.z, items[i]!.r, w, d);
    }
    return items.filter((_, i) => found[i]).map((x) => x.rec);
  } finally {
    priv.fill(0);
  }
}

/**
 * {@link RecognitionCheck} with native libsecp256k1 (drop-in for `checkRecognition`).
 * For many records, make one checker with {@link makeFastRecognitionChecker} instead.
 */
export const fastCheckRecognition: RecognitionCheck = (nodePriv, cid33, code64) => makeFastRecognitionChecker(nodePriv)(cid33, code64);
