/**
 * cldcb-plugin and continued sealed streams (extension v1, plugin/backup.ts): with our
 * server an increment continues the stream of the last increment stored on the same
 * connection (its first chunk starts 01 ‖ u64 n); a new stream (first chunk E, 02/03)
 * starts on every new connection, every re-upload and after any failure. With an original
 * server every increment is its own stream. The archives still replay to the fixture
 * database, through the test decoder and through the recovery engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../../shared/bytes';
import { encodeArchive, readArchive } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { continuedIndex } from '../../shared/cldcb/seal';
import { recover } from '../../shared/node/recovery/engine';
import { compareDatabases } from './helpers/replay';
import { buildPlugin } from './helpers/plugin-build';
import { archiveEvents, type StoredArchive } from './helpers/plugin-server';
import {
  callAt,
  loadNode,
  playCalls,
  playTrace,
  replayServerArchive,
  setupClient,
  setupPlugin,
  startDriver,
  type NodeFixture,
  type Setup,
} from './helpers/plugin-fixtures';
import { publicKeyOf } from '../../shared/noise/primitives';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';

let work: string;
let single: NodeFixture;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-cont-'));
  single = await loadNode('single-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const archiveOf = (s: Setup): StoredArchive => {
  const a = s.server.archives.get(bytesToHex(s.clientKey));
  expect(a, 'the server has an archive for this client').toBeDefined();
  return a!;
};

/** 'S' for an increment that starts a stream (first byte 02/03), 'C' for a continued one (01), '?' otherwise. */
const kinds = (a: StoredArchive): string =>
  a.increments
    .map((i) =>
      i.chunks[0]![0] === 0x01 ? 'C' : i.chunks[0]![0] === 0x02 || i.chunks[0]![0] === 0x03 ? 'S' : '?',
    )
    .join('');

/**
 * Each continued increment names the next message of its stream: the number of chunks
 * sealed in that stream before it (the stream's start included). @returns the mismatches.
 */
function indexMismatches(a: StoredArchive): string[] {
  const bad: string[] = [];
  let next = 0;
  a.increments.forEach((inc, k) => {
    const first = inc.chunks[0]!;
    if (first[0] === 0x01) {
      const n = continuedIndex(first);
      if (n !== next) bad.push(`increment ${k}: index ${n}, expected ${next}`);
    } else next = 0;
    next += inc.chunks.length;
  });
  return bad;
}

/** Rebuild the in-test server's archive with the recovery engine (offline, from a server directory). */
async function engineRecover(s: Setup, node: NodeFixture, pipeline: boolean): Promise<string> {
  const sd = path.join(s.dir, `server-copy-${pipeline ? 'p' : 't'}`);
  mkdirSync(sd);
  writeFileSync(
    path.join(sd, `${formatClientId(s.clientKey)}.arch`),
    encodeArchive(archiveEvents(archiveOf(s))),
  );
  const ld = path.join(s.dir, `recovered-${pipeline ? 'p' : 't'}`);
  mkdirSync(ld);
  const v = await recover({
    nodePrivateKey: node.nodePriv,
    sources: [{ kind: 'serverDir', dir: sd }],
    lightningDir: ld,
    inline: true,
    writeWrapper: false,
    pipeline,
  });
  expect(v.ok).toBe(true);
  expect(v.timings.map((t) => t.step)).toContain(
    pipeline ? 'unseal, verify and replay (pipelined)' : 'replay',
  );
  return v.database.path;
}

describe('plugin → our server (extension v1): continued streams', () => {
  it('one connection: the first increment starts the stream, every later one continues it with the next index', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const d = startDriver(s);
      await playTrace(d, single.trace);
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      expect(s.server.connections).toBe(1);
      const a = archiveOf(s);
      expect(a.increments.length).toBe(single.trace.length);
      expect(kinds(a)).toBe('S' + 'C'.repeat(single.trace.length - 1));
      expect(indexMismatches(a)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
      for (const pipeline of [true, false])
        expect(compareDatabases(await engineRecover(s, single, pipeline), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });

  it('a write of several chunks mid-stream: a continued first chunk, ordinary ones after it, and the next increment continues past them', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await d.init();
      const calls = single.trace.slice(0, 8);
      await playCalls(d, calls);
      const dv = calls[calls.length - 1]!.data_version + 1;
      await playCalls(d, [
        callAt(dv, [`INSERT INTO vars (name, val) VALUES ('cldcb-test-big', '${'y'.repeat(150_000)}')`]),
      ]);
      await playCalls(d, [callAt(dv + 1, ["INSERT INTO vars (name, val) VALUES ('cldcb-test-after', 'z')"])]);
      await d.stop();
      const a = archiveOf(s);
      const big = a.increments[a.increments.length - 2]!;
      expect(big.chunks.length).toBe(3);
      expect(big.chunks[0]![0]).toBe(0x01);
      expect(kinds(a)).toBe('S' + 'C'.repeat(a.increments.length - 1));
      const before = a.increments.slice(0, -2).reduce((n, i) => n + i.chunks.length, 0);
      expect(continuedIndex(big.chunks[0]!)).toBe(before);
      expect(continuedIndex(a.increments[a.increments.length - 1]!.chunks[0]!)).toBe(before + 3);
      expect(indexMismatches(a)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(
        compareDatabases(path.join(s.dir, 'recovered.sqlite3'), path.join(s.dir, 'lightningd.sqlite3')),
      ).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });

  it('a re-upload the server asks mid-run: the increment sent with it starts a new stream, later ones continue that one', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const d = startDriver(s, { cacheSize: 2 });
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4, 60));
      const first = archiveOf(s);
      expect(kinds(first)).toBe('S' + 'C'.repeat(59));
      s.server.forceReuploadNext = true;
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      expect(s.server.reuploads).toBe(2);
      const a = archiveOf(s); // the re-upload replaced the archive
      expect(a.increments.length).toBe(single.trace.length - 60);
      expect(kinds(a)).toBe('S' + 'C'.repeat(single.trace.length - 61));
      expect(indexMismatches(a)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });

  it('the server restarted mid-run: the first increment after the reconnect starts a new stream', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 30));
      const stored = archiveOf(s).increments.length;
      expect(stored).toBe(30);
      await s.server.stop();
      setTimeout(() => void s.server.restart(), 800);
      await playCalls(d, single.trace.slice(30, 60)); // the first of these waits for the restart
      expect(d.logs.filter((l) => /Connected to the cldcb server/.test(l.message)).length).toBe(2);
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      expect(s.server.reuploads).toBe(1);
      const a = archiveOf(s);
      expect(a.increments.length).toBe(single.trace.length);
      expect(kinds(a)).toBe('S' + 'C'.repeat(29) + 'S' + 'C'.repeat(single.trace.length - 31));
      expect(indexMismatches(a)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
      for (const pipeline of [true, false])
        expect(compareDatabases(await engineRecover(s, single, pipeline), single.db)).toEqual([]);
    } finally {
      await s.server.stop().catch(() => {});
    }
  });

  it('lightningd restarts the plugin, and dies before COMMIT and redoes a data_version: each new plugin process starts a new stream', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const k = 20;
      const d1 = startDriver(s);
      await d1.getmanifest();
      await d1.init();
      await playCalls(d1, single.trace.slice(0, 10));
      expect(await d1.stop()).toEqual({ code: 0, signal: null });
      const d2 = startDriver(s);
      await d2.getmanifest();
      await d2.init();
      await playCalls(d2, single.trace.slice(10, k));
      const lost = callAt(single.trace[k]!.data_version, [
        "INSERT INTO vars (name, val) VALUES ('never-committed', 'x')",
      ]);
      expect(await d2.dbWrite(lost, { crashBeforeCommit: true })).toMatchObject({ ok: true });
      await d2.kill();
      const d3 = startDriver(s);
      await d3.getmanifest();
      await d3.init();
      await playCalls(d3, single.trace.slice(k));
      await d3.stop();
      const a = archiveOf(s);
      // 10 from d1, 10 + the lost one from d2, the rest from d3 (the redo of `lost` first).
      expect(a.increments.length).toBe(single.trace.length + 1);
      expect(kinds(a)).toBe(
        'S' + 'C'.repeat(9) + 'S' + 'C'.repeat(10) + 'S' + 'C'.repeat(single.trace.length - k - 1),
      );
      expect(indexMismatches(a)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
      for (const pipeline of [true, false])
        expect(compareDatabases(await engineRecover(s, single, pipeline), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe('plugin → original-behaviour server (no extension): one stream per increment', () => {
  it('no increment continues a stream, also across a forced re-upload', async () => {
    const s = await setupPlugin(work, single, 'original');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4, 60));
      expect(kinds(archiveOf(s))).toMatch(/^S+$/);
      s.server.forceReuploadNext = true;
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      expect(s.server.reuploads).toBe(2);
      const a = archiveOf(s);
      expect(a.increments.length).toBeGreaterThan(30);
      expect(kinds(a)).toMatch(/^S+$/);
      expect(a.increments.some((i) => i.chunks[0]![0] === 0x01)).toBe(false);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe('plugin → our cldcb-server (the built program)', () => {
  it('the .arch file on disk holds one stream start and continued increments, and the recovery engine rebuilds it from the server directory; after a SIGKILL and restart a new stream starts', async () => {
    const clientPriv = new Uint8Array(randomBytes(32));
    const dir = path.join(work, 'real-server');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(path.join(dir, 'clients'), `${formatClientId(publicKeyOf(clientPriv, 'client'))}\n`);
    const srv = await startServer(dir, { logLevel: 'info' });
    let srv2: ServerProcess | undefined;
    try {
      const c = setupClient(work, single, { port: srv.port, serverKey: srv.serverPub }, clientPriv);
      const d = startDriver(c);
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4, 50));
      const file = path.join(dir, `${formatClientId(c.clientKey)}.arch`);
      const stored = (): StoredArchive => {
        const a: StoredArchive = { reupload: [], increments: [] };
        for (const e of readArchive(new Uint8Array(readFileSync(file)))) {
          if (e.type === 'reuploadChunk') a.reupload.push(e.chunk);
          else if (e.type === 'incrementStart') a.increments.push({ dataVersion: e.dataVersion, chunks: [] });
          else if (e.type === 'incrementChunk') a.increments[a.increments.length - 1]!.chunks.push(e.chunk);
        }
        return a;
      };
      expect(kinds(stored())).toBe('S' + 'C'.repeat(49));
      await srv.kill();
      const restarted = startServer(dir, { args: [`--port=${srv.port}`], logLevel: 'info' });
      await playCalls(d, single.trace.slice(50)); // the first of these waits for the restart
      srv2 = await restarted;
      await d.stop();
      const a = stored();
      expect(a.increments.length).toBe(single.trace.length);
      expect(kinds(a)).toBe('S' + 'C'.repeat(49) + 'S' + 'C'.repeat(single.trace.length - 51));
      expect(indexMismatches(a)).toEqual([]);
      for (const pipeline of [true, false]) {
        const ld = path.join(c.dir, `recovered-${pipeline}`);
        mkdirSync(ld);
        const v = await recover({
          nodePrivateKey: single.nodePriv,
          sources: [{ kind: 'serverDir', dir }],
          lightningDir: ld,
          inline: true,
          writeWrapper: false,
          pipeline,
        });
        expect(v).toMatchObject({ ok: true, chain: 'v1', incrementsStored: single.trace.length });
        expect(compareDatabases(v.database.path, single.db)).toEqual([]);
      }
    } finally {
      await srv.stop().catch(() => {});
      await srv2?.stop();
    }
  });
});
