/**
 * Noise over real loopback TCP (shared/node/noiseSocket.ts), with the
 * cldcb prologue "CLDCB" and the original server's key
 * (test/fixtures/cldcb/secret + server_id, see its README).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import { HEADER_SIZE, MAX_FRAME, MAX_PAYLOAD, type NoiseTransport } from '../../shared/noise/cipher';
import { NoiseInitiator, NoiseResponder } from '../../shared/noise/handshake';
import { publicKeyOf } from '../../shared/noise/primitives';
import { acceptNoise, BUSY_REFUSAL, connectNoise, dialNoise, type NoiseConnection } from '../../shared/node/noiseSocket';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/cldcb/${name}`, import.meta.url));
const SERVER_SECRET = new Uint8Array(fixture('secret'));
/**
 * Server id "# sid = 53…" → compressed key (cldcb-protocol §1.2: first byte
 * OR 0x50, so the first hex digit 5 stands for 0). Inline on purpose: id
 * parsing proper lives in shared/cldcb/ids.ts.
 */
const SERVER_ID = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(fixture('server_id').toString('utf8'))![1]!;
const SERVER_PUB = hexToBytes('0' + SERVER_ID.slice(1), 'server id', 33);
const CLIENT_KEY = hexToBytes('c1'.repeat(32));
const CLIENT_PUB = publicKeyOf(CLIENT_KEY, 'client');

async function rejection(p: Promise<unknown>): Promise<CldcbError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    return e as CldcbError;
  }
  throw new Error('expected a rejection');
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A loopback TCP server; `onSocket` gets every accepted socket. */
async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => {}); // raw test sockets: errors are expected and asserted elsewhere
  });
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  return (server.address() as net.AddressInfo).port;
}

/** Promise of the next accepted socket's acceptNoise outcome. */
async function serveNoise(timeoutMs?: number): Promise<{ port: number; accepted: Promise<NoiseConnection> }> {
  let onAccept!: (p: Promise<NoiseConnection>) => void;
  const accepted = new Promise<NoiseConnection>((resolve, reject) => (onAccept = (p) => void p.then(resolve, reject)));
  accepted.catch(() => {}); // a rejection is asserted by the test when it awaits `accepted`
  const port = await listen((s) => onAccept(acceptNoise(s, { localStatic: SERVER_SECRET, timeoutMs })));
  return { port, accepted };
}

function track(c: NoiseConnection): NoiseConnection {
  cleanups.push(() => c.close());
  return c;
}

/** Exact reads on a raw socket (test side). */
function rawReader(s: net.Socket): (n: number) => Promise<Uint8Array> {
  let buf = Buffer.alloc(0);
  let want: { n: number; r: (b: Uint8Array) => void } | null = null;
  const pump = (): void => {
    if (want && buf.length >= want.n) {
      const out = new Uint8Array(buf.subarray(0, want.n));
      buf = buf.subarray(want.n);
      const r = want.r;
      want = null;
      r(out);
    }
  };
  s.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    pump();
  });
  return (n) =>
    new Promise((r) => {
      want = { n, r };
      pump();
    });
}

/** A server that runs the responder handshake by hand and then gives the test the raw socket. */
async function rawResponderServer(): Promise<{ port: number; session: Promise<{ socket: net.Socket; transport: NoiseTransport }> }> {
  let resolve!: (v: { socket: net.Socket; transport: NoiseTransport }) => void;
  const session = new Promise<{ socket: net.Socket; transport: NoiseTransport }>((r) => (resolve = r));
  const port = await listen(async (socket) => {
    socket.setNoDelay(true);
    const read = rawReader(socket);
    const hs = new NoiseResponder(SERVER_SECRET);
    hs.readAct1(await read(50));
    socket.write(hs.writeAct2());
    const transport = hs.readAct3(await read(66));
    resolve({ socket, transport });
  });
  return { port, session };
}

const connect = (port: number, extra: Partial<Parameters<typeof dialNoise>[0]> = {}) =>
  dialNoise({ host: '127.0.0.1', port, localStatic: CLIENT_KEY, remoteStatic: SERVER_PUB, ...extra });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fixture server key', () => {
  it('secret and server_id belong together (server id = pubkey with first byte | 0x50)', () => {
    expect(SERVER_SECRET).toHaveLength(32);
    const pub = publicKeyOf(SERVER_SECRET, 'secret');
    expect(bytesToHex(pub)).toBe(bytesToHex(SERVER_PUB));
    expect(pub[0]! | 0x50).toBe(parseInt(SERVER_ID.slice(0, 2), 16));
  });
});

describe('loopback handshake, prologue CLDCB', () => {
  it('client and server authenticate each other and exchange messages both ways', async () => {
    const { port, accepted } = await serveNoise();
    const client = track(await connect(port));
    const server = track(await accepted);
    expect(bytesToHex(client.remoteStatic)).toBe(bytesToHex(SERVER_PUB));
    expect(bytesToHex(server.remoteStatic)).toBe(bytesToHex(CLIENT_PUB)); // the responder learns the client key
    expect(client.handshakeHash).toEqual(server.handshakeHash);
    expect(client.peer).toBe(`127.0.0.1:${port}`);
    for (const size of [0, 1, 5, 1000, MAX_PAYLOAD]) {
      const msg = new Uint8Array(size).map((_, i) => (i * 7 + size) & 255);
      await client.send(msg);
      expect(Buffer.compare(await server.receive(5000), msg)).toBe(0);
      await server.send(msg);
      expect(Buffer.compare(await client.receive(5000), msg)).toBe(0);
    }
  });

  it('600 messages each way: key rotation keeps both sides in step', async () => {
    const { port, accepted } = await serveNoise();
    const client = track(await connect(port));
    const server = track(await accepted);
    const sends = [];
    for (let i = 0; i < 600; i++) sends.push(client.send(utf8(`m${i}`)));
    await Promise.all(sends);
    for (let i = 0; i < 600; i++) expect(await server.receive(5000)).toEqual(utf8(`m${i}`));
  });

  it('header and body go out in ONE write, with TCP_NODELAY (cldcb-protocol §9)', async () => {
    const sockets: net.Socket[] = [];
    const writes: number[] = [];
    let noDelay = false;
    let accepted!: Promise<NoiseConnection>;
    const port = await listen((s) => {
      sockets.push(s);
      const origWrite = s.write.bind(s) as (...a: unknown[]) => boolean;
      s.write = ((...a: unknown[]) => {
        writes.push((a[0] as Uint8Array).length);
        return origWrite(...a);
      }) as typeof s.write;
      const origNoDelay = s.setNoDelay.bind(s);
      s.setNoDelay = ((v?: boolean) => {
        noDelay = v !== false;
        return origNoDelay(v);
      }) as typeof s.setNoDelay;
      accepted = acceptNoise(s, { localStatic: SERVER_SECRET });
    });
    const client = track(await connect(port));
    const server = track(await accepted);
    expect(noDelay).toBe(true);
    expect(writes).toEqual([50]); // act 2
    await server.send(utf8('hello'));
    expect(writes).toEqual([50, HEADER_SIZE + 5 + 16]);
    expect(await client.receive(5000)).toEqual(utf8('hello'));
  });
});

describe('a socket the caller opened', () => {
  it('connectNoise runs the initiator on an already-connected socket (a proxy tunnel) and names the peer as told', async () => {
    const { port, accepted } = await serveNoise();
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const client = track(await connectNoise(socket, { localStatic: CLIENT_KEY, remoteStatic: SERVER_PUB, peer: 'example.onion:29735 (through a proxy)' }));
    const server = track(await accepted);
    expect(client.peer).toBe('example.onion:29735 (through a proxy)');
    expect(bytesToHex(server.remoteStatic)).toBe(bytesToHex(CLIENT_PUB));
    await client.send(utf8('over the tunnel'));
    expect(await server.receive(5000)).toEqual(utf8('over the tunnel'));
  });

  it('connectNoise destroys the socket when the handshake fails', async () => {
    const port = await listen((s) => s.end());
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', () => r()));
    expect((await rejection(connectNoise(socket, { localStatic: CLIENT_KEY, remoteStatic: SERVER_PUB }))).code).toBe('protocol_error');
    expect(socket.destroyed).toBe(true);
  });
});

describe('handshake failures', () => {
  it('a server that answers "CLDCB busy" instead of act 2 is named as refusing (at its connection limit), not as a wrong server id', async () => {
    const port = await listen((s) => {
      s.on('data', () => {}); // read act 1, then refuse
      s.end(BUSY_REFUSAL);
    });
    const e = await rejection(connect(port));
    expect(e.code).toBe('server_unreachable');
    expect(e.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} refused the connection: it is at its connection limit \\(busy\\)`));
    expect(e.message).not.toMatch(/server id/);
  });

  it('a server that just closes during the handshake: every possible cause is named, the connection limit included', async () => {
    const port = await listen((s) => {
      s.on('data', () => s.end());
    });
    const e = await rejection(connect(port));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/server id may be wrong .*refusing connections \(at its connection limit\)/);
  });

  it('a client expecting another server key fails cleanly on both sides', async () => {
    const { port, accepted } = await serveNoise();
    const wrong = publicKeyOf(hexToBytes('77'.repeat(32)), 'other');
    const e = await rejection(connect(port, { remoteStatic: wrong }));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} closed the connection during the Noise handshake \\(act 2\\)\\. The server id may be wrong`));
    const s = await rejection(accepted);
    expect(s.code).toBe('protocol_error');
    expect(s.message).toMatch(/act 1: .*bad MAC.*wrong server id/);
  });

  it('a prologue mismatch ("lightning" vs "CLDCB") fails the same way', async () => {
    const { port, accepted } = await serveNoise();
    expect((await rejection(connect(port, { prologue: 'lightning' }))).code).toBe('protocol_error');
    expect((await rejection(accepted)).message).toMatch(/bad MAC/);
  });

  it('bad version byte in act 1 is a protocol error on the server', async () => {
    const { port, accepted } = await serveNoise();
    const act1 = new NoiseInitiator(CLIENT_KEY, SERVER_PUB).writeAct1();
    act1[0] = 1;
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    cleanups.push(() => raw.destroy());
    raw.write(act1);
    const e = await rejection(accepted);
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/act 1: unsupported version byte 1/);
  });

  it('a server reply with a bad MAC in act 2 is a protocol error on the client', async () => {
    const port = await listen(async (s) => {
      const read = rawReader(s);
      const hs = new NoiseResponder(SERVER_SECRET);
      hs.readAct1(await read(50));
      const act2 = hs.writeAct2();
      act2[49]! ^= 1;
      s.write(act2);
    });
    const e = await rejection(connect(port));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/act 2: .*bad MAC/);
  });

  it('the client closing mid-handshake is a clear error on the server', async () => {
    const { port, accepted } = await serveNoise();
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    raw.end(new Uint8Array(20));
    const e = await rejection(accepted);
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/closed the connection during the Noise handshake \(act 1\)/);
  });

  it('server_unreachable names host:port', async () => {
    const port = await listen(() => {});
    cleanups.pop()!(); // destroy sockets
    cleanups.pop()!(); // close the server: nothing listens on `port` any more
    await sleep(20);
    const e = await rejection(connect(port));
    expect(e.code).toBe('server_unreachable');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('invalid inputs are refused before connecting', async () => {
    expect((await rejection(connect(1, { remoteStatic: SERVER_PUB.subarray(1) }))).code).toBe('bad_input');
    expect((await rejection(connect(1, { localStatic: new Uint8Array(32) }))).code).toBe('bad_input');
    expect((await rejection(connect(0))).message).toMatch(/port: expected 1\.\.65535/);
    expect((await rejection(connect(70000))).code).toBe('bad_input');
    expect((await rejection(connect(1, { host: '' }))).code).toBe('bad_input');
    expect((await rejection(connect(1, { timeoutMs: -5 }))).message).toMatch(/timeoutMs/);
  });
});

describe('timeouts', () => {
  it('client: a server that never answers act 1 → timeout', async () => {
    const port = await listen(() => {});
    const t0 = Date.now();
    const e = await rejection(connect(port, { timeoutMs: 200 }));
    expect(e.code).toBe('timeout');
    expect(e.message).toBe(`127.0.0.1:${port} did not send Noise handshake act 2 within 200 ms.`);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('server: a client that sends nothing, or stops after act 1 → timeout per act', async () => {
    const a = await serveNoise(200);
    const raw1 = net.connect(a.port, '127.0.0.1');
    raw1.on('error', () => {});
    cleanups.push(() => raw1.destroy());
    const e1 = await rejection(a.accepted);
    expect(e1.code).toBe('timeout');
    expect(e1.message).toMatch(/did not send Noise handshake act 1 within 200 ms/);

    const b = await serveNoise(200);
    const raw2 = net.connect(b.port, '127.0.0.1');
    raw2.on('error', () => {});
    cleanups.push(() => raw2.destroy());
    raw2.write(new NoiseInitiator(CLIENT_KEY, SERVER_PUB).writeAct1());
    const e2 = await rejection(b.accepted);
    expect(e2.code).toBe('timeout');
    expect(e2.message).toMatch(/act 3 within 200 ms/);
  });

  it('server: totalTimeoutMs bounds the whole handshake, shorter than two per-act limits', async () => {
    let accepted!: Promise<NoiseConnection>;
    const port = await listen((s) => {
      accepted = acceptNoise(s, { localStatic: SERVER_SECRET, timeoutMs: 400, totalTimeoutMs: 500 });
      accepted.catch(() => {});
    });
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    cleanups.push(() => raw.destroy());
    const t0 = Date.now();
    await sleep(300); // act 1 late but within its own 400 ms
    raw.write(new NoiseInitiator(CLIENT_KEY, SERVER_PUB).writeAct1());
    const e = await rejection(accepted);
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/did not complete the Noise handshake within 500 ms \(act 3 missing\)/);
    expect(Date.now() - t0).toBeLessThan(650); // per act alone it would end at 300 + 400 ms
  });

  it('receive(timeout) with nothing sent → timeout; the connection stays usable', async () => {
    const { port, accepted } = await serveNoise();
    const client = track(await connect(port));
    const server = track(await accepted);
    const e = await rejection(client.receive(100));
    expect(e.code).toBe('timeout');
    expect(e.message).toBe(`No message from 127.0.0.1:${port} within 100 ms.`);
    expect(client.closed).toBe(false);
    await server.send(utf8('late'));
    expect(await client.receive(5000)).toEqual(utf8('late'));
  });

  it('a timeout in the middle of a frame keeps the partial frame for the next receive', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    const frame = transport.encryptMessage(utf8('split across a timeout'));
    socket.write(frame.subarray(0, 10));
    let e = await rejection(client.receive(150));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/got part of a frame header \(10 of 18 bytes\)/);
    socket.write(frame.subarray(10, HEADER_SIZE + 4));
    e = await rejection(client.receive(150));
    expect(e.message).toMatch(/got part of a frame body \(4 of 38 bytes\)/);
    socket.write(frame.subarray(HEADER_SIZE + 4));
    expect(await client.receive(5000)).toEqual(utf8('split across a timeout'));
  });
});

describe('framing over TCP', () => {
  it('frames written one byte at a time arrive whole', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    const msgs = [utf8('a'), new Uint8Array(0), utf8('third message')];
    const bytes = Buffer.concat(msgs.map((m) => transport.encryptMessage(m)));
    const got = (async () => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < msgs.length; i++) out.push(await client.receive(10_000));
      return out;
    })();
    for (const b of bytes) {
      socket.write(Uint8Array.of(b));
      await new Promise((r) => setImmediate(r));
    }
    expect(await got).toEqual(msgs);
  });

  it('several frames merged in one write, the last one split, arrive whole', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    const msgs = [utf8('one'), utf8('two'), new Uint8Array(3000).fill(3), utf8('four')];
    const bytes = Buffer.concat(msgs.map((m) => transport.encryptMessage(m)));
    const cut = bytes.length - 7;
    socket.write(bytes.subarray(0, cut));
    for (let i = 0; i < 3; i++) expect(await client.receive(5000)).toEqual(msgs[i]);
    await sleep(20);
    socket.write(bytes.subarray(cut));
    expect(await client.receive(5000)).toEqual(msgs[3]);
  });

  it('act 3 and the first frame merged in one write are both read', async () => {
    const { port, accepted } = await serveNoise();
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    cleanups.push(() => raw.destroy());
    const read = rawReader(raw);
    const hs = new NoiseInitiator(CLIENT_KEY, SERVER_PUB);
    raw.write(hs.writeAct1());
    hs.readAct2(await read(50));
    const { act3, transport } = hs.writeAct3();
    raw.write(Buffer.concat([act3, transport.encryptMessage(utf8('right behind act 3'))]));
    const server = track(await accepted);
    expect(await server.receive(5000)).toEqual(utf8('right behind act 3'));
  });

  it('an oversized payload is refused without sending anything; the connection stays usable', async () => {
    const { port, accepted } = await serveNoise();
    const client = track(await connect(port));
    const server = track(await accepted);
    const e = await rejection(client.send(new Uint8Array(MAX_PAYLOAD + 1)));
    expect(e.code).toBe('bad_length');
    expect(e.message).toMatch(/65536 bytes exceeds the maximum of 65535/);
    await client.send(utf8('still fine'));
    expect(await server.receive(5000)).toEqual(utf8('still fine'));
  });

  it('buffering is bounded when the peer floods and nobody reads', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    const big = new Uint8Array(MAX_PAYLOAD).fill(9);
    const n = 40; // 2.6 MB
    for (let i = 0; i < n; i++) socket.write(transport.encryptMessage(big));
    await sleep(300);
    expect(client.bufferedBytes).toBeGreaterThan(0);
    expect(client.bufferedBytes).toBeLessThan(MAX_FRAME + 65536);
    for (let i = 0; i < n; i++) {
      expect(Buffer.compare(await client.receive(10_000), big)).toBe(0); // (toEqual on 64 KiB arrays is slow)
      expect(client.bufferedBytes).toBeLessThan(MAX_FRAME + 65536);
    }
  });

  it('a corrupted frame is a protocol error and closes the connection', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    const frame = transport.encryptMessage(utf8('tampered'));
    frame[HEADER_SIZE + 2]! ^= 0x40;
    socket.write(frame);
    const e = await rejection(client.receive(5000));
    expect(e.code).toBe('protocol_error');
    expect(e.message).toMatch(/frame body did not authenticate \(bad MAC\)/);
    expect(client.closed).toBe(true);
    expect((await rejection(client.send(utf8('x')))).code).toBe('io_error');
  });
});

describe('closing', () => {
  it('the peer closing mid-header or mid-body → truncated, no crash', async () => {
    for (const [cut, re] of [
      [10, /got frame header \(10 of 18 bytes\)/],
      [HEADER_SIZE + 3, /got frame body \(3 of 21 bytes\)/],
    ] as const) {
      const { port, session } = await rawResponderServer();
      const client = track(await connect(port));
      const { socket, transport } = await session;
      socket.end(transport.encryptMessage(utf8('hello')).subarray(0, cut));
      const e = await rejection(client.receive(5000));
      expect(e.code).toBe('truncated');
      expect(e.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} closed the connection in the middle of a message`));
      expect(e.message).toMatch(re);
      expect(client.closed).toBe(true);
    }
  });

  it('frames sent just before the peer closes are still delivered; then io_error', async () => {
    const { port, session } = await rawResponderServer();
    const client = track(await connect(port));
    const { socket, transport } = await session;
    socket.end(Buffer.concat([transport.encryptMessage(utf8('last words')), transport.encryptMessage(utf8('really'))]));
    await sleep(50);
    expect(await client.receive(5000)).toEqual(utf8('last words'));
    expect(await client.receive(5000)).toEqual(utf8('really'));
    const e = await rejection(client.receive(5000));
    expect(e.code).toBe('io_error');
    expect(e.message).toBe(`127.0.0.1:${port}: closed the connection.`);
  });

  it('close() fails a pending receive, refuses later calls, and is idempotent', async () => {
    const { port, accepted } = await serveNoise();
    const client = await connect(port);
    const server = track(await accepted);
    const pending = client.receive();
    const second = await rejection(client.receive(100));
    expect(second.code).toBe('internal'); // one receive at a time
    client.close();
    client.close();
    expect((await rejection(pending)).code).toBe('io_error');
    expect((await rejection(client.receive())).code).toBe('io_error');
    expect((await rejection(client.send(utf8('x')))).code).toBe('io_error');
    expect(client.closed).toBe(true);
    // The server sees a clean close between frames.
    const e = await rejection(server.receive(5000));
    expect(e.code).toBe('io_error');
  });
});
