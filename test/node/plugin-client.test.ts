/**
 * The cldcb client library (shared/node/cldcbClient.ts) against in-test servers:
 * timeouts, refused and truncated downloads, out-of-sequence replies, ping/pong and the
 * extension advertisement, long recognition listings, the SOCKS5 proxy path.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { u16be } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import {
  MSG,
  SERVER_PING_BODY,
  decodeMessage,
  encodeMessage,
  responseBackedupIncrementalChunk,
  responseBackedupIncrementalNew,
  responseBackedupReuploadChunk,
  responseBackedupReuploadEnd,
  acknowledgeUpload,
} from '../../shared/cldcb/messages';
import { publicKeyOf } from '../../shared/noise/primitives';
import { acceptNoise, type NoiseConnection } from '../../shared/node/noiseSocket';
import { CldcbClient, readToken, readVerifier } from '../../shared/node/cldcbClient';
import { TestCldcbServer } from './helpers/plugin-server';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const key = (): Uint8Array => new Uint8Array(randomBytes(32));

async function rejection(p: Promise<unknown>): Promise<CldcbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    return e as CldcbError;
  }
  throw new Error('expected a rejection');
}

/** A raw Noise server: `script` runs per connection. */
async function scripted(script: (c: NoiseConnection) => Promise<void>): Promise<{ port: number; pub: Uint8Array; received: number[] }> {
  const secret = key();
  const received: number[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => {});
    void acceptNoise(sock, { localStatic: secret })
      .then(async (c) => {
        const orig = c.receive.bind(c);
        c.receive = async (t?: number) => {
          const p = await orig(t);
          received.push((p[0]! << 8) | p[1]!);
          return p;
        };
        await script(c).catch(() => {});
      })
      .catch(() => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as net.AddressInfo).port, pub: publicKeyOf(secret, 'server'), received };
}

function connect(port: number, pub: Uint8Array, extra: Partial<Parameters<typeof CldcbClient.connect>[0]> = {}): Promise<CldcbClient> {
  return CldcbClient.connect({ host: '127.0.0.1', port, serverKey: pub, clientPrivateKey: key(), replyTimeoutMs: 1000, ...extra }).then((c) => {
    cleanups.push(() => c.close());
    return c;
  });
}

/** Answer the probe ping, then run `rest`. */
const probeThen =
  (rest: (c: NoiseConnection) => Promise<void>, advertise = false) =>
  async (c: NoiseConnection): Promise<void> => {
    if (advertise) await c.send(encodeMessage(MSG.ping, [[0, SERVER_PING_BODY], [1, u16be(1)]]));
    const m = decodeMessage(await c.receive(5000));
    if (m.type === 'ping') await c.send(encodeMessage(MSG.pong, [[0, SERVER_PING_BODY]]));
    await rest(c);
  };

describe('CldcbClient', () => {
  it('an upload whose acknowledgement never comes fails with timeout and closes the connection', async () => {
    const srv = await scripted(probeThen(async (c) => void (await c.receive(60_000).catch(() => {}), await new Promise((r) => setTimeout(r, 60_000)))));
    const c = await connect(srv.port, srv.pub);
    const t0 = Date.now();
    const e = await rejection(c.uploadIncrement(5, [new Uint8Array(200)], { timeoutMs: 700 }));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/acknowledgement of data_version 5 within 700 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.closed).toBe(true);
  });

  it('a download that ends without message 122 is truncated; an immediate close is a refusal', async () => {
    const srv = await scripted(
      probeThen(async (c) => {
        decodeMessage(await c.receive(5000));
        await c.send(responseBackedupReuploadChunk(new Uint8Array(10)));
        await c.send(responseBackedupReuploadEnd());
        await c.send(responseBackedupIncrementalNew(3));
        await c.send(responseBackedupIncrementalChunk(new Uint8Array(10)));
        c.close();
      }),
    );
    const cid = publicKeyOf(key(), 'c');
    const e = await rejection((await connect(srv.port, srv.pub)).downloadBackup(cid));
    expect(e.code).toBe('truncated');
    expect(e.message).toMatch(/no message 122 after 4 messages/);

    const srv2 = await scripted(probeThen(async (c) => c.close()));
    const e2 = await rejection((await connect(srv2.port, srv2.pub)).downloadBackup(cid));
    expect(e2.code).toBe('not_found');
  });

  it('an out-of-sequence reply is a protocol error', async () => {
    const srv = await scripted(
      probeThen(async (c) => {
        for (;;) {
          const m = decodeMessage(await c.receive(5000));
          if (m.type === 'incremental_end') break;
        }
        await c.send(encodeMessage(MSG.responseRecognitionCodesEnd));
        await c.receive(5000).catch(() => {});
      }),
    );
    const e = await rejection((await connect(srv.port, srv.pub)).uploadIncrement(1, [new Uint8Array(5)]));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/response_recognition_codes_end where acknowledge_upload \(38\) or response_reupload \(36\)/);
  });

  it('answers pings with an echo at any time, learns the extension only from TLV 1, and skips pings inside a request', async () => {
    let pongs: Uint8Array[] = [];
    const srv = await scripted(
      probeThen(async (c) => {
        await c.send(encodeMessage(MSG.ping, [[0, new Uint8Array([1, 2, 3])], [7, new Uint8Array([9])]]));
        for (;;) {
          const m = decodeMessage(await c.receive(5000));
          if (m.type === 'pong') pongs.push(encodeMessage(MSG.pong, m.tlvs));
          if (m.type === 'incremental_end') break;
        }
        await c.send(encodeMessage(MSG.ping, [[0, SERVER_PING_BODY]]));
        await c.send(acknowledgeUpload());
        await c.receive(5000).catch(() => {});
      }),
    );
    const c = await connect(srv.port, srv.pub);
    expect(c.supportsExtension).toBe(false);
    expect(await c.uploadIncrement(9, [new Uint8Array(3)])).toBe('stored');
    expect(pongs[0]).toEqual(encodeMessage(MSG.pong, [[0, new Uint8Array([1, 2, 3])], [7, new Uint8Array([9])]]));
    pongs = [];
    await expect(c.setReadVerifier(new Uint8Array(32))).rejects.toMatchObject({ code: 'unsupported' });

    const adv = await scripted(probeThen(async (c2) => void (await c2.receive(5000).catch(() => {})), true));
    const c2 = await connect(adv.port, adv.pub);
    expect(c2.supportsExtension).toBe(true);
    expect(c2.extensionVersion).toBe(1);
  });

  it('lists more than 675 recognition codes (several messages 4), and read protection works with our in-test server', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours' });
    cleanups.push(() => server.stop());
    for (let i = 0; i < 700; i++) {
      const k = publicKeyOf(key(), 'c');
      server.codes.set(Buffer.from(k).toString('hex'), new Uint8Array(randomBytes(64)));
    }
    const c = await connect(server.port, server.publicKey);
    const records = await c.listRecognitionCodes();
    expect(records.length).toBe(700);
    expect(new Set(records.map((r) => Buffer.from(r.clientKey).toString('hex'))).size).toBe(700);

    const t = readToken(new Uint8Array(32).fill(7));
    await c.setReadVerifier(readVerifier(t));
    expect(server.verifiers.size).toBe(1);
  });

  it('a client that is not allow-listed gets a clear message at connect', async () => {
    const server = await TestCldcbServer.start({ mode: 'original', clients: [] });
    cleanups.push(() => server.stop());
    const e = await rejection(connect(server.port, server.publicKey, { recognitionCode: new Uint8Array(64) }));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/allow-list/);
  });

  it('reaches the server through a SOCKS5 proxy (IPv4 and a host name), and reports proxy refusals', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours' });
    cleanups.push(() => server.stop());
    const seen: string[] = [];
    let refuse = false;
    let refuseWith = 5; // RFC 1928 §6 reply code
    let wantAuth = false;
    const proxy = net.createServer((s) => {
      s.on('error', () => {});
      let buf = Buffer.alloc(0);
      let stage = 0;
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (stage === 0 && buf.length >= 2 + buf[1]!) {
          buf = buf.subarray(2 + buf[1]!);
          if (wantAuth) {
            s.end(Buffer.from([5, 0xff])); // no acceptable method: it wants a password
            return;
          }
          s.write(Buffer.from([5, 0]));
          stage = 1;
        }
        if (stage === 1 && buf.length >= 5) {
          const atyp = buf[3];
          const alen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buf[4]!;
          if (buf.length < 4 + alen + 2) return;
          const host = atyp === 1 ? [...buf.subarray(4, 8)].join('.') : buf.subarray(5, 5 + buf[4]!).toString();
          const port = buf.readUInt16BE(4 + alen);
          seen.push(`${host}:${port}`);
          stage = 2;
          s.removeAllListeners('data');
          if (refuse) {
            s.end(Buffer.from([5, refuseWith, 0, 1, 0, 0, 0, 0, 0, 0]));
            return;
          }
          const up = net.connect({ host: host === 'localhost' ? '127.0.0.1' : host, port }, () => {
            s.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            s.pipe(up);
            up.pipe(s);
          });
          up.on('error', () => s.destroy());
        }
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
    const proxyAddr = { host: '127.0.0.1', port: (proxy.address() as net.AddressInfo).port };

    const c = await connect(server.port, server.publicKey, { proxy: proxyAddr });
    expect(c.supportsExtension).toBe(true);
    expect((await c.listRecognitionCodes()).length).toBe(0);
    const c2 = await CldcbClient.connect({ host: 'localhost', port: server.port, serverKey: server.publicKey, clientPrivateKey: key(), proxy: proxyAddr });
    cleanups.push(() => c2.close());
    await c2.ping();
    expect(seen).toEqual([`127.0.0.1:${server.port}`, `localhost:${server.port}`]);

    refuse = true;
    const e = await rejection(connect(server.port, server.publicKey, { proxy: proxyAddr }));
    expect(e.code).toBe('server_unreachable');
    expect(e.message).toMatch(/through the SOCKS5 proxy 127\.0\.0\.1:\d+: connection refused/);

    // A .onion name goes to the proxy as a domain name (ATYP 3), as the original: never resolved here.
    const onion = 'vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion';
    refuseWith = 4;
    const e2 = await rejection(CldcbClient.connect({ host: onion, port: 29735, serverKey: server.publicKey, clientPrivateKey: key(), proxy: proxyAddr }));
    expect(seen.at(-1)).toBe(`${onion}:29735`);
    expect(e2.code).toBe('server_unreachable');
    expect(e2.message).toBe(`Cannot reach ${onion}:29735 through the SOCKS5 proxy ${proxyAddr.host}:${proxyAddr.port}: host unreachable.`);

    wantAuth = true;
    const e3 = await rejection(connect(server.port, server.publicKey, { proxy: proxyAddr }));
    expect(e3.code).toBe('protocol_error');
    expect(e3.message).toMatch(/the proxy wants authentication or is not SOCKS5/);

    // Nothing listening at the proxy's address.
    const gone = await new Promise<number>((r) => {
      const t = net.createServer();
      t.listen(0, '127.0.0.1', () => {
        const p = (t.address() as net.AddressInfo).port;
        t.close(() => r(p));
      });
    });
    const e4 = await rejection(connect(server.port, server.publicKey, { proxy: { host: '127.0.0.1', port: gone } }));
    expect(e4.code).toBe('server_unreachable');
    expect(e4.message).toMatch(new RegExp(`through the SOCKS5 proxy 127\\.0\\.0\\.1:${gone}: ECONNREFUSED`));

    // A host name SOCKS5 cannot carry is refused before anything is sent.
    const before = seen.length;
    const e5 = await rejection(CldcbClient.connect({ host: 'x'.repeat(256), port: 1, serverKey: server.publicKey, clientPrivateKey: key(), proxy: proxyAddr }));
    expect(e5.code).toBe('bad_input');
    expect(seen.length).toBe(before);
  });

  it('through a proxy the handshake runs on the tunnel itself: no loopback listener is opened', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours' });
    cleanups.push(() => server.stop());
    const proxy = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(Buffer.from([5, 0]));
        s.once('data', () => {
          const up = net.connect({ host: '127.0.0.1', port: server.port }, () => {
            s.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            s.pipe(up);
            up.pipe(s);
          });
          up.on('error', () => s.destroy());
        });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => proxy.close(() => r())));
    const listens: unknown[] = [];
    const origListen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...a: unknown[]) {
      listens.push(a[0]);
      return (origListen as (...x: unknown[]) => net.Server).apply(this, a);
    } as typeof origListen;
    try {
      const c = await connect(server.port, server.publicKey, { proxy: { host: '127.0.0.1', port: (proxy.address() as net.AddressInfo).port } });
      await c.ping();
    } finally {
      net.Server.prototype.listen = origListen;
    }
    expect(listens).toEqual([]);
  });
});
