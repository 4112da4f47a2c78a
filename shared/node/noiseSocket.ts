/**
 * Noise_XK (BOLT 8 with prologue "CLDCB", cldcb-protocol §2) over a TCP socket.
 *
 * - Initiator = cldcb plugin/client, responder = server. Both run on a socket the
 *   caller already has (`connectNoise(socket, …)`, `acceptNoise(socket, …)`), so a
 *   proxied socket (SOCKS5, cldcbClient.ts) is used as it is; `dialNoise` opens a
 *   direct TCP connection first.
 * - Handshake: each act must complete within `timeoutMs` (default 5 s, as the
 *   original server's act 1 read / act 2 write / act 3 read, cldcb-protocol §2);
 *   the responder may also bound the whole handshake (`totalTimeoutMs`).
 * - ECDH, public keys and point checks through libsecp256k1 (the `secp256k1` bindings) when it
 *   loads: ~0.13 ms per ECDH against ~6 ms for noble, so a handshake costs the server
 *   well under a millisecond of CPU instead of ~20 ms (what a connection flood buys).
 * - A server at its connection limit may answer with the line `CLDCB busy` instead of
 *   act 2 ({@link BUSY_REFUSAL}); the initiator reports that as the cause.
 * - Frames: enc(u16 len) ‖ enc(payload) are written in ONE socket write with
 *   TCP_NODELAY set; the original wrote them separately without NODELAY and
 *   paid a 45 ms Nagle/delayed-ACK stall per round trip (cldcb-protocol §9).
 * - Reads are frame-accurate however TCP splits or merges the bytes. Buffering
 *   is bounded: the socket is paused once one maximal frame (65 569 bytes) is
 *   buffered, so memory stays under one max frame plus one socket read even
 *   when the peer floods us and nobody calls `receive`.
 *
 * The pure state machine is shared/noise/handshake.ts; this file only moves bytes.
 */
import net from 'node:net';
import { takeFromChunks } from '../bytes';
import { CldcbError } from '../errors';
import type { Aead } from '../noise/aead';
import { HEADER_SIZE, MAX_FRAME, type NoiseTransport } from '../noise/cipher';
import { ACT1_SIZE, ACT2_SIZE, ACT3_SIZE, NoiseInitiator, NoiseResponder, type HandshakeOptions } from '../noise/handshake';
import { type Ecdh, type PublicKeyOf, PRIVKEY_SIZE } from '../noise/primitives';
import { nativeAead } from './nativeAead';
import { loadNativeSecp256k1 } from './nativeSeal';
import { assertMayConnect } from './networkGuard';

/** Per-act handshake timeout of the original server (`Daemon/ConnectionHandshaker.cpp`). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

export interface NoiseOptions {
  /** Our 32-byte static private key (copied; the caller zeroizes its own). */
  localStatic: Uint8Array;
  /** Noise prologue; default "CLDCB". */
  prologue?: string | Uint8Array;
  /** Timeout for the TCP connect and for each handshake act, in ms; default 5000. */
  timeoutMs?: number;
  /** AEAD implementation; default node:crypto (`nativeAead`). */
  aead?: Aead;
}

export interface ConnectNoiseOptions extends NoiseOptions {
  /** The server's 33-byte compressed static public key (from its server id). */
  remoteStatic: Uint8Array;
  /** How to name the server in messages (default: the socket's remote address). */
  peer?: string;
}

export interface DialNoiseOptions extends ConnectNoiseOptions {
  host: string;
  port: number;
  /** Local address to connect from (tests: distinct loopback sources). */
  localAddress?: string;
}

export interface AcceptNoiseOptions extends NoiseOptions {
  /** Longest time for the whole handshake (act 1 in, act 2 out, act 3 in); default no bound beyond the per-act one. */
  totalTimeoutMs?: number;
}

/**
 * What a server at its connection limit writes instead of act 2 (ASCII, then it closes).
 * Not a Noise act (those start with the version byte 0): an original client just sees a
 * failed handshake, ours names the cause. Ours: docs/PROTOCOL.md §2, server/README.md.
 */
export const BUSY_REFUSAL = new TextEncoder().encode('CLDCB busy\n');

/**
 * libsecp256k1 for the handshake's ECDH (its default hash = SHA256(compressed point), as
 * BOLT 8) and public keys, or undefined when the native module is missing (noble is used).
 * The handshake checks every remote point before it calls ECDH; a native exception is
 * still turned into a CldcbError.
 */
function nativeHandshakeCrypto(): Pick<HandshakeOptions, 'ecdh' | 'publicKey' | 'isPoint'> {
  let native;
  try {
    native = loadNativeSecp256k1();
  } catch {
    return {};
  }
  const lib = native;
  const ecdh: Ecdh = (priv, pub) => {
    try {
      return new Uint8Array(lib.ecdh(pub, priv));
    } catch (e) {
      throw new CldcbError('protocol_error', 'Noise handshake: ECDH failed (invalid key).', { cause: e });
    }
  };
  const publicKey: PublicKeyOf = (priv, field) => {
    if (!(priv instanceof Uint8Array) || priv.length !== PRIVKEY_SIZE || !lib.privateKeyVerify(priv))
      throw new CldcbError('bad_input', `${field}: not a valid 32-byte secp256k1 private key.`);
    return new Uint8Array(lib.publicKeyCreate(priv, true));
  };
  // libsecp256k1's parse: ~2 µs, against ~0.1 ms for noble's square root (the largest cost
  // of a server handshake under a connection flood, measured with --cpu-prof).
  const isPoint = (pub: Uint8Array): boolean => pub.length === 33 && (pub[0] === 2 || pub[0] === 3) && lib.publicKeyVerify(pub);
  return { ecdh, publicKey, isPoint };
}

type HandshakeCrypto = Pick<HandshakeOptions, 'ecdh' | 'publicKey' | 'isPoint'>;
let handshakeCrypto: HandshakeCrypto | undefined;
/** The handshake's curve operations on this platform: libsecp256k1 when it loads, else {} (noble). */
export const noiseHandshakeCrypto = (): HandshakeCrypto => (handshakeCrypto ??= nativeHandshakeCrypto());
const fastCrypto = noiseHandshakeCrypto;

/** An authenticated, encrypted message stream. */
export interface NoiseConnection {
  /** The peer's 33-byte static public key, proven by the handshake. */
  readonly remoteStatic: Uint8Array;
  /** The final handshake hash (public; identifies this session). */
  readonly handshakeHash: Uint8Array;
  /** "host:port" of the peer, for messages. */
  readonly peer: string;
  /** True once closed, by us or by the peer. */
  readonly closed: boolean;
  /** Received bytes not yet consumed (diagnostics; stays below one max frame plus one socket read). */
  readonly bufferedBytes: number;
  /**
   * Encrypt and send one message (0..65535 bytes) as a single socket write.
   * Resolves when the frame has been handed to the kernel.
   * @throws CldcbError bad_length (payload too big; nothing is sent and the
   *   connection stays usable), io_error (connection closed or failed).
   */
  send(payload: Uint8Array): Promise<void>;
  /**
   * Wait for the next message. Without `timeoutMs` it waits until a message
   * arrives or the connection ends. A timeout leaves the connection usable:
   * a partly received frame is kept and completed by the next call.
   * @throws CldcbError timeout; protocol_error (bad MAC — the connection is then
   *   closed); truncated (the peer closed in the middle of a frame); io_error
   *   (closed or failed between frames); internal (two receives at once).
   */
  receive(timeoutMs?: number): Promise<Uint8Array>;
  /** Close the socket and zeroize the session keys. Pending calls fail with io_error. Idempotent. */
  close(): void;
}

/**
 * Why a byte read did not complete. Internal, always turned into a CldcbError; made without
 * a stack trace, which would cost more than the rest of a dropped connection (a flood of
 * connections that time out or close makes one each).
 */
class ReadFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'eof' | 'error' | 'closed',
    readonly buffered: number,
    override readonly cause?: Error,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(kind);
    Error.stackTraceLimit = limit;
  }
}

interface Waiter {
  n: number;
  resolve: (b: Uint8Array) => void;
  reject: (e: ReadFailure) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Exact-length reads over a socket's 'data' events, with bounded buffering
 * (pause at `limit` buffered bytes, resume below it).
 */
class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private closedLocally = false;
  private error: Error | undefined;
  private waiter: Waiter | null = null;
  private paused = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly limit: number,
  ) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => this.onEnd());
    socket.on('error', (e: Error) => {
      this.error ??= e;
      this.onEnd();
    });
  }

  /** Bytes received and not yet consumed (for tests of the bound). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get pending(): boolean {
    return this.waiter !== null;
  }

  /** A copy of the bytes received and not consumed (to name what a peer sent instead of an act). */
  peekAll(): Uint8Array {
    return takeFromChunks(this.chunks.slice(), this.buffered);
  }

  /** Resolve with exactly n bytes, or reject with a ReadFailure. Consumes nothing on failure. */
  read(n: number, timeoutMs?: number): Promise<Uint8Array> {
    if (this.waiter) return Promise.reject(new CldcbError('internal', 'Noise socket: two reads at once (a bug in CLDCB).'));
    if (this.buffered >= n) return Promise.resolve(this.take(n));
    if (this.ended) return Promise.reject(this.endFailure());
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiter = null;
              reject(new ReadFailure('timeout', this.buffered));
            }, timeoutMs);
      this.waiter = { n, resolve, reject, timer };
      this.flow();
    });
  }

  /** Local close: fail a pending read. */
  shutdown(): void {
    this.closedLocally = true;
    this.onEnd();
    this.chunks = [];
    this.buffered = 0;
  }

  private onData(c: Buffer): void {
    if (this.closedLocally) return;
    this.chunks.push(c);
    this.buffered += c.length;
    const w = this.waiter;
    if (w && this.buffered >= w.n) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(this.take(w.n));
    }
    this.flow();
  }

  private onEnd(): void {
    this.ended = true;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.endFailure());
    }
  }

  private endFailure(): ReadFailure {
    if (this.closedLocally) return new ReadFailure('closed', this.buffered);
    if (this.error) return new ReadFailure('error', this.buffered, this.error);
    return new ReadFailure('eof', this.buffered);
  }

  /** Pause while a max frame is buffered; resume when there is room. */
  private flow(): void {
    if (this.ended) return;
    if (this.buffered >= this.limit) {
      if (!this.paused) this.socket.pause();
      this.paused = true;
    } else if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private take(n: number): Uint8Array {
    const out = takeFromChunks(this.chunks, n);
    this.buffered -= n;
    this.flow();
    return out;
  }
}

function peerName(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function errCode(e: Error | undefined): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ?? e?.message ?? 'unknown error';
}

/** Write one buffer; resolve when the kernel took it. */
function write(socket: net.Socket, data: Uint8Array, peer: string, timeoutMs?: number, what = 'a message'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(new CldcbError('io_error', `Cannot send ${what} to ${peer}: the connection is closed.`));
      return;
    }
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => reject(new CldcbError('timeout', `Sending ${what} to ${peer} did not finish within ${timeoutMs} ms.`)), timeoutMs);
    socket.write(data, (e) => {
      clearTimeout(timer);
      if (e) reject(new CldcbError('io_error', `Cannot send ${what} to ${peer}: ${errCode(e)}.`, { cause: e }));
      else resolve();
    });
  });
}

/** Did the server send {@link BUSY_REFUSAL} instead of act 2? */
function isBusyRefusal(got: Uint8Array): boolean {
  const want = BUSY_REFUSAL.subarray(0, BUSY_REFUSAL.length - 1); // without the newline
  return got.length >= want.length && want.every((b, i) => got[i] === b);
}

/** Turn a failed handshake read into an operator-facing error. */
function handshakeReadError(f: unknown, act: number, peer: string, timeoutMs: number, reader: SocketReader, initiator: boolean): unknown {
  if (!(f instanceof ReadFailure)) return f;
  if (initiator && (f.kind === 'eof' || f.kind === 'error') && f.buffered > 0 && isBusyRefusal(reader.peekAll()))
    return new CldcbError(
      'server_unreachable',
      `The cldcb server at ${peer} refused the connection: it is at its connection limit (busy). Try again later; if it lasts, its operator should look for a connection flood or raise --max-connections.`,
    );
  // An original server at its connection limit, one that drops a handshake made for another
  // key, and a port that is not a cldcb server all just close: say every cause it can be.
  const hint = initiator
    ? ' The server id may be wrong (the server drops a handshake made for another key), the server may be refusing connections (at its connection limit), or it is not a cldcb server.'
    : '';
  switch (f.kind) {
    case 'timeout':
      return new CldcbError('timeout', `${peer} did not send Noise handshake act ${act} within ${timeoutMs} ms.`);
    case 'eof':
      return new CldcbError('protocol_error', `${peer} closed the connection during the Noise handshake (act ${act}).${hint}`);
    case 'error':
      return new CldcbError('protocol_error', `The connection to ${peer} failed during the Noise handshake (act ${act}): ${errCode(f.cause)}.${hint}`, {
        cause: f.cause,
      });
    case 'closed':
      return new CldcbError('io_error', `The connection to ${peer} was closed during the Noise handshake.`);
  }
}

class Connection implements NoiseConnection {
  readonly remoteStatic: Uint8Array;
  readonly handshakeHash: Uint8Array;
  private pendingBody: number | null = null;
  private isClosed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly reader: SocketReader,
    private readonly transport: NoiseTransport,
    readonly peer: string,
  ) {
    this.remoteStatic = transport.remoteStatic.slice();
    this.handshakeHash = transport.handshakeHash.slice();
    // No close() on the socket's 'close' event: frames that arrived before the
    // peer closed stay readable; receive() closes (and zeroizes) at the end.
  }

  get closed(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  async send(payload: Uint8Array): Promise<void> {
    if (this.closed) throw new CldcbError('io_error', `Cannot send to ${this.peer}: the connection is closed.`);
    // Encrypt and write in the same tick: frames leave in nonce order even with concurrent sends.
    const frame = this.transport.encryptMessage(payload);
    await write(this.socket, frame, this.peer);
  }

  async receive(timeoutMs?: number): Promise<Uint8Array> {
    if (this.reader.pending) throw new CldcbError('internal', 'Noise connection: receive() called while another receive() is waiting (a bug in CLDCB).');
    if (this.isClosed) throw new CldcbError('io_error', `The connection to ${this.peer} is closed.`);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const left = (): number | undefined => (deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
    try {
      if (this.pendingBody === null) {
        const header = await this.reader.read(HEADER_SIZE, left());
        this.pendingBody = this.transport.decryptHeader(header);
      }
      const body = await this.reader.read(this.pendingBody, left());
      this.pendingBody = null;
      return this.transport.decryptBody(body);
    } catch (e) {
      throw this.receiveError(e, timeoutMs);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reader.shutdown();
    this.socket.destroy();
    this.transport.destroy();
  }

  private receiveError(e: unknown, timeoutMs: number | undefined): unknown {
    if (e instanceof CldcbError) {
      if (e.code === 'protocol_error') this.close(); // bad MAC: the stream cannot be trusted any more
      return e;
    }
    if (!(e instanceof ReadFailure)) return e;
    const part = this.pendingBody === null ? `frame header (${e.buffered} of ${HEADER_SIZE} bytes)` : `frame body (${e.buffered} of ${this.pendingBody} bytes)`;
    const midFrame = this.pendingBody !== null || e.buffered > 0;
    switch (e.kind) {
      case 'timeout':
        return new CldcbError('timeout', `No message from ${this.peer} within ${timeoutMs} ms${midFrame ? ` (got part of a ${part})` : ''}.`);
      case 'closed':
        return new CldcbError('io_error', `The connection to ${this.peer} was closed.`);
      case 'eof':
      case 'error': {
        const how = e.kind === 'eof' ? 'closed the connection' : `connection failed (${errCode(e.cause)})`;
        this.close();
        if (midFrame) return new CldcbError('truncated', `${this.peer} ${how} in the middle of a message: got ${part}.`, { cause: e.cause });
        return new CldcbError('io_error', `${this.peer}: ${how}.`, { cause: e.cause });
      }
    }
  }
}

function checkTimeout(t: number | undefined): number {
  const v = t ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(v) || v <= 0) throw new CldcbError('bad_input', `timeoutMs: expected a positive number of milliseconds, got ${String(t)}.`);
  return v;
}

/** Open a TCP connection with a timeout. @throws CldcbError server_unreachable */
function tcpConnect(host: string, port: number, peer: string, timeoutMs: number, localAddress?: string): Promise<net.Socket> {
  assertMayConnect(host, port); // the app's online-mode rule (networkGuard.ts)
  return new Promise<net.Socket>((resolve, reject) => {
    // eslint-disable-next-line no-restricted-syntax -- the guarded connection point: assertMayConnect above
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const fail = (why: string, cause?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new CldcbError('server_unreachable', `Cannot reach the cldcb server at ${peer} (${why}). Check the host and port and that the server is running.`, {
          cause,
        }),
      );
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (e) => fail(errCode(e), e));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CldcbError('bad_input', `port: expected 1..65535, got ${String(port)}.`);
}

/**
 * Run the initiator side of the handshake on a connected socket (direct, or a tunnel
 * through a proxy). The socket is destroyed on failure; on success it belongs to the
 * returned connection.
 * @throws CldcbError bad_input (invalid key), timeout (an act took longer than timeoutMs),
 *   server_unreachable (the server answered that it is busy), protocol_error (bad
 *   version/key/MAC, or the server closed during the handshake — usually a wrong server id).
 */
export async function connectNoise(socket: net.Socket, options: ConnectNoiseOptions): Promise<NoiseConnection> {
  const peer = options.peer ?? peerName(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
  let hs: NoiseInitiator | undefined;
  let reader: SocketReader | undefined;
  try {
    const timeoutMs = checkTimeout(options.timeoutMs);
    hs = new NoiseInitiator(options.localStatic, options.remoteStatic, { prologue: options.prologue, aead: options.aead ?? nativeAead, ...fastCrypto() });
    socket.setNoDelay(true);
    reader = new SocketReader(socket, MAX_FRAME);
    await write(socket, hs.writeAct1(), peer, timeoutMs, 'Noise handshake act 1');
    let act2: Uint8Array;
    try {
      act2 = await reader.read(ACT2_SIZE, timeoutMs);
    } catch (f) {
      throw handshakeReadError(f, 2, peer, timeoutMs, reader, true);
    }
    hs.readAct2(act2);
    const { act3, transport } = hs.writeAct3();
    const conn = new Connection(socket, reader, transport, peer);
    try {
      await write(socket, act3, peer, timeoutMs, 'Noise handshake act 3');
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  } catch (e) {
    hs?.abort();
    reader?.shutdown();
    socket.destroy();
    throw e;
  }
}

/**
 * Check the keys of an initiator before any connection is opened (a bad key is the
 * caller's mistake, not the network's). @throws CldcbError bad_input
 */
export function checkInitiatorKeys(options: Pick<ConnectNoiseOptions, 'localStatic' | 'remoteStatic'>): void {
  new NoiseInitiator(options.localStatic, options.remoteStatic, fastCrypto()).abort();
}

/**
 * Open a direct TCP connection to a cldcb server and run the initiator side of the handshake.
 * @example
 *   const conn = await dialNoise({ host: '127.0.0.1', port: 29735, localStatic: clientPriv, remoteStatic: serverPub33 });
 *   await conn.send(msg); const reply = await conn.receive(10_000); conn.close();
 * @throws CldcbError bad_input (invalid key, host or port; checked before connecting),
 *   server_unreachable (host:port in the message), and the errors of {@link connectNoise}.
 */
export async function dialNoise(options: DialNoiseOptions): Promise<NoiseConnection> {
  const { host, port } = options;
  const timeoutMs = checkTimeout(options.timeoutMs);
  checkPort(port);
  if (typeof host !== 'string' || host.length === 0) throw new CldcbError('bad_input', 'host: expected a host name or IP address.');
  checkInitiatorKeys(options);
  const peer = peerName(host, port);
  const socket = await tcpConnect(host, port, peer, timeoutMs, options.localAddress);
  return connectNoise(socket, { ...options, peer: options.peer ?? peer });
}

/**
 * Run the responder side of the handshake on an accepted socket. The socket
 * is destroyed on failure. The responder's state (an ephemeral key) is made only
 * once act 1 has arrived: a connection that sends nothing costs no key generation.
 * @returns the connection; `remoteStatic` is the client's static key (not yet
 *   checked against any allow-list — cldcb-protocol §2 does that per request).
 * @throws CldcbError bad_input (invalid key), timeout (an act took longer than
 *   timeoutMs, or the whole handshake longer than totalTimeoutMs), protocol_error
 *   (bad version/key/MAC — a bad MAC in act 1 usually means the client expected
 *   another server id — or the client closed during the handshake).
 */
export async function acceptNoise(socket: net.Socket, options: AcceptNoiseOptions): Promise<NoiseConnection> {
  let hs: NoiseResponder | undefined;
  let reader: SocketReader | undefined;
  const peer = peerName(socket.remoteAddress ?? 'unknown', socket.remotePort ?? 0);
  try {
    const timeoutMs = checkTimeout(options.timeoutMs);
    const deadline = options.totalTimeoutMs === undefined ? Infinity : Date.now() + checkTimeout(options.totalTimeoutMs);
    // The act's own limit, or what is left of the whole handshake's, whichever ends first.
    const actLimit = (): number => Math.max(1, Math.min(timeoutMs, deadline - Date.now()));
    const actError = (f: unknown, act: number, limit: number): unknown =>
      f instanceof ReadFailure && f.kind === 'timeout' && limit < timeoutMs
        ? new CldcbError('timeout', `${peer} did not complete the Noise handshake within ${options.totalTimeoutMs} ms (act ${act} missing).`)
        : handshakeReadError(f, act, peer, limit, reader!, false);
    socket.setNoDelay(true);
    reader = new SocketReader(socket, MAX_FRAME);
    const limit1 = actLimit();
    const act1 = await reader.read(ACT1_SIZE, limit1).catch((f: unknown) => {
      throw actError(f, 1, limit1);
    });
    hs = new NoiseResponder(options.localStatic, { prologue: options.prologue, aead: options.aead ?? nativeAead, ...fastCrypto() });
    hs.readAct1(act1);
    await write(socket, hs.writeAct2(), peer, timeoutMs, 'Noise handshake act 2');
    const limit3 = actLimit();
    const act3 = await reader.read(ACT3_SIZE, limit3).catch((f: unknown) => {
      throw actError(f, 3, limit3);
    });
    return new Connection(socket, reader, hs.readAct3(act3), peer);
  } catch (e) {
    hs?.abort();
    reader?.shutdown();
    socket.destroy();
    throw e;
  }
}
