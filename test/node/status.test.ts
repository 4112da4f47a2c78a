/**
 * `cldcb-client status` (issue 11): per server of the wrapper, the last acknowledged
 * data_version (the plugin's state file), when (its mtime), the lag against lightningd's
 * database (read-only), the quorum and the last stop record — without touching anything in the
 * directory. On a live run of the built plugin (three of our servers, one killed), and on
 * directories made by hand for the edge cases (nothing stored yet, a state file of another
 * key, a locked database, a hot journal, a missing wrapper or database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { formatServerId, parseClientKeyFile, parseServerId } from '../../shared/cldcb/ids';
import { encodeStateFile, stateBinding, stateFileName } from '../../shared/node/pluginState';
import { writeLastStop } from '../../shared/node/pluginShutdown';
import { runCliCaptured as cli } from './helpers/cli';
import { buildPlugin, ROOT } from './helpers/plugin-build';
import { FIX, loadNode, playCalls, startDriver, type NodeFixture } from './helpers/plugin-fixtures';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';

const KEYS = [1, 2, 3].map((i) => path.join(ROOT, 'test/fixtures/installplugin', `k${i}.key`));
const SIDS = [
  /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(ROOT, 'test/fixtures/cldcb/server_id'), 'utf8'))![1]!,
  '5279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  '53c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5',
];

let work: string;
let single: NodeFixture;
let dirs = 0;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-status-'));
  single = await loadNode('single-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function nodeDir(): string {
  const dir = path.join(work, `ln${dirs++}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIX, 'single-node', 'hsm_secret'), path.join(dir, 'hsm_secret'));
  return dir;
}

interface StatusJson {
  database: { file: string; data_version: number | null; error?: string };
  quorum: number;
  servers: { index: number; server_id: string; address: string; client_id: string; state_file: string; data_version: number | null; acknowledged_at: string | null; lag: number | null; standing: string }[];
  current: number | null;
  last_stop: { outcome: string; time: string; reason: string } | null;
  after_stop_running: boolean;
}

async function status(dir: string): Promise<StatusJson> {
  const r = await cli(['status', `--lightning-dir=${dir}`, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** Every file in `dir` with its size, mtime and content hash: status must leave all of it as it was. */
function fingerprint(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const p = path.join(dir, f);
      const st = statSync(p);
      return `${f} ${st.size} ${st.mtimeMs} ${st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : 'dir'}`;
    });
}

/** A copy of the fixture node's database at its final data_version, in a new directory with a wrapper for `n` servers. */
async function handMade(n: number): Promise<string> {
  const dir = nodeDir();
  copyFileSync(single.db, path.join(dir, 'lightningd.sqlite3'));
  const r = await cli(['installplugin', `--lightning-dir=${dir}`, ...KEYS.slice(0, n).map((k) => `--client-privkey=${k}`), ...SIDS.slice(0, n).map((s, i) => `--server=${s}@h${i + 1}.example:${4000 + i}`)]);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

const FINAL_DV = (): number => single.trace.at(-1)!.data_version;

describe('status on a live run: three servers, quorum 2, one killed', () => {
  it('shows each server at the database data_version, then the killed one behind by exactly the writes it missed, with when it last acknowledged; and changes nothing', async () => {
    const dir = nodeDir();
    const servers: ServerProcess[] = [];
    try {
      for (const [i, k] of KEYS.entries()) {
        const sdir = path.join(work, `live-srv${i}`);
        mkdirSync(sdir, { mode: 0o700 });
        writeFileSync(path.join(sdir, 'clients'), `${/^# cid = (c[23][0-9a-f]{64})$/m.exec(readFileSync(k, 'utf8'))![1]}\n`);
        servers.push(await startServer(sdir, { logLevel: 'info' }));
      }
      const inst = await cli(['installplugin', `--lightning-dir=${dir}`, ...KEYS.map((k) => `--client-privkey=${k}`), ...servers.map((s) => `--server=${formatServerId(s.serverPub)}@127.0.0.1:${s.port}`), '--quorum=2']);
      expect(inst.code, inst.stderr).toBe(0);
      const d = startDriver({ dir, wrapper: path.join(dir, 'cldcb-plugin-wrapper') });
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4, 60));
      const at59 = single.trace[59]!.data_version;
      // The third server may trail by a write or two (quorum 2): wait until it is current too.
      const until = Date.now() + 15_000;
      let st = await status(dir);
      while (st.current !== 3 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        st = await status(dir);
      }
      expect(st.database.data_version).toBe(at59);
      expect(st.quorum).toBe(2);
      expect(st.current).toBe(3);
      expect(st.servers.map((s) => [s.index, s.server_id, s.address, s.standing, s.data_version, s.lag])).toEqual(
        servers.map((s, i) => [i + 1, formatServerId(s.serverPub), `127.0.0.1:${s.port}`, 'current', at59, 0]),
      );
      expect(st.servers.map((s) => s.client_id)).toEqual(KEYS.map((k) => /^# cid = (c[23][0-9a-f]{64})$/m.exec(readFileSync(k, 'utf8'))![1]));
      expect(st.servers.map((s) => s.state_file)).toEqual(servers.map((s, i) => stateFileName(i, s.serverPub)));

      await servers[2]!.kill();
      const killedAt = Date.now();
      await playCalls(d, single.trace.slice(60, 80));
      const at79 = single.trace[79]!.data_version;
      const before = fingerprint(dir);
      st = await status(dir);
      const text = await cli(['status', `--lightning-dir=${dir}`]);
      expect(fingerprint(dir), 'status changed a file in the lightning directory').toEqual(before);
      expect(st.database.data_version).toBe(at79);
      expect(st.servers.map((s) => [s.standing, s.data_version, s.lag])).toEqual([
        ['current', at79, 0],
        ['current', at79, 0],
        ['behind', at59, at79 - at59],
      ]);
      expect(st.current).toBe(2);
      // When: the state file's mtime, i.e. its last acknowledgement — before the kill for server 3.
      expect(Date.parse(st.servers[2]!.acknowledged_at!)).toBeLessThanOrEqual(killedAt);
      expect(Date.parse(st.servers[0]!.acknowledged_at!)).toBeGreaterThanOrEqual(killedAt - 1000);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`lightningd.sqlite3: at data_version ${at79}`);
      expect(text.stdout).toContain('quorum: lightningd commits a write once 2 of the 3 servers stored it; 2 of 3 are current.');
      expect(text.stdout).toMatch(new RegExp(`server 3: ${formatServerId(servers[2]!.serverPub)}@127\\.0\\.0\\.1:${servers[2]!.port}\\n  acknowledged data_version ${at59} at \\S+ \\(\\d+ s ago\\): BEHIND by ${at79 - at59} data_versions\\n`));
      for (const k of KEYS) expect(text.stdout + JSON.stringify(st)).not.toContain(Buffer.from(parseClientKeyFile(readFileSync(k, 'utf8')).privateKey).toString('hex'));
      await d.stop();
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});

describe('status on directories made by hand', () => {
  it('one server with no state file yet, then one bound to another key: none, then unbound; the last stop record is shown', async () => {
    const dir = await handMade(1);
    let st = await status(dir);
    expect(st.quorum).toBe(1);
    expect(st.servers).toHaveLength(1);
    expect(st.servers[0]).toMatchObject({ standing: 'none', data_version: null, lag: null, state_file: 'cldcb-plugin.state' });
    expect(st.last_stop).toBeNull();
    expect((await cli(['status', `--lightning-dir=${dir}`])).stdout).toMatch(/^server: 53a4684420eed17f.*\n {2}no backup from this directory yet \(no cldcb-plugin\.state\); lightningd's next write sends it the whole database\nLast stop: no record/m);

    // A state file for another client key (the wrapper was changed): not this server's head.
    const other = parseClientKeyFile(readFileSync(KEYS[2]!, 'utf8'));
    const sid = parseServerId(SIDS[0]!);
    writeFileSync(path.join(dir, 'cldcb-plugin.state'), encodeStateFile(stateBinding(other.clientId, sid), { dataVersion: 5, head: new Uint8Array(32), runPrev: new Uint8Array(32) }));
    st = await status(dir);
    expect(st.servers[0]!.standing).toBe('unbound');

    // The right binding: behind by the difference; a database older than the head: ahead.
    const own = parseClientKeyFile(readFileSync(KEYS[0]!, 'utf8'));
    const put = (dv: number): void =>
      writeFileSync(path.join(dir, 'cldcb-plugin.state'), encodeStateFile(stateBinding(own.clientId, sid), { dataVersion: dv, head: new Uint8Array(32), runPrev: new Uint8Array(32) }));
    put(FINAL_DV() - 7);
    expect((await status(dir)).servers[0]).toMatchObject({ standing: 'behind', lag: 7, data_version: FINAL_DV() - 7 });
    put(FINAL_DV() + 1);
    expect((await status(dir)).servers[0]).toMatchObject({ standing: 'current', lag: -1 }); // holds the write being committed
    put(FINAL_DV() + 3);
    const ahead = await status(dir);
    expect(ahead.servers[0]).toMatchObject({ standing: 'ahead', lag: -3 });
    expect((await cli(['status', `--lightning-dir=${dir}`])).stdout).toMatch(/the database is 3 data_versions OLDER than this backup/);

    writeLastStop(dir, { time: 1_700_000_000, outcome: 'repaired', lightningdDataVersion: FINAL_DV(), backupDataVersion: FINAL_DV() - 2, reason: 'lightningd committed 2 transaction(s) after the plugin left.' });
    const withStop = await status(dir);
    expect(withStop.last_stop).toMatchObject({ outcome: 'repaired', time: '2023-11-14T22:13:20.000Z' });
    expect((await cli(['status', `--lightning-dir=${dir}`])).stdout).toContain(
      `Last stop (2023-11-14T22:13:20.000Z): lightningd wrote after releasing the plugin; the database it left was re-uploaded (lightningd's database ended at data_version ${FINAL_DV()}, the backup at ${FINAL_DV() - 2}).`,
    );
    writeFileSync(path.join(dir, 'cldcb-plugin.lock'), `${process.pid}\n`);
    expect((await status(dir)).after_stop_running).toBe(true);
    expect((await cli(['status', `--lightning-dir=${dir}`])).stdout).toMatch(/The after-stop check is running/);
  });

  it('a database lightningd holds locked: the servers are shown, the lag is unknown and why; a hot journal is named', async () => {
    const dir = await handMade(3);
    const db = new Database(path.join(dir, 'lightningd.sqlite3'));
    try {
      db.exec('BEGIN EXCLUSIVE');
      const t0 = Date.now();
      const st = await status(dir);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(st.database).toMatchObject({ data_version: null, error: expect.stringMatching(/lightningd held its database locked for 3 s \(a write in progress\); run status again/) });
      expect(st.servers.map((s) => s.standing)).toEqual(['none', 'none', 'none']);
      expect(st.current).toBeNull();
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
    // A process killed inside a transaction whose pages spilled into the file leaves a hot journal.
    const script = `
      const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(path.join(dir, 'lightningd.sqlite3'))});
      db.pragma('cache_size = 1');
      db.exec('BEGIN');
      db.exec("UPDATE vars SET intval = intval + 1 WHERE name = 'data_version'");
      db.exec('CREATE TABLE filler (x BLOB)');
      const ins = db.prepare('INSERT INTO filler VALUES (?)');
      for (let i = 0; i < 400; i++) ins.run(Buffer.alloc(4000, i));
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', script]);
    expect(existsSync(path.join(dir, 'lightningd.sqlite3-journal')), 'the hot journal this test needs').toBe(true);
    const before = fingerprint(dir);
    const st = await status(dir);
    expect(fingerprint(dir), 'status rolled back (or touched) the hot journal').toEqual(before);
    expect(st.database.error).toMatch(/hot journal: lightningd stopped in the middle of a write, and its next start rolls it back/);
  });

  it('a missing wrapper or database is a clear error naming the file and what to do (and JSON with --json)', async () => {
    const empty = nodeDir();
    const r = await cli(['status', `--lightning-dir=${empty}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(empty, 'cldcb-plugin-wrapper')}: no such file. The backup is not installed in this directory (cldcb-client installplugin writes the wrapper)`);
    // The base directory instead of the network one.
    const base = path.join(work, 'base');
    mkdirSync(path.join(base, 'regtest'), { recursive: true });
    copyFileSync(path.join(empty, 'hsm_secret'), path.join(base, 'regtest', 'hsm_secret'));
    expect((await cli(['installplugin', `--lightning-dir=${path.join(base, 'regtest')}`, `--client-privkey=${KEYS[0]}`, `--server=${SIDS[0]}@h:1`])).code).toBe(0);
    const b = await cli(['status', `--lightning-dir=${base}`, '--json']);
    expect(b.code).toBe(1);
    expect(JSON.parse(b.stdout)).toMatchObject({ ok: false, command: 'status', error: { code: 'file_not_found', message: expect.stringContaining(`--lightning-dir=${path.join(base, 'regtest')}`) } });
    // A wrapper but no database.
    const nodb = await cli(['status', `--lightning-dir=${path.join(base, 'regtest')}`]);
    expect(nodb.code).toBe(1);
    expect(nodb.stderr).toContain(`${path.join(base, 'regtest', 'lightningd.sqlite3')}: no such file. --lightning-dir must be lightningd's network directory`);
  });
});
