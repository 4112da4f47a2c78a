/**
 * Noise_XK_secp256k1_ChaChaPoly_SHA256 handshake, exactly as BOLT 8
 * "Authenticated Key Exchange Handshake Specification", except that cldcb uses
 * the prologue "CLDCB" (cldcb-protocol §2). The prologue is an option so the
 * BOLT 8 test vectors (prologue "lightning") can run.
 *
 *   initiator (cldcb plugin/client)            responder (cldcb server)
 *   writeAct1()  ── 50 B: 0 ‖ e.pub ‖ tag ──▶   readAct1()
 *   readAct2()   ◀── 50 B: 0 ‖ e.pub ‖ tag ──   writeAct2()
 *   writeAct3()  ── 66 B: 0 ‖ enc(s.pub) ‖ tag ▶ readAct3()
 *
 * Platform-free: no Node, no DOM. ECDH, AEAD and the ephemeral key are
 * injectable (tests fix the ephemeral key to run the BOLT 8 vectors).
 */
import { CldcbError } from '../errors';
import { concatBytes, utf8, zeroize } from '../bytes';
import { sha256 } from '../crypto/hash';
import { type Aead, nobleAead, noiseNonce, TAG_SIZE } from './aead';
import { CipherState, NoiseTransport } from './cipher';
import { type Ecdh, hkdf2, isCompressedPubkey, nobleEcdh, PUBKEY_SIZE, publicKeyOf, type PublicKeyOf, randomPrivateKey } from './primitives';

/** BOLT 8 protocolName. */
export const PROTOCOL_NAME = 'Noise_XK_secp256k1_ChaChaPoly_SHA256';
/** cldcb's prologue (cldcb-protocol §2; BOLT 8 itself uses "lightning"). */
export const CLDCB_PROLOGUE = 'CLDCB';
export const ACT1_SIZE = 1 + PUBKEY_SIZE + TAG_SIZE; // 50
export const ACT2_SIZE = ACT1_SIZE; // 50
export const ACT3_SIZE = 1 + PUBKEY_SIZE + TAG_SIZE + TAG_SIZE; // 66

/** BOLT 8 handshake version byte. */
const VERSION = 0;
const EMPTY = new Uint8Array(0);

export interface HandshakeOptions {
  /** Noise prologue; default "CLDCB". Use "lightning" for BOLT 8 vectors. */
  prologue?: Uint8Array | string;
  /** AEAD implementation; default pure-JS noble. Also used by the resulting transport. */
  aead?: Aead;
  /** ECDH = SHA256(compressed(priv·pub)); default noble. */
  ecdh?: Ecdh;
  /** Public key of a private key (validates it); default noble. */
  publicKey?: PublicKeyOf;
  /** Is this a valid 33-byte compressed point (02/03 ‖ X on the curve)? Default noble. */
  isPoint?: (pub: Uint8Array) => boolean;
  /** Fixed ephemeral private key — for test vectors only; default random. Copied, never kept. */
  ephemeralKey?: Uint8Array;
}

/**
 * The symmetric half of the Noise state: h, ck and the current temp_k
 * (BOLT 8 "Handshake State"). Holds secrets; `wipe()` zeroizes them.
 */
class SymmetricState {
  h: Uint8Array;
  ck: Uint8Array;
  tempK: Uint8Array = new Uint8Array(32);

  constructor(
    prologue: Uint8Array,
    responderStatic: Uint8Array,
    readonly aead: Aead,
  ) {
    // h = SHA256(protocolName); ck = h; h = SHA256(h ‖ prologue); h = SHA256(h ‖ rs.pub)
    this.h = sha256(utf8(PROTOCOL_NAME));
    this.ck = this.h.slice();
    this.mixHash(prologue);
    this.mixHash(responderStatic);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(concatBytes(this.h, data));
  }

  /** ck, temp_k = HKDF(ck, ss); ss is zeroized. */
  mixKey(ss: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ss);
    zeroize(this.ck, this.tempK, ss);
    this.ck = ck;
    this.tempK = k;
  }

  /** c = encryptWithAD(temp_k, n, h, plaintext); h = SHA256(h ‖ c). */
  encryptAndHash(n: number, plaintext: Uint8Array): Uint8Array {
    const c = this.aead.seal(this.tempK, noiseNonce(n), this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  /** p = decryptWithAD(temp_k, n, h, c) or null on a bad tag; then h = SHA256(h ‖ c). */
  decryptAndHash(n: number, c: Uint8Array): Uint8Array | null {
    const p = this.aead.open(this.tempK, noiseNonce(n), this.h, c);
    if (p !== null) this.mixHash(c);
    return p;
  }

  /** sk/rk split: HKDF(ck, zero) → two CipherStates each starting from the final ck. */
  split(initiator: boolean, remoteStatic: Uint8Array): NoiseTransport {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    // BOLT 8: initiator sk = k1, rk = k2; the responder the reverse.
    const send = new CipherState(initiator ? k1 : k2, this.ck, this.aead);
    const receive = new CipherState(initiator ? k2 : k1, this.ck, this.aead);
    zeroize(k1, k2);
    return new NoiseTransport(send, receive, remoteStatic, this.h.slice());
  }

  wipe(): void {
    zeroize(this.ck, this.tempK);
  }
}

function prologueBytes(p: Uint8Array | string | undefined): Uint8Array {
  if (p === undefined) return utf8(CLDCB_PROLOGUE);
  return typeof p === 'string' ? utf8(p) : p.slice();
}

function fail(act: number, what: string): CldcbError {
  return new CldcbError('protocol_error', `Noise handshake act ${act}: ${what}`);
}

/**
 * Split an act into version, payload and tag after checking length and version.
 * @throws CldcbError truncated (wrong length) or protocol_error (version byte not 0).
 */
function parseAct(act: number, msg: Uint8Array, size: number): Uint8Array {
  if (!(msg instanceof Uint8Array)) throw new CldcbError('bad_input', `Noise handshake act ${act}: expected bytes.`);
  if (msg.length !== size)
    throw new CldcbError('truncated', `Noise handshake act ${act}: expected ${size} bytes, got ${msg.length}. The peer closed or sent a short message.`);
  if (msg[0] !== VERSION)
    throw fail(act, `unsupported version byte ${msg[0]} (expected ${VERSION}). The peer does not speak this protocol version.`);
  return msg.subarray(1);
}

/** @throws CldcbError bad_input when the remote static key is not a compressed pubkey. */
function checkRemoteStatic(rs: Uint8Array): Uint8Array {
  if (!(rs instanceof Uint8Array) || !isCompressedPubkey(rs))
    throw new CldcbError('bad_input', 'remote static key: expected a valid 33-byte compressed secp256k1 public key (02/03…).');
  return rs.slice();
}

type Step = 'act1' | 'act2' | 'act3' | 'done' | 'failed';

/** Common lifecycle: run a step, mark the state failed and wipe secrets on any error. */
abstract class HandshakeBase {
  protected step: Step = 'act1';
  protected readonly sym: SymmetricState;
  protected readonly ecdh: Ecdh;
  protected readonly isPoint: (pub: Uint8Array) => boolean;
  protected readonly s: Uint8Array; // our static private key (copy)
  protected readonly sPub: Uint8Array;
  protected e: Uint8Array; // our ephemeral private key
  protected readonly ePub: Uint8Array;

  /**
   * @param remoteStatic the responder's key for an initiator; null for a responder (its own key is used).
   * @throws CldcbError bad_input when a key is invalid.
   */
  protected constructor(localStatic: Uint8Array, remoteStatic: Uint8Array | null, options: HandshakeOptions) {
    const pub = options.publicKey ?? publicKeyOf;
    this.sPub = pub(localStatic, 'local static key');
    const fixed = options.ephemeralKey;
    this.e = fixed === undefined ? randomPrivateKey() : fixed;
    this.ePub = pub(this.e, 'ephemeral key'); // checks a fixed key before it is copied
    if (fixed !== undefined) this.e = fixed.slice();
    this.s = localStatic.slice();
    this.ecdh = options.ecdh ?? nobleEcdh;
    this.isPoint = options.isPoint ?? isCompressedPubkey;
    this.sym = new SymmetricState(prologueBytes(options.prologue), remoteStatic ?? this.sPub, options.aead ?? nobleAead);
  }

  /** The current handshake hash h (a public transcript hash; a copy). */
  get handshakeHash(): Uint8Array {
    return this.sym.h.slice();
  }

  protected run<T>(expected: Step, name: string, next: Step, fn: () => T): T {
    if (this.step !== expected)
      throw new CldcbError('internal', `Noise handshake: ${name} called in state ${this.step} (a bug in CLDCB).`);
    try {
      const out = fn();
      this.step = next;
      if (next === 'done') this.wipe();
      return out;
    } catch (err) {
      this.step = 'failed';
      this.wipe();
      throw err;
    }
  }

  /** Zeroize every secret; the handshake cannot continue. Safe to call twice. */
  abort(): void {
    if (this.step !== 'done') this.step = 'failed';
    this.wipe();
  }

  private wipe(): void {
    zeroize(this.s, this.e);
    this.sym.wipe();
  }
}

/**
 * BOLT 8 initiator (the cldcb plugin/client). Knows the responder's static key
 * in advance (XK).
 * @example
 *   const hs = new NoiseInitiator(clientPriv, serverPub33);
 *   send(hs.writeAct1()); hs.readAct2(await read(50));
 *   const { act3, transport } = hs.writeAct3(); send(act3);
 */
export class NoiseInitiator extends HandshakeBase {
  private readonly rs: Uint8Array;
  private re: Uint8Array | null = null;

  /**
   * @param localStatic our 32-byte static private key (copied; the caller keeps and zeroizes its own).
   * @param remoteStatic the responder's 33-byte compressed static public key.
   * @throws CldcbError bad_input when a key is invalid (messages never contain key material).
   */
  constructor(localStatic: Uint8Array, remoteStatic: Uint8Array, options: HandshakeOptions = {}) {
    super(localStatic, checkRemoteStatic(remoteStatic), options);
    this.rs = remoteStatic.slice();
  }

  /**
   * Act One: e = generateKey(); h = SHA256(h ‖ e.pub); es = ECDH(e.priv, rs);
   * ck, temp_k1 = HKDF(ck, es); c = encryptWithAD(temp_k1, 0, h, zero); h = SHA256(h ‖ c).
   * @returns the 50-byte act 1 message `0 ‖ e.pub ‖ c`.
   * @throws CldcbError internal when called out of order.
   */
  writeAct1(): Uint8Array {
    return this.run('act1', 'writeAct1', 'act2', () => {
      this.sym.mixHash(this.ePub);
      this.sym.mixKey(this.ecdh(this.e, this.rs));
      const c = this.sym.encryptAndHash(0, EMPTY);
      return concatBytes(Uint8Array.of(VERSION), this.ePub, c);
    });
  }

  /**
   * Act Two (receive): check version and re; h = SHA256(h ‖ re); ee = ECDH(e.priv, re);
   * ck, temp_k2 = HKDF(ck, ee); decryptWithAD(temp_k2, 0, h, c); h = SHA256(h ‖ c).
   * @param msg exactly 50 bytes from the responder.
   * @throws CldcbError truncated (length), protocol_error (bad version, bad key, bad MAC),
   *   internal (out of order). After an error the handshake is dead and its secrets wiped.
   */
  readAct2(msg: Uint8Array): void {
    this.run('act2', 'readAct2', 'act3', () => {
      const body = parseAct(2, msg, ACT2_SIZE);
      const re = body.slice(0, PUBKEY_SIZE);
      if (!this.isPoint(re)) throw fail(2, 'the responder sent an invalid ephemeral public key.');
      this.sym.mixHash(re);
      this.sym.mixKey(this.ecdh(this.e, re));
      if (this.sym.decryptAndHash(0, body.subarray(PUBKEY_SIZE)) === null)
        throw fail(2, "the responder's reply did not authenticate (bad MAC). It is not the expected server, or the data was corrupted.");
      this.re = re;
      zeroize(this.e); // the initiator's ephemeral key is not needed after ee
    });
  }

  /**
   * Act Three: c = encryptWithAD(temp_k2, 1, h, s.pub); h = SHA256(h ‖ c);
   * se = ECDH(s.priv, re); ck, temp_k3 = HKDF(ck, se); t = encryptWithAD(temp_k3, 0, h, zero);
   * sk, rk = HKDF(ck, zero).
   * @returns the 66-byte act 3 message and the transport (send = sk, receive = rk).
   * @throws CldcbError internal when called out of order.
   */
  writeAct3(): { act3: Uint8Array; transport: NoiseTransport } {
    return this.run('act3', 'writeAct3', 'done', () => {
      const c = this.sym.encryptAndHash(1, this.sPub);
      this.sym.mixKey(this.ecdh(this.s, this.re!));
      const t = this.sym.aead.seal(this.sym.tempK, noiseNonce(0), this.sym.h, EMPTY);
      const act3 = concatBytes(Uint8Array.of(VERSION), c, t);
      return { act3, transport: this.sym.split(true, this.rs.slice()) };
    });
  }
}

/**
 * BOLT 8 responder (the cldcb server). Learns and authenticates the
 * initiator's static key in act 3.
 * @example
 *   const hs = new NoiseResponder(serverPriv);
 *   hs.readAct1(await read(50)); send(hs.writeAct2());
 *   const transport = hs.readAct3(await read(66)); transport.remoteStatic // client key
 */
export class NoiseResponder extends HandshakeBase {
  private re: Uint8Array | null = null;

  /**
   * @param localStatic our 32-byte static private key (copied).
   * @throws CldcbError bad_input when the key is invalid.
   */
  constructor(localStatic: Uint8Array, options: HandshakeOptions = {}) {
    super(localStatic, null, options);
  }

  /**
   * Act One (receive): check version and re; h = SHA256(h ‖ re); es = ECDH(s.priv, re);
   * ck, temp_k1 = HKDF(ck, es); decryptWithAD(temp_k1, 0, h, c); h = SHA256(h ‖ c).
   * @param msg exactly 50 bytes from the initiator.
   * @throws CldcbError truncated, protocol_error (bad version, bad key, bad MAC — a bad MAC
   *   here usually means the client expected a different server key), internal.
   */
  readAct1(msg: Uint8Array): void {
    this.run('act1', 'readAct1', 'act2', () => {
      const body = parseAct(1, msg, ACT1_SIZE);
      const re = body.slice(0, PUBKEY_SIZE);
      if (!this.isPoint(re)) throw fail(1, 'the initiator sent an invalid ephemeral public key.');
      this.sym.mixHash(re);
      this.sym.mixKey(this.ecdh(this.s, re));
      if (this.sym.decryptAndHash(0, body.subarray(PUBKEY_SIZE)) === null)
        throw fail(1, "the initiator's message did not authenticate (bad MAC): it expected a different server key (wrong server id?).");
      this.re = re;
    });
  }

  /**
   * Act Two: e = generateKey(); h = SHA256(h ‖ e.pub); ee = ECDH(e.priv, re);
   * ck, temp_k2 = HKDF(ck, ee); c = encryptWithAD(temp_k2, 0, h, zero); h = SHA256(h ‖ c).
   * @returns the 50-byte act 2 message.
   * @throws CldcbError internal when called out of order.
   */
  writeAct2(): Uint8Array {
    return this.run('act2', 'writeAct2', 'act3', () => {
      this.sym.mixHash(this.ePub);
      this.sym.mixKey(this.ecdh(this.e, this.re!));
      const c = this.sym.encryptAndHash(0, EMPTY);
      return concatBytes(Uint8Array.of(VERSION), this.ePub, c);
    });
  }

  /**
   * Act Three (receive): rs = decryptWithAD(temp_k2, 1, h, c); check rs; h = SHA256(h ‖ c);
   * se = ECDH(e.priv, rs); ck, temp_k3 = HKDF(ck, se); decryptWithAD(temp_k3, 0, h, t);
   * rk, sk = HKDF(ck, zero).
   * @param msg exactly 66 bytes from the initiator.
   * @returns the transport (send = sk, receive = rk) with `remoteStatic` = the initiator's key.
   * @throws CldcbError truncated, protocol_error (bad version, bad MAC on the key or the
   *   final tag, invalid static key), internal.
   */
  readAct3(msg: Uint8Array): NoiseTransport {
    return this.run('act3', 'readAct3', 'done', () => {
      const body = parseAct(3, msg, ACT3_SIZE);
      const c = body.subarray(0, PUBKEY_SIZE + TAG_SIZE);
      const t = body.subarray(PUBKEY_SIZE + TAG_SIZE);
      const rs = this.sym.decryptAndHash(1, c);
      if (rs === null) throw fail(3, "the initiator's static key did not authenticate (bad MAC).");
      if (!this.isPoint(rs)) throw fail(3, 'the initiator sent an invalid static public key.');
      this.sym.mixKey(this.ecdh(this.e, rs));
      if (this.sym.aead.open(this.sym.tempK, noiseNonce(0), this.sym.h, t) === null)
        throw fail(3, "the initiator's final tag did not authenticate (bad MAC).");
      return this.sym.split(false, rs);
    });
  }
}
