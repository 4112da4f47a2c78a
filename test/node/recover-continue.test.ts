/**
 * A recovered node's backup carries on (issue 10 defect 1): `cldcb-client recover` writes
 * `cldcb-plugin.state` (shared/node/pluginState.ts) beside the database, holding the chain
 * head the archive ends at, so the plugin started by the recovered wrapper chains its next
 * increment to the archive instead of to a snapshot the server never gets.
 *
 * The scenario, on the real lightningd trace (test/fixtures/lightningd/channel-node): the node
 * backs up its first K writes → recover from a copy of the server directory → the plugin runs
 * from the recovered directory's own wrapper and state (the lightningd stand-in applies the
 * rest of the trace to the recovered database) against the same server → recover again → the
 * database is row-identical to the real node's, and the server never needed a re-upload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliCaptured } from './helpers/cli';
import { encodeArchive } from '../../shared/cldcb/arch';
import { formatClientId } from '../../shared/cldcb/ids';
import { bytesToHex } from '../../shared/bytes';
import { decodeStateFile, STATE_FILE, stateBinding } from '../../shared/node/pluginState';
import { compareDatabases } from './helpers/replay';
import { buildPlugin } from './helpers/plugin-build';
import { ensureServerBuilt } from './helpers/server-harness';
import { archiveEvents } from './helpers/plugin-server';
import { FIX, loadNode, MANIFEST, playCalls, setupPlugin, startDriver, type NodeFixture, type Setup } from './helpers/plugin-fixtures';

let work: string;
let channel: NodeFixture;

beforeAll(async () => {
  await buildPlugin();
  await ensureServerBuilt(); // the worker bundles the rebuild runs in
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-recover-continue-'));
  channel = await loadNode('channel-node');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let copies = 0;

/** The in-test server's state as a server directory copy (archive, recognition_codes, server_id). */
function serverDirCopy(s: Setup, withServerId = true): string {
  const d = path.join(s.dir, `server-copy-${copies++}`);
  mkdirSync(d);
  writeFileSync(path.join(d, `${formatClientId(s.clientKey)}.arch`), encodeArchive(archiveEvents(s.server.archives.get(bytesToHex(s.clientKey))!)));
  writeFileSync(path.join(d, 'recognition_codes'), [...s.server.codes].map(([k, c]) => `${k} ${bytesToHex(c)}\n`).join(''));
  if (withServerId) writeFileSync(path.join(d, 'server_id'), `# sid = ${s.server.serverId}\n`);
  return d;
}

/** `cldcb-client recover --json` into a fresh lightning directory holding the node's hsm_secret. */
async function recoverInto(s: Setup, from: string, name: string, extra: string[] = []): Promise<{ code: number; verdict: Record<string, unknown>; dir: string }> {
  const dir = path.join(s.dir, name);
  mkdirSync(dir);
  copyFileSync(path.join(FIX, channel.name, 'hsm_secret'), path.join(dir, 'hsm_secret'));
  const r = await runCliCaptured(['recover', `--lightning-dir=${dir}`, `--from=${from}`, '--json', ...extra]);
  expect(r.stderr).toBe('');
  return { code: r.code, verdict: JSON.parse(r.stdout) as Record<string, unknown>, dir };
}

function chainHead(dir: string, s: Setup) {
  const head = decodeStateFile(new Uint8Array(readFileSync(path.join(dir, STATE_FILE))), stateBinding(s.clientKey, s.server.publicKey))?.head;
  expect(head, `${dir}/${STATE_FILE} holds a chain head for this client and server`).toBeDefined();
  return { dataVersion: head!.dataVersion, head: bytesToHex(head!.head), runPrev: bytesToHex(head!.runPrev) };
}

describe('after a recovery, the node keeps backing up into the same, restorable chain', () => {
  // K = 4: the last run (dv 2) is a transaction then a PRAGMA at the same version, so runPrev ≠ the last prev.
  for (const K of [4, 150])
    it(`recover after ${K} writes → the plugin on the recovered directory → recover again: row-identical, no re-upload`, async () => {
      const s = await setupPlugin(work, channel, 'ours');
      try {
        const d1 = startDriver(s);
        expect((await d1.getmanifest()).result).toEqual(MANIFEST);
        await playCalls(d1, channel.trace.slice(0, Math.min(K, 4)));
        await d1.init();
        await playCalls(d1, channel.trace.slice(Math.min(K, 4), K));
        await d1.stop();
        expect(s.server.reuploads).toBe(1);

        const first = await recoverInto(s, serverDirCopy(s), 'recovered', [`--shost=127.0.0.1:${s.server.port}`]);
        expect(first.code).toBe(0);
        expect(first.verdict).toMatchObject({ ok: true, data_version: channel.trace[K - 1]!.data_version, plugin_state: { path: path.join(first.dir, STATE_FILE), data_version: channel.trace[K - 1]!.data_version } });
        // Exactly the head the node's own plugin kept (same format, same values).
        expect(chainHead(first.dir, s)).toEqual(chainHead(s.dir, s));

        // The recovered node runs: its own wrapper, its own state, the same server.
        const d2 = startDriver({ dir: first.dir, wrapper: path.join(first.dir, 'cldcb-plugin-wrapper') });
        await d2.getmanifest();
        await d2.init();
        await playCalls(d2, channel.trace.slice(K));
        await d2.stop();
        expect(d2.logs.filter((l) => /re-upload/i.test(l.message)).map((l) => l.message)).toEqual([]);
        expect(s.server.reuploads).toBe(1);

        const again = await recoverInto(s, serverDirCopy(s), 'recovered-again');
        expect(again.verdict.warnings).toEqual(expect.any(Array));
        expect(again.code, JSON.stringify(again.verdict)).toBe(0);
        expect(again.verdict).toMatchObject({ ok: true, chain: 'v1', data_version: channel.trace[channel.trace.length - 1]!.data_version });
        expect(compareDatabases(path.join(again.dir, 'lightningd.sqlite3'), channel.db)).toEqual([]);
      } finally {
        await s.server.stop();
      }
    }, 240_000);
});

describe('the state file is written only where it is right', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setupPlugin(work, channel, 'ours');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await playCalls(d, channel.trace.slice(0, 4));
      await d.init();
      await playCalls(d, channel.trace.slice(4, 20));
      await d.stop();
    } finally {
      await s.server.stop();
    }
  }, 120_000);

  it('no server id in the source: no state (it is bound to the server), and the verdict says why', async () => {
    const r = await recoverInto(s, serverDirCopy(s, false), 'no-sid');
    expect(r.code).toBe(0);
    expect(r.verdict.plugin_state).toBeNull();
    expect(existsSync(path.join(r.dir, STATE_FILE))).toBe(false);
    const w = (r.verdict.warnings as { kind: string; message: string }[]).find((x) => x.kind === 'plugin_state');
    expect(w?.message).toMatch(/No cldcb-plugin\.state was written: the source does not say which server it is/);
  });

  it("the lost node's state file is moved aside, never overwritten, and the new one continues the archive", async () => {
    const dir = path.join(s.dir, 'old-state');
    mkdirSync(dir);
    copyFileSync(path.join(FIX, channel.name, 'hsm_secret'), path.join(dir, 'hsm_secret'));
    writeFileSync(path.join(dir, STATE_FILE), 'the lost node');
    const { code, stdout: out } = await runCliCaptured(['recover', `--lightning-dir=${dir}`, `--from=${serverDirCopy(s)}`, '--json', '--shost=127.0.0.1:1']);
    expect(code).toBe(0);
    expect(readFileSync(path.join(dir, `${STATE_FILE}.before-recovery`), 'utf8')).toBe('the lost node');
    expect(chainHead(dir, s)).toEqual(chainHead(s.dir, s));
    expect(JSON.parse(out).warnings.map((w: { message: string }) => w.message).join(' ')).toMatch(/was moved to .*cldcb-plugin\.state\.before-recovery/);
    expect(readdirSync(dir).sort()).toEqual(['cldcb-plugin-wrapper', STATE_FILE, `${STATE_FILE}.before-recovery`, 'hsm_secret', 'lightningd.sqlite3']);
  });
});

describe("without the server's address, no wrapper that points nowhere (issue 10 #3)", () => {
  it('the report gives the installplugin command; run as given, it makes the wrapper that continues the same backup', async () => {
    const s = await setupPlugin(work, channel, 'ours');
    try {
      const d1 = startDriver(s);
      await d1.getmanifest();
      await playCalls(d1, channel.trace.slice(0, 4));
      await d1.init();
      await playCalls(d1, channel.trace.slice(4, 100));
      await d1.stop();

      const copy = serverDirCopy(s);
      writeFileSync(path.join(copy, 'port'), `${s.server.port}\n`); // our server's port file
      const r = await recoverInto(s, copy, 'no-shost');
      expect(r.code).toBe(0);
      expect(r.verdict).toMatchObject({ ok: true, wrapper: null, client_key_file: path.join(r.dir, 'cldcb-client.key'), plugin_state: { data_version: channel.trace[99]!.data_version } });
      expect(existsSync(path.join(r.dir, 'cldcb-plugin-wrapper'))).toBe(false);
      expect(statSync(path.join(r.dir, 'cldcb-client.key')).mode & 0o777).toBe(0o400);
      const w = (r.verdict.warnings as { kind: string; severity: string; message: string }[]).find((x) => x.kind === 'wrapper');
      expect(w).toMatchObject({ severity: 'error' });
      expect(w!.message).toMatch(/server's address is not in the source .* and port \d+, not its host name\)\. Backups of this node are NOT running/);
      const steps = r.verdict.next_steps as string[];
      const cmd = /cldcb-client (installplugin \S+ \S+ \S+)/.exec(steps[0]!)?.[1];
      expect(cmd).toBe(`installplugin --lightning-dir=${r.dir} --client-privkey=${path.join(r.dir, 'cldcb-client.key')} --server=${s.server.serverId}@SERVER_HOST:${s.server.port}`);
      expect(steps[steps.length - 1]).toMatch(/^Never start the lost node/);

      // The operator fills in the host and runs it.
      const install = await runCliCaptured(cmd!.replace('SERVER_HOST', '127.0.0.1').split(' '));
      expect(install.code, install.stderr).toBe(0);
      const d2 = startDriver({ dir: r.dir, wrapper: path.join(r.dir, 'cldcb-plugin-wrapper') });
      await d2.getmanifest();
      await d2.init();
      await playCalls(d2, channel.trace.slice(100));
      await d2.stop();
      expect(s.server.reuploads).toBe(1);
      const again = await recoverInto(s, serverDirCopy(s), 'no-shost-again', [`--shost=127.0.0.1:${s.server.port}`]);
      expect(again.code).toBe(0);
      expect(compareDatabases(path.join(again.dir, 'lightningd.sqlite3'), channel.db)).toEqual([]);
    } finally {
      await s.server.stop();
    }
  }, 240_000);

  it('--shost without a port takes the port from the directory; a malformed --shost is a usage error before anything is read', async () => {
    const s = await setupPlugin(work, channel, 'ours');
    try {
      const d = startDriver(s);
      await d.getmanifest();
      await playCalls(d, channel.trace.slice(0, 4));
      await d.stop();
    } finally {
      await s.server.stop();
    }
    const copy = serverDirCopy(s);
    writeFileSync(path.join(copy, 'port'), '40123\n');
    const r = await recoverInto(s, copy, 'host-only', ['--shost=backup.example']);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(r.dir, 'cldcb-plugin-wrapper'), 'utf8')).toContain('# shost = backup.example:40123');
    expect((r.verdict.next_steps as string[])[0]).toMatch(/^Turn the backup on: important-plugin=.*cldcb-plugin-wrapper in lightningd's config \(server backup\.example:40123\)\. It continues the same backup from data_version 2\./);

    const dir = path.join(s.dir, 'bad-shost');
    mkdirSync(dir);
    const { code, stderr: err } = await runCliCaptured(['recover', `--lightning-dir=${dir}`, `--from=${copy}`, '--shost=host:99999']);
    expect(code).toBe(2);
    expect(err).toMatch(/--shost: port "99999" is not a number from 1 to 65535/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
