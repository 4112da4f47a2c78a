/**
 * `cldcb-client installplugin` with several servers (issue 11): `--server` repeated, `--quorum`,
 * `--client-privkey` once or once per server. One `--server` stays byte for byte what it was
 * (test/fixtures/installplugin, recorded before several servers existed). Changing the list
 * later with `--force` keeps the backup: the servers that stay continue their chains, a new one
 * (no chain head) gets the whole database at the first write — played through the built plugin
 * with the lightningd stand-in, every archive read back on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '../../shared/bytes';
import { checkRecognition } from '../../shared/cldcb/recognition';
import { formatServerId, parseClientKeyFile } from '../../shared/cldcb/ids';
import { parsePluginWrapper, wrapperQuorum, wrapperServers } from '../../shared/cldcb/wrapper';
import { runCliCaptured as cli } from './helpers/cli';
import { buildPlugin, PLUGIN_SHIM, ROOT } from './helpers/plugin-build';
import { FIX, loadNode, playCalls, startDriver, type NodeFixture } from './helpers/plugin-fixtures';
import { ensureServerBuilt, startServer, type ServerProcess } from './helpers/server-harness';
import { expectArchiveReplaysTo } from './helpers/quorum';

const GOLDEN = path.join(ROOT, 'test/fixtures/installplugin');
const SID = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(ROOT, 'test/fixtures/cldcb/server_id'), 'utf8'))![1]!;
/** Two more server ids (any valid compressed points with the 0x50 flag). */
const SID2 = `52${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`;
const SID3 = `53${'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'}`;
const KEYS = [1, 2, 3].map((i) => path.join(GOLDEN, `k${i}.key`));

let work: string;
let single: NodeFixture;
let dirs = 0;

beforeAll(async () => {
  await Promise.all([buildPlugin(), ensureServerBuilt()]);
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-install-quorum-'));
  single = await loadNode('single-node');
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A fresh network directory holding the fixture node's hsm_secret. */
function nodeDir(): string {
  const dir = path.join(work, `ln${dirs++}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIX, 'single-node', 'hsm_secret'), path.join(dir, 'hsm_secret'));
  return dir;
}

/** A golden file with its placeholders filled in for `dir`. */
function golden(name: string, dir: string): string {
  return readFileSync(path.join(GOLDEN, name), 'utf8').replaceAll('{DIR}', dir).replaceAll('{NODE}', process.execPath).replaceAll('{PLUGIN}', PLUGIN_SHIM);
}

const clientId = (keyFile: string): Uint8Array => parseClientKeyFile(readFileSync(keyFile, 'utf8')).clientId;
const cidText = (keyFile: string): string => /^# cid = (c[23][0-9a-f]{64})$/m.exec(readFileSync(keyFile, 'utf8'))![1]!;

describe('installplugin with one server: what it always was', () => {
  it('the wrapper and the instructions are byte for byte those recorded before several servers existed', async () => {
    const dir = nodeDir();
    const r = await cli(['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${KEYS[0]}`, `--server=${SID}@backup.example:4000`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden('one-server.out', dir));
    expect(readFileSync(path.join(dir, 'cldcb-plugin-wrapper'), 'utf8')).toBe(golden('one-server.wrapper', dir));
    const j = await cli(['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${KEYS[0]}`, `--server=${SID}@backup.example:4000`, '--force', '--json', '--deadline=45', '--proxy=127.0.0.1:9050']);
    expect(j.code).toBe(0);
    expect(j.stdout).toBe(golden('one-server-proxy-deadline.json', dir));
    expect(readFileSync(path.join(dir, 'cldcb-plugin-wrapper'), 'utf8')).toBe(golden('one-server-proxy-deadline.wrapper', dir));
  });

  it('--quorum with one server is refused, and nothing is written', async () => {
    const dir = nodeDir();
    const r = await cli(['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${KEYS[0]}`, `--server=${SID}@h:1`, '--quorum=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--quorum is for several servers: with one --server every write waits for that server/);
    expect(existsSync(path.join(dir, 'cldcb-plugin-wrapper'))).toBe(false);
  });
});

describe('installplugin with several servers', () => {
  it('three servers, a key each, --quorum=2: the wrapper lists them all, each recognition code verifies, the advice names each server with its cid', async () => {
    const dir = nodeDir();
    const r = await cli([
      'installplugin',
      `--lightning-dir=${dir}`,
      ...KEYS.map((k) => `--client-privkey=${k}`),
      `--server=${SID}@one.example:4001`,
      `--server=${SID2}@two.example:4002`,
      `--server=${SID3}@[::1]:4003`,
      '--quorum=2',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
    expect(statSync(wrapper).mode & 0o777).toBe(0o700);
    const text = readFileSync(wrapper, 'utf8');
    const cfg = parsePluginWrapper(text);
    const servers = wrapperServers(cfg);
    expect(servers.map((s) => formatServerId(s.serverId))).toEqual([SID, SID2, SID3]);
    expect(servers.map((s) => s.server)).toEqual([
      { host: 'one.example', port: 4001 },
      { host: 'two.example', port: 4002 },
      { host: '::1', port: 4003 },
    ]);
    expect(wrapperQuorum(cfg)).toBe(2);
    expect(text).toContain('\n# quorum = 2\n');
    expect(text.trimEnd().split('\n').pop()).toBe(`exec "${process.execPath}" "${PLUGIN_SHIM}" -- "$0"`);
    for (const [i, s] of servers.entries()) {
      expect(bytesToHex(s.clientId), `server ${i + 1}'s client key`).toBe(bytesToHex(clientId(KEYS[i]!)));
      expect(checkRecognition(single.nodePriv, s.clientId, s.nodeSignature), `server ${i + 1}'s recognition code`).toBe(true);
    }
    // The operator's next step, per server, with that server's cid.
    for (const [i, sid] of [SID, SID2, SID3].entries()) {
      const at = r.stdout.indexOf(`  server ${i + 1} (${sid}@`);
      expect(at, `server ${i + 1} in the advice`).toBeGreaterThan(-1);
      expect(r.stdout.slice(at).split('\n')[1]).toBe(`    npx cldcb-server add --server-dir=$HOME/.cldcb-server ${cidText(KEYS[i]!)}`);
    }
    expect(r.stdout).toMatch(/lightningd commits a write once 2 of these 3 servers stored it/);
    expect(r.stdout).toMatch(/While fewer than 2 can be reached, lightningd waits/);
    expect(r.stdout).toMatch(/any 2 of these servers can prove it has the node's newest state/);
    expect(r.stdout).not.toMatch(/same client key/);
    expect(r.stdout).not.toMatch(/With a quorum of all/);
    for (const k of KEYS) expect(r.stdout).not.toContain(bytesToHex(parseClientKeyFile(readFileSync(k, 'utf8')).privateKey));

    const j = await cli(['installplugin', `--lightning-dir=${dir}`, ...KEYS.map((k) => `--client-privkey=${k}`), `--server=${SID}@one.example:4001`, `--server=${SID2}@two.example:4002`, `--server=${SID3}@[::1]:4003`, '--force', '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({
      wrapper,
      node_id: bytesToHex(single.nodeId),
      quorum: 2, // the default: a majority of 3
      servers: [
        { server: `${SID}@one.example:4001`, client_id: cidText(KEYS[0]!) },
        { server: `${SID2}@two.example:4002`, client_id: cidText(KEYS[1]!) },
        { server: `${SID3}@[::1]:4003`, client_id: cidText(KEYS[2]!) },
      ],
      important_plugin: `important-plugin=${wrapper}`,
    });
  });

  it('one --client-privkey for every server: one recognition code, the same key in every entry, and the advice says the servers can link it', async () => {
    const dir = nodeDir();
    const r = await cli(['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${KEYS[1]}`, `--server=${SID}@a:1`, `--server=${SID2}@b:2`]);
    expect(r.code).toBe(0);
    const cfg = parsePluginWrapper(readFileSync(path.join(dir, 'cldcb-plugin-wrapper'), 'utf8'));
    const servers = wrapperServers(cfg);
    expect(servers.map((s) => bytesToHex(s.clientId))).toEqual([bytesToHex(clientId(KEYS[1]!)), bytesToHex(clientId(KEYS[1]!))]);
    expect(bytesToHex(servers[1]!.nodeSignature)).toBe(bytesToHex(servers[0]!.nodeSignature));
    expect(checkRecognition(single.nodePriv, servers[1]!.clientId, servers[1]!.nodeSignature)).toBe(true);
    expect(wrapperQuorum(cfg)).toBe(2); // majority of 2
    expect(r.stdout).toMatch(/The same client key serves all 2 servers: their operators can link these backups by\nclient id/);
    expect(r.stdout.split(cidText(KEYS[1]!)).length - 1).toBe(4); // two server lines, two add commands
    const help = await cli(['installplugin', '--help']);
    expect(help.stdout).toMatch(/once \(the same client key for every server: their operators can\s+then link their clients by id/);
  });

  it('the default quorum is a majority; --quorum=1 and --quorum=n are allowed', async () => {
    const dir = nodeDir();
    const sids = [SID, SID2, SID3];
    for (const [args, k] of [
      [[`--server=${SID}@a:1`, `--server=${SID2}@b:2`, `--server=${SID3}@c:3`], 2],
      [[`--server=${SID}@a:1`, `--server=${SID2}@b:2`, '--quorum=1'], 1],
      [[...sids.map((s, i) => `--server=${s}@h${i}:1`), '--quorum=3'], 3],
    ] as const) {
      const r = await cli(['installplugin', `--lightning-dir=${dir}`, `--client-privkey=${KEYS[0]}`, ...args, '--force']);
      expect(r.code, r.stderr).toBe(0);
      expect(wrapperQuorum(parsePluginWrapper(readFileSync(path.join(dir, 'cldcb-plugin-wrapper'), 'utf8')))).toBe(k);
      // A quorum of every server tolerates none away: said.
      expect(/With a quorum of all 3, any one server away stops lightningd at the deadline/.test(r.stdout)).toBe(k === 3);
    }
  });

  it('refuses clearly, and writes nothing: a quorum out of range, a key count that fits neither form, a repeated server, too many servers, a bad second server', async () => {
    const dir = nodeDir();
    const three = [`--server=${SID}@a:1`, `--server=${SID2}@b:2`, `--server=${SID3}@c:3`];
    const cases: [string[], RegExp][] = [
      [[`--client-privkey=${KEYS[0]}`, ...three, '--quorum=4'], /--quorum=4 is more than the 3 servers given: lightningd could never commit a write\. Give 1 to 3/],
      [[`--client-privkey=${KEYS[0]}`, ...three, '--quorum=0'], /--quorum=0: at least one server must store each write/],
      [[`--client-privkey=${KEYS[0]}`, ...three, '--quorum=two'], /--quorum must be a whole number of servers \(1 to 3\), not "two"/],
      [[`--client-privkey=${KEYS[0]}`, `--client-privkey=${KEYS[1]}`, ...three], /give --client-privkey once \(the same client key for every server\) or once per --server, in the same order: 3 servers, 2 key files/],
      [[`--client-privkey=${KEYS[0]}`, `--server=${SID}@a:1`, `--server=${SID2}@b:2`, `--server=${SID}@c:3`], /--server 3 repeats the server id of --server 1 \(53a468/],
      [[`--client-privkey=${KEYS[0]}`, ...Array.from({ length: 10 }, (_, i) => `--server=${SID}@h:${i + 1}`)], /at most 9 --server/],
      [[`--client-privkey=${KEYS[0]}`, `--server=${SID}@a:1`, '--server=b:2'], /server 2: --server must be SID@HOST:PORT/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(['installplugin', `--lightning-dir=${dir}`, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(existsSync(path.join(dir, 'cldcb-plugin-wrapper'))).toBe(false);
    }
  });
});

describe('changing the list of servers later (installplugin --force) keeps the backup', () => {
  it('a new server gets the whole database at the first write, the servers that stay continue; one moved into place 1 starts again; every archive replays', async () => {
    const dir = nodeDir();
    // Four of our servers, A B C D, each allowing its own client key.
    const keyFiles: string[] = [];
    const servers: ServerProcess[] = [];
    try {
      for (const name of ['A', 'B', 'C', 'D']) {
        const key = path.join(work, `change-${name}.key`);
        expect((await cli(['newclient', key])).code).toBe(0);
        keyFiles.push(key);
        const sdir = path.join(work, `change-srv-${name}`);
        mkdirSync(sdir, { mode: 0o700 });
        writeFileSync(path.join(sdir, 'clients'), `${cidText(key)}\n`);
        servers.push(await startServer(sdir, { logLevel: 'info' }));
      }
      const [A, B, C, D] = servers as [ServerProcess, ServerProcess, ServerProcess, ServerProcess];
      const [kA, kB, kC, kD] = keyFiles as [string, string, string, string];
      const install = async (list: [ServerProcess, string][]): Promise<string> => {
        const r = await cli([
          'installplugin',
          `--lightning-dir=${dir}`,
          ...list.map(([, k]) => `--client-privkey=${k}`),
          ...list.map(([s]) => `--server=${formatServerId(s.serverPub)}@127.0.0.1:${s.port}`),
          '--force',
        ]);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout;
      };
      const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
      const trace = single.trace;
      /** Run the plugin for `calls`; @returns the logs. */
      const run = async (calls: typeof trace, first: boolean) => {
        const d = startDriver({ dir, wrapper });
        await d.getmanifest();
        if (first) {
          await playCalls(d, calls.slice(0, 4));
          await d.init();
          await playCalls(d, calls.slice(4));
        } else {
          await d.init();
          await playCalls(d, calls);
        }
        await d.stop();
        // No server fell behind or had to start again: a re-upload that is due is taken at once.
        expect(d.logs.filter((l) => l.level === 'error' || l.level === 'warn'), JSON.stringify(d.logs.slice(-5))).toEqual([]);
        return d.logs;
      };
      const reuploads = (logs: { message: string }[]) =>
        logs.flatMap((l) => {
          const m = /^cldcb: server (\d) \(.*?\): data_version (\d+): re-uploaded the database/.exec(l.message);
          return m ? [{ server: Number(m[1]), dv: Number(m[2]) }] : [];
        });
      const copyDb = (name: string): string => {
        const to = path.join(work, `change-${name}.sqlite3`);
        copyFileSync(path.join(dir, 'lightningd.sqlite3'), to);
        return to;
      };

      // 1. A B C, quorum 2.
      await install([[A, kA], [B, kB], [C, kC]]);
      const logs1 = await run(trace.slice(0, 50), true);
      expect(reuploads(logs1).map((r) => r.server).sort()).toEqual([1, 2, 3]); // first run: each gets the database
      const afterRun1 = copyDb('run1');

      // 2. A B D: D is new, C goes.
      const out2 = await install([[A, kA], [B, kB], [D, kD]]);
      expect(out2).toContain(`new: ${formatServerId(D.serverPub)}@127.0.0.1:${D.port} gets the whole database at lightningd's first write`);
      expect(out2).toContain(`no longer used: ${formatServerId(C.serverPub)}@127.0.0.1:${C.port}`);
      const logs2 = await run(trace.slice(50, 90), false);
      expect(reuploads(logs2), JSON.stringify(logs2.filter((l) => /server 3/.test(l.message)).slice(0, 12), null, 1)).toEqual([{ server: 3, dv: trace[50]!.data_version }]);
      const afterRun2 = copyDb('run2');

      // 3. B D: A goes, B moves into place 1 (server 1's chain head is cldcb-plugin.state).
      const out3 = await install([[B, kB], [D, kD]]);
      expect(out3).toContain(`moved to place 1: ${formatServerId(B.serverPub)}@127.0.0.1:${B.port} gets the whole database again`);
      expect(out3).toContain(`no longer used: ${formatServerId(A.serverPub)}@127.0.0.1:${A.port}`);
      const logs3 = await run(trace.slice(90), false);
      expect(reuploads(logs3)).toEqual([{ server: 1, dv: trace[90]!.data_version }]);

      // Each archive, on its own, is the node's database as of the last write it was sent.
      await expectArchiveReplaysTo(C, single, clientId(kC), path.join(work, 'change-from-C.sqlite3'), afterRun1, 'C (used in run 1)');
      await expectArchiveReplaysTo(A, single, clientId(kA), path.join(work, 'change-from-A.sqlite3'), afterRun2, 'A (runs 1-2)');
      await expectArchiveReplaysTo(B, single, clientId(kB), path.join(work, 'change-from-B.sqlite3'), single.db, 'B (runs 1-3)');
      await expectArchiveReplaysTo(D, single, clientId(kD), path.join(work, 'change-from-D.sqlite3'), single.db, 'D (added in run 2)');
    } finally {
      for (const s of servers) await s.stop();
    }
  });
});
