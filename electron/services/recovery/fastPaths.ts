/**
 * Throughput helpers for the two passes (archiveScan.ts, replay.ts), measured in
 * scripts/bench/recover.bench.ts:
 *
 * - `StreamOpener`: opens one sealed stream (cldcb-protocol §5) exactly like
 *   shared/cldcb/seal.ts `Unsealer` with a known sender, using only libsecp256k1 and
 *   node:crypto. The shared Unsealer validates points with the pure-JS noble library
 *   (~110 µs per point, three times per stream: sender, E, and inside the ECDH backend),
 *   which made every small increment cost ~0.4 ms — more than replaying it. Here the sender
 *   is validated once per archive by the caller, E is validated by libsecp256k1's own parse
 *   inside the ECDH (an invalid E throws), and the header signature is checked with
 *   libsecp256k1 (normalised to low-S first, as the original). Same checks, same order,
 *   same CldcbError('not_authentic') messages (test/node/recover-fastpaths.test.ts).
 * - `openingAead`: electron/services/nativeSeal.ts's node:crypto ChaCha20-Poly1305, minus
 *   the final copy of every plaintext (nativeSeal copies into a fresh Uint8Array; here the
 *   decipher's own output buffer is returned as a plain Uint8Array view). Same bytes, same
 *   tag check, unauthenticated output still wiped.
 * - `SnapshotHasher`: the v1 chain needs SHA-256 of the whole snapshot (docs/PROTOCOL.md §3).
 *   With SHA-NI, SHA-256 runs at about the speed of ChaCha20-Poly1305, so hashing inline
 *   halves the unseal rate. Large snapshots are hashed on a second core instead: plaintext
 *   chunks are transferred (not copied) to a small worker thread, at most 32 MiB in flight,
 *   and the digest is fetched synchronously at the end (Atomics.wait + receiveMessageOnPort),
 *   so the synchronous scan loop stays synchronous.
 */
import { createDecipheriv, createHash, hash as nodeHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CldcbError } from '../../../shared/errors';
import {
  BOX_AD,
  BOX_HEADER_SIZE,
  BOX_TAG_SIZE,
  boxNonce,
  CONTINUED_AD,
  CONTINUED_HEADER_SIZE,
  CONTINUED_VERSION,
  continuedIndex,
  type BoxAead,
} from '../../../shared/cldcb/seal';
import { loadNativeSecp256k1, nativeBoxAead, type NativeSecp256k1 } from '../nativeSeal';

/** node:crypto ChaCha20-Poly1305 (IETF) opening without an extra copy. Sealing = nativeBoxAead. */
export const openingAead: BoxAead = {
  name: 'node-open',
  seal: nativeBoxAead.seal,
  open(key, nonce, ad, sealed) {
    if (key.length !== 32 || nonce.length !== 12) return nativeBoxAead.open(key, nonce, ad, sealed); // throws the usual errors
    if (sealed.length < BOX_TAG_SIZE) return null;
    const ctLen = sealed.length - BOX_TAG_SIZE;
    // node:crypto takes any ArrayBufferView: no Buffer wrappers (this runs per chunk).
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: BOX_TAG_SIZE });
    d.setAuthTag(sealed.subarray(ctLen));
    d.setAAD(ad, { plaintextLength: ctLen });
    const body = d.update(sealed.subarray(0, ctLen));
    try {
      d.final(); // throws when the tag does not verify; ChaCha20 has no final block
    } catch {
      body.fill(0);
      return null;
    }
    // A plain Uint8Array view: its slice() copies (Buffer's would not).
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  },
};

/** Snapshots below this are hashed inline (a worker costs ~20 ms to start). */
export const PARALLEL_HASH_MIN = 16 << 20;
const MAX_IN_FLIGHT = 512; // chunks (~32 MiB)

const HASHER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { port, sab } = workerData;
const state = new Int32Array(sab);
const h = createHash('sha256');
port.on('message', (m) => {
  if (m === null) {
    port.postMessage(h.digest());
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
    port.close();
    return;
  }
  h.update(m);
  Atomics.add(state, 1, 1);
  Atomics.notify(state, 1);
});
`;

/** SHA-256 of a stream of chunks, inline or on another thread. */
export class SnapshotHasher {
  private inline = createHash('sha256');
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private state: Int32Array | undefined;
  private posted = 0;
  private bytes = 0;

  /** @param expectedBytes a size hint: large snapshots get a hashing thread. */
  constructor(expectedBytes: number) {
    if (expectedBytes < PARALLEL_HASH_MIN) return;
    try {
      const { port1, port2 } = new MessageChannel();
      const sab = new SharedArrayBuffer(8);
      this.worker = new Worker(HASHER_SOURCE, { eval: true, workerData: { port: port2, sab }, transferList: [port2] });
      this.worker.unref();
      this.port = port1;
      this.state = new Int32Array(sab);
    } catch {
      this.worker = undefined; // no threads here: hash inline
    }
  }

  /** Add a chunk. Takes ownership of `chunk` (it may be transferred to the hashing thread). */
  update(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (!this.worker) {
      this.inline.update(chunk);
      return;
    }
    while (this.posted - Atomics.load(this.state!, 1) >= MAX_IN_FLIGHT) Atomics.wait(this.state!, 1, Atomics.load(this.state!, 1), 1000);
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
    const c = own ? chunk : new Uint8Array(chunk);
    this.port!.postMessage(c, [c.buffer as ArrayBuffer]);
    this.posted++;
  }

  get size(): number {
    return this.bytes;
  }

  /** The digest (32 bytes). @throws CldcbError internal if the hashing thread died. */
  digest(): Uint8Array {
    if (!this.worker) return new Uint8Array(this.inline.digest());
    this.port!.postMessage(null);
    const deadline = Date.now() + 600_000;
    while (Atomics.load(this.state!, 0) === 0) {
      if (Date.now() > deadline) throw new CldcbError('internal', 'The snapshot hashing thread stopped answering (a bug in CLDCB).');
      Atomics.wait(this.state!, 0, 0, 1000);
    }
    const m = receiveMessageOnPort(this.port!);
    this.dispose();
    if (!m) throw new CldcbError('internal', 'The snapshot hashing thread gave no digest (a bug in CLDCB).');
    const d = m.message as Uint8Array;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  }

  dispose(): void {
    this.port?.close();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * Opens one sealed stream from a known sender (cldcb-protocol §5): message 0 is
 * E(33) ‖ sig(64) ‖ AEAD, the signature by the sender over SHA256(E), the key
 * SHA256(compressed(node_priv · E)); message i uses nonce i.
 */
export class StreamOpener {
  private key: Uint8Array | undefined;
  private counter = 0;
  private readonly lib: NativeSecp256k1;
  /** boxNonce(n), written in place (node:crypto copies the IV): one allocation less per chunk. */
  private readonly nonceBuf = new Uint8Array(12);
  private nonce(n: number): Uint8Array {
    const b = this.nonceBuf;
    b[0] = n & 0xff;
    b[1] = (n >>> 8) & 0xff;
    b[2] = (n >>> 16) & 0xff;
    b[3] = (n >>> 24) & 0xff;
    const hi = Math.floor(n / 2 ** 32);
    b[4] = hi & 0xff;
    b[5] = (hi >>> 8) & 0xff;
    b[6] = (hi >>> 16) & 0xff;
    b[7] = (hi >>> 24) & 0xff;
    return b;
  }

  /**
   * @param nodePriv node private key (kept by reference until the first message is opened).
   * @param sender the client key (33 bytes, 02/03), validated once by the caller.
   */
  constructor(
    private nodePriv: Uint8Array | undefined,
    private readonly sender: Uint8Array,
    private what: string,
    private readonly aead: BoxAead = openingAead,
    native: NativeSecp256k1 = loadNativeSecp256k1(),
  ) {
    this.lib = native;
  }

  /**
   * A stream whose key was already derived (and its header signature checked) — by
   * `deriveStreamKeys` or an earlier pass. Message 0's E ‖ sig are skipped; its AEAD part
   * must still verify with this key, so changed data is still refused.
   */
  static withKey(key: Uint8Array, what: string, aead: BoxAead = openingAead): StreamOpener {
    const s = new StreamOpener(undefined, new Uint8Array(33), what, aead);
    s.known = key;
    return s;
  }

  private known: Uint8Array | undefined;

  get count(): number {
    return this.counter;
  }

  /** The stream key once message 0 is open (for a later pass). */
  get streamKey(): Uint8Array | undefined {
    return this.key;
  }

  private fail(reason: string): never {
    throw new CldcbError('not_authentic', `${this.what}, message ${this.counter}: ${reason}`);
  }

  /** @throws CldcbError not_authentic for anything that does not verify. */
  open(chunk: Uint8Array): Uint8Array {
    if (this.counter === 0 && this.known) {
      if (chunk.length < BOX_HEADER_SIZE + BOX_TAG_SIZE)
        this.fail(`${chunk.length} bytes, too short for a first box message (at least ${BOX_HEADER_SIZE + BOX_TAG_SIZE}).`);
      const pt = this.aead.open(this.known, boxNonce(0), BOX_AD, chunk.subarray(BOX_HEADER_SIZE));
      if (pt === null) this.fail('the authentication tag does not verify (the archive changed while it was being read, or the data was altered).');
      this.key = this.known;
      this.known = undefined;
      this.counter = 1;
      return pt;
    }
    if (this.counter === 0) {
      if (chunk[0] === CONTINUED_VERSION) this.fail('it continues an earlier sealed stream (extension v1), but no stream was started before it.');
      if (chunk.length < BOX_HEADER_SIZE + BOX_TAG_SIZE)
        this.fail(`${chunk.length} bytes, too short for a first box message (at least ${BOX_HEADER_SIZE + BOX_TAG_SIZE}).`);
      if (chunk[0] !== 0x02 && chunk[0] !== 0x03) this.fail(`unknown box version byte 0x${chunk[0]!.toString(16).padStart(2, '0')} (expected 02 or 03).`);
      const e = chunk.subarray(0, 33);
      if (!this.lib.publicKeyVerify(e)) this.fail('the ephemeral key is not a valid curve point.');
      let ok: boolean;
      try {
        const sig = this.lib.signatureNormalize(chunk.slice(33, BOX_HEADER_SIZE));
        ok = this.lib.ecdsaVerify(sig, nodeHash('sha256', e, 'buffer'), this.sender);
      } catch {
        ok = false; // r or s out of range
      }
      if (!ok) this.fail('the header signature does not verify for the expected client key (wrong client, or the data was altered).');
      if (this.nodePriv === undefined) this.fail('no receiver key (a bug in CLDCB).');
      let key: Uint8Array;
      try {
        key = new Uint8Array(this.lib.ecdh(e, this.nodePriv));
      } catch {
        this.fail('the ephemeral key is not usable.');
      }
      const pt = this.aead.open(key, boxNonce(0), BOX_AD, chunk.subarray(BOX_HEADER_SIZE));
      if (pt === null) {
        key.fill(0);
        this.fail('the authentication tag does not verify (wrong node key, or the data was altered).');
      }
      this.key = key;
      this.nodePriv = undefined;
      this.counter = 1;
      return pt;
    }
    if (this.key === undefined) this.fail('the stream was disposed.');
    if (chunk.length < BOX_TAG_SIZE) this.fail(`${chunk.length} bytes, shorter than the 16-byte tag.`);
    const pt = this.aead.open(this.key, this.nonce(this.counter), BOX_AD, chunk);
    if (pt === null) this.fail('the authentication tag does not verify (the data was altered, reordered or cut).');
    this.counter++;
    return pt;
  }

  /**
   * Open a continued message (extension v1, shared/cldcb/seal.ts): the start of a further
   * increment in this stream, `01 ‖ u64 n ‖ AEAD(n, "CLDCB 01", pt)`. Same rules and
   * messages as `Unsealer.unsealContinued`: the stream must be open (or its key known) and
   * the index must not go back.
   * @param what names the increment in error messages from here on.
   * @throws CldcbError not_authentic
   */
  openContinued(chunk: Uint8Array, what?: string): Uint8Array {
    if (what !== undefined) this.what = what;
    if (this.key === undefined && this.known) {
      this.key = this.known;
      this.known = undefined;
    }
    if (this.key === undefined)
      this.fail('it continues a sealed stream that was not opened before it (the increment that started the stream is missing, or the data was altered).');
    if (chunk.length < CONTINUED_HEADER_SIZE + BOX_TAG_SIZE || chunk[0] !== CONTINUED_VERSION)
      this.fail(`not a continued message (${chunk.length} bytes${chunk.length > 0 ? `, first byte 0x${chunk[0]!.toString(16).padStart(2, '0')}` : ''}).`);
    const n = continuedIndex(chunk);
    if (n === null || n < this.counter)
      this.fail(`it names stream message ${n ?? 'beyond 2^53'}, but the stream is already at message ${this.counter} (reordered or repeated data).`);
    const pt = this.aead.open(this.key, this.nonce(n), CONTINUED_AD, chunk.subarray(CONTINUED_HEADER_SIZE));
    if (pt === null) this.fail('the authentication tag does not verify (the data was altered, reordered or cut).');
    this.counter = n + 1;
    return pt;
  }

  dispose(): void {
    this.key?.fill(0);
    this.key = undefined;
    this.known?.fill(0);
    this.known = undefined;
    this.nodePriv = undefined;
  }
}

/**
 * The sealed streams of one archive's increments, in archive order. An increment either
 * starts its own stream (E ‖ sig, as the original plugin always does) or, with extension
 * v1, continues the stream the latest stream-starting increment before it began
 * (shared/cldcb/seal.ts "continued streams"). Opening goes through here so every reader
 * (pass 1, pass 2, the pipelined feeder) applies the same rule.
 */
export class IncrementStreams {
  private current: StreamOpener | undefined;

  /**
   * @param nodePriv node private key (by reference; the caller zeroizes it afterwards).
   * @param sender the client key (33 bytes), validated by the caller.
   * @param keyAt a stream key an earlier pass derived for increment i (its header already checked).
   */
  constructor(
    private readonly nodePriv: Uint8Array,
    private readonly sender: Uint8Array,
    private readonly aead: BoxAead = openingAead,
    private readonly keyAt?: (index: number) => Uint8Array | undefined,
  ) {}

  /**
   * Open chunk `chunkNo` (0-based) of increment `index`.
   * @throws CldcbError not_authentic
   */
  open(index: number, chunkNo: number, chunk: Uint8Array, what: string): Uint8Array {
    if (chunkNo > 0) return this.current!.open(chunk);
    if (chunk.length > 0 && chunk[0] === CONTINUED_VERSION) {
      // A key from an earlier pass (which checked the order) wins: a later pass may skip the
      // increment that started this stream (one a redo replaced).
      const known = this.keyAt?.(index);
      if (known) {
        this.current?.dispose();
        this.current = StreamOpener.withKey(known, what, this.aead);
      }
      this.current ??= new StreamOpener(undefined, this.sender, what, this.aead); // refuses: no stream started
      return this.current.openContinued(chunk, what);
    }
    this.current?.dispose();
    const known = this.keyAt?.(index);
    this.current = known ? StreamOpener.withKey(known, what, this.aead) : new StreamOpener(this.nodePriv, this.sender, what, this.aead);
    return this.current.open(chunk);
  }

  /** The key of the stream the last opened increment belongs to. */
  get streamKey(): Uint8Array | undefined {
    return this.current?.streamKey;
  }

  dispose(): void {
    this.current?.dispose();
    this.current = undefined;
  }
}
