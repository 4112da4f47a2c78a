/**
 * Several servers (issue 11; plugin/quorum.ts): a wrapper with three of our servers and
 * quorum 2. Every write goes to all three and is answered once two stored it; a server that is
 * away never holds lightningd up while two answer, and catches up when it is back — by resending
 * its queue, or, when it fell too far behind, by a re-upload of a copy taken during a later
 * write. Fewer than two: the write is refused with every server's state. Each archive, read on
 * its own, replays to the node's database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatClientId } from '../../shared/cldcb/ids';
import { readArchive } from '../../shared/cldcb/arch';
import { signRecognitionCode } from '../../shared/cldcb/recognition';
import Database from 'better-sqlite3';
import { formatPluginWrapper, parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { QuorumBackup } from '../../plugin/quorum';
import { BackupSession, NeedsSnapshotError } from '../../plugin/backup';
import { publicKeyOf } from '../../shared/noise/primitives';
import { stateFileName } from '../../shared/node/pluginState';
import { expectArchiveReplaysTo } from './helpers/quorum';
import { compareDatabases } from './helpers/replay';
import { buildPlugin, PLUGIN_SHIM } from './helpers/plugin-build';
import { commitUnhooked, FIX, loadNode, playCalls, setupClient, startDriver, TestCldcbServer, type NodeFixture } from './helpers/plugin-fixtures';
import { LAST_STOP_FILE, LOCK_FILE, type LastStop } from '../../shared/node/pluginShutdown';
import { spawn } from 'node:child_process';
import { runClient } from './helpers/cli';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';

let work: string;
let single: NodeFixture;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-quorum-'));
  single = await loadNode('single-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
interface Three {
  readonly dir: string;
  readonly wrapper: string;
  readonly servers: ServerProcess[];
  readonly clientKeys: Uint8Array[];
}

/** Three of our servers, a client key allowed on each, and a wrapper naming all three with quorum 2. */
async function threeServers(): Promise<Three> {
  const privs = [0, 1, 2].map(() => new Uint8Array(randomBytes(32)));
  const clientKeys = privs.map((p) => publicKeyOf(p, 'client'));
  const servers: ServerProcess[] = [];
  for (const [i, key] of clientKeys.entries()) {
    const sdir = path.join(work, `q${n}-srv${i}`);
    mkdirSync(sdir, { mode: 0o700 });
    writeFileSync(path.join(sdir, 'clients'), `${formatClientId(key)}\n`);
    servers.push(await startServer(sdir, { logLevel: 'info' }));
  }
  const dir = path.join(work, `q${n++}-node`);
  mkdirSync(dir);
  const entry = (i: number) => ({
    clientPrivateKey: privs[i]!,
    nodeSignature: signRecognitionCode(single.nodePriv, clientKeys[i]!),
    serverId: servers[i]!.serverPub,
    server: { host: '127.0.0.1', port: servers[i]!.port },
  });
  const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
  writeFileSync(wrapper, formatPluginWrapper({ ...entry(0), nodeId: single.nodeId, moreServers: [entry(1), entry(2)], quorum: 2 }, { command: [process.execPath, PLUGIN_SHIM] }), { mode: 0o700 });
  return { dir, wrapper, servers, clientKeys };
}

/** Every server's archive, read on its own, replays to the node's database. */
async function expectEveryArchiveComplete(t: Three, servers: ServerProcess[]): Promise<void> {
  for (const [i, srv] of servers.entries()) await expectArchiveReplaysTo(srv, single, t.clientKeys[i]!, path.join(t.dir, `from-server-${i + 1}.sqlite3`), single.db, `server ${i + 1}`);
}

/** `cldcb-client recover --json` of the single-node fixture from `dirs` (several --from) into `<base>/<name>`. */
function recoverFrom(base: string, name: string, dirs: string[]): { status: number | null; v: Record<string, unknown>; ln: string } {
  const ln = path.join(base, name);
  mkdirSync(ln);
  copyFileSync(path.join(FIX, 'single-node', 'hsm_secret'), path.join(ln, 'hsm_secret'));
  const r = runClient(['recover', `--lightning-dir=${ln}`, ...dirs.map((x) => `--from=${x}`), '--json'], { cwd: base });
  return { status: r.status, v: JSON.parse(r.stdout) as Record<string, unknown>, ln };
}

/** The kinds of a verdict's warnings. */
const kinds = (v: Record<string, unknown>): string[] => (v.warnings as { kind: string }[]).map((w) => w.kind);

describe('k of n servers', () => {
  it('three servers, quorum 2: every archive replays to the database; each server has its own state file', async () => {
    const t = await threeServers();
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper });
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 4));
      await d.init();
      await playCalls(d, single.trace.slice(4));
      await d.stop();
      expect(d.logs.filter((l) => l.level === 'error' || l.level === 'warn'), JSON.stringify(d.logs.slice(-5))).toEqual([]);
      expect(d.logs.some((l) => /backing up to 3 servers .* once 2 of them stored a write/.test(l.message))).toBe(true);
      await expectEveryArchiveComplete(t, t.servers);
      for (const [i, srv] of t.servers.entries()) expect(stateFileName(i, srv.serverPub)).toMatch(i === 0 ? /^cldcb-plugin\.state$/ : /^cldcb-plugin\.[0-9a-f]{16}\.state$/);
    } finally {
      for (const s of t.servers) await s.stop();
    }
  });

  it('one server killed mid-run: no write fails or waits for it; back on the same port, it catches up and its archive is complete', async () => {
    const t = await threeServers();
    let back: ServerProcess | undefined;
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper });
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 40));
      const away = t.servers[1]!;
      await away.kill();
      // While it is away every write is answered after the two others (no deadline wait).
      const slowest = { ms: 0 };
      for (const call of single.trace.slice(40, 80)) {
        const r = await d.dbWrite(call);
        expect(r.ok).toBe(true);
        slowest.ms = Math.max(slowest.ms, r.hookMs);
      }
      expect(slowest.ms).toBeLessThan(1500);
      const seen = Date.now() + 10_000;
      while (!d.logs.some((l) => l.level === 'warn' && /server 2 .* away/.test(l.message)) && Date.now() < seen) await new Promise((r) => setTimeout(r, 50));
      expect(d.logs.some((l) => l.level === 'warn' && /server 2 .* away/.test(l.message)), JSON.stringify(d.logs.slice(-5))).toBe(true);
      back = await startServer(away.dir, { args: [`--port=${away.port}`], logLevel: 'info' });
      await playCalls(d, single.trace.slice(80));
      // Give the lane a moment to send what it queued.
      const until = Date.now() + 20_000;
      while (!d.logs.some((l) => /server 2 .* (back and current|caught up)/.test(l.message)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await d.stop();
      expect(d.logs.some((l) => /server 2 .* (back and current|caught up)/.test(l.message)), JSON.stringify(d.logs.slice(-8))).toBe(true);
      await expectEveryArchiveComplete(t, [t.servers[0]!, back, t.servers[2]!]);
    } finally {
      for (const s of t.servers) await s.stop();
      await back?.stop();
    }
  });

  it('two of three away: the write is refused at the deadline with every server named', async () => {
    const t = await threeServers();
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper });
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 10));
      await t.servers[0]!.kill();
      await t.servers[2]!.kill();
      const r = await d.dbWrite(single.trace[10]!);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const message = (r.reply as { error: { message: string } }).error.message;
      expect(message).toMatch(/NOT backed up: 1 of the 2 servers needed stored it/);
      expect(message).toMatch(/server 1 \(5[23][0-9a-f]{8}\.\.\.@127\.0\.0\.1:\d+\) away/);
      expect(message).toMatch(/server 2 .* current/);
      expect(message).toMatch(/server 3 .* away/);
      await d.kill();
    } finally {
      for (const s of t.servers) await s.stop();
    }
  });

  it('a server away too long starts again at a snapshot copied during a later write, re-uploads it, and its archive is complete', async () => {
    const t = await threeServers();
    let back: ServerProcess | undefined;
    const db = new Database(path.join(t.dir, 'lightningd.sqlite3'));
    const logs: string[] = [];
    // In this process, as lightningd does: run the transaction, wait for the hook, commit.
    const q = new QuorumBackup(parsePluginWrapper(readFileSync(t.wrapper, 'utf8')), t.dir, (_level, m) => logs.push(m), { deadlineMs: 4000, maxBacklog: 5 });
    const play = async (calls: typeof single.trace): Promise<void> => {
      for (const c of calls) {
        const pragmaOnly = c.writes.length > 0 && c.writes.every((w) => /^\s*PRAGMA\b/i.test(w));
        if (!pragmaOnly) db.exec('BEGIN');
        for (const w of c.writes) db.exec(w);
        await q.write(c.data_version, c.writes);
        if (!pragmaOnly) db.exec('COMMIT');
      }
    };
    try {
      await play(single.trace.slice(0, 30));
      const away = t.servers[1]!;
      await away.kill();
      await play(single.trace.slice(30, 60));
      expect(logs.some((m) => /server 2 .* starts again at a snapshot at the next write \(more than 5 increments waiting\)/.test(m)), logs.slice(-5).join('\n')).toBe(true);
      back = await startServer(away.dir, { args: [`--port=${away.port}`], logLevel: 'info' });
      // The lane probes the server (backoff up to 5 s) before it copies the database for it.
      await new Promise((r) => setTimeout(r, 6000));
      await play(single.trace.slice(60));
      const final = single.trace.at(-1)!.data_version;
      const current = Date.now() + 20_000;
      while ((q.status[1]!.lastStored !== final || q.status[1]!.backlog > 0) && Date.now() < current) await new Promise((r) => setTimeout(r, 50));
      expect(q.status[1], logs.slice(-5).join('\n')).toMatchObject({ state: 'current', lastStored: single.trace.at(-1)!.data_version });
      expect(logs.some((m) => /server 2 .* re-uploaded the database/.test(m))).toBe(true);
      q.close();
      db.close();
      await expectEveryArchiveComplete(t, [t.servers[0]!, back, t.servers[2]!]);
    } finally {
      q.close();
      if (db.open) db.close();
      for (const s of t.servers) await s.stop();
      await back?.stop();
    }
  });

  it('recovery from several servers: all three prove it fresh; a rolled-back copy is named behind; one alone is not proven and set aside', async () => {
    const t = await threeServers();
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper });
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace.slice(0, 60));
      // An older copy of server 2's directory, to serve later as a rolled-back server.
      const old = path.join(t.dir, 'server-2-old');
      cpSync(t.servers[1]!.dir, old, { recursive: true });
      await playCalls(d, single.trace.slice(60));
      await d.stop();
      for (const srv of t.servers) await srv.stop();
      const final = single.trace.at(-1)!.data_version;
      // All three: proven fresh, row-identical.
      const all = recoverFrom(t.dir, 'rec-all', t.servers.map((x) => x.dir));
      expect(all.status, JSON.stringify(all.v)).toBe(0);
      expect(all.v.freshness).toMatchObject({ state: 'proven', servers: 3, quorum: 2, answered: 3, needed: 2 });
      expect((all.v.sources as { outcome: string }[]).map((x) => x.outcome)).toEqual(['newest', 'newest', 'newest']);
      expect(all.v.data_version).toBe(final);
      // Proven: the one-archive caveat ("a dropped tail cannot be detected") would contradict it.
      expect(kinds(all.v)).not.toContain('tail_undetectable');
      expect(compareDatabases(path.join(all.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);
      // Server 2 rolled back to its older directory: the newest comes from the others, server 2 is named behind.
      const rolled = recoverFrom(t.dir, 'rec-rolled', [t.servers[0]!.dir, old, t.servers[2]!.dir]);
      expect(rolled.status).toBe(0);
      expect(rolled.v.freshness).toMatchObject({ state: 'proven' });
      const outcomes = rolled.v.sources as { outcome: string; behind_by?: number; name: string }[];
      expect(outcomes[1]).toMatchObject({ outcome: 'behind', name: old });
      expect(outcomes[1]!.behind_by).toBeGreaterThan(0);
      expect(compareDatabases(path.join(rolled.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);
      // One server alone: not proven — the database is set aside, with the servers still needed.
      const one = recoverFrom(t.dir, 'rec-one', [t.servers[2]!.dir]);
      expect(one.status).toBe(3);
      expect(one.v.freshness).toMatchObject({ state: 'not-proven', answered: 1, needed: 2 });
      expect((one.v.freshness as { missing_servers: string[] }).missing_servers).toHaveLength(2);
      expect(existsSync(path.join(one.ln, 'lightningd.sqlite3'))).toBe(false);
      expect(kinds(one.v)).toContain('tail_undetectable');
      expect(String(one.v.database)).toMatch(/lightningd\.sqlite3\.stale-\d+$/);
      expect((one.v.next_steps as string[]).join(' ')).toMatch(/recover again with 1 more of the node's servers/);
    } finally {
      for (const s of t.servers) await s.stop();
    }
  });
});

describe('the after-stop helper with several servers', () => {
  it('lightningd commits after the plugin left: the helper re-uploads to every server WITH the sealed policy, so one server alone is still not proven (never "verified"), and all three prove the final database', async () => {
    const t = await threeServers();
    const ld = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper }, { env: { ...process.env, CLDCB_PLUGIN_DEADLINE_MS: '4000', CLDCB_AFTER_STOP: 'on', CLDCB_TEST_LIGHTNINGD_PID: String(ld.pid) } });
      await d.getmanifest();
      await d.init();
      // Up to a transaction's end half-way, through the hook; the rest without one.
      const cut = single.trace.findIndex((c, i) => i >= single.trace.length / 2 && c.writes.some((w) => /name = 'data_version'/.test(w)));
      await playCalls(d, single.trace.slice(0, cut + 1));
      expect(await d.stop()).toEqual({ code: 0, signal: null });
      const db = new Database(path.join(t.dir, 'lightningd.sqlite3'));
      for (const call of single.trace.slice(cut + 1)) commitUnhooked(db, call);
      db.close();
      ld.kill('SIGKILL');
      const lockGone = Date.now() + 30_000;
      while (existsSync(path.join(t.dir, LOCK_FILE)) && Date.now() < lockGone) await new Promise((r) => setTimeout(r, 25));
      const last = JSON.parse(readFileSync(path.join(t.dir, LAST_STOP_FILE), 'utf8')) as LastStop;
      expect(last.outcome, JSON.stringify(last)).toBe('repaired');
      for (const srv of t.servers) await srv.stop();
            for (const [i, srv] of t.servers.entries()) {
        const one = recoverFrom(t.dir, `alone-${i + 1}`, [srv.dir]);
        expect(one.status, `server ${i + 1} alone: ${JSON.stringify(one.v)}`).toBe(3);
        expect(one.v.freshness).toMatchObject({ state: 'not-proven', servers: 3, quorum: 2 });
        // The re-upload's empty increment (at the snapshot's own data_version) is not "hand-made".
        expect(kinds(one.v)).not.toContain('missing_bump');
      }
      const all = recoverFrom(t.dir, 'all', t.servers.map((x) => x.dir));
      expect(all.status, JSON.stringify(all.v)).toBe(0);
      expect(all.v.freshness).toMatchObject({ state: 'proven', answered: 3 });
      expect(all.v.data_version).toBe(single.trace.at(-1)!.data_version);
      expect(compareDatabases(path.join(all.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);
    } finally {
      ld.kill('SIGKILL');
      for (const s of t.servers) await s.stop();
    }
  });
});

/** Cut an archive cleanly before its last `increments` increments (a whole, shorter archive). */
function dropTail(arch: string, increments: number): void {
  const bytes = readFileSync(arch);
  const starts = readArchive(bytes).flatMap((e) => (e.type === 'incrementStart' ? [e.offset!] : []));
  writeFileSync(arch, bytes.subarray(0, starts.at(-increments)!));
}

describe('a server that lies is caught (issue 11)', () => {
  it("a server that dropped the tail of its log is named behind; one serving another client's archive is refused, never counted twice; the newest state comes from the others", async () => {
    const t = await threeServers();
    try {
      const d = startDriver({ dir: t.dir, wrapper: t.wrapper });
      await d.getmanifest();
      await d.init();
      await playCalls(d, single.trace);
      await d.stop();
      for (const srv of t.servers) await srv.stop();
      const cids = t.clientKeys.map((k) => formatClientId(k));
      const copyOf = (i: number, name: string): string => {
        const to = path.join(t.dir, name);
        cpSync(t.servers[i]!.dir, to, { recursive: true });
        return to;
      };
      type Source = { outcome: string; name: string; behind_by?: number; detail?: string };

      // Server 2 drops the last three increments of its log, cut cleanly at an increment's start
      // (what a server that lies about its tail serves: a shorter archive that is whole).
      const cut = copyOf(1, 'srv2-cut');
      dropTail(path.join(cut, `${cids[1]}.arch`), 3);
      const truncated = recoverFrom(t.dir, 'rec-cut', [t.servers[0]!.dir, cut, t.servers[2]!.dir]);
      expect(truncated.status, JSON.stringify(truncated.v)).toBe(0);
      expect(truncated.v.freshness).toMatchObject({ state: 'proven' });
      const tOut = truncated.v.sources as Source[];
      expect(tOut.map((x) => x.outcome)).toEqual(['newest', 'behind', 'newest']);
      expect(tOut[1]).toMatchObject({ name: cut, behind_by: 3 });
      expect(compareDatabases(path.join(truncated.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);

      // Server 2 serves server 3's archive under its own client's entry: a genuine archive of this
      // node, but another client's — counting it would let one server's copy prove twice.
      const swapped = copyOf(1, 'srv2-swapped');
      const old3 = copyOf(2, 'srv3-old');
      // Server 3 rolled back to an old copy, too: with server 2's lie counted, two "answers" would
      // claim the rolled-back state fresh.
      dropTail(path.join(old3, `${cids[2]}.arch`), 10);
      copyFileSync(path.join(old3, `${cids[2]}.arch`), path.join(swapped, `${cids[1]}.arch`));
      const lie = recoverFrom(t.dir, 'rec-lie', [swapped, old3]);
      const lOut = lie.v.sources as Source[];
      expect(lOut[0]!.outcome, JSON.stringify(lOut[0])).toBe('refused');
      expect(String(lOut[0]!.detail)).toMatch(/wrong client/);
      expect(lie.v.freshness, JSON.stringify(lie.v.freshness)).toMatchObject({ state: 'not-proven' });
      expect(
        existsSync(path.join(lie.ln, 'lightningd.sqlite3')),
        'a not-proven database under the name lightningd opens',
      ).toBe(false);
      // The case, one liar: servers 1 and 3 honest. The newest state comes from them, proven
      // (the unreadable archive is on one of the node's own servers, so the proof covers it), and
      // server 2 is named with its reason.
      const oneLiar = recoverFrom(t.dir, 'rec-one-liar', [t.servers[0]!.dir, swapped, t.servers[2]!.dir]);
      expect(oneLiar.status, JSON.stringify(oneLiar.v)).toBe(0);
      expect(oneLiar.v.freshness).toMatchObject({ state: 'proven', answered: 2 });
      expect((oneLiar.v.sources as Source[]).map((x) => x.outcome)).toEqual(['newest', 'refused', 'newest']);
      expect(compareDatabases(path.join(oneLiar.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);
      // Server 1 with both bad ones: still proven by servers 1 and 3; server 3 named behind.
      const withHonest = recoverFrom(t.dir, 'rec-lie-honest', [t.servers[0]!.dir, swapped, old3]);
      expect(withHonest.status, JSON.stringify(withHonest.v)).toBe(0);
      expect((withHonest.v.sources as Source[]).map((x) => x.outcome)).toEqual([
        'newest',
        'refused',
        'behind',
      ]);
      expect(compareDatabases(path.join(withHonest.ln, 'lightningd.sqlite3'), single.db)).toEqual([]);
    } finally {
      for (const s of t.servers) await s.stop();
    }
  });
});

describe('a lane copies the database only while lightningd waits for that very write', () => {
  it('a server that asks for a re-upload after the other servers answered gets NO copy now (it would be of a later or torn database): the lane starts again at the next write', async () => {
    const clientPriv = new Uint8Array(randomBytes(32));
    const server = await TestCldcbServer.start({ mode: 'ours', clients: [publicKeyOf(clientPriv, 'client')] });
    const c = setupClient(work, single, { port: server.port, serverKey: server.publicKey }, clientPriv);
    const db = new Database(path.join(c.dir, 'lightningd.sqlite3'));
    const session = new BackupSession(parsePluginWrapper(readFileSync(c.wrapper, 'utf8')), c.dir, () => {}, { deadlineMs: 4000 });
    try {
      for (const call of single.trace.slice(0, 6)) {
        const pragmaOnly = call.writes.every((w) => /^\s*PRAGMA\b/i.test(w));
        if (!pragmaOnly) db.exec('BEGIN');
        for (const w of call.writes) db.exec(w);
        await session.write(call.data_version, call.writes, { canSnapshot: () => true });
        if (!pragmaOnly) db.exec('COMMIT');
      }
      const reuploads = server.reuploads;
      // The server judges its archive and asks for a re-upload (36) on the next write; by the
      // time that answer arrives the hook has been answered (open goes false right after the call).
      server.forceReuploadNext = true;
      let open = true;
      const next = single.trace[6]!;
      const stored = session.write(next.data_version, next.writes, { canSnapshot: () => open });
      open = false;
      await expect(stored).rejects.toBeInstanceOf(NeedsSnapshotError);
      expect(server.reuploads).toBe(reuploads);
    } finally {
      session.close();
      db.close();
      await server.stop();
    }
  });
});
