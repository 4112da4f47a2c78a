/**
 * cldcb-server end to end: the built program on a temp server directory, driven over
 * loopback by a client made of shared/cldcb + noiseSocket (helpers/server-client.ts).
 * Protocol (cldcb-protocol §3.3), storage decisions (docs/PROTOCOL.md §2), extension v1
 * (docs/PROTOCOL.md §3), keepalive (§2.1), allow-list, per-client lock, persistence.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../shared/bytes';
import { encodeArchive, encodeIncrement, encodeReuploadSection, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { decodeMessage, incrementalChunk, incrementalEnd, MSG, requestBackupData, requestIncremental } from '../../shared/cldcb/messages';
import { ensureServerBuilt, runServerCommand, startServer, type ServerProcess } from './helpers/server-harness';
import { fakeChunk, newClientKey, readToken, readVerifier, TestClient, type ClientKey } from './helpers/server-client';

const tmpDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cldcb-server-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const A = newClientKey();
const B = newClientKey();
const STRANGER = newClientKey();
const NODE = newClientKey(); // stands in for the Lightning node key (read token)
const cidOf = (k: ClientKey): string => formatClientId(k.pub);
const archOf = (dir: string, k: ClientKey): Uint8Array => new Uint8Array(readFileSync(path.join(dir, `${cidOf(k)}.arch`)));
const code = (n: number): Uint8Array => fakeChunk(1000 + n, 64);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Archive events without offsets/footers, for comparison with a download. */
function plainEvents(bytes: Uint8Array): ArchEvent[] {
  return readArchive(bytes).map((e) => {
    switch (e.type) {
      case 'reuploadChunk':
      case 'incrementChunk':
        return { type: e.type, chunk: e.chunk };
      case 'incrementStart':
        return { type: e.type, dataVersion: e.dataVersion };
      default:
        return { type: e.type };
    }
  });
}

beforeAll(async () => {
  await ensureServerBuilt();
});

describe('cldcb-server: protocol and storage', () => {
  let dir: string;
  let srv: ServerProcess;
  const connect = (key: ClientKey, answerPings = true): Promise<TestClient> =>
    TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key, answerPings });

  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(path.join(dir, 'clients'), `${cidOf(A)}\n${cidOf(B).toUpperCase().replace(/^C/, 'C')}\n`);
    srv = await startServer(dir);
  });
  afterAll(async () => {
    if (process.env.SERVER_LOG) writeFileSync(`${process.env.SERVER_LOG}.${path.basename(dir)}`, srv?.log() ?? '');
    await srv?.stop();
  });

  it('writes secret (32 bytes, 0400), server_id, pidfile and port file', () => {
    const secret = statSync(path.join(dir, 'secret'));
    expect(secret.size).toBe(32);
    expect(secret.mode & 0o777).toBe(0o400);
    expect(readFileSync(path.join(dir, 'server_id'), 'utf8')).toMatch(/^# sid = 5[23][0-9a-f]{64}\n$/);
    expect(readFileSync(path.join(dir, 'cldcb-server.pid'), 'utf8')).toBe(`${srv.proc.pid}\n`);
    expect(readFileSync(path.join(dir, 'port'), 'utf8')).toBe(`${srv.port}\n`);
    expect(srv.log()).toMatch(/loaded clients: 2 allowed clients/); // "C…" accepted (bug 11 of the original)
  });

  it('advertises extension v1 in a ping right after the handshake', async () => {
    const c = await connect(A);
    const first = decodeMessage(await c.conn.receive(5000));
    expect(first.type).toBe('ping');
    if (first.type !== 'ping') return;
    expect(first.body).toEqual(new Uint8Array(42));
    expect(first.tlvs.get(1)).toEqual(new Uint8Array([0, 1]));
    c.close();
  });

  it('first backup asks for a re-upload; then appends; a repeated data_version is appended, never truncated; a gap asks for a re-upload', async () => {
    const c = await connect(A);
    const snap = [fakeChunk(1, 5000), fakeChunk(2, 3000)];
    expect(await c.backup(10, [fakeChunk(3, 200)], snap)).toBe('reuploaded');
    expect(c.extVersion).toBe(1);
    expect(await c.backup(11, [fakeChunk(4, 300), fakeChunk(5, 65527)])).toBe('appended');
    expect(await c.backup(11, [fakeChunk(6, 100)])).toBe('appended'); // same dv: kept, as a further increment
    expect(await c.backup(12, [])).toBe('appended'); // an increment without chunks is valid
    // The original format, byte for byte, with true footer counts 0, 1, 2, 3.
    const expected = concatBytes(
      encodeReuploadSection(snap),
      encodeIncrement(10, [fakeChunk(3, 200)], 0),
      encodeIncrement(11, [fakeChunk(4, 300), fakeChunk(5, 65527)], 1),
      encodeIncrement(11, [fakeChunk(6, 100)], 2),
      encodeIncrement(12, [], 3),
    );
    expect(bytesToHex(archOf(dir, A))).toBe(bytesToHex(expected));
    expect(readArchive(archOf(dir, A)).filter((e) => e.type === 'incrementEnd')).toHaveLength(4);
    // A gap (12 → 14) replaces the archive with a fresh re-upload.
    const snap2 = [fakeChunk(7, 9000)];
    expect(await c.backup(14, [fakeChunk(8, 50)], snap2)).toBe('reuploaded');
    expect(bytesToHex(archOf(dir, A))).toBe(bytesToHex(concatBytes(encodeReuploadSection(snap2), encodeIncrement(14, [fakeChunk(8, 50)], 0))));
    // A rewind also asks for a re-upload.
    expect(await c.backup(3, [fakeChunk(9, 10)], snap2)).toBe('reuploaded');
    expect(await c.backup(4, [fakeChunk(10, 10)])).toBe('appended');
    expect(await c.backup(5, [fakeChunk(11, 10)])).toBe('appended');
    expect(statSync(path.join(dir, `${cidOf(A)}.arch`)).mode & 0o777).toBe(0o600);
    c.close();
  });

  it('serves a download that reassembles to the stored archive exactly (any key may read an unprotected archive)', async () => {
    const c = await connect(STRANGER);
    const { events, messages } = await c.download(A.pub);
    expect(events).toEqual(plainEvents(archOf(dir, A)));
    expect(bytesToHex(encodeArchive(events))).toBe(bytesToHex(archOf(dir, A))); // true counts ⇒ identical bytes
    expect(messages.at(-1)!.type).toBe('response_backedup_incremental_endall');
    // The connection returns to the main loop: a second request works.
    expect((await c.download(A.pub)).events).toEqual(events);
    c.close();
  });

  it('refuses a download of a client without an archive by closing the connection', async () => {
    const c = await connect(STRANGER);
    await c.send(requestBackupData(newClientKey().pub));
    expect(await c.expectClosed()).toBe('io_error');
  });

  it('recognition codes: stored, replaced by a newer code of the same client, listed, written to recognition_codes', async () => {
    const a = await connect(A);
    const b = await connect(B);
    await a.giveCode(code(1));
    await srv.waitForLog(new RegExp(`${cidOf(A)}: recognition code stored`));
    await b.giveCode(code(2));
    await srv.waitForLog(new RegExp(`${cidOf(B)}: recognition code stored`));
    await a.giveCode(code(3)); // replaces (the original's emplace kept the first)
    await srv.waitForLog(new RegExp(`${cidOf(A)}: recognition code stored[^]*${cidOf(A)}: recognition code stored`));
    const s = await connect(STRANGER);
    const { records, messages } = await s.listCodes();
    expect(messages).toBe(1);
    const byKey = new Map(records.map((r) => [bytesToHex(r.subarray(0, 33)), bytesToHex(r.subarray(33))]));
    expect(byKey.get(bytesToHex(A.pub))).toBe(bytesToHex(code(3)));
    expect(byKey.get(bytesToHex(B.pub))).toBe(bytesToHex(code(2)));
    expect(readFileSync(path.join(dir, 'recognition_codes'), 'utf8')).toBe(`${bytesToHex(A.pub)} ${bytesToHex(code(3))}\n${bytesToHex(B.pub)} ${bytesToHex(code(2))}\n`);
    for (const c of [a, b, s]) c.close();
  });

  it('a client not in clients cannot write or give a code, but can list and read', async () => {
    const s1 = await connect(STRANGER);
    await s1.send(requestIncremental(1));
    expect(await s1.expectClosed()).toBe('io_error');
    const s2 = await connect(STRANGER);
    await s2.giveCode(code(9));
    expect(await s2.expectClosed()).toBe('io_error');
    expect(existsSync(path.join(dir, `${cidOf(STRANGER)}.arch`))).toBe(false);
    const s3 = await connect(STRANGER);
    const { records } = await s3.listCodes();
    expect(records.map((r) => bytesToHex(r.subarray(0, 33)))).not.toContain(bytesToHex(STRANGER.pub));
    s3.close();
  });

  it('answers a ping with a 42-zero-byte pong and ignores pongs', async () => {
    const c = await connect(A);
    await c.send(encodeMessageRaw(MSG.pong, new Uint8Array(3)));
    await c.send(encodeMessageRaw(MSG.ping, new Uint8Array(7)));
    const m = await c.expect('pong');
    if (m.type === 'pong') expect(m.body).toEqual(new Uint8Array(42));
    c.close();
  });

  it('extension v1: a read verifier protects downloads; prove_read with T unlocks them on that connection only', async () => {
    const T = readToken(A.priv, NODE.pub);
    const a = await connect(A);
    await a.setReadVerifier(readVerifier(T));
    expect(readFileSync(path.join(dir, 'read_verifiers'), 'utf8')).toBe(`${cidOf(A)} ${bytesToHex(readVerifier(T))}\n`);
    // No proof: refused (closed), as the original refuses a download.
    const s1 = await connect(STRANGER);
    await s1.send(requestBackupData(A.pub));
    expect(await s1.expectClosed()).toBe('io_error');
    // Wrong token: closed.
    const s2 = await connect(STRANGER);
    await s2.send(encodeMessageRaw2(MSG.proveRead, A.pub, readToken(B.priv, NODE.pub)));
    expect(await s2.expectClosed()).toBe('io_error');
    // Right token (the node key holder can compute it): granted, download works.
    const s3 = await connect(STRANGER);
    await s3.proveRead(A.pub, readToken(NODE.priv, A.pub)); // same S from the node side
    expect(bytesToHex(encodeArchive((await s3.download(A.pub)).events))).toBe(bytesToHex(archOf(dir, A)));
    s3.close();
    // The grant does not carry over to another connection.
    const s4 = await connect(STRANGER);
    await s4.send(requestBackupData(A.pub));
    expect(await s4.expectClosed()).toBe('io_error');
    a.close();
  });

  it('an original-style client (ignores TLV 1, never sends 240-243) still backs up and reads archives without a verifier', async () => {
    const b = await connect(B);
    expect(await b.backup(1, [fakeChunk(20, 100)], [fakeChunk(21, 1000)])).toBe('reuploaded');
    const s = await connect(STRANGER);
    await s.proveRead(B.pub, new Uint8Array(32)); // no verifier: granted trivially
    const s2 = await connect(STRANGER);
    expect(bytesToHex(encodeArchive((await s2.download(B.pub)).events))).toBe(bytesToHex(archOf(dir, B)));
    for (const c of [b, s, s2]) c.close();
  });

  it('add/remove rewrite clients and make the daemon reload it (SIGHUP)', async () => {
    const C = newClientKey();
    const c1 = await connect(C);
    await c1.send(requestIncremental(1));
    expect(await c1.expectClosed()).toBe('io_error');
    const add = await runServerCommand(['add', `--server-dir=${dir}`, cidOf(C)]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('Triggered reload at server.');
    await srv.waitForLog(/SIGHUP: reloaded clients: 3 allowed clients/);
    expect(readFileSync(path.join(dir, 'clients'), 'utf8')).toBe(`${cidOf(A)}\n${cidOf(B)}\n${cidOf(C)}\n`);
    const c2 = await connect(C);
    expect(await c2.backup(1, [fakeChunk(30, 10)], [fakeChunk(31, 10)])).toBe('reuploaded');
    c2.close();
    const mark = srv.mark();
    const rm = await runServerCommand(['remove', '--server-dir', dir, cidOf(C)]);
    expect(rm.code).toBe(0);
    await srv.waitForLog(/SIGHUP: reloaded clients: 2 allowed clients/, 5000, mark);
    const c3 = await connect(C);
    await c3.send(requestIncremental(2));
    expect(await c3.expectClosed()).toBe('io_error');
  });

  it('after a restart: recognition codes, read verifiers and archives are all still there', async () => {
    const ended = await srv.stop();
    expect(ended.code).toBe(0);
    expect(existsSync(path.join(dir, 'cldcb-server.pid'))).toBe(false);
    const sidBefore = srv.serverId;
    srv = await startServer(dir);
    expect(srv.serverId).toBe(sidBefore);
    expect(srv.log()).toMatch(/loaded 2 recognition codes, 1 read verifiers, 3 archives/);
    const s = await connect(STRANGER);
    const { records } = await s.listCodes();
    expect(records.map((r) => bytesToHex(r))).toEqual([bytesToHex(concatBytes(A.pub, code(3))), bytesToHex(concatBytes(B.pub, code(2)))]);
    await s.send(requestBackupData(A.pub));
    expect(await s.expectClosed()).toBe('io_error'); // still protected
    const a = await connect(A);
    expect(await a.backup(6, [fakeChunk(40, 10)])).toBe('appended'); // continues the archive
    const ends = readArchive(archOf(dir, A)).filter((e) => e.type === 'incrementEnd');
    expect(ends.map((e) => (e.type === 'incrementEnd' ? e.footer!.count : -1))).toEqual([0, 1, 2, 3]);
    a.close();
  });
});

/** Payload with one TLV 0 (any message id; no validation). */
function encodeMessageRaw(id: number, v: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([id >> 8, id & 0xff, 0, v.length >> 8, v.length & 0xff]), v, new Uint8Array([0xff, 0, 0]));
}
function encodeMessageRaw2(id: number, v0: Uint8Array, v1: Uint8Array): Uint8Array {
  return concatBytes(
    new Uint8Array([id >> 8, id & 0xff, 0, v0.length >> 8, v0.length & 0xff]),
    v0,
    new Uint8Array([1, v1.length >> 8, v1.length & 0xff]),
    v1,
    new Uint8Array([0xff, 0, 0]),
  );
}

describe('cldcb-server: re-upload triggers and limits', () => {
  let dir: string;
  let srv: ServerProcess;
  const K = newClientKey();
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(path.join(dir, 'clients'), `${cidOf(K)}\n`);
    srv = await startServer(dir, { args: ['--min-log-bytes=0', '--maxcount=2', '--max-increment-bytes=100000'] });
  });
  afterAll(async () => {
    if (process.env.SERVER_LOG) writeFileSync(`${process.env.SERVER_LOG}.${path.basename(dir)}`, srv?.log() ?? '');
    await srv?.stop();
  });

  it('asks for a re-upload when the increments outgrow the snapshot (README plan)', async () => {
    const c = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: K });
    expect(await c.backup(1, [fakeChunk(1, 100)], [fakeChunk(2, 300)])).toBe('reuploaded'); // increments 154 B ≤ snapshot 304 B
    expect(await c.backup(2, [fakeChunk(3, 100)])).toBe('appended'); // now 308 B > 304 B
    expect(await c.backup(3, [fakeChunk(4, 100)], [fakeChunk(5, 300)])).toBe('reuploaded');
    await srv.waitForLog(/request_incremental dv 3: reupload \(increments \(308 bytes\) outgrew the snapshot \(304 bytes/);
    c.close();
  });

  it('asks for a re-upload at the increment limit (--maxcount, unusable in the original)', async () => {
    const c = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: K });
    const big = [fakeChunk(6, 60000)];
    expect(await c.backup(10, [fakeChunk(7, 10)], big)).toBe('reuploaded');
    expect(await c.backup(11, [fakeChunk(8, 10)])).toBe('appended');
    expect(await c.backup(12, [fakeChunk(9, 10)])).toBe('appended'); // 3 increments = maxcount + 1
    expect(await c.backup(13, [fakeChunk(10, 10)], big)).toBe('reuploaded');
    c.close();
  });

  it('an increment over --max-increment-bytes closes the connection and leaves the archive as it was', async () => {
    const before = archOf(dir, K);
    const c = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: K });
    await c.send(requestIncremental(14));
    await c.send(incrementalChunk(fakeChunk(11, 60000)));
    await c.send(incrementalChunk(fakeChunk(12, 60000)));
    await c.send(incrementalEnd()).catch(() => {});
    expect(await c.expectClosed()).toBe('io_error');
    await srv.waitForLog(/increment larger than the limit of 100000 bytes/);
    expect(bytesToHex(archOf(dir, K))).toBe(bytesToHex(before));
  });
});

describe('cldcb-server: keepalive, sequence timeout, per-client lock', () => {
  let dir: string;
  let srv: ServerProcess;
  const K = newClientKey();
  const connect = (answerPings = true): Promise<TestClient> => TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: K, answerPings });
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(path.join(dir, 'clients'), `${cidOf(K)}\n`);
    srv = await startServer(dir, { args: ['--ping-interval=0.2', '--idle-timeout=0.7', '--sequence-timeout=0.4', '--lock-wait=0.6'] });
    const c = await connect();
    expect(await c.backup(1, [fakeChunk(1, 10)], [fakeChunk(2, 10)])).toBe('reuploaded');
    c.close();
  });
  afterAll(async () => {
    if (process.env.SERVER_LOG) writeFileSync(`${process.env.SERVER_LOG}.${path.basename(dir)}`, srv?.log() ?? '');
    await srv?.stop();
  });

  it('pings an idle client; one that answers stays connected, one that does not is closed', async () => {
    const live = await connect(true);
    const dead = await connect(false);
    const deadClosed = dead.expectClosed(3000);
    await expect(live.next(1200)).rejects.toMatchObject({ code: 'timeout' }); // nothing but pings for 1.2 s
    expect(live.pingsSeen).toBeGreaterThanOrEqual(4);
    expect(await deadClosed).toBe('io_error');
    expect((await live.listCodes()).records).toEqual([]);
    live.close();
  });

  it('a stalled upload times out, is rolled back, and the connection is closed', async () => {
    const before = archOf(dir, K);
    const c = await connect();
    await c.send(requestIncremental(2));
    await c.send(incrementalChunk(fakeChunk(3, 1000)));
    expect(await c.expectClosed(3000)).toBe('io_error');
    await srv.waitForLog(/timeout waiting for incremental_chunk\/incremental_end; the unfinished write was rolled back/);
    expect(bytesToHex(archOf(dir, K))).toBe(bytesToHex(before));
  });

  it('two connections of one client: the second waits for the first write, writes are never interleaved', async () => {
    const first = await connect();
    const second = await connect();
    const mark = srv.mark();
    await first.send(requestIncremental(2));
    await first.send(incrementalChunk(fakeChunk(4, 100)));
    await srv.waitForLog(/request_incremental dv 2: append/, 5000, mark); // the first holds the lock
    const secondDone = second.backup(3, [fakeChunk(5, 100)]);
    let secondFinished = false;
    void secondDone.then(() => (secondFinished = true));
    await sleep(150);
    expect(secondFinished).toBe(false); // waiting for the lock
    await first.send(incrementalChunk(fakeChunk(6, 100)));
    await first.send(incrementalEnd());
    await first.expect('acknowledge_upload');
    expect(await secondDone).toBe('appended');
    const incs = readArchive(archOf(dir, K)).filter((e) => e.type === 'incrementStart');
    expect(incs.map((e) => (e.type === 'incrementStart' ? e.dataVersion : 0))).toEqual([1, 2, 3]);
    first.close();
    second.close();
  });

  it('a download does not wait for a write in progress: it gets the committed archive', async () => {
    const committed = archOf(dir, K);
    const writer = await connect();
    const mark = srv.mark();
    await writer.send(requestIncremental(4));
    await writer.send(incrementalChunk(fakeChunk(40, 1000)));
    await writer.send(incrementalChunk(fakeChunk(41, 1000))); // the first one is on disk now
    await srv.waitForLog(/request_incremental dv 4: append/, 5000, mark);
    const reader = await TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: newClientKey() });
    const t0 = Date.now();
    const { events } = await reader.download(K.pub);
    expect(Date.now() - t0).toBeLessThan(300); // no lock wait (--lock-wait is 600 ms)
    expect(bytesToHex(encodeArchive(events))).toBe(bytesToHex(committed));
    await writer.send(incrementalEnd());
    await writer.expect('acknowledge_upload');
    expect(bytesToHex(encodeArchive((await reader.download(K.pub)).events))).toBe(bytesToHex(archOf(dir, K)));
    writer.close();
    reader.close();
  });

  it('rate-limits recognition listings per connection (delayed, not refused)', async () => {
    const c = await connect();
    const mark = srv.mark();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await c.listCodes(); // burst of 4, then one per second
    expect(Date.now() - t0).toBeGreaterThan(600);
    await srv.waitForLog(/recognition listing rate-limited, waiting \d+ ms/, 1000, mark);
    c.close();
  });

  it('rate-limits recognition listings per source address too: many connections get no more than one, and waits past 10 s are refused', async () => {
    const from = (localAddress: string): Promise<TestClient> => TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key: newClientKey(), localAddress });
    const mark = srv.mark();
    // Each connection has its own burst of 4; the address has a burst of 8, then one per second.
    const first = await Promise.all(Array.from({ length: 8 }, () => from('127.0.0.5')));
    const t0 = Date.now();
    await Promise.all(first.map((c) => c.listCodes()));
    expect(Date.now() - t0).toBeLessThan(900);
    // Twelve more at once from the same address: waits of 1 … 12 s; over 10 s they are closed at once.
    const more = await Promise.all(Array.from({ length: 12 }, () => from('127.0.0.5')));
    const outcomes = more.map((c) => c.listCodes().then(() => Date.now() - t0, () => 'closed' as const));
    // Another address is not held up.
    const t1 = Date.now();
    const other = await from('127.0.0.6');
    await other.listCodes();
    expect(Date.now() - t1).toBeLessThan(900);
    const firstDelayed = await Promise.any(outcomes.map((o) => o.then((v) => (typeof v === 'number' ? v : Promise.reject(new Error(v))))));
    expect(firstDelayed).toBeGreaterThanOrEqual(900); // delayed, not refused
    const refused = srv.log().slice(mark).match(/recognition listing refused: too many from 127\.0\.0\.5 \(it would wait over 10 s\)/g) ?? [];
    expect(refused.length).toBeGreaterThanOrEqual(2); // the 11th and 12th (and any later ones) were closed at once
    for (const c of [...first, ...more, other]) c.close();
    await Promise.all(outcomes);
  });

  it('the second connection gives up after --lock-wait and is closed; the first still finishes', async () => {
    const first = await connect();
    const second = await connect();
    const mark = srv.mark();
    await first.send(requestIncremental(5));
    for (let i = 0; i < 4; i++) {
      await first.send(incrementalChunk(fakeChunk(10 + i, 50)));
      if (i === 0) {
        await srv.waitForLog(/request_incremental dv 5: append/, 5000, mark); // the first holds the lock
        await second.send(requestIncremental(6));
        await second.send(incrementalEnd());
      }
      await sleep(250); // < sequence timeout, keeps the first alive past the lock wait
    }
    expect(await second.expectClosed(2000)).toBe('io_error');
    await first.send(incrementalEnd());
    await first.expect('acknowledge_upload');
    await srv.waitForLog(/kept its archive busy for 600 ms/, 5000, mark);
    first.close();
  });
});
