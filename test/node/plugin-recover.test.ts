/**
 * Cross-check with the real recovery engine (`cldcb-client recover`, offline from a server
 * directory): the archives our plugin makes — with our server's append rule, and with the
 * original server's replace rule including the unusual shapes (PRAGMA calls merged into the
 * increment before them, PRAGMAs held across a plugin restart and leading the next
 * increment, a redo after lightningd died before COMMIT) — rebuild to a database
 * row-identical to the real lightningd fixture's (test/fixtures/lightningd, see its README).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/main';
import { encodeArchive } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { bytesToHex } from '../../shared/bytes';
import { buildPlugin } from './helpers/plugin-build';
import { archiveEvents } from './helpers/plugin-server';
import { callAt, FIX, loadNode, playCalls, playTrace, setupPlugin, startDriver, type NodeFixture, type Setup } from './helpers/plugin-fixtures';
import { compareDatabases } from './helpers/replay';

let work: string;
let single: NodeFixture;
let channel: NodeFixture;

beforeAll(async () => {
  await buildPlugin();
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-plugin-recover-'));
  single = await loadNode('single-node');
  channel = await loadNode('channel-node');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Write the in-test server's state as a server directory and run `cldcb-client recover --from` on it. */
async function recoverFrom(s: Setup, node: NodeFixture): Promise<{ code: number; verdict: Record<string, unknown>; db: string }> {
  const srvDir = path.join(s.dir, 'server-copy');
  mkdirSync(srvDir);
  writeFileSync(path.join(srvDir, `${formatClientId(s.clientKey)}.arch`), encodeArchive(archiveEvents(s.server.archives.get(bytesToHex(s.clientKey))!)));
  writeFileSync(path.join(srvDir, 'recognition_codes'), [...s.server.codes].map(([k, c]) => `${k} ${bytesToHex(c)}\n`).join(''));
  const ln = path.join(s.dir, 'recovered-node');
  mkdirSync(ln);
  copyFileSync(path.join(FIX, node.name, 'hsm_secret'), path.join(ln, 'hsm_secret'));
  let out = '';
  let err = '';
  const code = await runCli(['recover', `--lightning-dir=${ln}`, `--from=${srvDir}`, '--json'], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    interactive: false,
    askSecret: async () => '',
    askLine: async () => '',
  });
  expect(err).toBe('');
  return { code, verdict: JSON.parse(out) as Record<string, unknown>, db: path.join(ln, 'lightningd.sqlite3') };
}

describe('cldcb-client recover rebuilds what the plugin stored', () => {
  it('our server: channel-node trace', async () => {
    const s = await setupPlugin(work, channel, 'ours');
    try {
      const d = startDriver(s);
      await playTrace(d, channel.trace);
      await d.stop();
    } finally {
      await s.server.stop();
    }
    const r = await recoverFrom(s, channel);
    expect(r.code).toBe(0);
    expect(r.verdict).toMatchObject({ ok: true, chain: 'v1', integrity: 'ok', foreign_key_violations: 0, data_version: channel.trace[channel.trace.length - 1]!.data_version });
    expect(compareDatabases(r.db, channel.db)).toEqual([]);
  });

  it('original server: merges, PRAGMAs held across a restart, and a redo after a crash before COMMIT', async () => {
    const s = await setupPlugin(work, single, 'original');
    try {
      const d1 = startDriver(s);
      await d1.getmanifest();
      await playCalls(d1, single.trace.slice(0, 3)); // dv 1 + PRAGMA OFF (merged), dv 2
      await d1.stop();
      const d2 = startDriver(s);
      await d2.getmanifest();
      await playCalls(d2, single.trace.slice(3, 40)); // PRAGMA ON at dv 2 held, leads dv 3
      await d2.init();
      const redo = callAt(single.trace[40]!.data_version, ["INSERT INTO vars (name, val) VALUES ('never-committed', 'x')"]);
      expect(await d2.dbWrite(redo, { crashBeforeCommit: true })).toMatchObject({ ok: true });
      await d2.kill();
      const d3 = startDriver(s);
      await d3.getmanifest();
      await d3.init();
      await playCalls(d3, single.trace.slice(40));
      await d3.stop();
      expect(d2.logs.some((l) => /held for the next increment/.test(l.message))).toBe(true);
    } finally {
      await s.server.stop();
    }
    const r = await recoverFrom(s, single);
    expect(r.code).toBe(0);
    expect(r.verdict).toMatchObject({ ok: true, chain: 'v1', integrity: 'ok', foreign_key_violations: 0 });
    expect(compareDatabases(r.db, single.db)).toEqual([]);
  });
});
