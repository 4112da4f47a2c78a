/**
 * JSON-RPC client for lightningd's unix socket (lightningd-rig.md §2): one persistent
 * connection, requests with ids, replies matched by id, and a timeout on every call — a
 * lightningd stalled in a db_write hook does not answer, and a test must say so instead of
 * hanging.
 */
import net from 'node:net';
import { JsonObjectStream } from '../../../plugin/jsonStream';

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number | undefined,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${message}${code !== undefined ? ` (code ${code})` : ''}`);
  }
}

interface Pending {
  readonly method: string;
  readonly sock: net.Socket;
  readonly timer: NodeJS.Timeout;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class LightningRpc {
  private sock?: net.Socket;
  private connecting?: Promise<net.Socket>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    readonly socketPath: string,
    readonly defaultTimeoutMs = 30_000,
  ) {}

  private connect(): Promise<net.Socket> {
    if (this.sock && !this.sock.destroyed) return Promise.resolve(this.sock);
    if (this.connecting) return this.connecting;
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(this.socketPath);
      const stream = new JsonObjectStream();
      s.setEncoding('utf8');
      s.once('connect', () => {
        this.sock = s;
        this.connecting = undefined;
        resolve(s);
      });
      s.on('data', (text: string) => {
        let values: unknown[];
        try {
          values = stream.push(text);
        } catch (e) {
          s.destroy(e as Error);
          return;
        }
        for (const v of values)
          this.onReply(
            v as {
              id?: number;
              result?: unknown;
              error?: { code?: number; message?: string; data?: unknown };
            },
          );
      });
      const fail = (e?: Error): void => {
        if (this.sock === s) this.sock = undefined;
        if (this.connecting) {
          this.connecting = undefined;
          reject(e ?? new Error('connection closed'));
        }
        for (const [id, p] of this.pending) {
          if (p.sock !== s) continue;
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.reject(new Error(`lightningd closed the RPC connection (${e?.message ?? 'socket closed'})`));
        }
      };
      s.on('error', (e) => fail(e));
      s.on('close', () => fail());
    });
    return this.connecting;
  }

  private onReply(r: {
    id?: number;
    result?: unknown;
    error?: { code?: number; message?: string; data?: unknown };
  }): void {
    if (typeof r.id !== 'number') return; // a notification
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.error)
      p.reject(
        new RpcError(p.method, r.error.code, r.error.message ?? JSON.stringify(r.error), r.error.data),
      );
    else p.resolve(r.result);
  }

  /** Call `method`; rejects with RpcError for lightningd's error replies, Error on timeout or a lost connection. */
  async call<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> | unknown[] = {},
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<T> {
    const s = await this.connect();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply within ${timeoutMs} ms (${this.socketPath})`));
      }, timeoutMs);
      this.pending.set(id, { method, sock: s, timer, resolve: resolve as (v: unknown) => void, reject });
      s.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}
