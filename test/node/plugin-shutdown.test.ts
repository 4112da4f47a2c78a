/**
 * The plugin at lightningd's shutdown (issue 10 defect 2; shared/node/pluginShutdown.ts): lightningd
 * lets the plugin go (stdin ends) and then still commits writes without any hook; the
 * after-stop helper the plugin starts makes the backup hold lightningd's final database.
 * Here a `sleep` process stands in for lightningd's PID (the helper waits for it to exit) and
 * the stand-in driver commits "unhooked" writes as lightningd would. The same on a real
 * lightningd: test/lightningd/clean-stops.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadArchive } from './helpers/quorum';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { formatClientId } from '../../shared/cldcb/ids';
import { readArchive } from '../../shared/cldcb/arch';
import { publicKeyOf } from '../../shared/noise/primitives';
import { compareDatabases, decodeBackup, replayToFile } from './helpers/replay';
import { buildPlugin } from './helpers/plugin-build';
import { commitUnhooked, FIX, loadNode, playCalls, playTrace, setupClient, startDriver, type ClientSetup, type NodeFixture } from './helpers/plugin-fixtures';
import { runClient } from './helpers/cli';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';
import { LOCK_FILE, LAST_STOP_FILE, type LastStop } from '../../shared/node/pluginShutdown';

let work: string;
let channel: NodeFixture;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-stop-'));
  channel = await loadNode('channel-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
async function setupFor(node: NodeFixture): Promise<{ s: ClientSetup; srv: ServerProcess }> {
  const clientPriv = new Uint8Array(randomBytes(32));
  const dir = path.join(work, `srv${n++}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(path.join(dir, 'clients'), `${formatClientId(publicKeyOf(clientPriv, 'client'))}\n`);
  const srv = await startServer(dir, { logLevel: 'info' });
  return { s: setupClient(work, node, { port: srv.port, serverKey: srv.serverPub }, clientPriv), srv };
}


/** A process that stands in for lightningd's PID until the test "exits" it. */
function standInLightningd(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Index of the last call of a transaction (it carries the data_version bump) at or after `from`. */
function transactionEnd(from: number): number {
  return channel.trace.findIndex((c, i) => i >= from && c.writes.some((w) => /name = 'data_version'/.test(w)));
}

describe('the plugin at lightningd\'s shutdown', () => {
  it('lightningd lets the plugin go and commits more without a hook: the helper re-uploads what lightningd left', async () => {
    const { s, srv } = await setupFor(channel);
    const ld = standInLightningd();
    try {
      const cut = transactionEnd(Math.floor(channel.trace.length / 2));
      const d = startDriver(s, { env: { ...process.env, CLDCB_PLUGIN_DEADLINE_MS: '4000', CLDCB_AFTER_STOP: 'on', CLDCB_TEST_LIGHTNINGD_PID: String(ld.pid) } });
      await playTrace(d, channel.trace.slice(0, cut + 1));
      // lightningd's shutdown_plugins: the plugin's stdin ends; it leaves at once.
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      // The helper holds the lock while lightningd still runs.
      expect(existsSync(path.join(s.dir, LOCK_FILE))).toBe(true);
      // lightningd commits the rest without any hook (the plugin is gone), then exits.
      const db = new Database(path.join(s.dir, 'lightningd.sqlite3'));
      for (const call of channel.trace.slice(cut + 1)) commitUnhooked(db, call);
      db.close();
      ld.kill('SIGKILL');
      await until(() => !existsSync(path.join(s.dir, LOCK_FILE)), 'the after-stop helper');
      const last = JSON.parse(readFileSync(path.join(s.dir, LAST_STOP_FILE), 'utf8')) as LastStop;
      const finalDv = channel.trace.at(-1)!.data_version;
      expect(last).toMatchObject({ outcome: 'repaired', lightningdDataVersion: finalDv, backupDataVersion: channel.trace[cut]!.data_version });
      // The backup now holds the database as lightningd left it.
      const b = decodeBackup(await downloadArchive(srv, channel, s.clientKey), channel.nodePriv, s.clientKey);
      expect(b.headerDv).toBe(finalDv);
      expect(b.plan.ending).toBe('stopped');
      const plan = replayToFile(b, path.join(s.dir, 'after-stop.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'after-stop.sqlite3'), channel.db)).toEqual([]);

      // The next start reports the stop in lightningd's log and continues the chain.
      const d2 = startDriver(s);
      await d2.getmanifest();
      await d2.init();
      await d2.stop();
      expect(d2.logs.some((l) => l.level === 'info' && /last stop .*re-uploaded/.test(l.message))).toBe(true);
    } finally {
      ld.kill('SIGKILL');
      await srv.stop();
    }
  });

  it('when nothing was written after it left, the helper records the backup as complete: no re-upload, and the backup says it ends at a clean stop', async () => {
    const { s, srv } = await setupFor(channel);
    const ld = standInLightningd();
    try {
      const d = startDriver(s, { env: { ...process.env, CLDCB_AFTER_STOP: 'on', CLDCB_TEST_LIGHTNINGD_PID: String(ld.pid) } });
      await playTrace(d, channel.trace);
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      const arch = path.join(srv.dir, `${formatClientId(s.clientKey)}.arch`);
      // The helper marks the stop at once ("stopping"), before lightningd has exited.
      await until(() => decodeBackup(readArchive(new Uint8Array(readFileSync(arch))), channel.nodePriv, s.clientKey).plan.ending === 'stopping', 'the stopping marker');
      const before = readFileSync(arch);
      ld.kill('SIGKILL');
      await until(() => !existsSync(path.join(s.dir, LOCK_FILE)), 'the after-stop helper');
      const last = JSON.parse(readFileSync(path.join(s.dir, LAST_STOP_FILE), 'utf8')) as LastStop;
      expect(last).toMatchObject({ outcome: 'complete', lightningdDataVersion: channel.trace.at(-1)!.data_version });
      // Appended to, not replaced: the same snapshot and increments, then the "stopped" marker.
      const after = readFileSync(arch);
      expect(after.subarray(0, before.length).equals(before)).toBe(true);
      const b = decodeBackup(readArchive(new Uint8Array(after)), channel.nodePriv, s.clientKey);
      expect(b.plan.ending).toBe('stopped');
      expect(b.plan.finalDataVersion).toBe(channel.trace.at(-1)!.data_version);
      const plan = replayToFile(b, path.join(s.dir, 'clean-stop.sqlite3'));
      expect(plan.errors).toEqual([]);
      expect(compareDatabases(path.join(s.dir, 'clean-stop.sqlite3'), channel.db)).toEqual([]);
    } finally {
      ld.kill('SIGKILL');
      await srv.stop();
    }
  });

  it('the helper killed before it could confirm: the backup ends "stopping", and recover writes the database aside as possibly stale, saying why', async () => {
    const { s, srv } = await setupFor(channel);
    const ld = standInLightningd();
    try {
      const d = startDriver(s, { env: { ...process.env, CLDCB_AFTER_STOP: 'on', CLDCB_TEST_LIGHTNINGD_PID: String(ld.pid) } });
      await playTrace(d, channel.trace);
      await d.stop();
      const arch = path.join(srv.dir, `${formatClientId(s.clientKey)}.arch`);
      await until(() => decodeBackup(readArchive(new Uint8Array(readFileSync(arch))), channel.nodePriv, s.clientKey).plan.ending === 'stopping', 'the stopping marker');
      // The helper dies (a power cut, a SIGKILL) while lightningd is still stopping.
      process.kill(Number(readFileSync(path.join(s.dir, LOCK_FILE), 'utf8')), 'SIGKILL');
      const ln = path.join(s.dir, 'recovered-after-kill');
      mkdirSync(ln);
      copyFileSync(path.join(FIX, 'channel-node', 'hsm_secret'), path.join(ln, 'hsm_secret'));
      const r = runClient(['recover', `--lightning-dir=${ln}`, `--from=${srv.dir}`, '--json'], { cwd: s.dir });
      expect(r.status, r.stderr).toBe(3);
      const v = JSON.parse(r.stdout) as { ok: boolean; stale: boolean; stale_reasons: string[]; database: string };
      expect(v.ok).toBe(false);
      expect(v.stale_reasons.join(' ')).toMatch(/ends while the node was stopping .*may be a few data_versions newer/);
      expect(v.database).toMatch(/lightningd\.sqlite3\.stale-\d+$/);
      expect(existsSync(path.join(ln, 'lightningd.sqlite3'))).toBe(false);
    } finally {
      ld.kill('SIGKILL');
      await srv.stop();
    }
  });

  it('a plugin started while the helper still works waits for it before it reads its chain head', async () => {
    const { s, srv } = await setupFor(channel);
    const ld = standInLightningd();
    try {
      const d = startDriver(s, { env: { ...process.env, CLDCB_AFTER_STOP: 'on', CLDCB_TEST_LIGHTNINGD_PID: String(ld.pid) } });
      await playTrace(d, channel.trace.slice(0, 20));
      await d.stop();
      // lightningd restarted before the old one was reaped: the new plugin must not answer yet.
      const d2 = startDriver(s);
      const manifest = d2.getmanifest();
      let answered = false;
      void manifest.then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 700));
      expect(answered, 'getmanifest answered while the after-stop helper held the lock').toBe(false);
      ld.kill('SIGKILL');
      await manifest;
      expect(existsSync(path.join(s.dir, LOCK_FILE))).toBe(false);
      await d2.init();
      await playCalls(d2, channel.trace.slice(20, 40));
      await d2.stop();
      expect(d2.logs.filter((l) => l.level === 'error' || l.level === 'warn'), JSON.stringify(d2.logs)).toEqual([]);
      expect(d2.logs.some((l) => /waited for the previous run's after-stop check/.test(l.message)), JSON.stringify(d2.logs)).toBe(true);
    } finally {
      ld.kill('SIGKILL');
      await srv.stop();
    }
  });
});
