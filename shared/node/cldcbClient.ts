/**
 * Client side of the cldcb protocol (cldcb-protocol §2–§3; docs/PROTOCOL.md §1–§3), used by
 * the plugin, the recovering client (online recovery) and the tests.
 *
 * - Connect: Noise_XK initiator with the client key, prologue "CLDCB", TCP_NODELAY
 *   (shared/node/noiseSocket.ts); optionally through a SOCKS5 proxy (the wrapper's
 *   `proxy`, cldcb-protocol §7): the `socks` package opens the tunnel and the handshake
 *   runs on that socket, see {@link socksTunnel}.
 * - A background reader answers every `ping` with a `pong` that echoes its TLVs (as the
 *   original plugin, `DePinger.cpp`) and notices our server's extension advertisement
 *   (ping TLV 1 = u16 version, PROTOCOL.md §3). Other messages are queued for the request
 *   that waits for them; the queue is bounded, so a slow consumer slows the socket down
 *   instead of growing memory.
 * - `connect` sends the recognition code (if given) and then a `ping` and waits for its
 *   `pong`: the server's advertisement ping is the first thing our server sends, so once
 *   the pong is back we know whether the server speaks extension v1 — before the first
 *   upload, which needs to know (repeated data_version handling, PROTOCOL.md §2). The
 *   original server answers client pings in its main loop (cldcb-protocol §2.1).
 * - Every wait has a timeout; every failure is a CldcbError with a code the caller can act
 *   on (timeout, server_unreachable, protocol_error, io_error, truncated, not_authentic).
 *   After a failure inside a request sequence the connection is closed: the server rolls
 *   back whatever it had not acknowledged, and the caller reconnects.
 */
import net from 'node:net';
import { SocksClient } from 'socks';
import { CldcbError } from '../errors';
import type { Aead } from '../noise/aead';
import type { ArchEvent } from '../cldcb/arch';
import { RecoveryAssembler } from '../cldcb/download';
import { DEFAULT_PROXY_PORT, type HostPort } from '../cldcb/ids';
import {
  decodeMessage,
  describeMessage,
  giveRecognitionCode,
  MSG,
  incrementalChunk,
  incrementalEnd,
  ping,
  pong,
  requestBackupData,
  requestIncremental,
  requestRecognitionCodes,
  reuploadChunk,
  reuploadEnd,
  type CldcbMessage,
} from '../cldcb/messages';
import { advertisedVersion, proveRead as proveReadMessage, setReadVerifier as setReadVerifierMessage } from '../cldcb/extension';
import { decodeRecognitionRecord, type RecognitionRecord } from '../cldcb/recognition';
import { checkInitiatorKeys, connectNoise, dialNoise, type NoiseConnection } from './noiseSocket';
import { assertMayConnect } from './networkGuard';

/** Extension v1 (PROTOCOL.md §3): shared/cldcb/extension.ts; the token and verifier are re-exported for the plugin. */
export { readToken, readVerifier } from '../cldcb/extension';

/** Timeout of the TCP connect and of each handshake act (the original server's 5 s, cldcb-protocol §2). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** How long to wait for each reply (the original server gives up after 10 s inside a sequence). */
export const DEFAULT_REPLY_TIMEOUT_MS = 20_000;
/** Messages queued before the reader stops reading the socket (backpressure). */
const INBOX_LIMIT = 64;

export type ClientLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface CldcbClientOptions {
  readonly host: string;
  readonly port: number;
  /** The server's 33-byte compressed static key (the sid with 0x50 removed). */
  readonly serverKey: Uint8Array;
  /** Our 32-byte client private key (Noise static key). Copied by the Noise layer; the caller zeroizes its own. */
  readonly clientPrivateKey: Uint8Array;
  /** SOCKS5 proxy (no authentication), e.g. Tor for .onion servers (cldcb-protocol §7). */
  readonly proxy?: HostPort;
  /** TCP connect and per-act handshake timeout. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Default timeout for each reply. Default 20 000 ms. */
  readonly replyTimeoutMs?: number;
  /** Sent as message 0 right after the handshake (the plugin's nsig, cldcb-protocol §3.3). */
  readonly recognitionCode?: Uint8Array;
  /** Ping round trip after connecting to learn the server's extension version. Default true. */
  readonly probe?: boolean;
  readonly aead?: Aead;
  /** Diagnostics (never secrets). */
  readonly onLog?: (level: ClientLogLevel, message: string) => void;
}

/** A source of sealed reupload chunks (52), produced only when the server asks (36). */
export type ReuploadSource = () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface UploadOptions {
  /** Sealed reupload chunks for a `response_reupload` (36). Without it, a 36 aborts the sequence. */
  readonly reupload?: ReuploadSource;
  /** Timeout for each reply and each send. Default the client's replyTimeoutMs. */
  readonly timeoutMs?: number;
  /**
   * Ask the server for a re-upload (extension v1, request_incremental TLV 1): the caller's
   * increment chains to a new snapshot. Ignored (not sent) unless the server advertised v1.
   */
  readonly askReupload?: boolean;
}

/**
 * - `stored`: acknowledged (38) as an increment.
 * - `stored_with_reupload`: the server asked for a reupload (36), got it, and acknowledged.
 * - `reupload_requested`: the server asked for a reupload and no source was given: the
 *   connection was closed before `reupload_end`, so the server stored nothing (it rolls back).
 */
export type UploadOutcome = 'stored' | 'stored_with_reupload' | 'reupload_requested';

interface Waiter {
  resolve: (m: CldcbMessage) => void;
  reject: (e: CldcbError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One authenticated connection to a cldcb server. Requests must not overlap (one at a time). */
export class CldcbClient {
  private readonly inbox: CldcbMessage[] = [];
  private waiter: Waiter | null = null;
  private failure: CldcbError | null = null;
  private roomWaiter: (() => void) | null = null;
  private ext: number | undefined;
  private busy = false;
  private readonly replyTimeoutMs: number;
  private readonly log: (level: ClientLogLevel, message: string) => void;

  private constructor(
    private readonly conn: NoiseConnection,
    readonly peer: string,
    opts: CldcbClientOptions,
  ) {
    this.replyTimeoutMs = opts.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.log = opts.onLog ?? (() => {});
    void this.pump();
  }

  /**
   * Connect, handshake, send the recognition code (if given) and probe the server's
   * extension support (unless `probe: false`).
   * @throws CldcbError bad_input (invalid key/host/port), server_unreachable, timeout,
   *   protocol_error (wrong server id; the server closed the connection — e.g. this client
   *   is not on its allow-list), unsupported (proxy not usable).
   */
  static async connect(opts: CldcbClientOptions): Promise<CldcbClient> {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const peer = hostPort(opts.host, opts.port);
    const noise = {
      localStatic: opts.clientPrivateKey,
      remoteStatic: opts.serverKey,
      timeoutMs,
      ...(opts.aead ? { aead: opts.aead } : {}),
    };
    let conn: NoiseConnection;
    if (opts.proxy) {
      checkInitiatorKeys(noise);
      const socket = await socksTunnel(opts.proxy, opts.host, opts.port, timeoutMs);
      conn = await connectNoise(socket, { ...noise, peer: `${peer} (through the SOCKS5 proxy ${hostPort(opts.proxy.host, opts.proxy.port)})` });
    } else conn = await dialNoise({ host: opts.host, port: opts.port, ...noise });
    const client = new CldcbClient(conn, peer, opts);
    try {
      if (opts.recognitionCode) await client.send(giveRecognitionCode(opts.recognitionCode), timeoutMs, 'the recognition code');
      if (opts.probe !== false) await client.roundTrip(timeoutMs);
    } catch (e) {
      client.close();
      if (e instanceof CldcbError && (e.code === 'io_error' || e.code === 'truncated'))
        throw new CldcbError(
          'protocol_error',
          `The cldcb server at ${peer} closed the connection right after the handshake${opts.recognitionCode ? ' and our recognition code' : ''}. Is this client on the server's allow-list (cldcb-server add … <cid>)?`,
          { cause: e },
        );
      throw e;
    }
    return client;
  }

  /** The extension version the server advertised (PROTOCOL.md §3), or undefined (an original server). */
  get extensionVersion(): number | undefined {
    return this.ext;
  }

  /** Does the server speak extension v1 (read protection, appending repeated data_versions)? */
  get supportsExtension(): boolean {
    return this.ext !== undefined && this.ext >= 1;
  }

  get closed(): boolean {
    return this.conn.closed || this.failure !== null;
  }

  /** Close the connection (idempotent). A pending request fails with io_error. */
  close(): void {
    this.fail(new CldcbError('io_error', `The connection to ${this.peer} was closed.`));
    this.conn.close();
  }

  // -------------------------------------------------------------------------------------------
  // Background reader

  private async pump(): Promise<void> {
    for (;;) {
      if (this.inbox.length >= INBOX_LIMIT) await new Promise<void>((r) => (this.roomWaiter = r));
      if (this.failure) return;
      let payload: Uint8Array;
      try {
        payload = await this.conn.receive();
      } catch (e) {
        this.fail(
          e instanceof CldcbError
            ? e
            : new CldcbError('io_error', `The connection to ${this.peer} failed.`, { cause: e }),
        );
        return;
      }
      let m: CldcbMessage;
      try {
        m = decodeMessage(payload);
      } catch (e) {
        this.fail(new CldcbError('protocol_error', `${this.peer} sent a malformed message: ${(e as Error).message}`, { cause: e }));
        this.conn.close();
        return;
      }
      if (m.type === 'ping') {
        const v = advertisedVersion(m.tlvs);
        if (v !== undefined && this.ext === undefined) {
          this.ext = v;
          this.log('debug', `${this.peer} speaks cldcb extension v${this.ext}.`);
        }
        // Echo the TLVs, as the original plugin does; the server drops pongs.
        this.conn.send(pong(m.tlvs)).catch(() => {
          /* a failed pong shows up as a failed read */
        });
        continue;
      }
      this.deliver(m);
    }
  }

  private deliver(m: CldcbMessage): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(m);
    } else this.inbox.push(m);
  }

  private fail(e: CldcbError): void {
    if (this.failure) return;
    this.failure = e;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(e);
    }
    const r = this.roomWaiter;
    this.roomWaiter = null;
    r?.();
  }

  /** The next non-ping message, or a CldcbError (timeout leaves the connection open). */
  private next(timeoutMs: number, what: string): Promise<CldcbMessage> {
    const m = this.inbox.shift();
    if (m !== undefined) {
      if (this.inbox.length < INBOX_LIMIT && this.roomWaiter) {
        const r = this.roomWaiter;
        this.roomWaiter = null;
        r();
      }
      return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.endError(what));
    return new Promise<CldcbMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new CldcbError('timeout', `The cldcb server at ${this.peer} did not send ${what} within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.waiter = {
        resolve,
        reject: (e) => reject(this.endError(what, e)),
        timer,
      };
      const r = this.roomWaiter;
      this.roomWaiter = null;
      r?.();
    });
  }

  private endError(what: string, e: CldcbError | null = this.failure): CldcbError {
    if (!e) return new CldcbError('internal', 'cldcb client: no failure recorded (a bug in CLDCB).');
    if (e.code === 'io_error') return new CldcbError('io_error', `The cldcb server at ${this.peer} closed the connection while we waited for ${what}.`, { cause: e });
    return e;
  }

  private async send(payload: Uint8Array, timeoutMs: number, what: string): Promise<void> {
    if (this.failure) throw this.endError(`a chance to send ${what}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CldcbError('timeout', `Sending ${what} to ${this.peer} did not finish within ${timeoutMs} ms (the server stopped reading).`)), timeoutMs);
    });
    try {
      await Promise.race([this.conn.send(payload), timeout]);
    } catch (e) {
      this.close();
      if (e instanceof CldcbError && e.code === 'io_error') throw new CldcbError('io_error', `Cannot send ${what} to ${this.peer}: the connection is closed.`, { cause: e });
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Run one request sequence; any failure closes the connection (its state is unknown). */
  private async request<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new CldcbError('internal', `cldcb client: ${what} started while another request was running (a bug in CLDCB).`);
    this.busy = true;
    try {
      return await fn();
    } catch (e) {
      this.close();
      throw e;
    } finally {
      this.busy = false;
    }
  }

  private unexpected(m: CldcbMessage, expected: string): CldcbError {
    return new CldcbError('protocol_error', `The cldcb server at ${this.peer} sent ${describeMessage(m)} where ${expected} was expected.`);
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  /** Send a ping and wait for a pong (used to learn the extension version). */
  private async roundTrip(timeoutMs: number): Promise<void> {
    await this.send(ping(), timeoutMs, 'a ping');
    const m = await this.next(timeoutMs, 'a pong');
    if (m.type !== 'pong') throw this.unexpected(m, 'pong');
  }

  /** Ping round trip: checks that the connection is alive. @throws CldcbError */
  async ping(timeoutMs = this.replyTimeoutMs): Promise<void> {
    await this.request('ping', () => this.roundTrip(timeoutMs));
  }

  /**
   * Message 0 (no reply; a server that does not know this client disconnects).
   * @throws CldcbError bad_length, io_error, timeout
   */
  async giveRecognitionCode(code64: Uint8Array, timeoutMs = this.replyTimeoutMs): Promise<void> {
    await this.request('give_recognition_code', () => this.send(giveRecognitionCode(code64), timeoutMs, 'the recognition code'));
  }

  /**
   * Upload one increment (cldcb-protocol §3.3): 32(dv), 68 × chunks, 70, then wait for 38,
   * or for 36 → 52 × reupload chunks, 54, then 38.
   * @param chunks the sealed increment chunks (1..65527 bytes each, at least one).
   * @throws CldcbError bad_input / bad_length (nothing sent), timeout, io_error, truncated,
   *   protocol_error. After any failure the connection is closed: the server rolls back
   *   what it had not acknowledged.
   */
  async uploadIncrement(dataVersion: number, chunks: readonly Uint8Array[], opts: UploadOptions = {}): Promise<UploadOutcome> {
    if (chunks.length === 0) throw new CldcbError('bad_input', 'uploadIncrement: at least one chunk is needed (an empty increment cannot be stored).');
    const timeoutMs = opts.timeoutMs ?? this.replyTimeoutMs;
    // Encode everything first: a bad chunk fails before anything is sent.
    const first = requestIncremental(dataVersion, { wantsReupload: Boolean(opts.askReupload) && this.supportsExtension });
    const encoded = chunks.map((c) => incrementalChunk(c));
    return this.request('upload', async () => {
      await this.send(first, timeoutMs, `request_incremental(dv ${dataVersion})`);
      for (let i = 0; i < encoded.length; i++) await this.send(encoded[i]!, timeoutMs, `increment chunk ${i + 1} of ${encoded.length}`);
      await this.send(incrementalEnd(), timeoutMs, 'incremental_end');
      const m = await this.next(timeoutMs, `the acknowledgement of data_version ${dataVersion}`);
      if (m.type === 'acknowledge_upload') return 'stored';
      if (m.type !== 'response_reupload') throw this.unexpected(m, 'acknowledge_upload (38) or response_reupload (36)');
      if (!opts.reupload) {
        // Leave before reupload_end: the server stores nothing and rolls back.
        this.close();
        return 'reupload_requested';
      }
      let n = 0;
      let bytes = 0;
      for await (const c of opts.reupload()) {
        await this.send(reuploadChunk(c), timeoutMs, `reupload chunk ${n + 1}`);
        n++;
        bytes += c.length;
      }
      if (n === 0) throw new CldcbError('bad_input', 'uploadIncrement: the reupload source gave no chunk (at least the header is needed).');
      await this.send(reuploadEnd(), timeoutMs, 'reupload_end');
      const ack = await this.next(timeoutMs, `the acknowledgement of the reupload (${n} chunks, ${bytes} bytes)`);
      if (ack.type !== 'acknowledge_upload') throw this.unexpected(ack, 'acknowledge_upload (38) after the reupload');
      return 'stored_with_reupload';
    });
  }

  /**
   * Extension v1: store the read verifier V for this client (240 → 241).
   * @throws CldcbError unsupported (the server did not advertise v1), timeout, io_error, protocol_error
   */
  async setReadVerifier(verifier32: Uint8Array, timeoutMs = this.replyTimeoutMs): Promise<void> {
    if (verifier32.length !== 32) throw new CldcbError('bad_length', `read verifier: expected 32 bytes, got ${verifier32.length}.`);
    if (!this.supportsExtension) throw new CldcbError('unsupported', `The cldcb server at ${this.peer} does not speak extension v1: it cannot protect reads.`);
    await this.request('set_read_verifier', async () => {
      await this.send(setReadVerifierMessage(verifier32), timeoutMs, 'set_read_verifier');
      const m = await this.next(timeoutMs, 'read_verifier_stored');
      if (m.type !== 'unknown' || m.id !== MSG.readVerifierStored) throw this.unexpected(m, 'read_verifier_stored (241)');
    });
  }

  /**
   * Extension v1: prove that we may read `clientKey33`'s archive (242 → 243).
   * @throws CldcbError unsupported, not_authentic (the server refused the token and closed
   *   the connection), timeout, protocol_error
   */
  async proveRead(clientKey33: Uint8Array, token32: Uint8Array, timeoutMs = this.replyTimeoutMs): Promise<void> {
    if (clientKey33.length !== 33 || (clientKey33[0] !== 2 && clientKey33[0] !== 3))
      throw new CldcbError('bad_input', 'prove_read: the client key must be 33 bytes starting 02 or 03.');
    if (token32.length !== 32) throw new CldcbError('bad_length', `prove_read: the token must be 32 bytes, got ${token32.length}.`);
    if (!this.supportsExtension) throw new CldcbError('unsupported', `The cldcb server at ${this.peer} does not speak extension v1 (its archives are readable without a proof).`);
    await this.request('prove_read', async () => {
      await this.send(proveReadMessage(clientKey33, token32), timeoutMs, 'prove_read');
      let m: CldcbMessage;
      try {
        m = await this.next(timeoutMs, 'read_granted');
      } catch (e) {
        if (e instanceof CldcbError && (e.code === 'io_error' || e.code === 'truncated'))
          throw new CldcbError('not_authentic', `The cldcb server at ${this.peer} refused the read proof and closed the connection (wrong node key, or not this client's archive).`, { cause: e });
        throw e;
      }
      if (m.type !== 'unknown' || m.id !== MSG.readGranted) throw this.unexpected(m, 'read_granted (243)');
    });
  }

  /**
   * Every recognition record the server holds (2 → 4… → 6).
   * @throws CldcbError timeout, io_error, protocol_error
   */
  async listRecognitionCodes(timeoutMs = this.replyTimeoutMs): Promise<RecognitionRecord[]> {
    return this.request('request_recognition_codes', async () => {
      await this.send(requestRecognitionCodes(), timeoutMs, 'request_recognition_codes');
      const out: RecognitionRecord[] = [];
      for (;;) {
        const m = await this.next(timeoutMs, 'recognition codes');
        if (m.type === 'response_recognition_codes_end') return out;
        if (m.type !== 'response_recognition_codes') throw this.unexpected(m, 'response_recognition_codes (4/6)');
        for (const r of m.records) {
          try {
            out.push(decodeRecognitionRecord(r));
          } catch {
            this.log('warn', `${this.peer} listed a recognition record with an invalid client key; skipped.`);
          }
        }
      }
    });
  }

  /**
   * Download a client's whole backup (112 → 114…, 116, (118, 120…)…, 122) as archive events
   * (no footers). With `onEvent` the events are streamed instead of collected.
   * @param clientKey33 the client key (02/03 form, not `c`).
   * @throws CldcbError not_found (the server refused: no archive, the client is connected
   *   right now, or a read proof is needed), truncated (no 122 before the connection ended),
   *   timeout, protocol_error (out-of-sequence message).
   */
  async downloadBackup(clientKey33: Uint8Array, opts: { timeoutMs?: number; onEvent?: (e: ArchEvent) => void } = {}): Promise<ArchEvent[]> {
    const timeoutMs = opts.timeoutMs ?? this.replyTimeoutMs;
    const req = requestBackupData(clientKey33);
    return this.request('request_backup_data', async () => {
      await this.send(req, timeoutMs, 'request_backup_data');
      const asm = new RecoveryAssembler();
      const events: ArchEvent[] = [];
      let messages = 0;
      while (!asm.done) {
        let m: CldcbMessage;
        try {
          m = await this.next(timeoutMs, messages === 0 ? 'the backup data' : 'more backup data');
        } catch (e) {
          if (e instanceof CldcbError && (e.code === 'io_error' || e.code === 'truncated')) {
            if (messages === 0)
              throw new CldcbError(
                'not_found',
                `The cldcb server at ${this.peer} refused to send this backup and closed the connection: it has no archive for that client, the client (plugin) is connected to it right now, or it wants a read proof first.`,
                { cause: e },
              );
            throw new CldcbError('truncated', `The cldcb server at ${this.peer} closed the connection before the end of the backup (no message 122 after ${messages} messages): the download is incomplete.`, { cause: e });
          }
          throw e;
        }
        messages++;
        for (const ev of asm.push(m)) {
          if (opts.onEvent) opts.onEvent(ev);
          else events.push(ev);
        }
      }
      return events;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// SOCKS5 (RFC 1928, no authentication, CONNECT), through the `socks` package. As the original's
// `common/Net/ProxyConnector.cpp`: IP addresses go as ATYP IPv4/IPv6, anything else as a domain
// name (ATYP 3) that the proxy resolves — so a .onion name reaches Tor and never our resolver.

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** SOCKS5 reply codes (RFC 1928 §6), by the names the `socks` package reports them under. */
const SOCKS_REPLIES: Record<string, string> = {
  Failure: 'general SOCKS server failure',
  NotAllowed: 'connection not allowed by ruleset',
  NetworkUnreachable: 'network unreachable',
  HostUnreachable: 'host unreachable',
  ConnectionRefused: 'connection refused',
  TTLExpired: 'TTL expired',
  CommandNotSupported: 'command not supported',
  AddressNotSupported: 'address type not supported',
};

/**
 * A TCP connection to host:port tunnelled through the SOCKS5 proxy. The Noise handshake then
 * runs on it end to end, so the proxy sees only ciphertext.
 * @throws CldcbError bad_input (a host name SOCKS5 cannot carry), server_unreachable (proxy
 *   unreachable, refused, or no answer in time — the reason in the proxy's words),
 *   protocol_error (the proxy wants authentication or does not speak SOCKS5).
 */
export async function socksTunnel(proxy: HostPort, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const proxyPort = proxy.port || DEFAULT_PROXY_PORT;
  const fail = (why: string, code: 'server_unreachable' | 'protocol_error' = 'server_unreachable', cause?: unknown): CldcbError =>
    new CldcbError(code, `Cannot reach ${hostPort(host, port)} through the SOCKS5 proxy ${hostPort(proxy.host, proxyPort)}: ${why}.`, { cause });
  // A domain name goes as one length byte and its bytes (the package counts characters).
  if (net.isIP(host) === 0 && (host.length > 255 || !/^[\x21-\x7e]+$/.test(host)))
    throw new CldcbError('bad_input', `server host name "${host.slice(0, 40)}${host.length > 40 ? '…' : ''}" cannot go through SOCKS5 (printable ASCII, at most 255 bytes).`);
  assertMayConnect(host, port, 'socks'); // the app's online-mode rule (networkGuard.ts)
  try {
    // eslint-disable-next-line no-restricted-syntax -- the guarded connection point: assertMayConnect above
    const { socket } = await SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxyPort, type: 5 },
      command: 'connect',
      destination: { host, port },
      timeout: timeoutMs,
    });
    return socket;
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const reply = /rejected connection - (\w+)/.exec(text)?.[1];
    if (reply !== undefined) throw fail(SOCKS_REPLIES[reply] ?? `reply ${reply}`, 'server_unreachable', e);
    if (/timed out/i.test(text)) throw fail(`no answer within ${timeoutMs} ms`, 'server_unreachable', e);
    if (/Socket closed/.test(text)) throw fail('the proxy closed the connection', 'server_unreachable', e);
    if (/initial handshake|Authentication/i.test(text)) throw fail('the proxy wants authentication or is not SOCKS5', 'protocol_error', e);
    const errno = /\b(E[A-Z]{3,})\b/.exec(text)?.[1];
    if (errno !== undefined) throw fail(errno, 'server_unreachable', e);
    throw fail(`malformed proxy reply (${text})`, 'protocol_error', e);
  }
}
