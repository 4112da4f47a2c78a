/**
 * cldcb-plugin when things go wrong: the server is away at start, dies mid-run, is the wrong
 * server, does not know us; bad wrappers and bad requests. Every db_write that is not backed
 * up must be refused (so lightningd does not commit), with a clear `log` line, without a
 * crash, a hang or a busy loop. The plugin's deadline is 4 s here (CLDCB_PLUGIN_DEADLINE_MS,
 * test-only; 30 s by default).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { publicKeyOf } from '../../shared/noise/primitives';
import { compareDatabases, replayTrace } from './helpers/replay';
import { buildPlugin, PLUGIN_SHIM } from './helpers/plugin-build';
import { loadNode, playCalls, replayServerArchive, setupPlugin, startDriver, TestCldcbServer, type NodeFixture } from './helpers/plugin-fixtures';

let work: string;
let single: NodeFixture;

beforeAll(async () => {
  await buildPlugin();
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-fail-'));
  single = await loadNode('single-node');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A port nobody listens on. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('fail closed', () => {
  it('server down from the start: getmanifest answers, the db_write is refused after the deadline, low CPU, no crash', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours' });
    await server.stop();
    const s = await setupPlugin(work, single, 'ours', { server, port: await deadPort() });
    const d = startDriver(s);
    try {
      expect((await d.getmanifest()).result).toBeDefined();
      const cpu0 = d.cpuMs();
      const t0 = Date.now();
      const r = await d.dbWrite(single.trace[0]!);
      const wall = Date.now() - t0;
      const cpu = d.cpuMs() - cpu0;
      expect(r.ok).toBe(false);
      if (r.ok) return;
      // A JSON-RPC error: no "result", so lightningd's db_hook_response calls fatal() without committing.
      expect(r.reply).not.toHaveProperty('result');
      expect((r.reply as { error: { message: string } }).error.message).toMatch(/NOT backed up.*Cannot reach the cldcb server at 127\.0\.0\.1:\d+/);
      expect(wall).toBeGreaterThan(3000);
      expect(wall).toBeLessThan(15_000);
      expect(cpu).toBeLessThan(500); // backoff, not a busy loop
      const errors = d.logs.filter((l) => l.level === 'error');
      expect(errors.length).toBe(1);
      expect(errors[0]!.message).toMatch(/does not commit/);
      const warns = d.logs.filter((l) => l.level === 'warn');
      expect(warns.length).toBeGreaterThan(1);
      expect(warns.length).toBeLessThan(12);
      // Still alive, and exits cleanly when lightningd goes away.
      expect(d.exit).toBeUndefined();
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      // Nothing was committed by the stand-in either.
      expect(readFileSync(path.join(s.dir, 'lightningd.sqlite3')).length).toBe(0);
    } finally {
      if (!d.exit) await d.kill();
    }
  });

  it('the wrapper\'s `# deadline` is kept: a db_write fails at that deadline, not a backoff step early (issue 10 #5)', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours' });
    await server.stop();
    const s = await setupPlugin(work, single, 'ours', { server, port: await deadPort() });
    // 6 s: the old loop gave up at 3.75 s (the next 4 s backoff would have passed the deadline).
    const text = readFileSync(s.wrapper, 'utf8').replace(/^exec /m, '# deadline = 6\nexec ');
    writeFileSync(s.wrapper, text);
    const d = startDriver(s);
    try {
      await d.getmanifest();
      const t0 = Date.now();
      const r = await d.dbWrite(single.trace[0]!);
      const wall = Date.now() - t0;
      expect(r.ok).toBe(false);
      expect(wall).toBeGreaterThan(5300);
      expect(wall).toBeLessThan(6600);
      expect(d.logs.some((l) => /last try in \d+ ms/.test(l.message))).toBe(true);
    } finally {
      if (!d.exit) await d.kill();
    }
  });

  it('server killed mid-run: the next write reconnects once it is back; while it stays away, writes are refused', async () => {
    const s = await setupPlugin(work, single, 'ours');
    const d = startDriver(s);
    try {
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 30));
      await s.server.stop();
      // Back within the deadline: the write waits, reconnects and succeeds.
      setTimeout(() => void s.server.restart(), 800);
      await playCalls(d, single.trace.slice(30, 60));
      expect(d.logs.filter((l) => /Connected to the cldcb server/.test(l.message)).length).toBe(2);
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      expect(s.server.reuploads).toBe(1);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);

      // Now it stays away: refused, clearly, without hanging.
      const s2 = await setupPlugin(work, single, 'original');
      const d2 = startDriver(s2);
      await d2.getmanifest();
      await playCalls(d2, single.trace.slice(0, 10));
      await s2.server.stop();
      const r = await d2.dbWrite(single.trace[10]!);
      expect(r.ok).toBe(false);
      expect(d2.logs.some((l) => l.level === 'error' && /data_version \d+ was NOT backed up/.test(l.message))).toBe(true);
      expect(await d2.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await s.server.stop().catch(() => {});
    }
  });

  it('a slow acknowledgement within the timeouts is waited for', async () => {
    const server = await TestCldcbServer.start({ mode: 'ours', ackDelayMs: 1500 });
    const s = await setupPlugin(work, single, 'ours', { server });
    const d = startDriver(s);
    try {
      await d.getmanifest();
      const r = await d.dbWrite(single.trace[0]!);
      expect(r).toMatchObject({ ok: true });
      expect(r.ms).toBeGreaterThan(1400);
      await d.stop();
    } finally {
      await server.stop();
    }
  });

  it('wrong server id: refused with a message that points at the server id', async () => {
    const other = publicKeyOf(new Uint8Array(randomBytes(32)), 'other');
    const s = await setupPlugin(work, single, 'ours', { serverKey: other });
    const d = startDriver(s);
    try {
      await d.getmanifest();
      const r = await d.dbWrite(single.trace[0]!);
      expect(r.ok).toBe(false);
      expect(d.logs.find((l) => l.level === 'error')?.message).toMatch(/server id may be wrong/);
      await d.stop();
    } finally {
      await s.server.stop();
    }
  });

  it('client not on the server allow-list: refused with a message that says so', async () => {
    const s = await setupPlugin(work, single, 'original');
    const stranger = await TestCldcbServer.start({ mode: 'original', clients: [] });
    const s2 = await setupPlugin(work, single, 'original', { server: stranger });
    const d = startDriver(s2);
    try {
      await d.getmanifest();
      const r = await d.dbWrite(single.trace[0]!);
      expect(r.ok).toBe(false);
      expect(d.logs.find((l) => l.level === 'error')?.message).toMatch(/allow-list \(cldcb-server add/);
      await d.stop();
    } finally {
      await stranger.stop();
      await s.server.stop();
    }
  });

  it('bad db_write params are refused (-32602); unknown methods get -32601', async () => {
    const s = await setupPlugin(work, single, 'ours');
    const d = startDriver(s);
    try {
      await d.getmanifest();
      const r = await d.request('db_write', { data_version: -1, writes: ['x'] });
      expect(r).toMatchObject({ error: { code: -32602 } });
      const r2 = await d.request('db_write', { data_version: 5, writes: [1] });
      expect(r2).toMatchObject({ error: { code: -32602 } });
      expect(await d.request('listpeers', {})).toMatchObject({ error: { code: -32601 } });
      await d.stop();
    } finally {
      await s.server.stop();
    }
  });
});

describe('wrapper configuration', () => {
  it('an unknown key or a missing file stops the plugin with exit 1 and one clear message', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const text = readFileSync(s.wrapper, 'utf8').replace('# shost', '# colour = blue\n# shost');
      writeFileSync(s.wrapper, text);
      chmodSync(s.wrapper, 0o700);
      const d = startDriver(s);
      expect(await d.waitExit()).toEqual({ code: 1, signal: null });
      expect(d.stderr.join('')).toMatch(/unknown option "colour"/);
      d.closeDb();
      const d2 = startDriver(s, { command: [process.execPath, PLUGIN_SHIM, '--', path.join(s.dir, 'no-such-wrapper')] });
      expect(await d2.waitExit()).toEqual({ code: 1, signal: null });
      expect(d2.stderr.join('')).toMatch(/cannot read the wrapper .*no-such-wrapper \(ENOENT\)/);
      d2.closeDb();
    } finally {
      await s.server.stop();
    }
  });
});

describe('stale database guard', () => {
  it('a database older than the last backup is refused (no re-upload over the newer backup) until the state file is removed', async () => {
    const s = await setupPlugin(work, single, 'ours');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 20));
      await d.stop();
      // "Restore" an older database: replay only the first 10 calls into a fresh one.
      const db = path.join(s.dir, 'lightningd.sqlite3');
      rmSync(db);
      replayTrace(single.trace.slice(0, 10), db);
      const d2 = startDriver(s);
      await d2.getmanifest();
      const r = await d2.dbWrite(single.trace[10]!);
      expect(r.ok).toBe(false);
      expect(d2.logs.find((l) => l.level === 'error')?.message).toMatch(/older than the last backed-up data_version .*delete cldcb-plugin\.state/);
      await d2.stop();
      expect(s.server.reuploads).toBe(1);
      // Deliberate: remove the state file; the next write re-uploads that database.
      rmSync(path.join(s.dir, 'cldcb-plugin.state'));
      const d3 = startDriver(s);
      await d3.getmanifest();
      await playCalls(d3, single.trace.slice(10));
      await d3.stop();
      expect(s.server.reuploads).toBe(2);
      const plan = replayServerArchive(s, single, path.join(s.dir, 'recovered.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'recovered.sqlite3'), single.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  });
});
