/**
 * The app's install ceremony (electron/handlers/install.ts) and `cldcb-client installplugin` follow
 * one set of rules (shared/cldcb/install.ts): for the same servers, k and client keys they write the
 * same wrapper configuration — only the exec line differs (the CLI runs our plugin by absolute path;
 * the app writes the command the operator names) — and one server stays the wrapper it always was.
 * Driven through the handler table Electron registers, with the keys the app saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeBase64 } from '../../shared/base64';
import { bytesToHex } from '../../shared/bytes';
import { checkRecognition } from '../../shared/cldcb/recognition';
import { formatClientId, formatServerId, parseClientKeyFile } from '../../shared/cldcb/ids';
import { parsePluginWrapper, wrapperQuorum, wrapperServers } from '../../shared/cldcb/wrapper';
import type { InstallCheckView, InstallView } from '../../shared/ipc/contract';
import { runCliCaptured as cli } from './helpers/cli';
import { testBackend } from './helpers/handlers';
import { FIX, loadNode, type NodeFixture } from './helpers/plugin-fixtures';

const SID = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(FIX, '..', 'cldcb', 'server_id'), 'utf8'))![1]!;
const SID2 = `52${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`;
const SID3 = `53${'c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5'}`;

let work: string;
let single: NodeFixture;
let saves = 0;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-install-app-'));
  single = await loadNode('single-node');
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A backend with the fixture node's hsm_secret loaded; saves go to a fresh folder. */
async function appWithNode() {
  const out = path.join(work, `saves-${saves++}`);
  mkdirSync(out);
  const backend = testBackend({ chooseSavePath: async ({ defaultName }) => path.join(out, defaultName) });
  const bytes = new Uint8Array(readFileSync(path.join(FIX, 'single-node', 'hsm_secret')));
  const loaded = await backend.dispatch('secret.loadFile', { fileName: 'hsm_secret', bytesB64: encodeBase64(bytes, false, true) }, 'app://x');
  expect(loaded.ok).toBe(true);
  const call = async <T>(channel: string, input: unknown): Promise<T> => {
    const r = await backend.dispatch(channel, input, 'app://x');
    if (!r.ok) throw new Error(`${channel}: ${r.error.message}`);
    return r.value as T;
  };
  return { backend, out, call };
}

/** The wrapper without its exec line (the one part the two programs write differently, on purpose). */
const configLines = (text: string): string => text.trimEnd().split('\n').slice(0, -1).join('\n');

describe('the app writes the wrapper installplugin writes', () => {
  for (const [name, servers, quorum] of [
    ['one server', [`${SID}@backup.example:4000`], undefined],
    ['three servers, k = 2', [`${SID}@one.example:4001`, `${SID2}@two.example:4002`, `${SID3}@[::1]:4003`], '2'],
    ['two servers, k by default (a majority: 2)', [`${SID}@a.example:1`, `${SID2}@b.example:2`], undefined],
  ] as const) {
    it(`${name}: the same configuration, byte for byte, for the same client keys`, async () => {
      const app = await appWithNode();
      const view = await app.call<InstallView>('install.prepare', { servers: [...servers], ...(quorum ? { quorum } : {}) });
      expect(view.servers.map((s) => `${s.serverId}@${s.serverHost}`)).toEqual([...servers]);
      // The keys the app made, saved as the CLI's key files (one per server).
      const keyFiles: string[] = [];
      for (let i = 0; i < servers.length; i++) keyFiles.push((await app.call<{ path: string }>('install.saveClientKey', { server: i })).path);
      expect(keyFiles.map((f) => path.basename(f))).toEqual(servers.length === 1 ? ['cldcb-client.key'] : servers.map((_, i) => `cldcb-client-${i + 1}.key`));
      const appWrapper = readFileSync((await app.call<{ path: string }>('install.saveWrapper', {})).path, 'utf8');

      const ln = path.join(app.out, 'ln');
      mkdirSync(ln);
      copyFileSync(path.join(FIX, 'single-node', 'hsm_secret'), path.join(ln, 'hsm_secret'));
      const r = await cli(['installplugin', `--lightning-dir=${ln}`, ...keyFiles.map((k) => `--client-privkey=${k}`), ...servers.map((s) => `--server=${s}`), ...(quorum ? [`--quorum=${quorum}`] : [])]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const cliWrapper = readFileSync(path.join(ln, 'cldcb-plugin-wrapper'), 'utf8');
      expect(configLines(appWrapper)).toBe(configLines(cliWrapper));
      expect(appWrapper.trimEnd().split('\n').pop()).toBe('exec cldcb-plugin -- "$0"');

      // Each server: its own client key, its recognition code verifies, its add line names its cid.
      const cfg = parsePluginWrapper(appWrapper);
      const entries = wrapperServers(cfg);
      expect(new Set(entries.map((e) => bytesToHex(e.clientId))).size).toBe(servers.length);
      for (const [i, e] of entries.entries()) {
        expect(formatClientId(e.clientId)).toBe(view.servers[i]!.clientId);
        expect(formatClientId(e.clientId)).toBe(formatClientId(parseClientKeyFile(readFileSync(keyFiles[i]!, 'utf8')).clientId));
        expect(checkRecognition(single.nodePriv, e.clientId, e.nodeSignature)).toBe(true);
        expect(view.servers[i]!.serverCommand).toBe(`cldcb-server add --server-dir=<server dir> ${view.servers[i]!.clientId}`);
        expect(formatServerId(e.serverId)).toBe(servers[i]!.slice(0, 66));
      }
      expect(view.quorum).toBe(servers.length === 1 ? null : wrapperQuorum(cfg));
      if (servers.length === 1) expect(appWrapper).not.toMatch(/quorum|\.2 =/);
      // No client private key in what the window sees.
      for (const e of entries) expect(JSON.stringify(view)).not.toContain(bytesToHex(e.clientPrivateKey));
    });
  }
});

describe('install.check: the rules installplugin applies, each problem for its own field', () => {
  it('k out of range, a repeated server and a malformed one are named beside their fields; nothing is prepared', async () => {
    const app = await appWithNode();
    const three = [`${SID}@a:1`, `${SID2}@b:2`, `${SID3}@c:3`];
    const k4 = await app.call<InstallCheckView>('install.check', { servers: three, quorum: '4' });
    expect(k4).toEqual({
      servers: [null, null, null],
      list: null,
      quorum: 'k = 4 is more than the 3 servers given: lightningd could never commit a write. Give 1 to 3 (default 2, a majority).',
      k: null,
    });
    expect((await app.call<InstallCheckView>('install.check', { servers: three, quorum: '0' })).quorum).toMatch(/^k = 0: at least one server must store each write/);
    expect((await app.call<InstallCheckView>('install.check', { servers: three, quorum: 'two' })).quorum).toBe('k must be a whole number of servers (1 to 3), not "two"');
    expect(await app.call<InstallCheckView>('install.check', { servers: three })).toEqual({ servers: [null, null, null], list: null, quorum: null, k: 2 });
    const rows = await app.call<InstallCheckView>('install.check', { servers: [`${SID}@a:1`, 'b:2', `${SID}@c:3`], quorum: '2' });
    expect(rows.servers[0]).toBeNull();
    expect(rows.servers[1]).toMatch(/^Server must be SID@HOST:PORT/);
    expect(rows.servers[2]).toMatch(/^Server 3 repeats the server id of server 1 \(53a468/);
    expect(rows.quorum).toBeNull(); // judged once the list is right
    const refused = await app.backend.dispatch('install.prepare', { servers: three, quorum: '4' }, 'app://x');
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toMatch(/^k = 4 is more than the 3 servers/);
    const none = await app.backend.dispatch('install.saveWrapper', {}, 'app://x');
    expect(none.ok).toBe(false);
  });
});
