/**
 * One client connection after the Noise handshake: the server's protocol state machine
 * (cldcb-protocol §2.1, §3.3; docs/PROTOCOL.md §2, §3).
 *
 * Main loop: wait for a message; every `pingIntervalMs` (59.1 s) without one, send a ping
 * (TLV 0 = 42 zero bytes); close when nothing at all arrived for `idleTimeoutMs` (a live
 * client answers pings with pongs, so only dead or slowloris peers hit it). Requests:
 *   0   give_recognition_code   allow-listed only; stored (replacing), no reply
 *   2   request_recognition_codes → 4 × ⌈n/675⌉, 6 (rate-limited)
 *   8/9 ping → pong (42 zero bytes); pong dropped
 *   32  request_incremental(dv)  allow-listed only; → judge → append (68…/70 → 38) or
 *       re-upload (36 at once; 68…/70, 52…/54 → 38)
 *   112 request_backup_data(cid) → 114…, 116, (118, 120…)…, 122 (rate-limited; needs a
 *       read proof on this connection when that client has a read verifier)
 *   240 set_read_verifier(V)     allow-listed only → 241 after fsync
 *   242 prove_read(cid, T)       → 243, or close on a wrong T
 * Anything else closes the connection (as the original). Inside a sequence each message
 * must arrive within `sequenceTimeoutMs` (10 s) — extended up to `stallTimeoutMs` while a
 * frame is partly received — pings and pongs are dropped, and any failure or unexpected
 * message rolls the write back and closes the connection. Bad input never affects other
 * connections: every error ends here.
 */
import { bytesToHex } from '../shared/bytes';
import { ArchReader } from '../shared/cldcb/arch';
import {
  acknowledgeUpload,
  decodeMessage,
  describeMessage,
  MAX_CHUNK,
  MSG,
  messageName,
  pong,
  ping,
  recognitionCodesListing,
  responseBackedupIncrementalChunk,
  responseBackedupIncrementalEndall,
  responseBackedupIncrementalNew,
  responseBackedupReuploadChunk,
  responseBackedupReuploadEnd,
  responseReupload,
  type CldcbMessage,
} from '../shared/cldcb/messages';
import { CldcbError } from '../shared/errors';
import type { NoiseConnection } from '../shared/node/noiseSocket';
import type { AllowList } from './clients';
import { advertisingPing, decodeProveRead, decodeSetReadVerifier, readGranted, readVerifierStored } from '../shared/cldcb/extension';
import type { KeyedLock } from './keyedLock';
import { errText, storageCause, type Logger, type LogLevel } from './log';
import { AddressBuckets, TokenBucket } from './rateLimit';
import type { ReadVerifierStore } from './readVerifiers';
import type { RecognitionStore } from './recognitionStore';
import { readAt } from './fsutil';
import { cidText, isRewind, type AppendWriter, type ArchiveReadHandle, type ArchiveStore, type ReuploadWriter } from './storage';

export interface SessionTiming {
  /** Idle time before the server pings (original: 59.1 s). */
  readonly pingIntervalMs: number;
  /** Close a connection that sent no complete message for this long. */
  readonly idleTimeoutMs: number;
  /** Wait for the next message inside a sequence (original: 10 s). */
  readonly sequenceTimeoutMs: number;
  /** Longest wait for one message inside a sequence while its bytes keep trickling in. */
  readonly stallTimeoutMs: number;
  /** How long a second connection of the same client waits for the first one's write. */
  readonly lockWaitMs: number;
}

export const DEFAULT_TIMING: SessionTiming = {
  pingIntervalMs: 59_100,
  idleTimeoutMs: 3 * 59_100,
  sequenceTimeoutMs: 10_000,
  stallTimeoutMs: 120_000,
  lockWaitMs: 30_000,
};

export interface SessionRates {
  /** Recognition listings: burst, then one per interval. */
  readonly listBurst: number;
  readonly listIntervalMs: number;
  /** Downloads: burst, then one per interval. */
  readonly downloadBurst: number;
  readonly downloadIntervalMs: number;
}

export const DEFAULT_RATES: SessionRates = { listBurst: 4, listIntervalMs: 1000, downloadBurst: 8, downloadIntervalMs: 2000 };

/** Limits shared by every connection from one source address (IPv4 address, IPv6 /64). */
export interface AddressRates {
  readonly list: AddressBuckets;
  readonly download: AddressBuckets;
}

/** Per-address defaults: listings burst 8 then 1/s, downloads burst 16 then 1/s; a wait over 10 s / 30 s is refused. */
export function defaultAddressRates(): AddressRates {
  return { list: new AddressBuckets(8, 1000, 10_000), download: new AddressBuckets(16, 1000, 30_000) };
}

/** What the daemon's admission control learns from a session (admission.ts). */
export interface SessionActivity {
  /** A request (anything but ping/pong) started or ended. */
  request(started: boolean): void;
}

export interface SessionContext {
  readonly log: Logger;
  readonly clients: AllowList;
  readonly recognition: RecognitionStore;
  readonly verifiers: ReadVerifierStore;
  readonly archives: ArchiveStore;
  readonly locks: KeyedLock;
  readonly timing: SessionTiming;
  readonly rates: SessionRates;
  readonly addressRates?: AddressRates;
}

/** Ends the session with one log line at `level`. */
class EndSession extends Error {
  constructor(
    readonly level: LogLevel,
    message: string,
  ) {
    super(message);
  }
}

const READ_BLOCK = 1 << 16;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Session {
  private readonly clientKey: Uint8Array;
  private readonly clientId: string;
  private readonly tag: string;
  private readonly granted = new Set<string>();
  private readonly listBucket: TokenBucket;
  private readonly downloadBucket: TokenBucket;
  private lastReceived = Date.now();
  private stopping: string | undefined;
  private writer: AppendWriter | ReuploadWriter | null = null;
  private inBackup = false;

  constructor(
    private readonly conn: NoiseConnection,
    private readonly ctx: SessionContext,
    readonly id: number,
    /** The source address for per-address limits (admission.ts addressKey). */
    private readonly address = '?',
    private readonly activity?: SessionActivity,
  ) {
    this.clientKey = conn.remoteStatic;
    this.clientId = cidText(conn.remoteStatic);
    this.tag = `conn#${id}`;
    this.listBucket = new TokenBucket(ctx.rates.listBurst, ctx.rates.listIntervalMs);
    this.downloadBucket = new TokenBucket(ctx.rates.downloadBurst, ctx.rates.downloadIntervalMs);
  }

  /**
   * Level of the routine connect/close lines: info for allow-listed clients, debug for the
   * rest — anyone can open thousands of those (their requests are still logged at info, and
   * the daemon sums up connection pressure in one line).
   */
  private get routine(): LogLevel {
    return this.ctx.clients.has(this.clientKey) ? 'info' : 'debug';
  }

  /** Is a backup sequence (request_incremental … acknowledge_upload) in progress? */
  get writing(): boolean {
    return this.inBackup;
  }

  /**
   * Server stopping: an idle connection is closed at once; one in the middle of a write
   * gets `graceMs` to finish it (its client then gets the acknowledgement), after which
   * the connection is closed and the write rolled back.
   */
  stop(reason: string, graceMs = 0): void {
    this.stopping ??= reason;
    if (!this.inBackup || graceMs <= 0) {
      this.conn.close();
      return;
    }
    setTimeout(() => this.conn.close(), graceMs).unref();
  }

  /** Serve the connection until it ends. Never rejects. */
  async run(): Promise<void> {
    const log = this.ctx.log;
    log[this.routine](`${this.tag} ${this.conn.peer}: client ${this.clientId} connected${this.ctx.clients.has(this.clientKey) ? '' : ' (not in clients: read-only)'}`);
    try {
      await this.conn.send(advertisingPing());
      while (this.stopping === undefined) {
        const m = await this.nextMain();
        if (m.type === 'ping' || m.type === 'pong') {
          await this.dispatch(m);
          continue;
        }
        this.activity?.request(true);
        try {
          await this.dispatch(m);
        } finally {
          this.activity?.request(false);
        }
      }
      this.logEnd(undefined);
    } catch (e) {
      await this.writer?.abort();
      this.writer = null;
      this.logEnd(e);
    } finally {
      this.conn.close();
    }
  }

  private logEnd(e: unknown): void {
    const log = this.ctx.log;
    const say = (level: LogLevel, msg: string): void => log[level === 'info' ? this.routine : level](`${this.tag} ${this.clientId}: ${msg}`);
    if (this.stopping !== undefined) return say('info', `closed (${this.stopping})`);
    if (e instanceof EndSession) return say(e.level, `closed: ${e.message}`);
    if (e instanceof CldcbError) {
      if (e.code === 'io_error') return say('info', `disconnected (${e.message})`);
      if (e.code === 'timeout') return say('info', `closed: ${e.message}`);
      return say('warn', `closed: ${e.message}`); // truncated, protocol_error (bad MAC), bad_length (limits)
    }
    const cause = storageCause(e);
    say('error', cause !== undefined ? `closed: ${cause}` : `closed after a server-side failure: ${errText(e)}`);
  }

  private decode(payload: Uint8Array): CldcbMessage {
    try {
      return decodeMessage(payload);
    } catch (e) {
      throw new EndSession('warn', `malformed message: ${errText(e)}`);
    }
  }

  /** Next message in the main loop, with keepalive pings and the idle limit. */
  private async nextMain(): Promise<CldcbMessage> {
    for (;;) {
      try {
        const p = await this.conn.receive(this.ctx.timing.pingIntervalMs);
        this.lastReceived = Date.now();
        return this.decode(p);
      } catch (e) {
        if (!(e instanceof CldcbError && e.code === 'timeout')) throw e;
        if (Date.now() - this.lastReceived >= this.ctx.timing.idleTimeoutMs)
          throw new EndSession('info', `idle: no complete message for ${Math.round((Date.now() - this.lastReceived) / 1000)} s`);
        await this.conn.send(ping());
      }
    }
  }

  /** Next non-ping message inside a sequence (10 s per message; longer while bytes trickle in). */
  private async nextInSequence(what: string): Promise<CldcbMessage> {
    const t = this.ctx.timing;
    for (;;) {
      const started = Date.now();
      let payload: Uint8Array | undefined;
      while (payload === undefined) {
        try {
          payload = await this.conn.receive(t.sequenceTimeoutMs);
        } catch (e) {
          if (!(e instanceof CldcbError && e.code === 'timeout')) throw e;
          if (this.conn.bufferedBytes === 0 || Date.now() - started >= t.stallTimeoutMs)
            throw new EndSession('warn', `timeout waiting for ${what}; the unfinished write was rolled back`);
        }
      }
      this.lastReceived = Date.now();
      const m = this.decode(payload);
      if (m.type === 'ping' || m.type === 'pong') continue; // dropped inside a sequence, as the original
      return m;
    }
  }

  private unexpected(m: CldcbMessage, where: string): EndSession {
    return new EndSession('warn', `unexpected ${describeMessage(m)} ${where}`);
  }

  private async dispatch(m: CldcbMessage): Promise<void> {
    switch (m.type) {
      case 'give_recognition_code':
        return this.giveRecognitionCode(m.code);
      case 'request_recognition_codes':
        return this.listRecognitionCodes();
      case 'ping':
        return this.conn.send(pong());
      case 'pong':
        return;
      case 'request_incremental':
        return this.backup(m.dataVersion, m.wantsReupload === true);
      case 'request_backup_data':
        return this.download(m.clientKey);
      case 'unknown':
        if (m.id === MSG.setReadVerifier) return this.setReadVerifier(m.id, m.tlvs);
        if (m.id === MSG.proveRead) return this.proveRead(m.id, m.tlvs);
        throw new EndSession('warn', `unknown message id ${m.id}`);
      default:
        throw this.unexpected(m, 'outside a sequence');
    }
  }

  private requireListed(what: string): void {
    if (!this.ctx.clients.has(this.clientKey)) throw new EndSession('warn', `${what} refused: client is not in the clients file`);
  }

  private async giveRecognitionCode(code: Uint8Array): Promise<void> {
    this.requireListed('give_recognition_code');
    try {
      const changed = await this.ctx.recognition.set(this.clientKey, code);
      this.ctx.log.info(`${this.tag} ${this.clientId}: recognition code ${changed ? 'stored' : 'unchanged'}`);
    } catch (e) {
      // Kept in memory; the next write of the file retries. Message 0 has no reply.
      this.ctx.log.error(`${this.tag} ${this.clientId}: could not save recognition_codes: ${errText(e)}`);
    }
  }

  /**
   * Send, but close the connection when the peer does not take the message within
   * `stallTimeoutMs` (a reader that stops reading must not hold a slot and an open file forever).
   */
  private async sendWithin(msg: Uint8Array, what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.conn.close();
        reject(new EndSession('warn', `${what}: the client stopped reading for ${this.ctx.timing.stallTimeoutMs} ms`));
      }, this.ctx.timing.stallTimeoutMs);
    });
    try {
      await Promise.race([this.conn.send(msg), stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Wait for this connection's and this address's token; over the address's longest wait, close instead. */
  private async throttle(bucket: TokenBucket, byAddress: AddressBuckets | undefined, what: string): Promise<void> {
    const mine = bucket.take();
    const shared = byAddress ? byAddress.take(this.address) : 0;
    if (shared === null)
      throw new EndSession('info', `${what} refused: too many from ${this.address} (it would wait over ${byAddress!.maxWaitMs / 1000} s)`);
    const wait = Math.max(mine, shared);
    if (wait > 0) {
      this.ctx.log.debug(`${this.tag} ${this.clientId}: ${what} rate-limited, waiting ${wait} ms`);
      await sleep(wait);
    }
  }

  private async listRecognitionCodes(): Promise<void> {
    await this.throttle(this.listBucket, this.ctx.addressRates?.list, 'recognition listing');
    const records = this.ctx.recognition.wireRecords();
    for (const msg of recognitionCodesListing(records)) await this.sendWithin(msg, 'listing');
    this.ctx.log.info(`${this.tag} ${this.clientId}: listed ${records.length} recognition codes`);
  }

  private async lock(what: string): Promise<() => void> {
    const release = await this.ctx.locks.acquire(this.clientId, this.ctx.timing.lockWaitMs);
    if (!release)
      throw new EndSession('warn', `${what}: another connection of client ${this.clientId} kept its archive busy for ${this.ctx.timing.lockWaitMs} ms`);
    return release;
  }

  private async backup(dv: number, clientAsksReupload: boolean): Promise<void> {
    this.requireListed(`request_incremental(dv ${dv})`);
    this.inBackup = true;
    let release: (() => void) | undefined;
    try {
      release = await this.lock(`request_incremental(dv ${dv})`);
      const { judgement, inspection } = await this.ctx.archives.judge(this.clientKey, dv, clientAsksReupload);
      this.ctx.log.info(`${this.tag} ${this.clientId}: request_incremental dv ${dv}: ${judgement.action} (${judgement.reason})`);
      if (judgement.action === 'append' && inspection.kind === 'ok') {
        const w = await this.ctx.archives.beginAppend(this.clientKey, dv, inspection.info);
        this.writer = w;
        let chunks = 0;
        for (;;) {
          const m = await this.nextInSequence('incremental_chunk/incremental_end');
          if (m.type === 'incremental_chunk') {
            await w.chunk(m.chunk);
            chunks++;
          } else if (m.type === 'incremental_end') break;
          else throw this.unexpected(m, 'inside an increment');
        }
        const info = await w.commit();
        this.writer = null;
        this.ctx.log.info(`${this.tag} ${this.clientId}: dv ${dv} appended (${chunks} chunks, ${w.bytes} bytes; ${info.increments} increments, ${info.size} bytes)`);
        await this.conn.send(acknowledgeUpload());
        return;
      }
      await this.conn.send(responseReupload());
      const keepOld =
        inspection.kind === 'damaged' ? 'damaged' : inspection.kind === 'ok' && isRewind(inspection.info.lastDataVersion, dv) ? 'rewound' : null;
      const w = await this.ctx.archives.beginReupload(this.clientKey, dv, keepOld);
      this.writer = w;
      for (;;) {
        const m = await this.nextInSequence('incremental_chunk/incremental_end');
        if (m.type === 'incremental_chunk') await w.incrementChunk(m.chunk);
        else if (m.type === 'incremental_end') break;
        else throw this.unexpected(m, 'inside an increment');
      }
      await w.incrementEnd();
      let chunks = 0;
      for (;;) {
        const m = await this.nextInSequence('reupload_chunk/reupload_end');
        if (m.type === 'reupload_chunk') {
          await w.reuploadChunk(m.chunk);
          chunks++;
        } else if (m.type === 'reupload_end') break;
        else throw this.unexpected(m, 'inside a re-upload');
      }
      const info = await w.commit();
      this.writer = null;
      this.ctx.log.info(`${this.tag} ${this.clientId}: dv ${dv} re-uploaded (${chunks} snapshot chunks, ${info.size} bytes)`);
      await this.conn.send(acknowledgeUpload());
    } catch (e) {
      await this.writer?.abort();
      this.writer = null;
      const cause = storageCause(e);
      if (cause !== undefined)
        throw new EndSession('error', `could not store dv ${dv}: ${cause}; the unfinished write was rolled back and not acknowledged (the client retries)`);
      throw e;
    } finally {
      release?.();
      this.inBackup = false;
    }
  }

  private async download(key: Uint8Array): Promise<void> {
    const target = cidText(key);
    if (this.ctx.verifiers.has(key) && !this.granted.has(bytesToHex(key)))
      throw new EndSession('warn', `download of ${target} refused: that archive is read-protected and no valid prove_read was given`);
    await this.throttle(this.downloadBucket, this.ctx.addressRates?.download, 'download');
    let h: ArchiveReadHandle | null | undefined = await this.ctx.archives.openCommitted(key);
    if (h === undefined) {
      const release = await this.lock(`download of ${target}`);
      try {
        h = await this.ctx.archives.openRead(key);
      } finally {
        release();
      }
    }
    if (!h) throw new EndSession('info', `download of ${target} refused: no archive`);
    if (h.damaged) this.ctx.log.warn(`${this.tag} ${this.clientId}: download of a damaged archive: ${h.damaged}; serving the readable part`);
    let sent = 0;
    try {
      const reader = new ArchReader({ what: `${target}.arch` });
      const send = async (msg: Uint8Array): Promise<void> => {
        await this.sendWithin(msg, 'download');
        sent++;
      };
      const chunk = (c: Uint8Array): Uint8Array => {
        if (c.length > MAX_CHUNK) throw new EndSession('error', `download of ${target}: the archive holds a ${c.length}-byte chunk, more than one message can carry`);
        return c;
      };
      for (let pos = 0; pos < h.size; ) {
        const block = await readAt(h.fh, Math.min(READ_BLOCK, h.size - pos), pos);
        if (block.length === 0) throw new EndSession('error', `download of ${target}: the archive ended early`);
        pos += block.length;
        for (const ev of reader.push(block)) {
          switch (ev.type) {
            case 'reuploadChunk':
              await send(responseBackedupReuploadChunk(chunk(ev.chunk)));
              break;
            case 'reuploadEnd':
              await send(responseBackedupReuploadEnd());
              break;
            case 'incrementStart':
              await send(responseBackedupIncrementalNew(ev.dataVersion));
              break;
            case 'incrementChunk':
              await send(responseBackedupIncrementalChunk(chunk(ev.chunk)));
              break;
            case 'incrementEnd':
              break; // footers are not transmitted
          }
        }
      }
      if (h.damaged) throw new EndSession('warn', `download of ${target}: served the intact part (${h.size} bytes); stopping at the damage without 122`);
      reader.end();
      await send(responseBackedupIncrementalEndall());
      this.ctx.log.info(`${this.tag} ${this.clientId}: served ${target}.arch (${h.size} bytes, ${h.info?.increments ?? '?'} increments, ${sent} messages)`);
    } catch (e) {
      if (e instanceof CldcbError && (e.code === 'bad_checksum' || e.code === 'bad_input' || e.code === 'truncated'))
        throw new EndSession('error', `download of ${target}: ${e.message}`);
      throw e;
    } finally {
      await h.fh.close().catch(() => {});
    }
  }

  private async setReadVerifier(id: number, tlvs: ReadonlyMap<number, Uint8Array>): Promise<void> {
    this.requireListed(messageName(id));
    let v: Uint8Array;
    try {
      v = decodeSetReadVerifier({ id, tlvs });
    } catch (e) {
      throw new EndSession('warn', errText(e));
    }
    try {
      await this.ctx.verifiers.set(this.clientKey, v);
    } catch (e) {
      throw new EndSession('error', `could not save read_verifiers: ${errText(e)}`);
    }
    this.ctx.log.info(`${this.tag} ${this.clientId}: read verifier stored`);
    await this.conn.send(readVerifierStored());
  }

  private async proveRead(id: number, tlvs: ReadonlyMap<number, Uint8Array>): Promise<void> {
    let p: { clientKey: Uint8Array; token: Uint8Array };
    try {
      p = decodeProveRead({ id, tlvs });
    } catch (e) {
      throw new EndSession('warn', errText(e));
    }
    const target = cidText(p.clientKey);
    if (this.ctx.verifiers.has(p.clientKey)) {
      if (!this.ctx.verifiers.check(p.clientKey, p.token)) throw new EndSession('warn', `prove_read for ${target}: wrong read token`);
      this.granted.add(bytesToHex(p.clientKey));
      this.ctx.log.info(`${this.tag} ${this.clientId}: read of ${target} granted`);
    } else this.ctx.log.info(`${this.tag} ${this.clientId}: prove_read for ${target}: no verifier, reads are open`);
    await this.conn.send(readGranted());
  }
}
