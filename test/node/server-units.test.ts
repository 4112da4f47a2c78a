/**
 * cldcb-server modules on their own (real files in a temp directory, no sockets):
 * archive scan and judgement, writers' commit/rollback, the small stores, lock, rate limit.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes } from '../../shared/bytes';
import { encodeIncrement, encodeReuploadSection, readArchive } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { sha256 } from '../../shared/crypto/hash';
import { parseClientsFile } from '../../server/clients';
import { KeyedLock } from '../../server/keyedLock';
import { createLogger, silentLogger, storageCause } from '../../server/log';
import { PersistQueue } from '../../server/persistQueue';
import { AddressBuckets, TokenBucket } from '../../server/rateLimit';
import { Admission, addressKey, type Ticket } from '../../server/admission';
import { ReadVerifierStore } from '../../server/readVerifiers';
import { RecognitionStore } from '../../server/recognitionStore';
import { ArchiveStore, isRewind, scanArchiveFraming } from '../../server/storage';
import { fakeChunk, newClientKey } from './helpers/server-client';

const tmpDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'cldcb-server-units-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

const FIX = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/cldcb');
const SNAP = [fakeChunk(1, 3000)];
const base = (): Uint8Array => concatBytes(encodeReuploadSection(SNAP), encodeIncrement(1, [fakeChunk(2, 100)], 0), encodeIncrement(2, [fakeChunk(3, 100)], 1));

async function scanBytes(bytes: Uint8Array) {
  const f = path.join(tempDir(), 'a.arch');
  writeFileSync(f, bytes);
  const fh = await open(f, 'r');
  try {
    return await scanArchiveFraming(fh, 'a.arch');
  } finally {
    await fh.close();
  }
}

describe('scanArchiveFraming', () => {
  it('reads the structure of the original fixture archive (counts as stored, drift included)', async () => {
    const r = await scanBytes(new Uint8Array(readFileSync(path.join(FIX, 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637.arch'))));
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.info).toMatchObject({ size: 229209, increments: 5, lastDataVersion: 9, lastFooterCount: 5 });
    expect(r.info.reuploadBytes + r.info.incrementBytes).toBe(229209);
    expect(r.tornFrom).toBeUndefined();
  });

  it.each([
    ['a cut in the chunks of the last increment', (b: Uint8Array) => concatBytes(b, new Uint8Array([0, 0, 0, 3, 0x01, 0x00, 9, 9]))],
    ['a cut in the data_version', (b: Uint8Array) => concatBytes(b, new Uint8Array([0, 0]))],
    ['a cut in the footer', (b: Uint8Array) => concatBytes(b, encodeIncrement(3, [fakeChunk(4, 10)], 2).subarray(0, 30))],
  ])('finds a torn tail: %s', async (_n, tear) => {
    const good = base();
    const r = await scanBytes(tear(good));
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') expect(r.tornFrom).toBe(good.length);
  });

  it.each([
    ['an empty file', () => new Uint8Array(0)],
    ['only a re-upload section', () => encodeReuploadSection(SNAP)],
    ['a cut inside the re-upload section', () => encodeReuploadSection(SNAP).subarray(0, 100)],
    ['a bad footer checksum in the middle', () => {
      const b = base();
      b[encodeReuploadSection(SNAP).length + 4 + 2 + 100 + 2 + 20]! ^= 1; // inside the first footer's hash
      return b;
    }],
    ['a footer recording another data_version', () => {
      const inc = encodeIncrement(1, [fakeChunk(2, 100)], 0);
      const body = inc.subarray(0, inc.length - 46);
      const head = new Uint8Array(inc.subarray(inc.length - 46, inc.length - 32));
      head[11] = 7;
      return concatBytes(encodeReuploadSection(SNAP), body, head, sha256(head));
    }],
  ])('reports damage: %s', async (_n, make) => {
    expect((await scanBytes(make())).kind).toBe('damaged');
  });
});

describe('ArchiveStore', () => {
  const K = newClientKey();

  it('judges: missing, next, repeated, gap, rewind, damaged (kept as .damaged.*), size and count limits', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger, { minLogBytes: 0, maxCount: 3 });
    const action = async (dv: number) => (await store.judge(K.pub, dv)).judgement.action;
    expect(await action(1)).toBe('reupload');
    writeFileSync(store.archivePath(K.pub), base());
    expect(await action(3)).toBe('append');
    expect(await action(2)).toBe('append');
    expect(await action(4)).toBe('reupload');
    expect(await action(1)).toBe('reupload');
    expect(await action(0xffffffff)).toBe('reupload');
    // A client without a chain head asks (extension v1): next or repeated data_version become a
    // re-upload; a rewind stays a rewind (its archive is kept).
    expect((await store.judge(K.pub, 3, true)).judgement).toMatchObject({ action: 'reupload', reason: expect.stringMatching(/client asked/) });
    expect((await store.judge(K.pub, 2, true)).judgement).toMatchObject({ action: 'reupload', reason: expect.stringMatching(/client asked/) });
    expect((await store.judge(K.pub, 1, true)).judgement.reason).toMatch(/rewind.*kept/);
    // Size: increments (2 × 152 B = 304 B) against a 204-byte snapshot.
    writeFileSync(store.archivePath(K.pub), concatBytes(encodeReuploadSection([fakeChunk(1, 200)]), encodeIncrement(1, [fakeChunk(2, 100)], 0), encodeIncrement(2, [fakeChunk(3, 100)], 1)));
    expect((await store.judge(K.pub, 3)).judgement.reason).toMatch(/outgrew the snapshot/);
    // Count: 4 increments ≥ maxCount + 1.
    writeFileSync(store.archivePath(K.pub), concatBytes(base(), encodeIncrement(3, [], 2), encodeIncrement(4, [], 3)));
    expect((await store.judge(K.pub, 5)).judgement.reason).toMatch(/increment limit/);
    // Damage (changed on disk behind the store's back: same size, new mtime) ⇒ re-upload; the old file is kept.
    const damaged = base();
    damaged[damaged.length - 1]! ^= 0xff;
    writeFileSync(store.archivePath(K.pub), damaged);
    const { judgement, inspection } = await store.judge(K.pub, 3);
    expect(judgement.reason).toMatch(/archive damaged .*checksum does not match/);
    const w = await store.beginReupload(K.pub, 3, inspection.kind === 'damaged' ? 'damaged' : null);
    await w.incrementChunk(fakeChunk(5, 10));
    await w.incrementEnd();
    await w.reuploadChunk(fakeChunk(6, 10));
    const info = await w.commit();
    expect(info).toMatchObject({ increments: 1, lastDataVersion: 3 });
    const kept = readdirSync(dir).filter((n) => n.includes('.arch.damaged.'));
    expect(kept).toHaveLength(1);
    expect(bytesToHex(new Uint8Array(readFileSync(path.join(dir, kept[0]!))))).toBe(bytesToHex(damaged));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a data_version rewind re-uploads but keeps the newer archive beside the new one', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger);
    writeFileSync(store.archivePath(K.pub), base()); // last data_version 2
    const { judgement, inspection } = await store.judge(K.pub, 1);
    expect(judgement).toMatchObject({ action: 'reupload' });
    expect(judgement.reason).toMatch(/rewind .*old archive is kept/);
    expect(inspection.kind === 'ok' && isRewind(inspection.info.lastDataVersion, 1)).toBe(true);
    const w = await store.beginReupload(K.pub, 1, 'rewound');
    await w.incrementEnd();
    await w.commit();
    const kept = readdirSync(dir).filter((n) => n.includes('.arch.rewound.'));
    expect(kept).toHaveLength(1);
    expect(bytesToHex(new Uint8Array(readFileSync(path.join(dir, kept[0]!))))).toBe(bytesToHex(base()));
    expect(isRewind(5, 6)).toBe(false);
    expect(isRewind(0, 0xffffffff)).toBe(true);
    expect(isRewind(0xffffffff, 0)).toBe(false);
  });

  it('append: commit writes the true count; abort truncates back; the cache follows both', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger);
    writeFileSync(store.archivePath(K.pub), base());
    let ins = await store.inspect(K.pub);
    if (ins.kind !== 'ok') throw new Error('expected ok');
    const w = await store.beginAppend(K.pub, 3, ins.info);
    await w.chunk(fakeChunk(7, 50));
    await w.abort();
    expect(bytesToHex(new Uint8Array(readFileSync(store.archivePath(K.pub))))).toBe(bytesToHex(base()));
    ins = await store.inspect(K.pub);
    if (ins.kind !== 'ok') throw new Error('expected ok');
    const w2 = await store.beginAppend(K.pub, 3, ins.info);
    await w2.chunk(fakeChunk(8, 50));
    const info = await w2.commit();
    expect(info).toMatchObject({ increments: 3, lastFooterCount: 2, lastDataVersion: 3 });
    expect(bytesToHex(new Uint8Array(readFileSync(store.archivePath(K.pub))))).toBe(bytesToHex(concatBytes(base(), encodeIncrement(3, [fakeChunk(8, 50)], 2))));
    expect((await store.inspect(K.pub)).kind).toBe('ok');
    // A stale judgement (the file changed since) is refused.
    await expect(store.beginAppend(K.pub, 4, ins.info)).rejects.toThrow(/changed while it was being judged/);
  });

  it('a write that fails part-way (ENOSPC after a short write) is rolled back at once by abort, also for a one-chunk increment', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger);
    writeFileSync(store.archivePath(K.pub), base());
    const ins = await store.inspect(K.pub);
    if (ins.kind !== 'ok') throw new Error('expected ok');
    const w = await store.beginAppend(K.pub, 3, ins.info);
    await w.chunk(fakeChunk(9, 5000)); // held: the first write happens in commit()
    // The disk fills up in the middle: one short write lands, the next one fails.
    const proto = Object.getPrototypeOf(await open(store.archivePath(K.pub), 'r').then(async (h) => (await h.close(), h))) as {
      write: (...a: unknown[]) => Promise<{ bytesWritten: number }>;
    };
    const realWrite = proto.write;
    let calls = 0;
    proto.write = async function (this: unknown, ...a: unknown[]) {
      const [data, off, len, pos] = a as [Uint8Array, number, number, number];
      if (calls++ === 0) return realWrite.call(this, data, off, Math.floor(len / 2), pos);
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC', syscall: 'write' });
    };
    let err: unknown;
    try {
      await w.commit();
    } catch (e) {
      err = e;
    } finally {
      proto.write = realWrite;
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(readFileSync(store.archivePath(K.pub)).length).toBeGreaterThan(base().length); // the short write is on disk
    await w.abort();
    expect(bytesToHex(new Uint8Array(readFileSync(store.archivePath(K.pub))))).toBe(bytesToHex(base()));
    expect(storageCause(err)).toBe('the disk is full (ENOSPC, write)');
    expect(storageCause(Object.assign(new Error('x'), { code: 'EFBIG', syscall: 'write' }))).toMatch(/^the file size limit was reached .*\(EFBIG, write\)$/);
    expect(storageCause(new Error('plain'))).toBeUndefined();
  });

  it('re-upload abort removes both temp files and leaves the archive alone', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger);
    writeFileSync(store.archivePath(K.pub), base());
    const w = await store.beginReupload(K.pub, 9, null);
    await w.incrementChunk(fakeChunk(1, 10));
    await w.incrementEnd();
    await w.reuploadChunk(fakeChunk(2, 10));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toHaveLength(2);
    await w.abort();
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(bytesToHex(new Uint8Array(readFileSync(store.archivePath(K.pub))))).toBe(bytesToHex(base()));
  });

  it('cleans stale temp files (ours, the original\'s .r.tmp/.i.tmp, atomic-write temps) and nothing else', async () => {
    const dir = tempDir();
    const cid = formatClientId(K.pub);
    const names = [`${cid}.r.tmp`, `${cid}.i.tmp`, `${cid}.r.0123456789ab.tmp`, '.recognition_codes.0123456789ab.tmp', '.server_id.abcdefabcdef.tmp'];
    const keep = [`${cid}.arch`, 'clients', 'clients.lock', 'notes.tmp', '.other.0123456789ab.tmp'];
    for (const n of [...names, ...keep]) writeFileSync(path.join(dir, n), 'x');
    const store = new ArchiveStore(dir, silentLogger);
    expect((await store.cleanStaleTemps()).sort()).toEqual([...names].sort());
    expect(readdirSync(dir).sort()).toEqual([...keep].sort());
  });

  it('writes are readable by shared/cldcb/arch.ts readArchive', async () => {
    const dir = tempDir();
    const store = new ArchiveStore(dir, silentLogger);
    const w = await store.beginReupload(K.pub, 1, null);
    await w.incrementEnd(); // an increment without chunks
    await w.commit(); // and an empty snapshot
    expect(readArchive(new Uint8Array(readFileSync(store.archivePath(K.pub))))).toEqual([
      { type: 'reuploadEnd', offset: 0 },
      { type: 'incrementStart', dataVersion: 1, offset: 2 },
      { type: 'incrementEnd', offset: 8, footer: { lastLength: 6, dataVersion: 1, count: 0, offset: 8 } },
    ]);
  });
});

describe('small stores', () => {
  it('recognition codes: a bad line is reported and the good ones are kept; a new code replaces; the file is rewritten', async () => {
    const dir = tempDir();
    const [a, b] = [newClientKey(), newClientKey()];
    const codeA = bytesToHex(fakeChunk(1, 64));
    writeFileSync(path.join(dir, 'recognition_codes'), `${bytesToHex(a.pub)} ${codeA}\nnot a line\n${bytesToHex(b.pub)} ${'00'.repeat(64)}\n`);
    const s = new RecognitionStore(dir);
    const skipped = await s.load();
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/recognition_codes line 2/);
    expect(s.size).toBe(2);
    expect(await s.set(a.pub, fakeChunk(1, 64))).toBe(false); // unchanged: no write
    expect(await s.set(b.pub, fakeChunk(2, 64))).toBe(true);
    expect(readFileSync(path.join(dir, 'recognition_codes'), 'utf8')).toBe(`${bytesToHex(a.pub)} ${codeA}\n${bytesToHex(b.pub)} ${bytesToHex(fakeChunk(2, 64))}\n`);
  });

  it('read verifiers: c… and 0… ids load; check compares SHA256(T) with V', async () => {
    const dir = tempDir();
    const [a, b] = [newClientKey(), newClientKey()];
    const T = fakeChunk(3, 32);
    writeFileSync(path.join(dir, 'read_verifiers'), `${formatClientId(a.pub)} ${bytesToHex(sha256(T))}\n${bytesToHex(b.pub)} ${'11'.repeat(32)}\nbad\n`);
    const s = new ReadVerifierStore(dir);
    expect(await s.load()).toHaveLength(1);
    expect(s.check(a.pub, T)).toBe(true);
    expect(s.check(a.pub, fakeChunk(4, 32))).toBe(false);
    expect(s.check(newClientKey().pub, T)).toBe(false);
    expect(s.has(b.pub)).toBe(true);
    await s.set(b.pub, sha256(T));
    expect(readFileSync(path.join(dir, 'read_verifiers'), 'utf8')).toBe(
      `${formatClientId(a.pub)} ${bytesToHex(sha256(T))}\n${formatClientId(b.pub)} ${bytesToHex(sha256(T))}\n`,
    );
  });

  it('PersistQueue coalesces saves and retries after a failed write', async () => {
    let writes = 0;
    let fail = true;
    const q = new PersistQueue(async () => {
      writes++;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new Error('disk full');
    });
    q.changed();
    await expect(q.save()).rejects.toThrow('disk full');
    expect(q.saved).toBe(false);
    fail = false;
    q.changed();
    const all = [q.save(), q.save(), q.save(), q.save()];
    await Promise.all(all);
    expect(writes).toBe(3); // the failed one, the running one, one coalesced follow-up
    expect(q.saved).toBe(true);
  });

  it('clients: whitespace-separated, c or C, duplicates and invalid entries reported', () => {
    const a = formatClientId(newClientKey().pub);
    const r = parseClientsFile(`  ${a}\t${a.toUpperCase()}\r\nc2zz\n`);
    expect(r.ids).toEqual([a]);
    expect(r.invalid.map((i) => i.token)).toEqual(['c2zz']);
  });
});

describe('KeyedLock and TokenBucket', () => {
  it('KeyedLock: FIFO per key, independent keys, bounded wait', async () => {
    const lock = new KeyedLock();
    const r1 = (await lock.acquire('a'))!;
    const other = await lock.acquire('b', 10);
    expect(other).not.toBeNull();
    const order: number[] = [];
    const p2 = lock.acquire('a', 1000).then((r) => (order.push(2), r));
    const p3 = lock.acquire('a', 1000).then((r) => (order.push(3), r));
    expect(await lock.acquire('a', 20)).toBeNull(); // timed out, removed from the queue
    r1();
    (await p2)!();
    (await p3)!();
    expect(order).toEqual([2, 3]);
    other!();
    expect(lock.heldCount).toBe(0);
  });

  it('TokenBucket: burst, then one per interval', () => {
    let now = 0;
    const b = new TokenBucket(2, 1000, () => now);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 1000]);
    now = 2500;
    expect(b.take()).toBe(0);
  });
});

describe('Admission (who may hold a connection)', () => {
  const limits = { maxConnections: 10, reserved: 2, perAddress: 4, perClient: 2, unlistedIdleMs: 1000 };
  /** An admission with a fake clock; `closed` records what it closed and why. */
  function setup(l = limits) {
    let now = 0;
    const closed: string[] = [];
    const a = new Admission(l, () => now);
    const admit = (addr: string, name: string): Ticket | null => a.admit(addr, (why) => closed.push(`${name}: ${why}`));
    return { a, admit, closed, tick: (ms: number) => (now += ms) };
  }

  it('a newcomer over the per-address limit evicts its own address\'s stalest connection, never another address\'s', () => {
    const { a, admit, closed, tick } = setup();
    const other = admit('10.0.0.9', 'other')!;
    const mine = [0, 1, 2, 3].map((i) => (tick(1), admit('10.0.0.1', `m${i}`)!));
    a.request(mine[0]!, true); // m0 is in the middle of a request: evicted last
    tick(1);
    admit('10.0.0.1', 'm4');
    expect(closed).toEqual(['m1: evicted: the limit of 4 connections from 10.0.0.1 without an allow-listed key was reached']);
    expect(other.evicted).toBeUndefined();
    expect(a.stats.evicted.address).toBe(1);
  });

  it('pending + unlisted hold at most maxConnections − reserved; the heaviest address pays', () => {
    const { a, admit, closed, tick } = setup({ ...limits, perAddress: 100 });
    for (let i = 0; i < 6; i++) {
      tick(1);
      admit('10.0.0.1', `flood${i}`);
    }
    const honest = [admit('10.0.0.2', 'h0')!, admit('10.0.0.3', 'h1')!];
    expect(a.size).toBe(8);
    admit('10.0.0.4', 'newcomer');
    expect(closed).toEqual(['flood0: evicted: the limit of 8 connections without an allow-listed key was reached']);
    expect(honest.every((t) => t.evicted === undefined)).toBe(true);
  });

  it('counts stay exact through pending → unlisted → listed → unlisted → released (no slot leaks)', () => {
    const { a, admit, closed } = setup({ ...limits, perAddress: 100 });
    const ts = Array.from({ length: 8 }, (_, i) => admit(`10.0.1.${i}`, `t${i}`)!);
    for (const [i, t] of ts.entries()) a.authenticated(t, `c${i}`, false);
    a.reclassify((c) => c === 'c0');
    a.reclassify(() => false);
    expect(closed).toEqual([]);
    admit('10.0.2.1', 'ninth'); // 8 of 8 slots open to anyone are taken: exactly one goes
    expect(closed).toHaveLength(1);
    for (const t of ts) a.release(t);
    for (let i = 0; i < 7; i++) admit(`10.0.3.${i}`, `n${i}`);
    expect(closed).toHaveLength(1); // with "ninth", eight: they all fit again
    expect(a.stats).toMatchObject({ pending: 8, unlisted: 0, listed: 0 });
  });

  it('allow-listed sessions are never evicted for a newcomer; only when every slot is allow-listed is one refused', () => {
    const { a, admit, closed } = setup({ ...limits, perAddress: 100, perClient: 10 });
    const listed = Array.from({ length: 10 }, (_, i) => {
      const t = admit('10.0.0.1', `L${i}`)!;
      a.authenticated(t, `c${i}`, true);
      return t;
    });
    expect(a.stats.listed).toBe(10);
    expect(admit('10.0.0.1', 'late')).toBeNull();
    expect(a.stats.refused).toBe(1);
    expect(closed).toEqual([]);
    a.release(listed[0]!);
    const t = admit('10.0.0.1', 'late')!;
    expect(t.kind).toBe('pending');
  });

  it('with the pool full of flood, an allow-listed newcomer still gets in, and stays when more flood comes', () => {
    const { a, admit, closed, tick } = setup({ ...limits, perAddress: 100 });
    for (let i = 0; i < 8; i++) {
      tick(1);
      admit('10.0.0.1', `flood${i}`);
    }
    tick(1);
    const plugin = admit('10.0.0.1', 'plugin')!; // same address as the flood (NAT, Tor)
    expect(plugin).not.toBeNull();
    a.authenticated(plugin, 'cplugin', true);
    for (let i = 0; i < 50; i++) {
      tick(1);
      admit('10.0.0.1', `more${i}`);
    }
    expect(plugin.evicted).toBeUndefined();
    expect(a.stats).toMatchObject({ listed: 1, pending: 8 });
    expect(closed.some((c) => c.startsWith('plugin'))).toBe(false);
  });

  it('an allow-listed key over its per-client limit closes its own stalest idle session', () => {
    const { a, admit, closed, tick } = setup();
    const s = [0, 1, 2].map((i) => {
      tick(1);
      const t = admit('10.0.0.1', `s${i}`)!;
      if (i === 0) a.request(t, true); // writing: not the one to go
      a.authenticated(t, 'cK', true);
      return t;
    });
    expect(closed).toEqual(['s1: evicted: client cK… holds more than 2 connections']);
    expect(s[0]!.evicted).toBeUndefined();
    expect(a.stats.listed).toBe(2);
  });

  it('unlisted sessions without a request for unlistedIdleMs are closed; pongs do not count, requests do', () => {
    const { a, admit, closed, tick } = setup();
    const idle = admit('10.0.0.1', 'idle')!;
    const active = admit('10.0.0.2', 'active')!;
    const listed = admit('10.0.0.3', 'listed')!;
    a.authenticated(idle, 'c1', false);
    a.authenticated(active, 'c2', false);
    a.authenticated(listed, 'c3', true);
    tick(600);
    a.request(active, true);
    a.request(active, false);
    tick(600);
    expect(a.sweepIdle()).toBe(1);
    expect(closed).toEqual(['idle: idle: not on the allow-list and no request for 1 s']);
    tick(5000);
    a.sweepIdle();
    expect(listed.evicted).toBeUndefined(); // allow-listed sessions have the keepalive rules only
  });

  it('SIGHUP: reclassify moves sessions between listed and unlisted', () => {
    const { a, admit } = setup();
    const t = admit('10.0.0.1', 't')!;
    a.authenticated(t, 'cX', false);
    expect(a.stats).toMatchObject({ unlisted: 1, listed: 0 });
    a.reclassify((c) => c === 'cX');
    expect(a.stats).toMatchObject({ unlisted: 0, listed: 1 });
    a.reclassify(() => false);
    expect(a.stats).toMatchObject({ unlisted: 1, listed: 0 });
    a.release(t);
    a.release(t);
    expect(a.stats).toMatchObject({ pending: 0, unlisted: 0, listed: 0 });
    expect(a.size).toBe(0);
  });

  it('addresses: IPv4 as is (also IPv4-mapped), IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey(undefined)).toBe('?');
  });

  it('AddressBuckets: shared per address; a wait over maxWaitMs is refused without taking a token', () => {
    let now = 0;
    const b = new AddressBuckets(2, 1000, 1500, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 1000]);
    expect(b.take('b')).toBe(0);
    expect(b.take('a')).toBeNull(); // would wait 2000 ms
    expect(b.take('a')).toBeNull(); // and still does: the refusal took nothing
    now = 1000;
    expect(b.take('a')).toBe(1000);
  });
});

describe('log', () => {
  it('one line per event, level filter, control characters removed', () => {
    const f = path.join(tempDir(), 'debug.log');
    const log = createLogger('info', f);
    log.debug('hidden');
    log.info('two\nlines\u0000');
    log.error('boom');
    log.close();
    const lines = readFileSync(f, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z info {2}two lines $/);
    expect(lines[1]).toMatch(/ error boom$/);
    expect(existsSync(f)).toBe(true);
  });
});
