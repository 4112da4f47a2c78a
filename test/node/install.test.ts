/**
 * The install ceremony: `cldcb-client newclient FILE` and `cldcb-client installplugin`,
 * on real lightningd hsm_secret files (test/fixtures/lightningd, see its README) and the CLN
 * encrypted-hsm_secret known answer (test/vectors/cln/known-answers.json); then the plugin
 * started from the written wrapper backs up to a server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import vectors from '../vectors/cln/known-answers.json';
import { runCli } from '../../cli/main';
import type { CliIo } from '../../cli/io';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { checkRecognition } from '../../shared/cldcb/recognition';
import { formatClientId, parseClientKeyFile } from '../../shared/cldcb/ids';
import { parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { buildPlugin, PLUGIN_SHIM, ROOT } from './helpers/plugin-build';
import { FIX, loadNode, playCalls, startDriver, TestCldcbServer, type NodeFixture } from './helpers/plugin-fixtures';

let work: string;
let single: NodeFixture;
let cliBundle: string;

interface Captured {
  code: number;
  out: string;
  err: string;
  asked: number;
}

/** Run cldcb-client in-process with no terminal: any prompt is counted and refused. */
async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  let asked = 0;
  const io: CliIo = {
    out: (t) => (out += t),
    err: (t) => (err += t),
    interactive: false,
    askSecret: async () => {
      asked++;
      throw new Error('no terminal');
    },
    askLine: async () => {
      asked++;
      throw new Error('no terminal');
    },
  };
  const code = await runCli(argv, io);
  return { code, out, err, asked };
}

beforeAll(async () => {
  await buildPlugin();
  work = mkdtempSync(path.join(tmpdir(), 'cldcb-install-'));
  single = await loadNode('single-node');
  // The CLI bundle, built beside build/ so its imports resolve from the repository.
  cliBundle = path.join(ROOT, 'build', `cldcb-client.install-test-${process.pid}.mjs`);
  await build({
    entryPoints: [path.join(ROOT, 'cli/bin.ts')],
    outfile: cliBundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3', 'secp256k1', 'libsodium-wrappers-sumo', 'electron'],
    banner: { js: "import { createRequire as __cldcbCreateRequire } from 'node:module'; const require = __cldcbCreateRequire(import.meta.url);" },
    logLevel: 'error',
  });
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (cliBundle) rmSync(cliBundle, { force: true });
});

/** A network directory holding a copy of the fixture node's hsm_secret. */
function nodeDir(name: string, from = 'single-node'): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIX, from, 'hsm_secret'), path.join(dir, 'hsm_secret'));
  return dir;
}

/** The original server's id from its fixture (test/fixtures/cldcb/server_id, see its README). */
const SID = /^# sid = (5[23][0-9a-f]{64})\n$/.exec(readFileSync(path.join(ROOT, 'test/fixtures/cldcb/server_id'), 'utf8'))![1]!;

describe('newclient', () => {
  it('writes "# cid = …\\n# cpk = …\\n" with mode 0400, prints the cid, and never overwrites', async () => {
    const file = path.join(work, 'c1.key');
    const r = await cli('newclient', file);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# cid = c[23][0-9a-f]{64}\n# cpk = [0-9a-f]{64}\n$/);
    expect(text.length).toBe(148);
    expect(statSync(file).mode & 0o777).toBe(0o400);
    const k = parseClientKeyFile(text);
    expect(r.out).toBe(`${formatClientId(k.clientId)}\n`);
    const again = await cli('newclient', file);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect((await cli('newclient')).code).toBe(2);
    // Two keys differ.
    const r2 = await cli('newclient', path.join(work, 'c2.key'));
    expect(r2.out).not.toBe(r.out);
  });

  it('the built program prints the cid too', () => {
    const file = path.join(work, 'built.key');
    const r = spawnSync(process.execPath, [cliBundle, 'newclient', file], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^c[23][0-9a-f]{64}\n$/);
    expect(readFileSync(file, 'utf8')).toContain(`# cid = ${r.stdout.trim()}\n`);
  });
});

describe('installplugin', () => {
  it('with every flag given asks nothing and writes a 0700 wrapper whose nsig verifies with the node key', async () => {
    const dir = nodeDir('ln1');
    const key = path.join(work, 'ln1.key');
    expect((await cli('newclient', key)).code).toBe(0);
    const r = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@backup.example:4000`);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.asked).toBe(0);
    const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
    expect(statSync(wrapper).mode & 0o777).toBe(0o700);
    const text = readFileSync(wrapper, 'utf8');
    const cfg = parsePluginWrapper(text);
    const k = parseClientKeyFile(readFileSync(key, 'utf8'));
    expect(bytesToHex(cfg.clientId)).toBe(bytesToHex(k.clientId));
    expect(bytesToHex(cfg.nodeId)).toBe(bytesToHex(single.nodeId));
    expect(checkRecognition(single.nodePriv, cfg.clientId, cfg.nodeSignature)).toBe(true);
    expect(cfg.server).toEqual({ host: 'backup.example', port: 4000 });
    expect(text.trimEnd().split('\n').pop()).toBe(`exec "${process.execPath}" "${PLUGIN_SHIM}" -- "$0"`);
    expect(r.out).toContain(`cldcb-server add --server-dir=`);
    expect(r.out).toContain(formatClientId(k.clientId));
    expect(r.out).toContain(`important-plugin=${wrapper}`);
    expect(r.out).not.toContain(bytesToHex(k.privateKey));

    // Never overwritten without --force.
    const again = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@other:1`);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists.*--force/);
    expect(readFileSync(wrapper, 'utf8')).toBe(text);
    const forced = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@[::1]:5000`, '--proxy=127.0.0.1', '--force');
    expect(forced.code).toBe(0);
    const cfg2 = parsePluginWrapper(readFileSync(wrapper, 'utf8'));
    expect(cfg2.server).toEqual({ host: '::1', port: 5000 });
    expect(cfg2.proxy).toEqual({ host: '127.0.0.1', port: 9050 });
    expect(cfg2.deadlineSeconds).toBeUndefined(); // no `# deadline` line unless asked: the original plugin would refuse it
    expect(r.out).toMatch(/Use important-plugin, not plugin:/);
    expect(r.out).toMatch(/waits \(no RPC, no peers\) up to 30 s per write/);
  });

  it('--deadline=SECONDS goes into the wrapper as `# deadline`; a bad value is a usage error naming the flag', async () => {
    const dir = nodeDir('ln-deadline');
    const key = path.join(work, 'ln-deadline.key');
    expect((await cli('newclient', key)).code).toBe(0);
    const r = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@h:1`, '--deadline=90');
    expect(r.code).toBe(0);
    const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
    expect(readFileSync(wrapper, 'utf8')).toContain('\n# deadline = 90\n');
    expect(parsePluginWrapper(readFileSync(wrapper, 'utf8')).deadlineSeconds).toBe(90);
    expect(r.out).toMatch(/up to 90 s per write/);
    for (const bad of ['abc', '0', '601', '1e3', '-5']) {
      const b = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@h:1`, `--deadline=${bad}`, '--force');
      expect(b.code, bad).toBe(2);
      expect(b.err).toMatch(/--deadline: deadline must be a number of seconds from 1 to 600/);
    }
  });

  it('an encrypted hsm_secret takes --passphrase-file; without it and without a terminal it fails clearly', async () => {
    const enc = vectors.encrypted_legacy;
    const dir = path.join(work, 'enc');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'hsm_secret'), hexToBytes(enc.file_hex));
    writeFileSync(path.join(work, 'pw'), `${enc.password}\n`);
    const key = path.join(work, 'enc.key');
    await cli('newclient', key);
    const no = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@h`);
    expect(no.code).toBe(1);
    expect(no.err).toMatch(/passphrase.*--passphrase-file/);
    expect(no.err).not.toContain(enc.password);
    const wrong = path.join(work, 'wrong-pw');
    writeFileSync(wrong, 'nope\n');
    expect((await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@h`, `--passphrase-file=${wrong}`)).code).toBe(1);
    const ok = await cli('installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${SID}@h`, `--passphrase-file=${path.join(work, 'pw')}`);
    expect(ok.code).toBe(0);
    expect(ok.asked).toBe(0);
    const cfg = parsePluginWrapper(readFileSync(path.join(dir, 'cldcb-plugin-wrapper'), 'utf8'));
    expect(bytesToHex(cfg.nodeId)).toBe(enc.node_id);
  });

  it('explains a wrong directory, a bad server spec and a bad key file', async () => {
    const top = path.join(work, 'top');
    mkdirSync(path.join(top, 'regtest'), { recursive: true });
    copyFileSync(path.join(FIX, 'single-node', 'hsm_secret'), path.join(top, 'regtest', 'hsm_secret'));
    const key = path.join(work, 'top.key');
    await cli('newclient', key);
    const r = await cli('installplugin', `--lightning-dir=${top}`, `--client-privkey=${key}`, `--server=${SID}@h`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--lightning-dir=${path.join(top, 'regtest')}`);
    const bad = await cli('installplugin', `--lightning-dir=${top}`, `--client-privkey=${key}`, '--server=h:1');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/SID@HOST/);
    const badPort = await cli('installplugin', `--lightning-dir=${top}`, `--client-privkey=${key}`, `--server=${SID}@h:99999`);
    expect(badPort.code).toBe(2);
    const notKey = path.join(work, 'not.key');
    writeFileSync(notKey, '# cid = c2\n');
    const nk = await cli('installplugin', `--lightning-dir=${path.join(top, 'regtest')}`, `--client-privkey=${notKey}`, `--server=${SID}@h`);
    expect(nk.code).toBe(1);
    expect(nk.err).toMatch(/not\.key/);
  });

  it('end to end: newclient, installplugin, the server allow-lists the cid, the plugin started from the wrapper backs up', async () => {
    const dir = nodeDir('ln-e2e');
    const key = path.join(work, 'e2e.key');
    const cid = (await cli('newclient', key)).out.trim();
    const k = parseClientKeyFile(readFileSync(key, 'utf8'));
    const server = await TestCldcbServer.start({ mode: 'ours', clients: [k.clientId] });
    try {
      // The built CLI, as an operator runs it.
      const r = spawnSync(
        process.execPath,
        [cliBundle, 'installplugin', `--lightning-dir=${dir}`, `--client-privkey=${key}`, `--server=${server.serverId}@127.0.0.1:${server.port}`],
        { encoding: 'utf8', input: '', cwd: tmpdir() },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(cid);
      const wrapper = path.join(dir, 'cldcb-plugin-wrapper');
      const d = startDriver({ dir, wrapper });
      await d.getmanifest();
      await playCalls(d, single.trace.slice(0, 6));
      await d.init();
      await d.stop();
      expect(d.logs.some((l) => /Connected to the cldcb server/.test(l.message))).toBe(true);
      const code = server.codes.get(bytesToHex(k.clientId));
      expect(code).toBeDefined();
      expect(checkRecognition(single.nodePriv, k.clientId, code!)).toBe(true);
      expect(server.archives.get(bytesToHex(k.clientId))!.increments.length).toBe(6);
    } finally {
      await server.stop();
    }
  });
});
