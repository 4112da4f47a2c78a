/**
 * A cldcb client for tests and benchmarks, built from shared/cldcb + noiseSocket: behaves
 * like the plugin (answers pings with pongs echoing the TLVs, sends a backup without
 * waiting, then reads the next non-ping message) and like a recovering client (listing,
 * download, extension v1 read proof). No vitest import.
 */
import net from 'node:net';
import { type ArchEvent } from '../../../shared/cldcb/arch';
import { nobleSecp } from '../../../shared/cldcb/curve';
import { proveRead, readToken as readTokenFromEcdh, readVerifier, setReadVerifier } from '../../../shared/cldcb/extension';
import {
  decodeMessage,
  describeMessage,
  giveRecognitionCode,
  incrementalChunk,
  incrementalEnd,
  MSG,
  pong,
  requestBackupData,
  requestIncremental,
  requestRecognitionCodes,
  reuploadChunk,
  reuploadEnd,
  type CldcbMessage,
} from '../../../shared/cldcb/messages';
import { CldcbError } from '../../../shared/errors';
import { publicKeyOf, randomPrivateKey } from '../../../shared/noise/primitives';
import { dialNoise, type NoiseConnection } from '../../../shared/node/noiseSocket';

export interface ClientKey {
  readonly priv: Uint8Array;
  readonly pub: Uint8Array;
}

export function newClientKey(): ClientKey {
  const priv = randomPrivateKey();
  return { priv, pub: publicKeyOf(priv, 'client') };
}

/** T = SHA256("cldcb read token" ‖ S), S = SHA256(compressed(client_priv · NODE)) (docs/PROTOCOL.md §3). */
export function readToken(clientPriv: Uint8Array, nodePub: Uint8Array): Uint8Array {
  return readTokenFromEcdh(nobleSecp.ecdhHash(clientPriv, nodePub));
}

export { readVerifier };

export interface ConnectOptions {
  port: number;
  serverPub: Uint8Array;
  key: ClientKey;
  host?: string;
  /** Answer pings with pongs (default true, as the plugin). */
  answerPings?: boolean;
  /** Connect from this local address (e.g. 127.0.0.2: another source address on loopback). */
  localAddress?: string;
}

export type BackupOutcome = 'appended' | 'reuploaded';

export class TestClient {
  /** Extension version advertised by the server's first ping (undefined: none seen yet / original server). */
  extVersion: number | undefined;
  pingsSeen = 0;

  private constructor(
    readonly conn: NoiseConnection,
    readonly key: ClientKey,
    private readonly answerPings: boolean,
  ) {}

  static async connect(o: ConnectOptions): Promise<TestClient> {
    const conn = await dialNoise({ host: o.host ?? '127.0.0.1', port: o.port, localStatic: o.key.priv, remoteStatic: o.serverPub, timeoutMs: 5000, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    return new TestClient(conn, o.key, o.answerPings ?? true);
  }

  send(payload: Uint8Array): Promise<void> {
    return this.conn.send(payload);
  }

  /** Next message that is not a ping (pings answered as the plugin does), within `timeoutMs` overall. */
  async next(timeoutMs = 5000): Promise<CldcbMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = decodeMessage(await this.conn.receive(Math.max(1, deadline - Date.now())));
      if (m.type === 'ping') {
        this.pingsSeen++;
        const v = m.tlvs.get(1);
        if (v && v.length === 2) this.extVersion = (v[0]! << 8) | v[1]!;
        if (this.answerPings) await this.send(pong(m.tlvs));
        continue;
      }
      return m;
    }
  }

  async expect(type: CldcbMessage['type'], timeoutMs = 5000): Promise<CldcbMessage> {
    const m = await this.next(timeoutMs);
    if (m.type !== type) throw new Error(`expected ${type}, got ${describeMessage(m)}`);
    return m;
  }

  /** Wait until the server closes the connection; returns the CldcbError code seen. */
  async expectClosed(timeoutMs = 5000): Promise<string> {
    try {
      for (;;) {
        const m = await this.next(timeoutMs);
        // A pong, or the re-upload request the server sends at once, may precede the close.
        if (m.type !== 'pong' && m.type !== 'response_reupload') throw new Error(`expected the server to close, got ${describeMessage(m)}`);
      }
    } catch (e) {
      if (e instanceof CldcbError && e.code !== 'timeout') return e.code;
      throw e;
    }
  }

  /**
   * One db_write as the plugin does it: 32, 68 × k, 70 without waiting; then 38, or 36 ⇒
   * 52 × m, 54, then 38. Throws if a re-upload is asked and `snapshot` is missing.
   */
  async backup(dv: number, chunks: readonly Uint8Array[], snapshot?: readonly Uint8Array[]): Promise<BackupOutcome> {
    await this.send(requestIncremental(dv));
    for (const c of chunks) await this.send(incrementalChunk(c));
    await this.send(incrementalEnd());
    const m = await this.next();
    if (m.type === 'acknowledge_upload') return 'appended';
    if (m.type !== 'response_reupload') throw new Error(`backup dv ${dv}: unexpected ${describeMessage(m)}`);
    if (!snapshot) throw new Error(`backup dv ${dv}: the server asked for a re-upload`);
    for (const c of snapshot) await this.send(reuploadChunk(c));
    await this.send(reuploadEnd());
    await this.expect('acknowledge_upload');
    return 'reuploaded';
  }

  giveCode(code: Uint8Array): Promise<void> {
    return this.send(giveRecognitionCode(code));
  }

  /** 2 ⇒ 4…, 6: the 97-byte records, and how many 4-messages carried them. */
  async listCodes(): Promise<{ records: Uint8Array[]; messages: number }> {
    await this.send(requestRecognitionCodes());
    const records: Uint8Array[] = [];
    let messages = 0;
    for (;;) {
      const m = await this.next();
      if (m.type === 'response_recognition_codes_end') return { records, messages };
      if (m.type !== 'response_recognition_codes') throw new Error(`listing: unexpected ${describeMessage(m)}`);
      messages++;
      records.push(...m.records.map((r) => r.slice()));
    }
  }

  /** 112 ⇒ 114…, 116, (118, 120…)…, 122 — as archive events (no footers) and the raw messages. */
  async download(clientKey33: Uint8Array): Promise<{ events: ArchEvent[]; messages: CldcbMessage[] }> {
    await this.send(requestBackupData(clientKey33));
    const events: ArchEvent[] = [];
    const messages: CldcbMessage[] = [];
    let inIncrement = false;
    for (;;) {
      const m = await this.next();
      messages.push(m);
      switch (m.type) {
        case 'response_backedup_reupload_chunk':
          events.push({ type: 'reuploadChunk', chunk: m.chunk.slice() });
          break;
        case 'response_backedup_reupload_end':
          events.push({ type: 'reuploadEnd' });
          break;
        case 'response_backedup_incremental_new':
          if (inIncrement) events.push({ type: 'incrementEnd' });
          events.push({ type: 'incrementStart', dataVersion: m.dataVersion });
          inIncrement = true;
          break;
        case 'response_backedup_incremental_chunk':
          events.push({ type: 'incrementChunk', chunk: m.chunk.slice() });
          break;
        case 'response_backedup_incremental_endall':
          if (inIncrement) events.push({ type: 'incrementEnd' });
          return { events, messages };
        default:
          throw new Error(`download: unexpected ${describeMessage(m)}`);
      }
    }
  }

  /** 240 ⇒ 241. */
  async setReadVerifier(v: Uint8Array): Promise<void> {
    await this.send(setReadVerifier(v));
    const m = await this.next();
    if (!(m.type === 'unknown' && m.id === MSG.readVerifierStored)) throw new Error(`set_read_verifier: unexpected ${describeMessage(m)}`);
  }

  /** 242 ⇒ 243. */
  async proveRead(clientKey33: Uint8Array, token: Uint8Array): Promise<void> {
    await this.send(proveRead(clientKey33, token));
    const m = await this.next();
    if (!(m.type === 'unknown' && m.id === MSG.readGranted)) throw new Error(`prove_read: unexpected ${describeMessage(m)}`);
  }

  close(): void {
    this.conn.close();
  }
}

/** A raw TCP socket (for handshake garbage and slowloris tests). */
export function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the server closes the raw socket (or after timeoutMs with false). */
export function closedWithin(s: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), timeoutMs);
    s.on('data', () => {});
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.once('error', () => {});
  });
}

/** Deterministic fake sealed chunk bytes (the server never looks inside). */
export function fakeChunk(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
