/**
 * cldcb-server under faults: SIGKILL in the middle of an append and of a re-upload,
 * disconnects mid-stream, hostile input (after and during the handshake), slowloris,
 * connection limit, many concurrent clients, a full disk (RLIMIT_FSIZE via prlimit), and
 * a graceful SIGTERM that lets a write in progress finish. In every case: no acknowledged
 * write is lost, the archive still decodes, and the server keeps serving others.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../shared/bytes';
import { encodeArchive, encodeIncrement, encodeReuploadSection, readArchive } from '../../shared/cldcb/arch';
import { decodeArchive } from '../unit/helpers/decode';
import { sealIncrement, sealReupload } from '../../shared/cldcb/plaintexts';
import { formatClientId } from '../../shared/cldcb/ids';
import {
  encodeMessage,
  incrementalChunk,
  incrementalEnd,
  MSG,
  requestBackupData,
  requestIncremental,
  reuploadChunk,
  reuploadEnd,
} from '../../shared/cldcb/messages';
import { NoiseInitiator } from '../../shared/noise/handshake';
import { CldcbError } from '../../shared/errors';
import { CldcbClient } from '../../shared/node/cldcbClient';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';
import { closedWithin, fakeChunk, newClientKey, rawConnect, TestClient, type ClientKey } from './helpers/server-client';

const tmpDirs: string[] = [];
function tempDir(clients: ClientKey[]): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cldcb-server-faults-'));
  tmpDirs.push(d);
  writeFileSync(path.join(d, 'clients'), clients.map((k) => `${formatClientId(k.pub)}\n`).join(''));
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
beforeAll(async () => {
  await ensureServerBuilt();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const archPath = (dir: string, k: ClientKey): string => path.join(dir, `${formatClientId(k.pub)}.arch`);
const arch = (dir: string, k: ClientKey): Uint8Array => new Uint8Array(readFileSync(archPath(dir, k)));
const connect = (srv: ServerProcess, key: ClientKey, answerPings = true): Promise<TestClient> =>
  TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key, answerPings });

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** Download and re-encode: equals the file when the archive is intact (true counts). */
async function downloaded(srv: ServerProcess, k: ClientKey): Promise<string> {
  const c = await connect(srv, newClientKey());
  const { events } = await c.download(k.pub);
  c.close();
  return bytesToHex(encodeArchive(events));
}

describe('crashes (SIGKILL) lose no acknowledged write', () => {
  it('in the middle of an append: the torn tail is cut at the next open, acknowledged increments stay and decode', async () => {
    const K = newClientKey();
    const NODE = newClientKey();
    const dir = tempDir([K]);
    let srv = await startServer(dir);
    const c = await connect(srv, K);
    // Real sealed data, so "decodes" means unsealed and replayable (shared/cldcb/archiveDecode.ts).
    const writes = (dv: number): string[] => [`INSERT INTO t VALUES (${dv});`, `UPDATE vars SET intval=${dv} WHERE name='data_version' AND intval = ${dv - 1};`];
    const sealed = (dv: number): Uint8Array[] => sealIncrement(K.priv, NODE.pub, dv, writes(dv));
    expect(await c.backup(1, sealed(1), sealReupload(K.priv, NODE.pub, 1, fakeChunk(2, 4000)))).toBe('reuploaded');
    expect(await c.backup(2, sealed(2))).toBe('appended');
    expect(await c.backup(3, sealed(3))).toBe('appended');
    const acked = arch(dir, K);
    await c.send(requestIncremental(4));
    for (let i = 0; i < 3; i++) await c.send(incrementalChunk(fakeChunk(10 + i, 60000)));
    await waitFor(() => statSync(archPath(dir, K)).size > acked.length + 100_000);
    await srv.kill();
    expect(statSync(archPath(dir, K)).size).toBeGreaterThan(acked.length); // the torn tail is on disk
    expect(() => readArchive(arch(dir, K))).toThrow(/torn tail/);
    srv = await startServer(dir);
    try {
      expect(await downloaded(srv, K)).toBe(bytesToHex(acked));
      await srv.waitForLog(/removed a torn tail of \d+ bytes/);
      expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked));
      const c2 = await connect(srv, K);
      expect(await c2.backup(4, [fakeChunk(20, 100)])).toBe('appended'); // the client's retry
      c2.close();
      expect(readArchive(arch(dir, K)).filter((e) => e.type === 'incrementEnd')).toHaveLength(4);
      const verdict = decodeArchive(arch(dir, K).subarray(0, acked.length), NODE.priv, K.pub);
      expect(verdict.ok).toBe(true);
      expect(verdict.replay.map((i) => i.statements)).toEqual([writes(1), writes(2), writes(3)]);
      expect(bytesToHex(concatBytes(...verdict.snapshot))).toBe(bytesToHex(fakeChunk(2, 4000)));
    } finally {
      await srv.stop();
    }
  });

  it('in the middle of a re-upload: the old archive is untouched, temp files are removed at start', async () => {
    const K = newClientKey();
    const dir = tempDir([K]);
    let srv = await startServer(dir);
    const c = await connect(srv, K);
    expect(await c.backup(1, [fakeChunk(1, 500)], [fakeChunk(2, 4000)])).toBe('reuploaded');
    const acked = arch(dir, K);
    await c.send(requestIncremental(9)); // gap ⇒ re-upload
    await c.send(incrementalChunk(fakeChunk(3, 1000)));
    await c.send(incrementalEnd());
    await c.expect('response_reupload');
    for (let i = 0; i < 3; i++) await c.send(reuploadChunk(fakeChunk(4 + i, 60000)));
    const temps = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
    await waitFor(() => temps().length === 2 && temps().some((n) => n.includes('.r.') && statSync(path.join(dir, n)).size > 100_000));
    await srv.kill();
    expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked));
    srv = await startServer(dir);
    try {
      expect(temps()).toEqual([]);
      expect(srv.log()).toMatch(/removed stale temp file c[23][0-9a-f]{64}\.r\.[0-9a-f]{12}\.tmp/);
      expect(await downloaded(srv, K)).toBe(bytesToHex(acked));
    } finally {
      await srv.stop();
    }
  });
});

describe('one server, many hostile and broken clients', () => {
  const H = newClientKey();
  let dir: string;
  let srv: ServerProcess;
  let good: string;

  beforeAll(async () => {
    dir = tempDir([H]);
    srv = await startServer(dir, { args: ['--handshake-timeout=0.5', '--ping-interval=0.3', '--idle-timeout=1', '--sequence-timeout=1', '--stall-timeout=0.5'] });
    const c = await connect(srv, H);
    expect(await c.backup(1, [fakeChunk(1, 300)], [fakeChunk(2, 3000)])).toBe('reuploaded');
    c.close();
    good = bytesToHex(arch(dir, H));
  });
  afterAll(async () => {
    await srv?.stop();
  });

  const raw = (id: number, body: number[] = []): Uint8Array => new Uint8Array([id >> 8, id & 0xff, ...body]);
  const tlv = (t: number, v: Uint8Array): Uint8Array => concatBytes(new Uint8Array([t, v.length >> 8, v.length & 0xff]), v);
  const END = new Uint8Array([0xff, 0, 0]);
  const msg = (id: number, ...parts: Uint8Array[]): Uint8Array => concatBytes(raw(id), ...parts, END);

  const hostile: [string, Uint8Array[]][] = [
    ['empty incremental_chunk (aborted the original server)', [requestIncremental(2), msg(MSG.incrementalChunk, tlv(0, new Uint8Array(0)))]],
    ['incremental_chunk without TLV 0', [requestIncremental(2), msg(MSG.incrementalChunk)]],
    ['empty reupload_chunk', [requestIncremental(7), incrementalEnd(), msg(MSG.reuploadChunk, tlv(0, new Uint8Array(0)))]],
    ['reupload_chunk before incremental_end', [requestIncremental(7), reuploadChunk(fakeChunk(3, 10))]],
    ['reupload_end in an append', [requestIncremental(2), incrementalChunk(fakeChunk(3, 10)), reuploadEnd()]],
    ['request_incremental inside an increment', [requestIncremental(2), requestIncremental(2)]],
    ['request_incremental with a 3-byte data_version', [msg(MSG.requestIncremental, tlv(0, new Uint8Array(3)))]],
    ['request_incremental with a 5-byte data_version', [msg(MSG.requestIncremental, tlv(0, new Uint8Array(5)))]],
    ['give_recognition_code with 63 bytes', [msg(MSG.giveRecognitionCode, tlv(0, new Uint8Array(63)))]],
    ['request_backup_data with 32 bytes', [msg(MSG.requestBackupData, tlv(0, new Uint8Array(32)))]],
    ['request_backup_data with a point not on the curve', [msg(MSG.requestBackupData, tlv(0, new Uint8Array([2, ...new Uint8Array(32).fill(0xff)])))]],
    ['incremental_chunk outside a sequence', [incrementalChunk(fakeChunk(3, 10))]],
    ['incremental_end outside a sequence', [incrementalEnd()]],
    ['reupload_end outside a sequence', [reuploadEnd()]],
    ['a server-to-client message (acknowledge_upload)', [msg(MSG.acknowledgeUpload)]],
    ['a server-to-client message (response_recognition_codes)', [msg(MSG.responseRecognitionCodes, tlv(0, new Uint8Array(97)))]],
    ['read_granted sent by a client', [msg(MSG.readGranted)]],
    ['unknown id 1', [msg(1)]],
    ['unknown id 65535', [msg(0xffff)]],
    ['no FF terminator', [concatBytes(raw(MSG.requestRecognitionCodes), tlv(0, new Uint8Array(4)))]],
    ['TLV length past the end', [concatBytes(raw(MSG.requestIncremental), new Uint8Array([0, 0xff, 0xff, 1, 2]))]],
    ['one-byte payload', [new Uint8Array([0])]],
    ['empty payload', [new Uint8Array(0)]],
    ['set_read_verifier with 31 bytes', [msg(MSG.setReadVerifier, tlv(0, new Uint8Array(31)))]],
    ['prove_read with an invalid key', [msg(MSG.proveRead, tlv(0, new Uint8Array(33)), tlv(1, new Uint8Array(32)))]],
    ['prove_read without a token', [msg(MSG.proveRead, tlv(0, H.pub))]],
  ];

  it.each(hostile)('%s: closes that connection only; the archive is unchanged', async (_name, payloads) => {
    const c = await connect(srv, H);
    for (const p of payloads) await c.send(p).catch(() => {});
    expect(await c.expectClosed(3000)).toMatch(/io_error|truncated/);
    expect(bytesToHex(arch(dir, H))).toBe(good);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a garbage Noise frame after the handshake (bad MAC) closes the connection', async () => {
    const s = await handshake(srv, newClientKey());
    s.socket.write(new Uint8Array(18).fill(7));
    expect(await closedWithin(s.socket, 2000)).toBe(true);
  });

  it('a frame trickled byte by byte (slowloris) is cut off by the idle limit', async () => {
    const s = await handshake(srv, newClientKey());
    const frame = s.encrypt(encodeMessage(MSG.requestRecognitionCodes));
    let i = 0;
    const timer = setInterval(() => {
      if (i < frame.length && !s.socket.destroyed) s.socket.write(frame.subarray(i, ++i));
    }, 150);
    const t0 = Date.now();
    expect(await closedWithin(s.socket, 4000)).toBe(true);
    clearInterval(timer);
    expect(i).toBeLessThan(frame.length);
    expect(Date.now() - t0).toBeGreaterThan(800);
  });

  it.concurrent.each([
    ['random bytes', (s: net.Socket) => s.write(new Uint8Array(50).fill(0x42))],
    ['an HTTP request', (s: net.Socket) => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['act 1 with version 1', (s: net.Socket) => s.write(concatBytes(new Uint8Array([1]), new Uint8Array(49)))],
    ['nothing (idle handshake)', () => {}],
    ['a trickle of 1 byte per 100 ms', (s: net.Socket) => {
      const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(new Uint8Array([0]))), 100);
    }],
  ])('handshake with %s is dropped within the handshake timeout', async (_name, act) => {
    const s = await rawConnect(srv.port);
    act(s);
    expect(await closedWithin(s, 3000)).toBe(true);
  });

  it('a client that disconnects in the middle of an append or a re-upload leaves nothing behind', async () => {
    const c1 = await connect(srv, H);
    await c1.send(requestIncremental(2));
    await c1.send(incrementalChunk(fakeChunk(5, 30000)));
    await sleep(50);
    c1.close();
    const c2 = await connect(srv, H);
    await c2.send(requestIncremental(8));
    await c2.send(incrementalChunk(fakeChunk(6, 1000)));
    await c2.send(incrementalEnd());
    await c2.expect('response_reupload');
    await c2.send(reuploadChunk(fakeChunk(7, 30000)));
    await sleep(50);
    c2.close();
    await srv.waitForLog(/dv 8 |request_incremental dv 8/);
    await waitFor(() => readdirSync(dir).filter((n) => n.endsWith('.tmp')).length === 0);
    expect(bytesToHex(arch(dir, H))).toBe(good);
  });

  it('a reader that stops reading a large download is closed after --stall-timeout', async () => {
    const big = newClientKey();
    const chunks = Array.from({ length: 130 }, (_, i) => fakeChunk(500 + i, 65000)); // 8.5 MB, more than the socket buffers
    writeFileSync(archPath(dir, big), concatBytes(encodeReuploadSection(chunks), encodeIncrement(1, [fakeChunk(9, 10)], 0)));
    const c = await connect(srv, newClientKey());
    const mark = srv.mark();
    await c.send(requestBackupData(big.pub)); // …and never read
    await srv.waitForLog(/download: the client stopped reading for 500 ms/, 5000, mark);
    c.close();
  });

  it('a damaged archive is served up to its last intact increment, then the connection closes without 122', async () => {
    const D = newClientKey();
    const good = concatBytes(encodeReuploadSection([fakeChunk(1, 100)]), encodeIncrement(1, [fakeChunk(2, 10)], 0));
    const bad = encodeIncrement(2, [fakeChunk(3, 10)], 1);
    bad[bad.length - 1]! ^= 1;
    writeFileSync(archPath(dir, D), concatBytes(good, bad));
    const c = await connect(srv, newClientKey());
    await c.send(requestBackupData(D.pub));
    const types: string[] = [];
    await expect(
      (async () => {
        for (;;) types.push((await c.next()).type);
      })(),
    ).rejects.toMatchObject({ code: 'io_error' });
    expect(types).toEqual([
      'response_backedup_reupload_chunk',
      'response_backedup_reupload_end',
      'response_backedup_incremental_new',
      'response_backedup_incremental_chunk',
    ]); // the increment with the bad footer is not served
    await srv.waitForLog(/download of a damaged archive: .*checksum does not match; serving the readable part/);
  });

  it('a reader that disconnects in the middle of a download does not disturb the server', async () => {
    const c = await connect(srv, newClientKey());
    await c.send(requestBackupData(H.pub));
    c.close();
    expect(await downloaded(srv, H)).toBe(good);
  });

  it('the server is still healthy after all of that', async () => {
    const c = await connect(srv, H);
    expect(await c.backup(2, [fakeChunk(50, 10)])).toBe('appended');
    c.close();
    expect(srv.proc.exitCode).toBeNull();
    expect(srv.log()).not.toMatch(/BUG|server-side failure/);
  });
});

describe('many clients at once', () => {
  const MANY = Array.from({ length: 40 }, () => newClientKey());
  let dir: string;
  let srv: ServerProcess;
  beforeAll(async () => {
    dir = tempDir(MANY);
    srv = await startServer(dir);
    const c = await connect(srv, MANY[0]!);
    expect(await c.backup(1, [fakeChunk(1, 300)], [fakeChunk(2, 3000)])).toBe('reuploaded');
    c.close();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('40 clients back up concurrently (with readers listing and downloading meanwhile): every write acknowledged, every archive complete', async () => {
    const t0 = Date.now();
    const writers = MANY.map(async (k, i) => {
      const c = await connect(srv, k);
      expect(await c.backup(100, [fakeChunk(i, 200)], [fakeChunk(1000 + i, 2000)])).toBe('reuploaded');
      for (let dv = 101; dv < 105; dv++) expect(await c.backup(dv, [fakeChunk(i * 100 + dv, 300 + i)])).toBe('appended');
      c.close();
    });
    const readers = Array.from({ length: 5 }, async () => {
      const c = await connect(srv, newClientKey());
      await c.listCodes();
      expect(bytesToHex(encodeArchive((await c.download(MANY[0]!.pub)).events))).toMatch(/^[0-9a-f]+$/);
      c.close();
    });
    await Promise.all([...writers, ...readers]);
    for (const [i, k] of MANY.entries()) {
      const ev = readArchive(arch(dir, k));
      expect(ev.filter((e) => e.type === 'incrementStart').map((e) => (e.type === 'incrementStart' ? e.dataVersion : 0))).toEqual([100, 101, 102, 103, 104]);
      expect(ev.find((e) => e.type === 'reuploadChunk')).toMatchObject({ chunk: fakeChunk(1000 + i, 2000) });
    }
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

});

/** Handshake over a raw socket, so a test can write arbitrary bytes afterwards. */
async function handshake(srv: ServerProcess, key: ClientKey): Promise<{ socket: net.Socket; encrypt: (p: Uint8Array) => Uint8Array }> {
  const socket = await rawConnect(srv.port);
  const hs = new NoiseInitiator(key.priv, srv.serverPub);
  socket.write(hs.writeAct1());
  const act2 = await new Promise<Uint8Array>((resolve, reject) => {
    let buf: Uint8Array = new Uint8Array(0);
    const onData = (d: Buffer): void => {
      buf = concatBytes(buf, d);
      if (buf.length >= 50) {
        socket.off('data', onData);
        resolve(buf.subarray(0, 50));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  hs.readAct2(act2);
  const { act3, transport } = hs.writeAct3();
  socket.write(act3);
  socket.on('data', () => {}); // the server's pings
  return { socket, encrypt: (p) => transport.encryptMessage(p) };
}

describe('limits and shutdown', () => {
  it('--max-connections: newcomers evict connections without an allow-listed key; only when every slot is allow-listed is one refused ("CLDCB busy")', async () => {
    const A = [newClientKey(), newClientKey(), newClientKey()];
    const dir = tempDir(A);
    const srv = await startServer(dir, { args: ['--max-connections=3', '--reserved-connections=1'] });
    try {
      // Two idle raw connections fill the two slots open to anyone; a third evicts the oldest.
      const idle = [await rawConnect(srv.port), await rawConnect(srv.port)];
      await sleep(50);
      const third = await rawConnect(srv.port);
      expect(await closedWithin(idle[0]!, 2000)).toBe(true);
      expect(idle[1]!.destroyed).toBe(false);
      // Allow-listed clients get in over them, up to every slot.
      const listed = [];
      for (const k of A) listed.push(await connect(srv, k));
      for (const c of listed) expect((await c.listCodes()).records).toEqual([]);
      expect(await closedWithin(third, 2000)).toBe(true);
      // Every slot holds an allow-listed session: a newcomer is told the server is busy.
      const e = await CldcbClient.connect({ host: '127.0.0.1', port: srv.port, serverKey: srv.serverPub, clientPrivateKey: newClientKey().priv }).then(
        () => undefined,
        (x: unknown) => x as CldcbError,
      );
      expect(e?.code).toBe('server_unreachable');
      expect(e?.message).toMatch(/refused the connection: it is at its connection limit \(busy\)/);
      await srv.waitForLog(/refused \(busy\): all 3 connections are allow-listed sessions/);
      await srv.waitForLog(/warn {2}connection pressure: evicted [1-9]\d* \(\d+ over the per-address limit, [1-9]\d* over the limit for keys not on the allow-list/);
      listed[0]!.close();
      await sleep(100);
      const c = await connect(srv, newClientKey());
      expect((await c.listCodes()).records).toEqual([]);
      c.close();
    } finally {
      await srv.stop();
    }
  });

  const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;
  it.skipIf(!hasPrlimit)('a full disk (RLIMIT_FSIZE) fails that write only: rolled back, connection closed, server alive', async () => {
    const K = newClientKey();
    const dir = tempDir([K]);
    const srv = await startServer(dir, { prlimit: ['--fsize=200000'] });
    try {
      const c = await connect(srv, K);
      expect(await c.backup(1, [fakeChunk(1, 1000)], [fakeChunk(2, 60000), fakeChunk(3, 60000)])).toBe('reuploaded');
      const acked = arch(dir, K);
      // An append that crosses the 200000-byte limit.
      await c.send(requestIncremental(2));
      for (let i = 0; i < 2; i++) await c.send(incrementalChunk(fakeChunk(10 + i, 60000))).catch(() => {});
      await c.send(incrementalEnd()).catch(() => {});
      expect(await c.expectClosed()).toMatch(/io_error|truncated/);
      await srv.waitForLog(/could not store dv 2: the file size limit was reached \(RLIMIT_FSIZE[^)]*\) \(EFBIG, write\); the unfinished write was rolled back and not acknowledged/);
      expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked));
      // A re-upload that does not fit: the temp files go, the archive stays.
      const c2 = await connect(srv, K);
      await c2.send(requestIncremental(50));
      await c2.send(incrementalEnd());
      await c2.expect('response_reupload');
      for (let i = 0; i < 4; i++) await c2.send(reuploadChunk(fakeChunk(20 + i, 60000))).catch(() => {});
      await c2.send(reuploadEnd()).catch(() => {});
      expect(await c2.expectClosed()).toMatch(/io_error|truncated/);
      expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked));
      await waitFor(() => readdirSync(dir).filter((n) => n.endsWith('.tmp')).length === 0);
      // Small writes still fit and are acknowledged.
      const c3 = await connect(srv, K);
      expect(await c3.backup(2, [fakeChunk(30, 100)])).toBe('appended');
      c3.close();
      expect(srv.proc.exitCode).toBeNull();
    } finally {
      await srv.stop();
    }
  });

  it.skipIf(!hasPrlimit)('fits --max-connections to the open-file limit and says so (past it the kernel would drop allow-listed clients too)', async () => {
    const dir = tempDir([]);
    const srv = await startServer(dir, { prlimit: ['--nofile=600'] });
    try {
      await srv.waitForLog(/the open-file limit is 600 \(ulimit -n\): --max-connections=1000 plus 320 files for archives and logs do not fit; using 280 connections \(100 reserved for allow-listed clients\)/);
    } finally {
      await srv.stop();
    }
    const roomy = await startServer(tempDir([]), { prlimit: ['--nofile=2000'] });
    await roomy.stop();
    expect(roomy.log()).not.toMatch(/open-file limit/);
  });

  it.skipIf(!hasPrlimit)('a one-chunk append that hits the file size limit part-way is cut back at once, not left for the next open', async () => {
    const K = newClientKey();
    const dir = tempDir([K]);
    const srv = await startServer(dir, { prlimit: ['--fsize=150000'] });
    try {
      const c = await connect(srv, K);
      expect(await c.backup(1, [fakeChunk(1, 1000)], [fakeChunk(2, 60000), fakeChunk(3, 60000)])).toBe('reuploaded');
      const acked = arch(dir, K);
      const mark = srv.mark();
      // One chunk: the server holds it and writes it with the footer in one go, which
      // crosses 150000 bytes: a short write lands, the next one fails with EFBIG.
      await c.send(requestIncremental(2)).catch(() => {});
      await c.send(incrementalChunk(fakeChunk(10, 60000))).catch(() => {});
      await c.send(incrementalEnd()).catch(() => {});
      expect(await c.expectClosed()).toMatch(/io_error|truncated/);
      await srv.waitForLog(/could not store dv 2: .*\(EFBIG, write\); the unfinished write was rolled back/, 5000, mark);
      expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked)); // already, before anyone opens it again
      const c2 = await connect(srv, K);
      expect(await c2.backup(2, [fakeChunk(11, 100)])).toBe('appended');
      c2.close();
      expect(srv.log().slice(mark)).not.toMatch(/torn tail/);
    } finally {
      await srv.stop();
    }
  });

  // A real full disk: a 512 KiB tmpfs (root only; skipped where mounting is not allowed).
  const tmpfs = ((): string | undefined => {
    if (process.getuid?.() !== 0) return undefined;
    const d = mkdtempSync(path.join(tmpdir(), 'cldcb-enospc-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', d]).status !== 0) {
      rmSync(d, { recursive: true, force: true });
      return undefined;
    }
    return d;
  })();
  afterAll(() => {
    if (tmpfs === undefined) return;
    spawnSync('umount', [tmpfs]);
    rmSync(tmpfs, { recursive: true, force: true });
  });
  it.skipIf(tmpfs === undefined)('a full disk (ENOSPC on a 512 KiB tmpfs): the append is cut back at once, the log names the full disk, acknowledged data is served', async () => {
    const K = newClientKey();
    const dir = path.join(tmpfs!, 'srv');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(path.join(dir, 'clients'), `${formatClientId(K.pub)}\n`);
    const srv = await startServer(dir);
    try {
      const c = await connect(srv, K);
      expect(await c.backup(1, [fakeChunk(1, 1000)], Array.from({ length: 6 }, (_, i) => fakeChunk(2 + i, 60000)))).toBe('reuploaded');
      let dv = 2;
      let acked = arch(dir, K);
      const mark = srv.mark();
      // Fill the disk with one-chunk appends until one does not fit.
      for (; dv < 20; dv++) {
        const r = await c.backup(dv, [fakeChunk(100 + dv, 60000)]).catch((e: unknown) => e);
        if (r !== 'appended') break;
        acked = arch(dir, K);
      }
      expect(dv).toBeLessThan(20);
      await srv.waitForLog(new RegExp(`could not store dv ${dv}: the disk is full \\(ENOSPC, write\\); the unfinished write was rolled back and not acknowledged`), 5000, mark);
      expect(bytesToHex(arch(dir, K))).toBe(bytesToHex(acked));
      expect(await downloaded(srv, K)).toBe(bytesToHex(acked));
      expect(srv.log()).not.toMatch(/server-side failure|torn tail|BUG/);
      expect(srv.proc.exitCode).toBeNull();
    } finally {
      await srv.stop();
    }
  });

  it('SIGTERM lets a write in progress finish (acknowledged), closes the rest, removes the pidfile', async () => {
    const K = newClientKey();
    const dir = tempDir([K]);
    const srv = await startServer(dir);
    const c = await connect(srv, K);
    expect(await c.backup(1, [fakeChunk(1, 10)], [fakeChunk(2, 10)])).toBe('reuploaded');
    const idle = await connect(srv, newClientKey());
    const mark = srv.mark();
    await c.send(requestIncremental(2));
    await c.send(incrementalChunk(fakeChunk(3, 100)));
    await srv.waitForLog(/request_incremental dv 2: append/, 5000, mark);
    srv.proc.kill('SIGTERM');
    await srv.waitForLog(/stopping \(SIGTERM\): 2 connections, 1 writing/);
    expect(await idle.expectClosed()).toBe('io_error');
    await c.send(incrementalEnd());
    await c.expect('acknowledge_upload');
    const { code } = await srv.exited;
    expect(code).toBe(0);
    expect(existsSync(path.join(dir, 'cldcb-server.pid'))).toBe(false);
    expect(readArchive(arch(dir, K)).filter((e) => e.type === 'incrementEnd')).toHaveLength(2);
  });
});
