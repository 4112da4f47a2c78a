/**
 * Bitcoin serialization for the fake regtest chain: transactions (legacy and BIP144 segwit),
 * block headers, merkle roots, coinbases (BIP34 height, BIP141 witness commitment) and
 * addresses (BIP173 bech32 for witness v0, BIP350 bech32m for v1+).
 *
 * Written by hand because no small, well-kept JS library parses *and* re-serializes
 * arbitrary transactions byte-for-byte the way a block needs them (lightningd's wallet
 * broadcasts segwit v0 and taproot transactions; the chain must include them exactly as
 * received and compute the same txid lightningd does). Facts: lightningd-rig.md §3.
 * Hashes come from @noble/hashes, bech32 from @scure/base.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m } from '@scure/base';
import { bytesToHex, concatBytes, hexToBytes, u32le, u64le } from '../../../shared/bytes';

export const sha256d = (b: Uint8Array): Uint8Array => sha256(sha256(b));

/** Display hex (bitcoind's convention): the 32 bytes reversed. */
export const displayHex = (hash: Uint8Array): string => bytesToHex(Uint8Array.from(hash).reverse());
export const fromDisplayHex = (hex: string, field: string): Uint8Array =>
  hexToBytes(hex, field, 32).reverse();

/** Bitcoin's CompactSize. */
export function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 255, n >>> 8);
  return concatBytes(Uint8Array.of(0xfe), u32le(n));
}
const varBytes = (b: Uint8Array): Uint8Array => concatBytes(compactSize(b.length), b);

/** Little-endian reader that names what it was reading when input ends early. */
class LeReader {
  off = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, field: string): void {
    if (this.off + n > this.bytes.length)
      throw new Error(`${this.what}: ends inside ${field} at byte ${this.off}`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.off++]!;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }
  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.off, true);
    this.off += 8;
    return v;
  }
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  compact(field: string): number {
    const first = this.u8(field);
    if (first < 0xfd) return first;
    if (first === 0xfd) return this.u8(field) | (this.u8(field) << 8);
    if (first === 0xfe) return this.u32(field);
    const big = this.u64(field);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.what}: ${field} is too large`);
    return Number(big);
  }
}

export interface TxIn {
  /** Previous txid, internal byte order. */
  readonly prevTxid: Uint8Array;
  readonly prevVout: number;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
  readonly witness: readonly Uint8Array[];
}
export interface TxOut {
  readonly value: bigint;
  readonly script: Uint8Array;
}
export interface Tx {
  readonly version: number;
  readonly inputs: readonly TxIn[];
  readonly outputs: readonly TxOut[];
  readonly locktime: number;
  /** The bytes exactly as received or built (segwit serialization iff some input has witness data). */
  readonly raw: Uint8Array;
  /** sha256d of the serialization without marker, flag and witnesses; internal byte order. */
  readonly txid: Uint8Array;
  /** sha256d of the full serialization (= txid without witness data). */
  readonly wtxid: Uint8Array;
}

/** Parse a whole transaction; throws naming the field when the bytes are malformed or have trailing data. */
export function parseTx(raw: Uint8Array, what = 'transaction'): Tx {
  const r = new LeReader(raw, what);
  const tx = readTx(r);
  if (r.off !== raw.length) throw new Error(`${what}: ${raw.length - r.off} bytes after the transaction`);
  return tx;
}

function readTx(r: LeReader): Tx {
  const start = r.off;
  const version = r.u32('version') | 0;
  let segwit = false;
  if (r.bytes[r.off] === 0x00) {
    r.u8('marker');
    if (r.u8('flag') !== 0x01) throw new Error('segwit flag is not 1');
    segwit = true;
  }
  const bodyStart = r.off;
  const nIn = r.compact('input count');
  const ins: { prevTxid: Uint8Array; prevVout: number; scriptSig: Uint8Array; sequence: number }[] = [];
  for (let i = 0; i < nIn; i++) {
    const prevTxid = r.take(32, `input ${i} txid`);
    const prevVout = r.u32(`input ${i} vout`);
    const scriptSig = r.take(r.compact(`input ${i} script length`), `input ${i} script`);
    const sequence = r.u32(`input ${i} sequence`);
    ins.push({ prevTxid, prevVout, scriptSig, sequence });
  }
  const nOut = r.compact('output count');
  const outputs: TxOut[] = [];
  for (let i = 0; i < nOut; i++) {
    const value = r.u64(`output ${i} value`);
    outputs.push({ value, script: r.take(r.compact(`output ${i} script length`), `output ${i} script`) });
  }
  const bodyEnd = r.off;
  const witnesses: Uint8Array[][] = ins.map(() => []);
  if (segwit) {
    for (let i = 0; i < nIn; i++) {
      const n = r.compact(`input ${i} witness count`);
      for (let j = 0; j < n; j++)
        witnesses[i]!.push(r.take(r.compact(`input ${i} witness ${j} length`), `input ${i} witness ${j}`));
    }
  }
  const locktime = r.u32('locktime');
  const raw = r.bytes.slice(start, r.off);
  const stripped = segwit
    ? concatBytes(raw.subarray(0, 4), r.bytes.subarray(bodyStart, bodyEnd), raw.subarray(raw.length - 4))
    : raw;
  const txid = sha256d(stripped);
  return {
    version,
    inputs: ins.map((x, i) => ({ ...x, witness: witnesses[i]! })),
    outputs,
    locktime,
    raw,
    txid,
    wtxid: segwit ? sha256d(raw) : txid,
  };
}

/** Serialize; segwit serialization only when some input carries witness data (rig §3). */
export function buildTx(t: {
  version: number;
  inputs: readonly TxIn[];
  outputs: readonly TxOut[];
  locktime: number;
}): Tx {
  const segwit = t.inputs.some((i) => i.witness.length > 0);
  const parts: Uint8Array[] = [u32le(t.version)];
  if (segwit) parts.push(Uint8Array.of(0x00, 0x01));
  parts.push(compactSize(t.inputs.length));
  for (const i of t.inputs)
    parts.push(i.prevTxid, u32le(i.prevVout), varBytes(i.scriptSig), u32le(i.sequence));
  parts.push(compactSize(t.outputs.length));
  for (const o of t.outputs) parts.push(u64le(o.value), varBytes(o.script));
  if (segwit) for (const i of t.inputs) parts.push(compactSize(i.witness.length), ...i.witness.map(varBytes));
  parts.push(u32le(t.locktime));
  return parseTx(concatBytes(...parts), 'built transaction');
}

/** Merkle root over hashes in internal byte order: pair, sha256d, duplicate the last of an odd layer. */
export function merkleRoot(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) throw new Error('merkle root of nothing');
  let layer = [...hashes];
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2)
      next.push(sha256d(concatBytes(layer[i]!, layer[i + 1] ?? layer[i]!)));
    layer = next;
  }
  return layer[0]!;
}

/** Script number push as Bitcoin Core's `CScript() << n` (BIP34 height in the coinbase). */
export function scriptNum(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(0x00);
  if (n >= 1 && n <= 16) return Uint8Array.of(0x50 + n);
  const bytes: number[] = [];
  let v = n;
  while (v > 0) {
    bytes.push(v & 0xff);
    v = Math.floor(v / 256);
  }
  if (bytes[bytes.length - 1]! & 0x80) bytes.push(0);
  return Uint8Array.of(bytes.length, ...bytes);
}

export const COIN = 100_000_000n;
/** Regtest halving interval (Bitcoin Core chainparams, regtest: nSubsidyHalvingInterval = 150). */
export const HALVING_INTERVAL = 150;
export const subsidy = (height: number): bigint =>
  (50n * COIN) >> BigInt(Math.floor(height / HALVING_INTERVAL));

const WITNESS_RESERVED = new Uint8Array(32);

/**
 * The coinbase of block `height`: BIP34 height push plus one 0x00 byte (scriptSig ≥ 2 bytes,
 * and coinbase txids never repeat), paying `value` to `script`, with the BIP141 witness
 * commitment over `wtxids` (the coinbase's own wtxid taken as zero).
 */
export function coinbaseTx(
  height: number,
  script: Uint8Array,
  value: bigint,
  otherWtxids: readonly Uint8Array[],
): Tx {
  const witnessRoot = merkleRoot([new Uint8Array(32), ...otherWtxids]);
  const commitment = concatBytes(
    hexToBytes('6a24aa21a9ed'),
    sha256d(concatBytes(witnessRoot, WITNESS_RESERVED)),
  );
  return buildTx({
    version: 2,
    inputs: [
      {
        prevTxid: new Uint8Array(32),
        prevVout: 0xffffffff,
        scriptSig: concatBytes(scriptNum(height), Uint8Array.of(0x00)),
        sequence: 0xffffffff,
        witness: [WITNESS_RESERVED],
      },
    ],
    outputs: [
      { value, script },
      { value: 0n, script: commitment },
    ],
    locktime: 0,
  });
}

export const REGTEST_BITS = 0x207fffff;

/** 80-byte header. */
export function header(h: {
  version: number;
  prev: Uint8Array;
  merkle: Uint8Array;
  time: number;
  bits: number;
  nonce: number;
}): Uint8Array {
  return concatBytes(u32le(h.version), h.prev, h.merkle, u32le(h.time), u32le(h.bits), u32le(h.nonce));
}

/** True when sha256d(header), read as a little-endian number, is at most the target of `bits`. */
export function meetsTarget(hash: Uint8Array, bits: number): boolean {
  const exp = bits >>> 24;
  const mant = BigInt(bits & 0x7fffff);
  const target = exp <= 3 ? mant >> BigInt(8 * (3 - exp)) : mant << BigInt(8 * (exp - 3));
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(hash[i]!);
  return v <= target;
}

/** The regtest genesis block (rig §3): header and full block bytes, hash 0f9188f1…2206. */
export const REGTEST_GENESIS_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4adae5494dffff7f2002000000' +
  '01' +
  '01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000';
export const REGTEST_GENESIS_HASH = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

/** A parsed block: header fields and transactions. */
export interface Block {
  readonly raw: Uint8Array;
  /** sha256d(header), internal order. */
  readonly hash: Uint8Array;
  readonly prev: Uint8Array;
  readonly merkle: Uint8Array;
  readonly time: number;
  readonly txs: readonly Tx[];
}

/** Parse a whole block (header ‖ CompactSize ‖ txs, nothing left over), as lightningd does. */
export function parseBlock(raw: Uint8Array): Block {
  const r = new LeReader(raw, 'block');
  const head = r.take(80, 'header');
  const n = r.compact('transaction count');
  const txs: Tx[] = [];
  for (let i = 0; i < n; i++) txs.push(readTx(r));
  if (r.off !== raw.length) throw new Error(`block: ${raw.length - r.off} bytes after the last transaction`);
  const view = new DataView(head.buffer, head.byteOffset, 80);
  return {
    raw,
    hash: sha256d(head),
    prev: head.slice(4, 36),
    merkle: head.slice(36, 68),
    time: view.getUint32(68, true),
    txs,
  };
}

const HRP = 'bcrt';

/** scriptPubKey of a regtest segwit address: bech32 for v0 (P2WPKH/P2WSH), bech32m for v1+ (P2TR). */
export function addressToScript(address: string): Uint8Array {
  const lower = address.toLowerCase();
  if (!lower.startsWith(`${HRP}1`))
    throw new Error(`${address}: not a regtest segwit address (expected ${HRP}1…)`);
  let decoded: { prefix: string; words: number[] };
  let version: number;
  try {
    decoded = bech32.decode(lower as `${string}1${string}`, 90);
    version = decoded.words[0]!;
    if (version !== 0) throw new Error(`witness v${version} must use bech32m (BIP350)`);
  } catch {
    decoded = bech32m.decode(lower as `${string}1${string}`, 90);
    version = decoded.words[0]!;
    if (version === 0) throw new Error(`${address}: witness v0 must use bech32 (BIP173), not bech32m`);
  }
  const program = bech32.fromWords(decoded.words.slice(1));
  if (version === 0 && program.length !== 20 && program.length !== 32)
    throw new Error(`${address}: v0 program must be 20 or 32 bytes`);
  if (version > 16 || program.length < 2 || program.length > 40)
    throw new Error(`${address}: bad witness program`);
  return Uint8Array.of(version === 0 ? 0x00 : 0x50 + version, program.length, ...program);
}

/** P2WSH of the script `OP_TRUE`: anyone can spend it with the witness [0x51]. The chain's faucet. */
export const OP_TRUE_SCRIPT = Uint8Array.of(0x51);
export const P2WSH_OP_TRUE = concatBytes(Uint8Array.of(0x00, 0x20), sha256(OP_TRUE_SCRIPT));
