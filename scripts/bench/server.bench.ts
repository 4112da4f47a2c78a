/**
 * cldcb-server throughput and memory (run: `npm run bench -- server`).
 *
 * - writes/s: N concurrent clients, each doing acknowledged backups (32, one 1 KiB
 *   increment chunk, 70 → 38) as fast as the server acknowledges them; every
 *   acknowledgement follows an fdatasync of that client's archive. Reference, same run:
 *   N concurrent raw loops of write + fdatasync of the same bytes on N files (what the
 *   disk allows without any protocol, crypto or network).
 * - round trip p50 for one client against the raw write + fdatasync p50.
 * - memory per connection: live heap + buffers after a GC (the server logs them on SIGUSR2
 *   when run with --expose-gc) per idle connection and per connection in the middle of an
 *   upload, against one maximal Noise frame (the per-connection buffering bound); RSS
 *   growth is reported too (it also counts garbage not yet collected).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatClientId } from '../../shared/cldcb/ids';
import { encodeFooter } from '../../shared/cldcb/arch';
import { MAX_FRAME } from '../../shared/noise/cipher';
import { incrementalChunk, requestIncremental } from '../../shared/cldcb/messages';
import { startServer, type ServerProcess } from '../../test/node/helpers/server-harness';
import { fakeChunk, newClientKey, TestClient, type ClientKey } from '../../test/node/helpers/server-client';
import { percentile, report, type Row } from './lib';

const DURATION_MS = Number(process.env.CLDCB_BENCH_MS ?? 2000);
const CHUNK = fakeChunk(1, 1024);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** N concurrent loops of (write the bytes an append writes) + fdatasync, each on its own file. */
async function rawFsync(dir: string, n: number): Promise<{ perSecond: number; latencies: number[] }> {
  const body = new Uint8Array(4 + 2 + CHUNK.length);
  const tail = new Uint8Array([0, 0, ...encodeFooter(body.length + 2, 1, 0)]);
  const latencies: number[] = [];
  let count = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const fh = await open(path.join(dir, `raw-${n}-${i}`), 'w');
      let pos = 0;
      try {
        while (performance.now() - t0 < DURATION_MS) {
          const s = performance.now();
          await fh.write(body, 0, body.length, pos);
          await fh.write(tail, 0, tail.length, pos + body.length);
          await fh.datasync();
          pos += body.length + tail.length;
          latencies.push(performance.now() - s);
          count++;
        }
      } finally {
        await fh.close();
      }
    }),
  );
  return { perSecond: (count * 1000) / (performance.now() - t0), latencies: latencies.sort((a, b) => a - b) };
}

async function serverWrites(srv: ServerProcess, keys: ClientKey[]): Promise<{ perSecond: number; latencies: number[] }> {
  const clients = await Promise.all(keys.map((key) => TestClient.connect({ port: srv.port, serverPub: srv.serverPub, key })));
  const dvs = await Promise.all(
    clients.map(async (c, i) => {
      await c.backup(1, [CHUNK], [fakeChunk(100 + i, 60000)]); // first backup: re-upload of a 60 KB "database"
      return 2;
    }),
  );
  const latencies: number[] = [];
  let count = 0;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      let dv = dvs[i]!;
      while (performance.now() - t0 < DURATION_MS) {
        const s = performance.now();
        const r = await c.backup(dv++, [CHUNK]);
        if (r !== 'appended') throw new Error(`unexpected ${r}`);
        latencies.push(performance.now() - s);
        count++;
      }
    }),
  );
  const perSecond = (count * 1000) / (performance.now() - t0);
  for (const c of clients) c.close();
  return { perSecond, latencies: latencies.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const work = mkdtempSync(path.join(tmpdir(), 'cldcb-bench-server-'));
  const levels = [1, 8, 32];
  const keys = Array.from({ length: Math.max(...levels) }, () => newClientKey());
  const dir = path.join(work, 'srv');
  const rawDir = path.join(work, 'raw');
  mkdirSync(dir);
  mkdirSync(rawDir);
  writeFileSync(path.join(dir, 'clients'), keys.map((k) => `${formatClientId(k.pub)}\n`).join(''));
  const srv = await startServer(dir, { logLevel: 'warn', args: ['--min-log-bytes=1073741824'] });
  try {
    let single = 0;
    for (const n of levels) {
      const raw = await rawFsync(rawDir, n);
      // Fresh archives per level: other clients' keys, all starting with a re-upload.
      const s = await serverWrites(srv, keys.slice(0, n));
      if (n === 1) {
        single = s.perSecond;
        const target = 1000 / (percentile(raw.latencies, 50) + 2);
        rows.push({
          name: 'server acknowledged writes/s, 1 client (1 KiB, fdatasync)',
          value: s.perSecond,
          unit: 'writes/s',
          reference: { name: 'raw write+fdatasync/s, 1 writer', value: raw.perSecond },
          goal: `≥ ${target.toFixed(0)} (≤ 2 ms over a raw fdatasync per write)`,
          pass: s.perSecond >= target,
        });
      } else
        rows.push({
          name: `server acknowledged writes/s, ${n} clients (1 KiB, fdatasync)`,
          value: s.perSecond,
          unit: 'writes/s',
          reference: { name: `raw write+fdatasync/s, ${n} concurrent writers`, value: raw.perSecond },
          goal: `≥ 1.5× 1 client (${(1.5 * single).toFixed(0)}): no global serialisation`,
          pass: s.perSecond >= 1.5 * single,
        });
      if (n === 1) {
        const p50 = percentile(s.latencies, 50);
        const rawP50 = percentile(raw.latencies, 50);
        rows.push({
          name: 'backup round trip p50, 1 client (seal excluded)',
          value: p50,
          unit: 'ms',
          reference: { name: 'raw write+fdatasync p50', value: rawP50 },
          goal: '≤ raw + 2 ms (original: 45 ms, Nagle)',
          pass: p50 <= rawP50 + 2,
        });
        rows.push({ name: 'backup round trip p99, 1 client', value: percentile(s.latencies, 99), unit: 'ms' });
      }
    }
  } finally {
    await srv.stop();
  }

  // Memory: a second server with --expose-gc; SIGUSR2 makes it GC and log its memory use.
  const mdir = path.join(work, 'mem');
  mkdirSync(mdir);
  const mkeys = Array.from({ length: 32 }, () => newClientKey());
  writeFileSync(path.join(mdir, 'clients'), mkeys.map((k) => `${formatClientId(k.pub)}\n`).join(''));
  const msrv = await startServer(mdir, { logLevel: 'info', nodeArgs: ['--expose-gc'] });
  const memory = async (): Promise<{ rss: number; live: number }> => {
    const mark = msrv.mark();
    msrv.proc.kill('SIGUSR2');
    const m = await msrv.waitForLog(/memory: rss=(\d+) heapUsed=(\d+) external=(\d+) arrayBuffers=(\d+)/, 5000, mark);
    // Live = JS heap + array buffers (node's allocator counts these exactly). `external` is
    // not used: V8 updates it lazily after freeing buffers, so it lags behind a GC.
    return { rss: Number(m[1]), live: Number(m[2]) + Number(m[4]) };
  };
  // Each idle connection from its own loopback address: the per-address limits on connections
  // and listings (server/README.md "Connection limits") would otherwise close most of them.
  let source = 0;
  const connectM = (key: ClientKey): Promise<TestClient> =>
    TestClient.connect({ port: msrv.port, serverPub: msrv.serverPub, key, localAddress: `127.0.10.${(source++ % 250) + 1}` });
  try {
    const warm = await connectM(newClientKey());
    await warm.listCodes();
    await sleep(200);
    const m0 = await memory();
    const M = 200;
    const conns: TestClient[] = [];
    for (let i = 0; i < M; i += 20) conns.push(...(await Promise.all(Array.from({ length: Math.min(20, M - i) }, () => connectM(newClientKey())))));
    await Promise.all(conns.map((c) => c.listCodes())); // every session past its first exchange
    await sleep(200);
    const m1 = await memory();
    rows.push({
      name: `server memory per idle connection (live heap+buffers after GC, ${M} connections)`,
      value: (m1.live - m0.live) / M / 1024,
      unit: 'KiB',
      reference: { name: 'one maximal Noise frame', value: MAX_FRAME / 1024 },
      goal: '< 1 frame',
      pass: (m1.live - m0.live) / M < MAX_FRAME,
    });
    rows.push({ name: `server RSS growth per idle connection (${M} connections)`, value: (m1.rss - m0.rss) / M / 1024, unit: 'KiB' });
    for (const c of conns) c.close();
    await sleep(300);

    // Connections in the middle of an upload, each with two 60 KB chunks sent (one held, the
    // rest stopped by TCP flow control once one frame is buffered).
    const m2 = await memory();
    const U = mkeys.length;
    const uploaders = await Promise.all(mkeys.map((key) => connectM(key)));
    await Promise.all(uploaders.map((c) => c.backup(1, [fakeChunk(1, 100)], [fakeChunk(2, 100)])));
    await Promise.all(
      uploaders.map(async (c) => {
        await c.send(requestIncremental(2));
        for (let i = 0; i < 3; i++) await c.send(incrementalChunk(fakeChunk(7 + i, 60000)));
      }),
    );
    await sleep(300);
    const m3 = await memory();
    rows.push({
      name: `server memory per uploading connection (live after GC, ${U} connections, 60 KB chunks)`,
      value: (m3.live - m2.live) / U / 1024,
      unit: 'KiB',
      reference: { name: 'one maximal Noise frame', value: MAX_FRAME / 1024 },
      goal: '< 2 frames (one buffered frame + the held chunk)',
      pass: (m3.live - m2.live) / U < 2 * MAX_FRAME,
    });
    rows.push({ name: `server RSS growth per uploading connection (${U})`, value: (m3.rss - m2.rss) / U / 1024, unit: 'KiB' });
    for (const c of uploaders) c.close();
    warm.close();
  } finally {
    await msrv.stop();
    rmSync(work, { recursive: true, force: true });
  }
  for (const r of rows)
    process.stdout.write(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.reference ? ` (reference ${r.reference.name}: ${r.reference.value.toFixed(2)})` : ''}\n`);
  report('server', rows);
}

await main();
