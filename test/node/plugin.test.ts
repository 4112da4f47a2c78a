/**
 * cldcb-plugin end to end with real lightningd data (test/fixtures/lightningd, see its
 * README): a fixture trace is played by a lightningd stand-in (helpers/lightningdDriver.ts)
 * through the built plugin into a cldcb server; the server's archive is unsealed with the
 * node key from that folder's hsm_secret and replayed (helpers/replay.ts); the result must be
 * row-identical to the fixture's own lightningd.sqlite3 (or to the stand-in's database for
 * synthetic extra writes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../../shared/bytes';
import { compareDatabases, planReplay, replayTrace } from './helpers/replay';
import { buildPlugin } from './helpers/plugin-build';
import {
  callAt,
  decodeServerArchive,
  loadNode,
  MANIFEST,
  playCalls,
  playTrace,
  replayServerArchive,
  setupPlugin,
  startDriver,
  type NodeFixture,
} from './helpers/plugin-fixtures';

let work: string;
let single: NodeFixture;
let channel: NodeFixture;

beforeAll(async () => {
  await buildPlugin();
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-'));
  single = await loadNode('single-node');
  channel = await loadNode('channel-node');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const MODES = ['ours', 'original'] as const;

describe('lightningd stand-in', () => {
  it('replaying a fixture trace like lightningd gives the fixture database (sanity of driver and comparison)', () => {
    const out = path.join(work, 'trace-replay.sqlite3');
    replayTrace(single.trace, out);
    expect(compareDatabases(out, single.db)).toEqual([]);
    // The comparison can fail: dropping call 0 (what the original server's replace did, §8.2a) breaks it.
    const lossy = path.join(work, 'lossy.sqlite3');
    expect(() => replayTrace(single.trace.slice(2), lossy)).toThrow();
    replayTrace(single.trace.slice(0, -1), lossy);
    expect(compareDatabases(lossy, single.db).length).toBeGreaterThan(0);
  });
});

describe('plugin → our server (extension v1)', () => {
  it('single-node trace with db_writes before init: the archive replays to the fixture database', async () => {
    const s = await setupPlugin(work, single, 'ours');
    const d = startDriver(s);
    try {
      await playTrace(d, single.trace);
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      expect(compareDatabases(path.join(s.dir, 'lightningd.sqlite3'), single.db)).toEqual([]);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
      // One re-upload (first run); every call is its own increment (repeats appended).
      expect(s.server.reuploads).toBe(1);
      const a = s.server.archives.get(bytesToHex(s.clientKey))!;
      expect(a.increments.length).toBe(single.trace.length);
      expect(a.increments.map((i) => i.dataVersion)).toEqual(single.trace.map((c) => c.data_version));
      // Read protection was set after the first acknowledged upload.
      expect(s.server.verifiers.has(bytesToHex(s.clientKey))).toBe(true);
      expect(d.logs.filter((l) => l.level === 'error')).toEqual([]);
      expect(d.logs.some((l) => /extension v1/.test(l.message))).toBe(true);
      expect(existsSync(path.join(s.dir, 'cldcb-plugin.state'))).toBe(true);
      expect(readdirSync(s.dir).filter((f) => f.startsWith('.cldcb-snapshot-'))).toEqual([]);
      // Plaintexts are v1, chained, with a plausible time.
      const b = decodeServerArchive(s, single);
      expect(b.headerDv).toBe(1);
      expect(b.snapshot.length).toBe(0); // the database was empty before the first transaction
      expect(b.increments.every((i) => i.format === 1 && Math.abs(i.time! - Date.now() / 1000) < 600)).toBe(true);
    } finally {
      await s.server.stop();
    }
  });

  it('channel-node trace with spilled uncommitted pages and a re-upload asked mid-trace', async () => {
    const s = await setupPlugin(work, channel, 'ours');
    // A tiny page cache makes SQLite write uncommitted pages into the file (with the
    // originals in -journal) before the hook: the snapshot must roll them back.
    const d = startDriver(s, { cacheSize: 2 });
    try {
      await d.getmanifest();
      await playCalls(d, channel.trace.slice(0, 4));
      await d.init();
      await playCalls(d, channel.trace.slice(4, 150));
      s.server.forceReuploadNext = true;
      await playCalls(d, channel.trace.slice(150));
      await d.stop();
      expect(s.server.reuploads).toBe(2);
      expect(d.logs.some((l) => /asked for a re-upload/.test(l.message))).toBe(true);
      const b = decodeServerArchive(s, channel);
      expect(b.headerDv).toBe(channel.trace[150]!.data_version);
      const plan = replayServerArchive(s, channel, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), channel.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe('plugin → original-behaviour server (replaces the last increment on a repeated data_version)', () => {
  it('channel-node trace: nothing is lost; the PRAGMA calls travel merged with the increment before them', async () => {
    const s = await setupPlugin(work, channel, 'original');
    const d = startDriver(s);
    try {
      await playTrace(d, channel.trace);
      await d.stop();
      const plan = replayServerArchive(s, channel, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), channel.db)).toEqual([]);
      const b = decodeServerArchive(s, channel);
      expect(b.increments.length).toBe(channel.trace.length - 2);
      expect(b.increments[0]!.statements).toEqual([...channel.trace[0]!.writes, ...channel.trace[1]!.writes]);
      // An original server never sees an extension message.
      expect(s.server.verifiers.size).toBe(0);
      expect(s.server.seen.some((t) => t.startsWith('id'))).toBe(false);
    } finally {
      await s.server.stop();
    }
  });

  it('single-node trace with a re-upload the server asks unexpectedly (spilled pages): the plugin re-sends snapshot first', async () => {
    const s = await setupPlugin(work, single, 'original');
    const d = startDriver(s, { cacheSize: 2 });
    try {
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4, 60));
      s.server.forceReuploadNext = true;
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      expect(s.server.reuploads).toBe(2);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe.each(MODES)('plugin → %s server', (mode) => {
  it('a write larger than 65 KB travels in several sealed chunks and replays', async () => {
    const s = await setupPlugin(work, single, mode);
    const d = startDriver(s);
    try {
      await d.getmanifest();
      await d.init();
      const calls = single.trace.slice(0, 8);
      await playCalls(d, calls);
      const dv = calls[calls.length - 1]!.data_version + 1;
      const big = 'x'.repeat(150_000);
      await playCalls(d, [callAt(dv, [`INSERT INTO vars (name, val) VALUES ('cldcb-test-big', '${big}')`, `INSERT INTO vars (name, val) VALUES ('cldcb-test-é', 'ü')`])]);
      await d.stop();
      const a = s.server.archives.get(bytesToHex(s.clientKey))!;
      const last = a.increments[a.increments.length - 1]!;
      expect(last.chunks.length).toBe(3);
      expect(Math.max(...last.chunks.map((c) => c.length))).toBeLessThanOrEqual(65000);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), path.join(s.dir, 'lightningd.sqlite3'))).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });

  it('lightningd restarts the plugin between a transaction and its PRAGMA call: the chain continues, nothing lost', async () => {
    const s = await setupPlugin(work, single, mode);
    try {
      const d1 = startDriver(s);
      await d1.getmanifest();
      await playCalls(d1, single.trace.slice(0, 3)); // dv 1, PRAGMA OFF (dv 1), dv 2
      expect(await d1.stop()).toEqual({ code: 0, signal: null });
      const d2 = startDriver(s);
      await d2.getmanifest();
      await playCalls(d2, single.trace.slice(3, 6)); // PRAGMA ON at dv 2 (repeat, previous statements unknown), dv 3, dv 4
      await d2.init();
      await playCalls(d2, single.trace.slice(6));
      await d2.stop();
      expect(s.server.reuploads).toBe(1); // the chain head survived the restart
      if (mode === 'original') expect(d2.logs.some((l) => /held for the next increment/.test(l.message))).toBe(true);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });

  it('lightningd dies after the hook but before COMMIT and redoes the data_version: the redo replaces it', async () => {
    const s = await setupPlugin(work, single, mode);
    try {
      const k = 20;
      const d1 = startDriver(s);
      await d1.getmanifest();
      await d1.init();
      await playCalls(d1, single.trace.slice(0, k));
      // The same data_version with different writes (a redo need not repeat the same transaction).
      const lost = callAt(single.trace[k]!.data_version, ["INSERT INTO vars (name, val) VALUES ('never-committed', 'x')"]);
      expect(await d1.dbWrite(lost, { crashBeforeCommit: true })).toMatchObject({ ok: true });
      await d1.kill();
      const d2 = startDriver(s);
      await d2.getmanifest();
      await d2.init();
      await playCalls(d2, single.trace.slice(k));
      await d2.stop();
      const b = decodeServerArchive(s, single);
      const atK = b.increments.filter((i) => i.dataVersion === single.trace[k]!.data_version);
      expect(atK.length).toBe(mode === 'ours' ? 2 : 1); // ours appends, the original replaces
      const plan = planReplay(b);
      expect(plan.errors).toEqual([]);
      expect(plan.replay.some((i) => i.statements.some((st) => st.includes('never-committed')))).toBe(false);
      const plan2 = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan2.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});

describe('JSON-RPC framing', () => {
  it('answers requests that arrive back to back without separators and split at odd places', async () => {
    const s = await setupPlugin(work, single, 'ours');
    const d = startDriver(s);
    try {
      const text =
        JSON.stringify({ jsonrpc: '2.0', id: 'a"{}', method: 'getmanifest', params: {} }) +
        JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'nosuchmethod', params: [] }) +
        JSON.stringify({ jsonrpc: '2.0', method: 'some_notification', params: { x: '}' } });
      for (let i = 0; i < text.length; i += 7) d.writeRaw(text.slice(i, i + 7));
      // Sent after the raw text, so answered after it.
      expect(await d.request('init', {}, 10_000)).toMatchObject({ result: {} });
      expect(d.replies.find((m) => m.id === 'a"{}')).toMatchObject({ result: MANIFEST });
      expect(d.replies.find((m) => m.id === 7)).toMatchObject({ error: { code: -32601 } });
      expect(d.replies.length).toBe(3);
      await d.stop();
    } finally {
      await s.server.stop();
    }
  });
});
