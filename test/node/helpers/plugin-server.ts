/**
 * A minimal in-test cldcb server built from shared/cldcb, for plugin and client tests.
 *
 * mode 'original' behaves like the original C++ server (cldcb-protocol §3, §6.3): no
 * extension, a repeated data_version REPLACES the last increment (truncate + append), a
 * reupload is asked (36) at once when the archive is missing or the data_version does not
 * follow; pings are answered with a pong; any unexpected message closes the connection and
 * rolls back what was not acknowledged.
 * mode 'ours' advertises extension v1 (ping with TLV 1), APPENDS repeated data_versions,
 * and implements read protection (240–243), like docs/PROTOCOL.md §2–§3.
 * Archives are kept in memory.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { bytesToHex, equalBytes } from '../../../shared/bytes';
import type { ArchEvent } from '../../../shared/cldcb/arch';
import { advertisingPing, decodeProveRead, decodeSetReadVerifier, readGranted, readVerifier, readVerifierStored } from '../../../shared/cldcb/extension';
import { formatServerId } from '../../../shared/cldcb/ids';
import {
  MSG,
  acknowledgeUpload,
  decodeMessage,
  pong,
  recognitionCodesListing,
  responseBackedupIncrementalChunk,
  responseBackedupIncrementalEndall,
  responseBackedupIncrementalNew,
  responseBackedupReuploadChunk,
  responseBackedupReuploadEnd,
  responseReupload,
  type CldcbMessage,
} from '../../../shared/cldcb/messages';
import { publicKeyOf } from '../../../shared/noise/primitives';
import { acceptNoise, type NoiseConnection } from '../../../shared/node/noiseSocket';

export interface StoredArchive {
  reupload: Uint8Array[];
  increments: { dataVersion: number; chunks: Uint8Array[] }[];
}

export interface TestServerOptions {
  readonly mode: 'ours' | 'original';
  /** Allow-listed client keys (33-byte). Default: everyone. */
  readonly clients?: Uint8Array[];
  /** Server secret (32 bytes); default random. */
  readonly secret?: Uint8Array;
  /** Reply delay before each acknowledgement (ms). */
  readonly ackDelayMs?: number;
  /** Port to listen on (default: any free port). */
  readonly port?: number;
}

/** Archive → events for test/node/helpers/replay.ts decodeBackup. */
export function archiveEvents(a: StoredArchive): ArchEvent[] {
  const out: ArchEvent[] = [];
  for (const c of a.reupload) out.push({ type: 'reuploadChunk', chunk: c });
  out.push({ type: 'reuploadEnd' });
  for (const inc of a.increments) {
    out.push({ type: 'incrementStart', dataVersion: inc.dataVersion });
    for (const c of inc.chunks) out.push({ type: 'incrementChunk', chunk: c });
    out.push({ type: 'incrementEnd' });
  }
  return out;
}

export class TestCldcbServer {
  readonly archives = new Map<string, StoredArchive>();
  readonly codes = new Map<string, Uint8Array>();
  readonly verifiers = new Map<string, Uint8Array>();
  /** Set to answer 36 to every request_incremental until a re-upload completes (like a judgement on the archive). */
  forceReuploadNext = false;
  /** Messages seen, by type (for assertions). */
  readonly seen: string[] = [];
  connections = 0;
  reuploads = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly conns = new Set<NoiseConnection>();
  private readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  private server!: net.Server;
  port = 0;

  private constructor(readonly opts: TestServerOptions) {
    this.secret = opts.secret ?? new Uint8Array(randomBytes(32));
    this.publicKey = publicKeyOf(this.secret, 'server');
  }

  get serverId(): string {
    return formatServerId(this.publicKey);
  }

  static async start(opts: TestServerOptions): Promise<TestCldcbServer> {
    const s = new TestCldcbServer(opts);
    await s.listen(opts.port ?? 0);
    return s;
  }

  private async listen(port: number): Promise<void> {
    this.server = net.createServer((sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      sock.on('error', () => {});
      void this.serve(sock);
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stop listening and drop every connection (like a killed server). */
  async stop(): Promise<void> {
    for (const c of this.conns) c.close();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Start again on the same port with the same archives (a restarted server). */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  private allowed(key: Uint8Array): boolean {
    return !this.opts.clients || this.opts.clients.some((c) => equalBytes(c, key));
  }

  private async serve(sock: net.Socket): Promise<void> {
    let conn: NoiseConnection;
    try {
      conn = await acceptNoise(sock, { localStatic: this.secret, timeoutMs: 5000 });
    } catch {
      return;
    }
    this.connections++;
    this.conns.add(conn);
    const cid = conn.remoteStatic;
    const key = bytesToHex(cid);
    let proven = new Set<string>();
    try {
      if (this.opts.mode === 'ours') await conn.send(advertisingPing());
      for (;;) {
        const m = await this.read(conn, 60_000);
        this.seen.push(m.type === 'unknown' ? `id${m.id}` : m.type);
        switch (m.type) {
          case 'give_recognition_code':
            if (!this.allowed(cid)) return conn.close();
            this.codes.set(key, m.code.slice());
            break;
          case 'request_recognition_codes': {
            const records = [...this.codes].map(([k, code]) => new Uint8Array([...Buffer.from(k, 'hex'), ...code]));
            for (const p of recognitionCodesListing(records)) await conn.send(p);
            break;
          }
          case 'ping':
            await conn.send(pong());
            break;
          case 'pong':
            break;
          case 'request_incremental':
            if (!this.allowed(cid)) return conn.close();
            if (!(await this.incremental(conn, key, m.dataVersion))) return conn.close();
            break;
          case 'request_backup_data': {
            const k = bytesToHex(m.clientKey);
            const a = this.archives.get(k);
            if (!a) return conn.close();
            if (this.opts.mode === 'ours' && this.verifiers.has(k) && !proven.has(k)) return conn.close();
            for (const c of a.reupload) await conn.send(responseBackedupReuploadChunk(c));
            await conn.send(responseBackedupReuploadEnd());
            for (const inc of a.increments) {
              await conn.send(responseBackedupIncrementalNew(inc.dataVersion));
              for (const c of inc.chunks) await conn.send(responseBackedupIncrementalChunk(c));
            }
            await conn.send(responseBackedupIncrementalEndall());
            break;
          }
          case 'unknown':
            if (this.opts.mode !== 'ours') return conn.close();
            try {
              if (m.id === MSG.setReadVerifier) {
                this.verifiers.set(key, decodeSetReadVerifier(m).slice());
                await conn.send(readVerifierStored());
              } else if (m.id === MSG.proveRead) {
                const p = decodeProveRead(m);
                const v = this.verifiers.get(bytesToHex(p.clientKey));
                if (v && !equalBytes(readVerifier(p.token), v)) return conn.close();
                proven = new Set([...proven, bytesToHex(p.clientKey)]);
                await conn.send(readGranted());
              } else return conn.close();
            } catch {
              return conn.close(); // a malformed 240/242
            }
            break;
          default:
            return conn.close();
        }
      }
    } catch {
      conn.close();
    } finally {
      this.conns.delete(conn);
    }
  }

  private async read(conn: NoiseConnection, timeoutMs: number): Promise<CldcbMessage> {
    return decodeMessage(await conn.receive(timeoutMs));
  }

  /** One request_incremental sequence (§3.3, §6.3). @returns false to disconnect (nothing stored). */
  private async incremental(conn: NoiseConnection, key: string, dv: number): Promise<boolean> {
    const a = this.archives.get(key);
    const last = a?.increments[a.increments.length - 1];
    let replaceLast = false;
    let reupload = false;
    if (!a || !last || this.forceReuploadNext) reupload = true;
    else if (dv === last.dataVersion) {
      if (this.opts.mode === 'original') replaceLast = true;
    } else if (dv !== (last.dataVersion + 1) % 2 ** 32) reupload = true;
    if (reupload) await conn.send(responseReupload());
    const chunks: Uint8Array[] = [];
    for (;;) {
      const m = await this.readInSequence(conn);
      if (m.type === 'incremental_chunk') chunks.push(m.chunk.slice());
      else if (m.type === 'incremental_end') break;
      else return false;
    }
    if (chunks.length === 0) return false;
    const reuploadChunks: Uint8Array[] = [];
    if (reupload) {
      for (;;) {
        const m = await this.readInSequence(conn);
        if (m.type === 'reupload_chunk') reuploadChunks.push(m.chunk.slice());
        else if (m.type === 'reupload_end') break;
        else return false;
      }
    }
    if (this.opts.ackDelayMs) await new Promise((r) => setTimeout(r, this.opts.ackDelayMs));
    if (conn.closed) return false;
    if (reupload) {
      this.archives.set(key, { reupload: reuploadChunks, increments: [{ dataVersion: dv, chunks }] });
      this.reuploads++;
      this.forceReuploadNext = false;
    } else {
      if (replaceLast) a!.increments.pop();
      a!.increments.push({ dataVersion: dv, chunks });
    }
    await conn.send(acknowledgeUpload());
    return true;
  }

  /** Inside a sequence: 10 s per message, pings and pongs dropped (PingPongMessenger). */
  private async readInSequence(conn: NoiseConnection): Promise<CldcbMessage> {
    for (;;) {
      const m = await this.read(conn, 10_000);
      if (m.type !== 'ping' && m.type !== 'pong') return m;
    }
  }
}
