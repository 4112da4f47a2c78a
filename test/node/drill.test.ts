/**
 * `cldcb-client drill`: the demo on the bundled real trace (plugin + server on loopback,
 * recovery online and offline, row comparison), and the live drill into a scratch
 * directory with a live database that is equal, ahead, or behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../cli/main';
import { capturedIo } from './helpers/cli';
import { runDemoDrill, DRILL_INTERVAL_DAYS } from '../../shared/node/recovery/drill';
import { ensureServerBuilt, ROOT } from './helpers/server-harness';


let tmp: string;
beforeAll(async () => {
  await ensureServerBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'cldcb-drill-test-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('drill --demo', () => {
  it('runs the whole chain on the bundled trace and passes, with a printable report', async () => {
    const t = capturedIo();
    const report = path.join(tmp, 'demo.html');
    const code = await runCli(['drill', '--demo', '--json', `--report=${report}`], t);
    expect(code, t.stderr).toBe(0);
    const r = JSON.parse(t.stdout);
    expect(r.pass).toBe(true);
    expect(r.kind).toBe('demo');
    expect(r.node_id).toBe(JSON.parse(readFileSync(path.join(ROOT, 'assets/demo/getinfo.json'), 'utf8')).id);
    expect(r.steps.map((s: { name: string }) => s.name)).toEqual([
      'secret in: hsm_secret → node key',
      'server: allow the new client',
      'server: start on 127.0.0.1 (free port)',
      'plugin: write a wrapper',
      'lightningd: play the real db_write trace through the plugin',
      'recover online (Noise_XK: recognition codes, read proof, download)',
      'recover offline (a copy of the server directory)',
      "verify: online recovery = the real node's database (assets/demo)",
      "verify: online recovery = the played node's database",
      "verify: offline recovery = the real node's database (assets/demo)",
      "verify: offline recovery = the played node's database",
    ]);
    expect(r.steps.every((s: { ok: boolean; ms: number }) => s.ok && s.ms >= 0)).toBe(true);
    expect(r.comparisons).toHaveLength(4);
    expect(r.comparisons.every((c: { identical: boolean; tables: number }) => c.identical && c.tables > 30)).toBe(true);
    expect(r.recovery).toMatchObject({ integrity: 'ok', chain: 'v1', data_version: 124, stale: false });
    const due = Date.parse(r.next_drill_due) - Date.parse(r.started_at.slice(0, 10));
    expect(due / 86_400_000).toBe(DRILL_INTERVAL_DAYS);
    const html = readFileSync(report, 'utf8');
    expect(html).toMatch(/RESULT: PASS/);
    expect(html).not.toMatch(/<script|src=|href=/i);
  }, 120_000);

  it('prints progress on stderr and PASS with the next due date as text', async () => {
    const t = capturedIo();
    expect(await runCli(['drill', '--demo'], t)).toBe(0);
    expect(t.stderr).toMatch(/▸ lightningd: play the real db_write trace through the plugin/);
    expect(t.stdout).toMatch(/RESULT: PASS\nNext drill due: \d{4}-\d{2}-\d{2} \(90 days\)\n$/);
  }, 120_000);
});

describe('drill --lightning-dir (live)', () => {
  let kept: string;
  let lightningDir: string;
  beforeAll(async () => {
    // A real backup to drill on: the demo's server directory and played node, kept.
    const r = await runDemoDrill({ root: ROOT, scratchParent: tmp, keepScratch: true });
    expect(r.pass).toBe(true);
    kept = r.scratchDir!;
    lightningDir = path.join(tmp, 'lightning');
    mkdirSync(lightningDir);
    copyFileSync(path.join(ROOT, 'assets/demo/hsm_secret'), path.join(lightningDir, 'hsm_secret'));
    writeFileSync(path.join(lightningDir, 'lightningd.sqlite3'), 'the node database, not to be touched');
  }, 120_000);

  const drill = async (extra: string[]): Promise<{ code: number; r: Record<string, unknown> & { comparisons: { ahead_by: number; identical: boolean; ok: boolean }[]; notes: string[] } }> => {
    const t = capturedIo();
    const code = await runCli(['drill', `--lightning-dir=${lightningDir}`, `--from=${path.join(kept, 'server-copy')}`, '--json', ...extra], t);
    return { code, r: JSON.parse(t.stdout) };
  };

  it('recovers into a scratch directory, never touching the lightning directory, and matches the live database', async () => {
    const before = readdirSync(lightningDir).map((f) => [f, statSync(path.join(lightningDir, f)).mtimeMs]);
    const { code, r } = await drill([`--compare-live=${path.join(kept, 'node', 'lightningd.sqlite3')}`]);
    expect(code).toBe(0);
    expect(r.pass).toBe(true);
    expect(r.comparisons[0]).toMatchObject({ identical: true, ahead_by: 0, ok: true });
    expect(readdirSync(lightningDir).map((f) => [f, statSync(path.join(lightningDir, f)).mtimeMs])).toEqual(before);
    expect(readFileSync(path.join(lightningDir, 'lightningd.sqlite3'), 'utf8')).toBe('the node database, not to be touched');
  }, 120_000);

  it('a live database ahead of the backup passes and says by how much', async () => {
    const ahead = path.join(tmp, 'ahead.sqlite3');
    copyFileSync(path.join(kept, 'node', 'lightningd.sqlite3'), ahead);
    const db = new Database(ahead);
    db.exec("UPDATE vars SET intval = intval + 3 WHERE name = 'data_version'");
    db.close();
    const { code, r } = await drill([`--compare-live=${ahead}`]);
    expect(code).toBe(0);
    expect(r.comparisons[0]).toMatchObject({ identical: false, ahead_by: 3, ok: true });
    expect(r.notes.join(' ')).toMatch(/3 data_version\(s\) ahead/);
  }, 120_000);

  it('a live database behind the backup fails the drill', async () => {
    const behind = path.join(tmp, 'behind.sqlite3');
    copyFileSync(path.join(kept, 'node', 'lightningd.sqlite3'), behind);
    const db = new Database(behind);
    db.exec("UPDATE vars SET intval = intval - 2 WHERE name = 'data_version'");
    db.close();
    const { code, r } = await drill([`--compare-live=${behind}`]);
    expect(code).toBe(1);
    expect(r.pass).toBe(false);
    expect(r.notes.join(' ')).toMatch(/BEHIND the backup/);
  }, 120_000);

  it('without a live database it verifies the backup alone; a usage error exits 2', async () => {
    const { code, r } = await drill([]);
    expect(code).toBe(0);
    expect(r.notes.join(' ')).toMatch(/No live database given/);
    const t = capturedIo();
    expect(await runCli(['drill'], t)).toBe(2);
    expect(await runCli(['drill', '--demo', `--lightning-dir=${lightningDir}`], capturedIo())).toBe(2);
  }, 120_000);
});
