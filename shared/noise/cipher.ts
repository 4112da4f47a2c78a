/**
 * Noise transport after the handshake (BOLT 8 "Encrypting and Sending
 * Messages", "Receiving and Decrypting Messages", "Lightning Message Key
 * Rotation"; cldcb-protocol §2, cldcb `Noise/Encryptor.cpp`, `Decryptor.cpp`).
 *
 *   frame = enc(u16 BE payload length) (2 + 16 = 18 bytes) ‖ enc(payload) (len + 16)
 *
 * Each direction has its own key k, nonce n and chaining key ck (both start
 * from the handshake's final ck). Every AEAD call uses nonce n and then
 * increments it; when n reaches 1000 (i.e. every 500 messages) the key is
 * rotated: ck', k' = HKDF(ck, k), n = 0.
 */
import { CldcbError } from '../errors';
import { u16be, zeroize } from '../bytes';
import { type Aead, KEY_SIZE, nobleAead, noiseNonce, TAG_SIZE } from './aead';
import { hkdf2 } from './primitives';

/** Largest payload one frame can carry (the length is a u16). */
export const MAX_PAYLOAD = 65535;
/** enc(u16 length): 2 bytes + tag. */
export const HEADER_SIZE = 2 + TAG_SIZE;
/** Largest frame on the wire: header + MAX_PAYLOAD + tag = 65569 bytes. */
export const MAX_FRAME = HEADER_SIZE + MAX_PAYLOAD + TAG_SIZE;
/** BOLT 8: "A key is to be rotated after a party encrypts or decrypts 1000 times with it". */
export const ROTATE_AT_NONCE = 1000;

const EMPTY = new Uint8Array(0);

/** A snapshot of a CipherState's secrets (copies; zeroize them after use). */
export interface CipherStateExport {
  readonly key: Uint8Array;
  readonly chainingKey: Uint8Array;
  readonly nonce: number;
}

/**
 * One direction of a Noise transport: key, nonce and chaining key, with
 * BOLT 8 key rotation. Copies its inputs; `destroy()` zeroizes them.
 */
export class CipherState {
  #k: Uint8Array;
  #ck: Uint8Array;
  #n: number;
  #destroyed = false;
  readonly aead: Aead;

  /**
   * @param key the 32-byte transport key (sk or rk).
   * @param chainingKey the 32-byte chaining key used for rotation (the handshake's final ck).
   * @param aead the AEAD implementation (default: pure-JS noble).
   * @param nonce the starting nonce (0 after a handshake).
   * @throws CldcbError bad_length when a key is not 32 bytes or the nonce is out of 0..999.
   */
  constructor(key: Uint8Array, chainingKey: Uint8Array, aead: Aead = nobleAead, nonce = 0) {
    if (key.length !== KEY_SIZE) throw new CldcbError('bad_length', `Noise transport key: expected 32 bytes, got ${key.length}.`);
    if (chainingKey.length !== KEY_SIZE)
      throw new CldcbError('bad_length', `Noise chaining key: expected 32 bytes, got ${chainingKey.length}.`);
    if (!Number.isInteger(nonce) || nonce < 0 || nonce >= ROTATE_AT_NONCE)
      throw new CldcbError('bad_length', `Noise nonce: expected 0..${ROTATE_AT_NONCE - 1}, got ${nonce}.`);
    this.#k = key.slice();
    this.#ck = chainingKey.slice();
    this.#n = nonce;
    this.aead = aead;
  }

  /** The nonce the next AEAD call will use (0..999). */
  get nonce(): number {
    return this.#n;
  }

  /**
   * encryptWithAD(k, n, ad, plaintext), then n++ and rotation when due.
   * @returns ciphertext ‖ tag.
   * @throws CldcbError internal after destroy().
   */
  encrypt(plaintext: Uint8Array, ad: Uint8Array = EMPTY): Uint8Array {
    this.#alive();
    const out = this.aead.seal(this.#k, noiseNonce(this.#n), ad, plaintext);
    this.#step();
    return out;
  }

  /**
   * decryptWithAD(k, n, ad, sealed), then n++ and rotation when due. A failed
   * tag leaves the state unchanged (the connection must be dropped anyway).
   * @param what names the data in the error message, e.g. "frame length header".
   * @throws CldcbError protocol_error when the tag does not verify; bad_length
   *   when `sealed` is shorter than a tag; internal after destroy().
   */
  decrypt(sealed: Uint8Array, what: string, ad: Uint8Array = EMPTY): Uint8Array {
    this.#alive();
    const out = this.aead.open(this.#k, noiseNonce(this.#n), ad, sealed);
    if (out === null)
      throw new CldcbError(
        'protocol_error',
        `Noise transport: the ${what} did not authenticate (bad MAC). The connection is corrupted or not from the expected peer; reconnect.`,
      );
    this.#step();
    return out;
  }

  /** Copies of the current secrets (tests; handing a session to a worker). Zeroize them after use. */
  exportState(): CipherStateExport {
    this.#alive();
    return { key: this.#k.slice(), chainingKey: this.#ck.slice(), nonce: this.#n };
  }

  /** Zeroize the key and chaining key; the state can no longer be used. */
  destroy(): void {
    zeroize(this.#k, this.#ck);
    this.#destroyed = true;
  }

  #alive(): void {
    if (this.#destroyed) throw new CldcbError('internal', 'Noise cipher state used after it was destroyed (a bug in CLDCB).');
  }

  /** BOLT 8 "Lightning Message Key Rotation": ck', k' = HKDF(ck, k); n = 0. */
  #step(): void {
    this.#n++;
    if (this.#n < ROTATE_AT_NONCE) return;
    const [ck, k] = hkdf2(this.#ck, this.#k);
    zeroize(this.#ck, this.#k);
    this.#ck = ck;
    this.#k = k;
    this.#n = 0;
  }
}

/**
 * A finished Noise_XK session: the two directions plus what the handshake
 * proved. Frames are encrypted/decrypted here; the socket layer only moves
 * bytes (shared/node/noiseSocket.ts).
 */
export class NoiseTransport {
  #expectBody: number | null = null;

  /**
   * @param send the CipherState for our outgoing frames.
   * @param receive the CipherState for the peer's frames.
   * @param remoteStatic the peer's 33-byte static public key (authenticated by the handshake).
   * @param handshakeHash the final handshake hash h (a public transcript hash).
   */
  constructor(
    readonly send: CipherState,
    readonly receive: CipherState,
    readonly remoteStatic: Uint8Array,
    readonly handshakeHash: Uint8Array,
  ) {}

  /**
   * One frame: enc(u16 BE len) ‖ enc(payload), as a single buffer so the
   * socket can write it at once (cldcb-protocol §9: writing the header and
   * body separately caused a 45 ms Nagle stall in the original).
   * @throws CldcbError bad_length when the payload exceeds 65535 bytes.
   */
  encryptMessage(payload: Uint8Array): Uint8Array {
    if (payload.length > MAX_PAYLOAD)
      throw new CldcbError(
        'bad_length',
        `Noise message: payload of ${payload.length} bytes exceeds the maximum of ${MAX_PAYLOAD}; split it into smaller messages.`,
      );
    const header = this.send.encrypt(u16be(payload.length));
    const body = this.send.encrypt(payload);
    const frame = new Uint8Array(header.length + body.length);
    frame.set(header, 0);
    frame.set(body, header.length);
    return frame;
  }

  /**
   * Decrypt an 18-byte length header.
   * @returns the number of bytes of the body that follows (payload length + 16).
   * @throws CldcbError protocol_error on a bad MAC; bad_length when the header
   *   is not 18 bytes; internal when a body was expected instead.
   */
  decryptHeader(header: Uint8Array): number {
    if (this.#expectBody !== null) throw new CldcbError('internal', 'Noise transport: header read while a body was due (a bug in CLDCB).');
    if (header.length !== HEADER_SIZE)
      throw new CldcbError('bad_length', `Noise frame length header: expected ${HEADER_SIZE} bytes, got ${header.length}.`);
    const len = this.receive.decrypt(header, 'frame length header');
    const bodyLength = ((len[0]! << 8) | len[1]!) + TAG_SIZE;
    this.#expectBody = bodyLength;
    return bodyLength;
  }

  /**
   * Decrypt the body announced by the last header.
   * @returns the payload.
   * @throws CldcbError protocol_error on a bad MAC; bad_length when the body
   *   size differs from the header's; internal when no header was read.
   */
  decryptBody(body: Uint8Array): Uint8Array {
    if (this.#expectBody === null) throw new CldcbError('internal', 'Noise transport: body read before its header (a bug in CLDCB).');
    if (body.length !== this.#expectBody)
      throw new CldcbError('bad_length', `Noise frame body: expected ${this.#expectBody} bytes, got ${body.length}.`);
    const payload = this.receive.decrypt(body, 'frame body');
    this.#expectBody = null;
    return payload;
  }

  /** Zeroize both directions' keys. */
  destroy(): void {
    this.send.destroy();
    this.receive.destroy();
  }
}
