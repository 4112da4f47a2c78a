/**
 * Which recognition records are ours (cldcb-protocol §4), fast enough for a million
 * entries: the batch form of shared/node/fastRecognition.ts.
 *
 * Per record the math is fastRecognition's (see its header for the derivation):
 *   S = SHA256(compressed(d · CID))                                 native ECDH
 *   z = SHA256(SHA256("Lightning Signed Message:" ‖ "DO NOT SIGN … " ‖ hex(S))) mod n
 *   ours ⇔ x(u·G) mod n = r  with  u = (z + r·d) · s⁻¹ mod n         one fixed-base mult
 * What changes is the cost around the two native multiplications: a 256-bit modular
 * inverse in BigInt costs ~45 µs — as much as the ECDH — so the inverses of a whole batch
 * are computed with one inversion (Montgomery's trick: prefix products, invert once, walk
 * back), and bytes ↔ BigInt go through hex strings. Measured: ~2× fastRecognition's rate
 * (scripts/bench/recover.bench.ts), the same answers (test/node/recover-recognition.test.ts).
 *
 * Each record gets a status: not ours (a well-formed record for another node), ours, or
 * invalid (malformed: the client key is not 02/03 or not on the curve, or r/s is out of
 * range — the signature does not parse). For each match, the v1 read token
 * T = SHA256("cldcb read token" ‖ S) (docs/PROTOCOL.md §3) is returned, so an online
 * download can prove read access without touching the node key again.
 */
import { hash as nodeHash } from 'node:crypto';
import { CURVE_N } from '../../cldcb/curve';
import { readToken } from '../../cldcb/extension';
import { RECOGNITION_PREFIX, SIGNED_MESSAGE_PREFIX } from '../../cldcb/recognition';
import { RECOGNITION_RECORD_SIZE } from '../../cldcb/messages';
import { CldcbError } from '../../errors';
import { loadNativeSecp256k1, type NativeSecp256k1 } from '../nativeSeal';

export const STATUS = { checking: 0, notOurs: 1, ours: 2, invalid: 3 } as const;
export type RecognitionStatus = 'checking' | 'not ours' | 'ours' | 'invalid';
export const STATUS_NAMES: readonly RecognitionStatus[] = ['checking', 'not ours', 'ours', 'invalid'];

/** Records per batch inversion. */
export const BATCH = 256;

const N = CURVE_N;

/** The binding also takes an output buffer (secp256k1@5 lib/index.js). */
type NativeWithOutput = NativeSecp256k1 & {
  ecdh(pub: Uint8Array, priv: Uint8Array, options?: object, output?: Uint8Array): Uint8Array;
  publicKeyCreate(priv: Uint8Array, compressed?: boolean, output?: Uint8Array): Uint8Array;
};

/** a⁻¹ mod n (extended Euclid; 0 < a < n). */
function invModN(a: bigint): bigint {
  let r0 = N;
  let r1 = a;
  let t0 = 0n;
  let t1 = 1n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return t0 < 0n ? t0 + N : t0;
}

export interface Match {
  /** Index of the record in the checked array. */
  readonly index: number;
  /** v1 read token for this client (32 bytes). */
  readonly readToken: Uint8Array;
}

/**
 * A batch checker bound to one node key.
 * @throws CldcbError bad_input for an invalid node key; unsupported without the native module.
 */
export function makeBatchRecognizer(nodePriv: Uint8Array, native: NativeSecp256k1 = loadNativeSecp256k1()) {
  const lib = native as NativeWithOutput;
  if (nodePriv.length !== 32 || !lib.privateKeyVerify(nodePriv)) throw new CldcbError('bad_input', 'node private key: not a valid secp256k1 secret key.');
  // Own copy, outside Buffer's shared pool (a pooled slice would sit among other allocations).
  const priv = Buffer.alloc(32);
  priv.set(nodePriv);
  const d = BigInt('0x' + priv.toString('hex'));
  const prefix = Buffer.from(SIGNED_MESSAGE_PREFIX + RECOGNITION_PREFIX, 'latin1');
  const msg = Buffer.alloc(prefix.length + 64);
  prefix.copy(msg);
  const ecdhOut = Buffer.alloc(32);
  const pubOut = Buffer.alloc(33);
  const num = new Array<bigint>(BATCH);
  const sv = new Array<bigint>(BATCH);
  const rv = new Array<bigint>(BATCH);
  const idx = new Array<number>(BATCH);
  let disposed = false;

  /**
   * Check records [from, to) of `records` (97 bytes each); write statuses[i] and call
   * onMatch for each of ours.
   */
  function check(records: Uint8Array, from: number, to: number, statuses: Uint8Array, onMatch: (m: Match) => void): void {
    if (disposed) throw new CldcbError('internal', 'recognizer used after dispose (a bug in CLDCB).');
    const buf = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(to, start + BATCH);
      let k = 0;
      for (let i = start; i < end; i++) {
        const o = i * RECOGNITION_RECORD_SIZE;
        const p0 = buf[o];
        if (p0 !== 2 && p0 !== 3) {
          statuses[i] = STATUS.invalid;
          continue;
        }
        const r = BigInt('0x' + buf.toString('hex', o + 33, o + 65));
        const s = BigInt('0x' + buf.toString('hex', o + 65, o + 97));
        if (r === 0n || s === 0n || r >= N || s >= N) {
          statuses[i] = STATUS.invalid;
          continue;
        }
        try {
          lib.ecdh(buf.subarray(o, o + 33), priv, {}, ecdhOut);
        } catch {
          statuses[i] = STATUS.invalid; // not a point on the curve
          continue;
        }
        msg.write(ecdhOut.toString('hex'), prefix.length, 'latin1');
        const z = BigInt('0x' + nodeHash('sha256', nodeHash('sha256', msg, 'buffer'), 'hex')) % N;
        num[k] = (z + r * d) % N;
        sv[k] = s;
        rv[k] = r;
        idx[k] = i;
        k++;
      }
      if (k === 0) continue;
      // Montgomery's trick: one inversion for the batch.
      const pre = new Array<bigint>(k);
      let acc = 1n;
      for (let j = 0; j < k; j++) {
        acc = (acc * sv[j]!) % N;
        pre[j] = acc;
      }
      let inv = invModN(acc);
      for (let j = k - 1; j >= 0; j--) {
        const sInv = j === 0 ? inv : (inv * pre[j - 1]!) % N;
        inv = (inv * sv[j]!) % N;
        const u = (num[j]! * sInv) % N;
        const i = idx[j]!;
        if (u === 0n) {
          statuses[i] = STATUS.notOurs;
          continue;
        }
        lib.publicKeyCreate(Buffer.from(u.toString(16).padStart(64, '0'), 'hex'), true, pubOut);
        let x = BigInt('0x' + pubOut.toString('hex', 1, 33));
        if (x >= N) x -= N;
        if (x === rv[j]) {
          statuses[i] = STATUS.ours;
          // Rare: recompute S for the read token rather than keep every record's.
          const o = i * RECOGNITION_RECORD_SIZE;
          lib.ecdh(buf.subarray(o, o + 33), priv, {}, ecdhOut);
          onMatch({ index: i, readToken: readToken(ecdhOut) });
        } else statuses[i] = STATUS.notOurs;
      }
      ecdhOut.fill(0);
    }
  }

  return {
    check,
    /** Forget the key copy (the BigInt copy cannot be wiped: drop the recognizer). */
    dispose(): void {
      priv.fill(0);
      disposed = true;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The worker job: one slice of the records

export interface RecognizeSliceInput {
  /** Node private key; the job zeroizes it when done (pass a copy when running inline). */
  readonly nodePriv: Uint8Array;
  /** n × 97-byte records (cid33 ‖ code64). */
  readonly records: Uint8Array;
  /** Global index of this slice's first record (for progress notes and matches). */
  readonly first: number;
}

export interface RecognizeSliceOutput {
  /** One STATUS per record. */
  readonly statuses: Uint8Array;
  /** Global indices and read tokens of ours. */
  readonly matches: { readonly index: number; readonly readToken: Uint8Array }[];
}

/** Progress note of a slice (JSON in `note`): cumulative for this slice. */
export interface RecognizeNote {
  readonly first: number;
  readonly checked: number;
  readonly ours: number[];
  readonly notOurs: number;
  readonly invalid: number;
}

export interface SliceContext {
  progress(done: number, total: number, note?: string): void;
  cancelled(): boolean;
}

/** Progress granularity (records). */
const STEP = 2048;

export function recognizeSliceJob(input: RecognizeSliceInput, ctx: SliceContext): RecognizeSliceOutput {
  const n = Math.floor(input.records.length / RECOGNITION_RECORD_SIZE);
  const statuses = new Uint8Array(n);
  const matches: { index: number; readToken: Uint8Array }[] = [];
  const rec = makeBatchRecognizer(input.nodePriv);
  let notOurs = 0;
  let invalid = 0;
  try {
    for (let from = 0; from < n; from += STEP) {
      if (ctx.cancelled()) throw new CldcbError('cancelled', 'Cancelled.');
      const to = Math.min(n, from + STEP);
      rec.check(input.records, from, to, statuses, (m) => matches.push({ index: input.first + m.index, readToken: m.readToken }));
      for (let i = from; i < to; i++) {
        if (statuses[i] === STATUS.notOurs) notOurs++;
        else if (statuses[i] === STATUS.invalid) invalid++;
      }
      const noteData: RecognizeNote = { first: input.first, checked: to, ours: matches.map((m) => m.index), notOurs, invalid };
      ctx.progress(to, n, JSON.stringify(noteData));
    }
    matches.sort((a, b) => a.index - b.index);
    return { statuses, matches };
  } finally {
    rec.dispose();
    input.nodePriv.fill(0);
  }
}
