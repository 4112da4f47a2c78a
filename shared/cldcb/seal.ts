/**
 * The sealed box (cldcb-protocol §5; original `common/Crypto/Box/Sealer.cpp`, `Unsealer.cpp`,
 * `Detail/Nonce.hpp`).
 *
 * A stream is made by one Sealer(sender = client privkey, receiver = node pubkey):
 *   K      = SHA256(compressed(e · NODE_PUB))                  (no HKDF)
 *   msg 0  = E(33, compressed e·G) ‖ sig(64) ‖ AEAD_K(n=0, pt0)  sig = ECDSA(client, SHA256(E))
 *   msg i  = AEAD_K(n=i, pt_i)
 * AEAD = ChaCha20-Poly1305 IETF, AD = the 8 ASCII bytes "CLDCB 00" (43 4c 44 43 42 20 30 30,
 * `(unsigned char const*) "CLDCB 00", 8` in the original), nonce = 12-byte little-endian
 * counter starting at 0. E's first byte (02/03) doubles as the format version.
 *
 * Each sealed message is one chunk (68/52) and one archive chunk, so chunk boundaries are
 * message boundaries. There is no end-of-stream marker (§5, §8.3).
 *
 * Extension v1, continued streams (docs/PROTOCOL.md §3): an increment may continue the
 * stream an earlier increment of the same archive started, instead of starting its own —
 * so a recovering client does one ECDH and one signature check per stream, not per
 * db_write (that public-key work, ~0.1 ms, cost more than replaying a typical increment).
 *   continued msg n = 01 ‖ u64 n (big-endian) ‖ AEAD_K(nonce n, AD "CLDCB 01", pt)
 * followed, when the increment needs more chunks, by ordinary messages n+1, n+2, ….
 * 0x01 cannot start a stream (E starts 02/03). The distinct AD makes "this message starts
 * an increment" authentic: a server cannot promote a middle piece to an increment's start
 * or demote a start. Only the stream's creator (who knows e) and the node key holder can
 * compute K, so an opened continued message comes from whoever signed E: the client.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import * as secp from '@noble/secp256k1';
import { concatBytes, utf8, zeroize } from '../bytes';
import { sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';
import { nobleSecp, type SecpBackend } from './curve';
import { checkPubkey } from './ids';

/** Associated data of every box message: "CLDCB 00". */
export const BOX_AD: Uint8Array = utf8('CLDCB 00');
export const BOX_TAG_SIZE = 16;
/** E(33) ‖ sig(64) before the first AEAD message. */
export const BOX_HEADER_SIZE = 33 + 64;
/** First byte of a continued message (extension v1). */
export const CONTINUED_VERSION = 0x01;
/** 01 ‖ u64 message index, before the AEAD output of a continued message. */
export const CONTINUED_HEADER_SIZE = 9;
/** Associated data of a continued message (the first message of a continuing increment). */
export const CONTINUED_AD: Uint8Array = utf8('CLDCB 01');

/** Does this chunk start an increment that continues an earlier stream (extension v1)? */
export function isContinuedMessage(chunk: Uint8Array): boolean {
  return chunk.length > 0 && chunk[0] === CONTINUED_VERSION;
}

/** The message index a continued message names (big-endian u64; null when it is not a safe integer). */
export function continuedIndex(chunk: Uint8Array): number | null {
  if (chunk.length < CONTINUED_HEADER_SIZE) return null;
  const v = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const hi = v.getUint32(1, false);
  const lo = v.getUint32(5, false);
  const n = hi * 2 ** 32 + lo;
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * ChaCha20-Poly1305 IETF with ciphertext and tag kept together as `ct ‖ tag`. Same shape
 * as the Noise layer's AEAD, so either implementation can be injected here.
 */
export interface BoxAead {
  readonly name: string;
  /** @returns ct ‖ tag (plaintext.length + 16 bytes). */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** @returns the plaintext, or null when the tag does not verify. */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

/** Pure-JS AEAD (@noble/ciphers): the default, runs in the browser. */
export const nobleBoxAead: BoxAead = {
  name: 'noble',
  seal(key, nonce, ad, plaintext) {
    return chacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  open(key, nonce, ad, sealed) {
    if (sealed.length < BOX_TAG_SIZE) return null;
    try {
      return chacha20poly1305(key, nonce, ad).decrypt(sealed);
    } catch {
      return null;
    }
  },
};

/** The primitives a box needs; Node code injects native ones (shared/node/nativeSeal.ts). */
export interface BoxCrypto {
  readonly aead: BoxAead;
  readonly secp: SecpBackend;
}

export const nobleBoxCrypto: BoxCrypto = { aead: nobleBoxAead, secp: nobleSecp };

/**
 * 12-byte little-endian counter nonce (`Detail/Nonce.hpp`).
 * @throws CldcbError internal when `n` is not a safe non-negative integer.
 */
export function boxNonce(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new CldcbError('internal', 'sealed box nonce out of range (a bug in CLDCB).');
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setUint32(0, n >>> 0, true);
  v.setUint32(4, Math.floor(n / 2 ** 32), true);
  return out;
}

export interface SealerOptions {
  /** Ephemeral private key (tests only); default a fresh random key. Not zeroized by the Sealer. */
  readonly ephemeral?: Uint8Array;
  readonly crypto?: Partial<BoxCrypto>;
}

/** Seals one stream of messages from a client to a node (§5). */
export class Sealer {
  /** E: the 33-byte ephemeral public key that starts the first message. */
  readonly ephemeralPublicKey: Uint8Array;
  private readonly header: Uint8Array;
  private readonly key: Uint8Array;
  private readonly aead: BoxAead;
  private counter = 0;
  private disposed = false;

  /**
   * @param senderPriv client private key (used here to sign H(E); not retained).
   * @param receiverPub node id (33-byte compressed).
   * @throws CldcbError bad_input for invalid keys.
   */
  constructor(senderPriv: Uint8Array, receiverPub: Uint8Array, opts: SealerOptions = {}) {
    const s = opts.crypto?.secp ?? nobleSecp;
    this.aead = opts.crypto?.aead ?? nobleBoxAead;
    checkPubkey(receiverPub, 'node id');
    const eph = opts.ephemeral ?? secp.utils.randomSecretKey();
    try {
      this.ephemeralPublicKey = s.publicKey(eph);
      this.key = s.ecdhHash(eph, receiverPub);
    } finally {
      if (opts.ephemeral === undefined) zeroize(eph);
    }
    const sig = s.signHash(sha256(this.ephemeralPublicKey), senderPriv);
    this.header = concatBytes(this.ephemeralPublicKey, sig);
  }

  /** Number of messages sealed so far. */
  get count(): number {
    return this.counter;
  }

  /**
   * Seal the next message: the first carries E ‖ sig before the AEAD output.
   * @throws CldcbError internal when used after dispose().
   */
  seal(plaintext: Uint8Array): Uint8Array {
    if (this.disposed) throw new CldcbError('internal', 'Sealer used after dispose (a bug in CLDCB).');
    const ct = this.aead.seal(this.key, boxNonce(this.counter), BOX_AD, plaintext);
    const out = this.counter === 0 ? concatBytes(this.header, ct) : ct;
    this.counter++;
    return out;
  }

  /**
   * Seal the next message as a continued message (extension v1): the start of a further
   * increment in this stream, `01 ‖ u64 n ‖ AEAD(n, "CLDCB 01", pt)`. The stream must
   * have been started (message 0, with E ‖ sig, sealed) and its start stored by the server.
   * @throws CldcbError internal before message 0 or after dispose().
   */
  sealContinued(plaintext: Uint8Array): Uint8Array {
    if (this.disposed || this.counter === 0) throw new CldcbError('internal', 'Continued message on a stream that was not started (a bug in CLDCB).');
    const head = new Uint8Array(CONTINUED_HEADER_SIZE);
    head[0] = CONTINUED_VERSION;
    const v = new DataView(head.buffer);
    v.setUint32(1, Math.floor(this.counter / 2 ** 32), false);
    v.setUint32(5, this.counter >>> 0, false);
    const ct = this.aead.seal(this.key, boxNonce(this.counter), CONTINUED_AD, plaintext);
    this.counter++;
    return concatBytes(head, ct);
  }

  /** Forget the stream key. */
  dispose(): void {
    zeroize(this.key);
    this.disposed = true;
  }
}

export interface UnsealerOptions {
  /**
   * The expected sender (client key, 33 bytes). When given, the first message's signature
   * must verify against it. When omitted, the signature is only checked for form; call
   * {@link Unsealer.signedBy} once the sender is known (e.g. from a reupload's cpk).
   */
  readonly sender?: Uint8Array;
  readonly crypto?: Partial<BoxCrypto>;
  /** Names the stream in error messages, e.g. "increment dv 7". */
  readonly what?: string;
}

const NONCE_SCRATCH = new Uint8Array(12);

/** IncrementStreams checks its sender once, not per stream (module-private: nobody else can skip the check). */
const SENDER_CHECKED = Symbol('sender checked');

/**
 * Opens one stream, in order (§5), and continued messages of it (extension v1). The one
 * opener: the recovery's readers, the probe, the plugin's tests and the benchmarks all use
 * it; with the native backend (shared/node/nativeSeal.ts) every point check, ECDH and
 * signature check is libsecp256k1's, so opening a stream costs what the primitives cost.
 * Hostile input only ever yields CldcbError('not_authentic').
 */
export class Unsealer {
  private readonly secp: SecpBackend;
  private readonly aead: BoxAead;
  private readonly sender: Uint8Array | undefined;
  private what: string;
  private key: Uint8Array | undefined;
  /** A key derived earlier ({@link Unsealer.withKey}): message 0's E ‖ sig are not checked again. */
  private known: Uint8Array | undefined;
  private ephemeral: Uint8Array | undefined;
  private signature: Uint8Array | undefined;
  private counter = 0;

  /**
   * @param receiverPriv node private key (kept by reference until the first message is opened).
   * @throws CldcbError bad_input / bad_length when `sender` is given but is not a valid key.
   */
  constructor(
    private receiverPriv: Uint8Array | undefined,
    opts: UnsealerOptions & { readonly [SENDER_CHECKED]?: true } = {},
  ) {
    this.secp = opts.crypto?.secp ?? nobleSecp;
    this.aead = opts.crypto?.aead ?? nobleBoxAead;
    if (opts.sender !== undefined && opts[SENDER_CHECKED] !== true) {
      const k = opts.sender;
      if (k.length !== 33) throw new CldcbError('bad_length', `expected sender: expected 33 bytes, got ${k.length}.`);
      if (!this.secp.isValidPoint(k)) throw new CldcbError('bad_input', 'expected sender: not a compressed point (02/03) on the secp256k1 curve.');
    }
    this.sender = opts.sender;
    this.what = opts.what ?? 'sealed stream';
  }

  /**
   * A stream whose key an earlier pass derived (and whose header signature it checked):
   * message 0's E ‖ sig are skipped, but its AEAD part must still verify with this key, so
   * changed data is still refused. Takes ownership of `key` (zeroized by dispose()).
   */
  static withKey(key: Uint8Array, opts: Omit<UnsealerOptions, 'sender'> = {}): Unsealer {
    const u = new Unsealer(undefined, opts);
    u.known = key;
    return u;
  }

  /** Number of messages opened so far. */
  get count(): number {
    return this.counter;
  }

  /** The stream key once message 0 is open (for a later pass; owned by this Unsealer). */
  get streamKey(): Uint8Array | undefined {
    return this.key;
  }

  private fail(reason: string): never {
    throw new CldcbError('not_authentic', `${this.what}, message ${this.counter}: ${reason}`);
  }

  /**
   * boxNonce(n) written into one scratch buffer shared by every Unsealer: no allocation per
   * chunk. Safe because the AEADs take the nonce synchronously (node:crypto copies it, noble
   * uses it before returning) and nothing runs in between.
   */
  private nonce(n: number): Uint8Array {
    const b = NONCE_SCRATCH;
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
   * Open the next message.
   * @throws CldcbError not_authentic (never anything else for bad input) when the header,
   *   signature or tag does not verify; the stream position does not advance.
   */
  unseal(chunk: Uint8Array): Uint8Array {
    if (!(chunk instanceof Uint8Array)) this.fail('not bytes.');
    if (this.counter > 0) {
      if (this.key === undefined) this.fail('the stream was disposed.');
      if (chunk.length < BOX_TAG_SIZE) this.fail(`${chunk.length} bytes, shorter than the 16-byte tag.`);
      const pt = this.aead.open(this.key, this.nonce(this.counter), BOX_AD, chunk);
      if (pt === null) this.fail('the authentication tag does not verify (the data was altered, reordered or cut).');
      this.counter++;
      return pt;
    }
    if (this.known !== undefined) {
      if (chunk.length < BOX_HEADER_SIZE + BOX_TAG_SIZE)
        this.fail(`${chunk.length} bytes, too short for a first box message (at least ${BOX_HEADER_SIZE + BOX_TAG_SIZE}).`);
      const pt = this.aead.open(this.known, this.nonce(0), BOX_AD, chunk.subarray(BOX_HEADER_SIZE));
      if (pt === null) this.fail('the authentication tag does not verify (the archive changed while it was being read, or the data was altered).');
      this.key = this.known;
      this.known = undefined;
      this.counter = 1;
      return pt;
    }
    if (chunk[0] === CONTINUED_VERSION) this.fail('it continues an earlier sealed stream (extension v1), but no stream was started before it.');
    if (chunk.length < BOX_HEADER_SIZE + BOX_TAG_SIZE)
      this.fail(`${chunk.length} bytes, too short for a first box message (at least ${BOX_HEADER_SIZE + BOX_TAG_SIZE}).`);
    if (chunk[0] !== 0x02 && chunk[0] !== 0x03) this.fail(`unknown box version byte 0x${chunk[0]!.toString(16).padStart(2, '0')} (expected 02 or 03).`);
    const e = chunk.subarray(0, 33);
    const sig = chunk.subarray(33, BOX_HEADER_SIZE);
    if (!this.secp.isValidPoint(e)) this.fail('the ephemeral key is not a valid curve point.');
    if (this.sender !== undefined && !this.secp.verifyHash(sig, sha256(e), this.sender))
      this.fail('the header signature does not verify for the expected client key (wrong client, or the data was altered).');
    if (this.receiverPriv === undefined) this.fail('no receiver key (a bug in CLDCB).');
    let key: Uint8Array;
    try {
      key = this.secp.ecdhHash(this.receiverPriv, e);
    } catch {
      this.fail('the ephemeral key is not usable.');
    }
    const pt = this.aead.open(key, this.nonce(0), BOX_AD, chunk.subarray(BOX_HEADER_SIZE));
    if (pt === null) {
      zeroize(key);
      this.fail('the authentication tag does not verify (wrong node key, or the data was altered).');
    }
    this.key = key;
    this.ephemeral = e.slice(); // for signedBy()
    this.signature = sig.slice();
    this.receiverPriv = undefined; // no longer needed
    this.counter = 1;
    return pt;
  }

  /**
   * Open a continued message (extension v1): the start of a further increment in this
   * stream. Its index must not go back (messages of one stream are stored in order; a
   * gap is left to the v1 chain, which names the missing increment).
   * @param what names the increment in error messages from here on.
   * @throws CldcbError not_authentic before the stream was opened (or its key given), for an
   *   index that goes back, or a tag that does not verify; the stream position does not advance.
   */
  unsealContinued(chunk: Uint8Array, what?: string): Uint8Array {
    if (what !== undefined) this.what = what;
    if (this.key === undefined && this.known !== undefined) {
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

  /**
   * After the first message: does its header signature verify for `clientKey33`? Used
   * when the sender was not known in advance. Never throws.
   */
  signedBy(clientKey33: Uint8Array): boolean {
    if (this.ephemeral === undefined || this.signature === undefined) return false;
    return this.secp.verifyHash(this.signature, sha256(this.ephemeral), clientKey33);
  }

  /** Forget the stream key. */
  dispose(): void {
    zeroize(this.key, this.known);
    this.key = undefined;
    this.known = undefined;
    this.receiverPriv = undefined;
  }
}

/**
 * The sealed streams of one archive's increments, in archive order. An increment either
 * starts its own stream (E ‖ sig, as the original plugin always does) or, with extension
 * v1, continues the stream the latest stream-starting increment before it began. Every
 * reader of increments (the recovery's passes, the pipeline's feeder, the tests' decoder)
 * opens them through here, so they all apply the same rule.
 */
export class IncrementStreams {
  private current: Unsealer | undefined;

  /**
   * @param nodePriv node private key (by reference; the caller zeroizes it afterwards).
   * @param sender the client key (33 bytes).
   * @param keyAt a stream key an earlier pass derived for increment i (its header already checked); ownership passes.
   */
  /** @throws CldcbError bad_input / bad_length for an invalid sender. */
  constructor(
    private readonly nodePriv: Uint8Array,
    private readonly sender: Uint8Array,
    private readonly crypto: Partial<BoxCrypto> = nobleBoxCrypto,
    private readonly keyAt?: (index: number) => Uint8Array | undefined,
  ) {
    new Unsealer(undefined, { sender, crypto }); // checks the sender, once
  }

  /**
   * Open chunk `chunkNo` (0-based) of increment `index`.
   * @throws CldcbError not_authentic
   */
  open(index: number, chunkNo: number, chunk: Uint8Array, what: string): Uint8Array {
    if (chunkNo > 0) return this.current!.unseal(chunk);
    if (chunk.length > 0 && chunk[0] === CONTINUED_VERSION) {
      // A key from an earlier pass (which checked the order) wins: a later pass may skip the
      // increment that started this stream (one a redo replaced).
      const known = this.keyAt?.(index);
      if (known) {
        this.current?.dispose();
        this.current = Unsealer.withKey(known, { crypto: this.crypto, what });
      }
      this.current ??= new Unsealer(undefined, { crypto: this.crypto, what }); // refuses: no stream was started
      return this.current.unsealContinued(chunk, what);
    }
    this.current?.dispose();
    const known = this.keyAt?.(index);
    this.current = known ? Unsealer.withKey(known, { crypto: this.crypto, what }) : new Unsealer(this.nodePriv, { sender: this.sender, crypto: this.crypto, what, [SENDER_CHECKED]: true });
    return this.current.unseal(chunk);
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

/**
 * Seal several plaintexts as one stream.
 * @throws CldcbError bad_input for invalid keys.
 */
export function sealStream(senderPriv: Uint8Array, receiverPub: Uint8Array, plaintexts: Iterable<Uint8Array>, opts: SealerOptions = {}): Uint8Array[] {
  const s = new Sealer(senderPriv, receiverPub, opts);
  try {
    return [...plaintexts].map((p) => s.seal(p));
  } finally {
    s.dispose();
  }
}

/**
 * Open a whole stream.
 * @throws CldcbError not_authentic
 */
export function unsealStream(receiverPriv: Uint8Array, chunks: Iterable<Uint8Array>, opts: UnsealerOptions = {}): Uint8Array[] {
  const u = new Unsealer(receiverPriv, opts);
  try {
    return [...chunks].map((c) => u.unseal(c));
  } finally {
    u.dispose();
  }
}
